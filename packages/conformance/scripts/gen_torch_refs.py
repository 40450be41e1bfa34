#!/usr/bin/python3
"""Writes src/fixtures/torch-refs.json: PyTorch's forward values and gradients
for a representative set of bp ops.

Each case holds the inputs, the output, a weight tensor w of the output's shape
and the gradient of sum(out * w) with respect to every float input. The
conformance case `torch references` recomputes all of it with bp.

Run from anywhere:  /usr/bin/python3 packages/conformance/scripts/gen_torch_refs.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float32)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "fixtures", "torch-refs.json")


def randn(*shape):
    return torch.randn(*shape)


def positive(*shape):
    # Bounded away from 0 so log, sqrt, pow and div stay smooth.
    return torch.rand(*shape) * 1.5 + 0.5


def away_from_zero(*shape):
    x = torch.randn(*shape)
    return x + torch.sign(x) * 0.2


def enc(t):
    t = t.detach()
    dtype = "int32" if t.dtype in (torch.int32, torch.int64, torch.bool) else "float32"
    data = t.to(torch.int64 if dtype == "int32" else torch.float32).reshape(-1).tolist()
    # JSON has no NaN or Infinity: those travel as the strings "NaN", "Infinity", "-Infinity".
    data = [v if math.isfinite(v) else str(v).replace("nan", "NaN").replace("inf", "Infinity") for v in data]
    return {"shape": list(t.shape), "dtype": dtype, "data": data}


cases = []


def case(name, op, inputs, fn, attrs=None):
    """inputs: list of tensors; float ones get requires_grad. fn(*inputs) -> output."""
    leaves = []
    for t in inputs:
        if t.is_floating_point():
            t = t.clone().requires_grad_(True)
        leaves.append(t)
    out = fn(*leaves)
    w = torch.randn(out.shape)
    if out.requires_grad:
        (out * w).sum().backward()
    cases.append({
        "name": name,
        "op": op,
        "attrs": attrs or {},
        "inputs": [enc(t) for t in leaves],
        "output": enc(out),
        "weight": enc(w),
        "grads": [enc(t.grad) if t.grad is not None else None for t in leaves],
    })


# Elementwise with broadcasting.
case("add [2,3,4] + [3,1]", "add", [randn(2, 3, 4), randn(3, 1)], torch.add)
case("sub [4] - [2,1,4]", "sub", [randn(4), randn(2, 1, 4)], torch.sub)
case("mul [2,1,4] * [3,4]", "mul", [randn(2, 1, 4), randn(3, 4)], torch.mul)
case("div [2,3] / [3]", "div", [randn(2, 3), away_from_zero(3) * 2], torch.div)
case("pow [2,3] ** [3]", "pow", [positive(2, 3), randn(3)], torch.pow)
case("pow [3,2] ** [3,1]", "pow", [positive(3, 2), randn(3, 1)], torch.pow)

# Unary.
case("exp [3,4]", "exp", [randn(3, 4)], torch.exp)
case("log [3,4]", "log", [positive(3, 4)], torch.log)
case("sqrt [3,4]", "sqrt", [positive(3, 4)], torch.sqrt)
case("tanh [3,4]", "tanh", [randn(3, 4) * 2], torch.tanh)
case("sigmoid [3,4]", "sigmoid", [randn(3, 4) * 3], torch.sigmoid)
case("relu [3,4]", "relu", [away_from_zero(3, 4)], torch.relu)
case("sin [3,4]", "sin", [randn(3, 4) * 3], torch.sin)
case("cos [3,4]", "cos", [randn(3, 4) * 3], torch.cos)
case("log1p [3,4]", "log1p", [positive(3, 4) - 0.4], torch.log1p)
case("expm1 [3,4]", "expm1", [randn(3, 4)], torch.expm1)
case("reciprocal [3,4]", "reciprocal", [away_from_zero(3, 4)], torch.reciprocal)
# Piecewise constant: zero gradient; halves round to even.
case("floor [8]", "floor", [torch.tensor([-2.5, -1.5, -0.5, 0.0, 0.3, 0.5, 1.5, 2.7])], torch.floor)
case("ceil [8]", "ceil", [torch.tensor([-2.5, -1.5, -0.5, 0.0, 0.3, 0.5, 1.5, 2.7])], torch.ceil)
case("round [10] halves to even", "round", [torch.tensor([-2.5, -1.5, -0.5, 0.0, 0.3, 0.5, 1.5, 2.5, 2.7, 3.5])], torch.round)

# Reductions.
case("sum axis 1", "sum", [randn(2, 3, 4)], lambda x: x.sum(1), {"axis": 1, "keepDims": False})
case("sum axes [0,2] keepDims", "sum", [randn(2, 3, 4)], lambda x: x.sum((0, 2), keepdim=True),
     {"axis": [0, 2], "keepDims": True})
case("mean axis -1", "mean", [randn(3, 5)], lambda x: x.mean(-1), {"axis": -1, "keepDims": False})
case("mean axes [0,1] keepDims", "mean", [randn(2, 3, 4)], lambda x: x.mean((0, 1), keepdim=True),
     {"axis": [0, 1], "keepDims": True})
case("max axis 1", "max", [randn(3, 5, 2)], lambda x: x.max(1).values, {"axis": 1, "keepDims": False})
case("max axes [0,2] (amax)", "max", [randn(3, 4, 2)], lambda x: x.amax((0, 2)), {"axis": [0, 2], "keepDims": False})

# Linear algebra.
case("matmul [3,4] @ [4,2]", "matmul", [randn(3, 4), randn(4, 2)], torch.matmul)
case("matmul batched [2,3,4] @ [4,5]", "matmul", [randn(2, 3, 4), randn(4, 5)], torch.matmul)
case("matmul broadcast batch [2,1,3,4] @ [3,4,2]", "matmul", [randn(2, 1, 3, 4), randn(3, 4, 2)], torch.matmul)

# Softmax.
case("softmax axis -1", "softmax", [randn(3, 5) * 2], lambda x: torch.softmax(x, -1), {"axis": -1})
case("softmax axis 0", "softmax", [randn(4, 3) * 2], lambda x: torch.softmax(x, 0), {"axis": 0})
case("logSoftmax axis -1", "logSoftmax", [randn(3, 5) * 2], lambda x: torch.log_softmax(x, -1), {"axis": -1})
case("logSoftmax axis 1 of [2,3,4]", "logSoftmax", [randn(2, 3, 4) * 2], lambda x: torch.log_softmax(x, 1), {"axis": 1})

# Convolution and pooling (NCHW).
case("conv2d stride 2 padding 1", "conv2d", [randn(2, 3, 7, 7), randn(4, 3, 3, 3) * 0.3, randn(4)],
     lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), {"stride": 2, "padding": 1})
case("conv2d no bias, 2x3 kernel", "conv2d", [randn(1, 2, 5, 6), randn(3, 2, 2, 3) * 0.3],
     lambda x, w: F.conv2d(x, w, None), {"stride": 1, "padding": 0})
case("maxPool2d 2x2", "maxPool2d", [randn(2, 3, 6, 6)], lambda x: F.max_pool2d(x, 2), {"kernel": 2})
case("maxPool2d 3x3 stride 2 padding 1", "maxPool2d", [randn(1, 2, 7, 7)],
     lambda x: F.max_pool2d(x, 3, stride=2, padding=1), {"kernel": 3, "stride": 2, "padding": 1})
case("avgPool2d 2x2", "avgPool2d", [randn(2, 2, 4, 6)], lambda x: F.avg_pool2d(x, 2), {"kernel": 2})

# Indexing and selection.
case("gather (index_select) axis 0, repeated", "gather", [randn(4, 3), torch.tensor([3, 0, 3, 1], dtype=torch.int32)],
     lambda x, i: torch.index_select(x, 0, i), {"axis": 0})
case("gather (index_select) axis 1", "gather", [randn(2, 5, 3), torch.tensor([4, 1], dtype=torch.int32)],
     lambda x, i: torch.index_select(x, 1, i), {"axis": 1})
case("where [3,4] ? [3,4] : [4]", "where",
     [(torch.rand(3, 4) > 0.5).to(torch.int32), randn(3, 4), randn(4)],
     lambda c, a, b: torch.where(c != 0, a, b))
case("clamp [-0.5, 0.5]", "clamp", [randn(4, 5)], lambda x: torch.clamp(x, -0.5, 0.5), {"min": -0.5, "max": 0.5})
case("clamp min 0.1", "clamp", [randn(6)], lambda x: torch.clamp(x, min=0.1), {"min": 0.1})

# Edges and PyTorch's conventions: 0-d reductions, zero factors, ties, base 0, tensor bounds.
case("sum of 0-d over axis 0", "sum", [torch.tensor(2.5)], lambda x: x.sum(0), {"axis": 0, "keepDims": False})
case("max of 0-d over axis -1", "max", [torch.tensor(-1.5)], lambda x: x.amax(-1), {"axis": -1, "keepDims": False})
case("prod with one zero", "prod", [torch.tensor([2.0, 0.0, 3.0])], lambda x: x.prod(), {})
case("prod axis 1 with zeros", "prod", [torch.tensor([[2.0, 0.0, 3.0], [0.0, 1.5, 0.0], [1.0, 2.0, -1.0]])],
     lambda x: x.prod(1), {"axis": 1, "keepDims": False})
case("pow at base 0", "pow", [torch.tensor([0.0, 0.0, 0.0, 2.0, 1.5]), torch.tensor([0.0, 1.0, 2.0, 0.0, 3.0])], torch.pow)
case("max of 1-D with ties", "max", [torch.tensor([1.0, 3.0, -2.0, 3.0])], lambda x: x.max(), {})
case("min of 1-D with ties", "min", [torch.tensor([1.0, -3.0, -2.0, -3.0])], lambda x: x.min(), {})
case("maximum with ties", "maximum", [torch.tensor([1.0, 3.0, 3.0, -1.0]), torch.tensor([1.0, 2.0, 4.0, -1.0])], torch.maximum)
case("minimum with ties, broadcast", "minimum", [torch.tensor([[1.0, 3.0], [2.0, 0.5]]), torch.tensor([2.0, 3.0])], torch.minimum)
case("clamp with tensor bounds, some min > max", "clampT",
     [torch.tensor([1.0, 5.0, 3.0, -1.0, 0.5, 2.5]), torch.tensor([2.0, 2.0, 2.0, 0.0, -1.0, 0.0]),
      torch.tensor([0.0, 0.0, 4.0, 0.0, 1.0, 2.0])], lambda x, lo, hi: torch.clamp(x, lo, hi))
case("clamp min > max (scalars)", "clamp", [torch.tensor([-2.0, 0.5, 2.0])], lambda x: torch.clamp(x, 1.0, 0.0),
     {"min": 1.0, "max": 0.0})

# Elementwise math.
def unit(*shape):
    return torch.rand(*shape) * 1.6 - 0.8


case("tan [3,4]", "tan", [torch.rand(3, 4) * 2.4 - 1.2], torch.tan)
case("asin [3,4]", "asin", [unit(3, 4)], torch.asin)
case("acos [3,4]", "acos", [unit(3, 4)], torch.acos)
case("atan [3,4]", "atan", [randn(3, 4) * 3], torch.atan)
case("sinh [3,4]", "sinh", [randn(3, 4) * 2], torch.sinh)
case("cosh [3,4]", "cosh", [randn(3, 4) * 2], torch.cosh)
case("asinh [3,4]", "asinh", [randn(3, 4) * 3], torch.asinh)
case("acosh [3,4]", "acosh", [positive(3, 4) + 0.7], torch.acosh)
case("atanh [3,4]", "atanh", [unit(3, 4)], torch.atanh)
case("erf [3,4]", "erf", [randn(3, 4) * 1.5], torch.erf)
case("trunc [8]", "trunc", [torch.tensor([-2.5, -1.5, -0.7, 0.0, 0.3, 0.5, 1.5, 2.7])], torch.trunc)
case("rsqrt [3,4]", "rsqrt", [positive(3, 4)], torch.rsqrt)
case("log2 [3,4]", "log2", [positive(3, 4)], torch.log2)
case("exp2 [3,4]", "exp2", [randn(3, 4) * 2], torch.exp2)
case("copysign [2,3] by [3] with -0", "copysign", [randn(2, 3), torch.tensor([-0.0, 1.5, -2.0])], torch.copysign)
case("logaddexp [2,3] , [3]", "logaddexp", [randn(2, 3) * 3, randn(3) * 3], torch.logaddexp)
case("logaddexp ties and large", "logaddexp", [torch.tensor([1.0, 1e4, -1e4, 0.5]), torch.tensor([1.0, 1e4, -1e4, -30.0])],
     torch.logaddexp)
case("lerp tensor weight", "lerp", [randn(2, 3), randn(2, 3), torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0, 1.5])
                                                                    .reshape(2, 3)], torch.lerp)
case("lerp scalar weight broadcast", "lerpScalar", [randn(2, 3), randn(3)], lambda a, b: torch.lerp(a, b, 0.3),
     {"weight": 0.3})

# Activations.
act_x = torch.tensor([-1e4, -30.0, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 6.0, 7.0, 30.0, 1e4])
case("gelu", "gelu", [act_x], F.gelu)
case("gelu tanh", "gelu", [act_x], lambda x: F.gelu(x, approximate="tanh"), {"approximate": "tanh"})
case("gelu [3,4]", "gelu", [randn(3, 4) * 2], F.gelu)
case("silu", "silu", [act_x], F.silu)
case("elu", "elu", [act_x], F.elu)
case("elu alpha 0.5", "elu", [randn(3, 4) * 2], lambda x: F.elu(x, 0.5), {"alpha": 0.5})
case("celu alpha 2", "celu", [act_x], lambda x: F.celu(x, 2.0), {"alpha": 2.0})
case("selu", "selu", [act_x], F.selu)
case("softplus", "softplus", [act_x], F.softplus)
case("softplus beta 2 threshold 5", "softplus", [act_x], lambda x: F.softplus(x, 2.0, 5.0), {"beta": 2.0, "threshold": 5.0})
case("mish", "mish", [act_x], F.mish)
case("relu6", "relu6", [act_x], F.relu6)
case("hardtanh", "hardtanh", [act_x], F.hardtanh)
case("hardtanh [-2, 3]", "hardtanh", [act_x], lambda x: F.hardtanh(x, -2.0, 3.0), {"min": -2.0, "max": 3.0})
case("hardswish", "hardswish", [act_x], F.hardswish)
case("hardsigmoid", "hardsigmoid", [act_x], F.hardsigmoid)
case("logsigmoid", "logsigmoid", [act_x], F.logsigmoid)
case("softsign", "softsign", [act_x], F.softsign)

# Statistics, norms and scans.
case("variance axis 1", "variance", [randn(3, 5)], lambda x: x.var(1), {"axis": 1})
case("variance all, correction 0", "variance", [randn(2, 3, 4)], lambda x: x.var(unbiased=False), {"correction": 0})
case("variance axes [0,2] keepDims", "variance", [randn(2, 3, 4)], lambda x: x.var((0, 2), keepdim=True),
     {"axis": [0, 2], "keepDims": True})
case("std axis 0", "std", [randn(4, 3)], lambda x: x.std(0), {"axis": 0})
case("std constant rows", "std", [torch.tensor([[1.5, 1.5, 1.5], [1.0, 2.0, 4.0]])], lambda x: x.std(1), {"axis": 1})
case("norm 2 all", "norm", [randn(3, 4)], lambda x: torch.linalg.vector_norm(x), {})
case("norm 2 of zeros", "norm", [torch.zeros(2, 2)], lambda x: torch.linalg.vector_norm(x, dim=1), {"axis": 1})
case("norm 1 axis 1", "norm", [away_from_zero(3, 4)], lambda x: torch.linalg.vector_norm(x, 1, dim=1), {"p": 1, "axis": 1})
case("norm inf axis 0 with ties", "norm", [torch.tensor([[1.0, -3.0], [-1.0, 3.0], [0.5, 2.0]])],
     lambda x: torch.linalg.vector_norm(x, float("inf"), dim=0), {"p": "inf", "axis": 0})
case("norm fro keepDims", "norm", [randn(2, 3, 4)], lambda x: torch.norm(x, "fro", dim=(1, 2), keepdim=True),
     {"p": "fro", "axis": [1, 2], "keepDims": True})
case("cumsum axis 1", "cumsum", [randn(3, 7)], lambda x: torch.cumsum(x, 1), {"axis": 1})
case("cumsum axis 0", "cumsum", [randn(5, 2, 3)], lambda x: torch.cumsum(x, 0), {"axis": 0})
case("cumprod axis 1", "cumprod", [positive(2, 6)], lambda x: torch.cumprod(x, 1), {"axis": 1})
case("cumprod with zeros", "cumprod", [torch.tensor([[2.0, 0.0, 3.0, 0.0, 1.5], [0.5, 2.0, 0.0, 4.0, -1.0]])],
     lambda x: torch.cumprod(x, 1), {"axis": 1})
case("cummax values axis 1 with ties", "cummax", [torch.tensor([[1.0, 3.0, 3.0, 2.0, 5.0, 5.0], [4.0, 1.0, 4.0, 0.0, 6.0, -1.0]])],
     lambda x: torch.cummax(x, 1).values, {"axis": 1})
case("cummax indices axis 1 with ties", "cummaxIndices", [torch.tensor([[1.0, 3.0, 3.0, 2.0, float("nan"), 5.0], [4.0, 1.0, 4.0, 0.0, 6.0, -1.0]])],
     lambda x: torch.cummax(x, 1).indices.to(torch.int32), {"axis": 1})
case("cummin values axis 0", "cummin", [randn(5, 3)], lambda x: torch.cummin(x, 0).values, {"axis": 0})
case("maxWithIndices values axis 1", "maxWithIndices", [torch.tensor([[1.0, 3.0, 3.0], [5.0, -1.0, 5.0]])],
     lambda x: x.max(1).values, {"axis": 1})
case("minWithIndices indices axis 0", "minWithIndicesIndices", [torch.tensor([[1.0, 3.0, 3.0], [1.0, -1.0, 2.0]])],
     lambda x: x.min(0).indices.to(torch.int32), {"axis": 0})
case("argmin ties", "argmin", [torch.tensor([[2.0, 1.0, 1.0], [0.0, 0.0, 3.0]])], lambda x: x.argmin(1).to(torch.int32), {"axis": 1})
case("all axis 1", "all", [torch.tensor([[1.0, 2.0, 0.0], [1.0, float("nan"), -3.0]])], lambda x: x.bool().all(1).to(torch.int32), {"axis": 1})
case("any axis 0", "any", [torch.tensor([[0.0, 2.0, 0.0], [0.0, 0.0, -3.0]])], lambda x: x.bool().any(0).to(torch.int32), {"axis": 0})
case("isnan isinf isfinite", "isfiniteAll", [torch.tensor([0.0, float("nan"), float("inf"), -float("inf"), -2.5])],
     lambda x: torch.stack([torch.isnan(x), torch.isinf(x), torch.isfinite(x)]).to(torch.int32))

with open(OUT, "w") as f:
    json.dump({
        "generator": "packages/conformance/scripts/gen_torch_refs.py",
        "torch": torch.__version__.split("+")[0],
        "cases": cases,
    }, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)")
