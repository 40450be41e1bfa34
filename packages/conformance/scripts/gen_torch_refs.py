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
    (out * w).sum().backward()
    cases.append({
        "name": name,
        "op": op,
        "attrs": attrs or {},
        "inputs": [enc(t) for t in leaves],
        "output": enc(out),
        "weight": enc(w),
        "grads": [enc(t.grad) if t.is_floating_point() else None for t in leaves],
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

# Normalisation and attention (composites in bp).
case("layerNorm [2,3,4] over [4] with weight and bias", "layerNorm", [randn(2, 3, 4) * 2 + 1, randn(4), randn(4)],
     lambda x, w, b: F.layer_norm(x, [4], w, b, 1e-5), {"normalizedShape": [4], "eps": 1e-5})
case("layerNorm [2,3,4] over [3,4], no affine, eps 1e-3", "layerNorm", [randn(2, 3, 4)],
     lambda x: F.layer_norm(x, [3, 4], None, None, 1e-3), {"normalizedShape": [3, 4], "eps": 1e-3})


def sdpa(q, k, v, mask=None, causal=False, scale=None):
    """torch 2's F.scaled_dot_product_attention without dropout, written with torch 1.13 ops."""
    s = q @ k.transpose(-2, -1) * (scale if scale is not None else 1 / math.sqrt(q.shape[-1]))
    if causal:
        mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v


case("scaledDotProductAttention [2,2,3,4] plain", "scaledDotProductAttention", [randn(2, 2, 3, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 3)],
     lambda q, k, v: sdpa(q, k, v), {})
case("scaledDotProductAttention isCausal [2,4,3]", "scaledDotProductAttention", [randn(2, 4, 3), randn(2, 4, 3), randn(2, 4, 3)],
     lambda q, k, v: sdpa(q, k, v, causal=True), {"isCausal": True})
case("scaledDotProductAttention boolean attnMask [3,4], scale 0.3", "scaledDotProductAttention",
     [randn(2, 3, 2), randn(2, 4, 2), randn(2, 4, 5), torch.tensor([[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 1, 1]], dtype=torch.int32)],
     lambda q, k, v, m: sdpa(q, k, v, mask=m.bool(), scale=0.3), {"scale": 0.3})
case("scaledDotProductAttention float attnMask [3,4]", "scaledDotProductAttention", [randn(3, 2), randn(4, 2), randn(4, 2), randn(3, 4)],
     lambda q, k, v, m: sdpa(q, k, v, mask=m), {})

with open(OUT, "w") as f:
    json.dump({
        "generator": "packages/conformance/scripts/gen_torch_refs.py",
        "torch": torch.__version__.split("+")[0],
        "cases": cases,
    }, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)")
