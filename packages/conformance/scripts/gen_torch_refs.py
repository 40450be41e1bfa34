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

# Shape and indexing ops (all composed from gathers, reshapes and where in bp).
def i32(v):
    return torch.tensor(v, dtype=torch.int32)


case("flip dims [0,2]", "flip", [randn(2, 3, 4)], lambda x: torch.flip(x, [0, 2]), {"dims": [0, 2]})
case("flip dim -1", "flip", [randn(3, 5)], lambda x: torch.flip(x, [-1]), {"dims": -1})
case("roll flattened by 2", "roll", [randn(3, 4)], lambda x: torch.roll(x, 2), {"shifts": 2})
case("roll shifts [1,-3] dims [0,1]", "roll", [randn(3, 4)], lambda x: torch.roll(x, (1, -3), (0, 1)),
     {"shifts": [1, -3], "dims": [0, 1]})
case("repeat [2,1,3] of [2,3]", "repeat", [randn(2, 3)], lambda x: x.repeat(2, 1, 3), {"sizes": [2, 1, 3]})
case("repeatInterleave 2 along dim 1", "repeatInterleave", [randn(2, 3)], lambda x: torch.repeat_interleave(x, 2, dim=1),
     {"repeats": 2, "dim": 1})
case("repeatInterleave counts [1,0,3] along dim 0", "repeatInterleave", [randn(3, 2)],
     lambda x: torch.repeat_interleave(x, torch.tensor([1, 0, 3]), dim=0), {"repeats": [1, 0, 3], "dim": 0})
case("repeatInterleave flattened 2", "repeatInterleave", [randn(2, 2)], lambda x: torch.repeat_interleave(x, 2), {"repeats": 2})
case("tril of [2,3,4]", "tril", [randn(2, 3, 4)], lambda x: torch.tril(x), {"diagonal": 0})
case("tril diagonal -1", "tril", [randn(4, 3)], lambda x: torch.tril(x, -1), {"diagonal": -1})
case("triu diagonal 1", "triu", [randn(3, 5)], lambda x: torch.triu(x, 1), {"diagonal": 1})
case("triu diagonal -2 of [2,4,4]", "triu", [randn(2, 4, 4)], lambda x: torch.triu(x, -2), {"diagonal": -2})
case("diag of a vector, diagonal 1", "diag", [randn(3)], lambda x: torch.diag(x, 1), {"diagonal": 1})
case("diag of a vector, diagonal -2", "diag", [randn(2)], lambda x: torch.diag(x, -2), {"diagonal": -2})
case("diag of a matrix, diagonal -1", "diag", [randn(4, 3)], lambda x: torch.diag(x, -1), {"diagonal": -1})
case("diagonal offset 1 dims (2,0)", "diagonal", [randn(3, 2, 4)], lambda x: torch.diagonal(x, 1, 2, 0),
     {"offset": 1, "dim1": 2, "dim2": 0})
case("diagonal default of [3,3]", "diagonal", [randn(3, 3)], lambda x: torch.diagonal(x), {})
case("unflatten dim 1 to [2,-1]", "unflatten", [randn(3, 6)], lambda x: x.unflatten(1, (2, -1)), {"dim": 1, "sizes": [2, -1]})
case("view [-1,4]", "view", [randn(2, 3, 4)], lambda x: x.view(-1, 4), {"shape": [-1, 4]})
case("unfold dim 1 size 3 step 2", "unfold", [randn(2, 7, 3)], lambda x: x.unfold(1, 3, 2), {"dim": 1, "size": 3, "step": 2})
case("unfold dim -1 size 2 step 1 (overlapping)", "unfold", [randn(5)], lambda x: x.unfold(-1, 2, 1), {"dim": -1, "size": 2, "step": 1})
case("index x[1:, ::2]", "index", [randn(4, 5)], lambda x: x[1:, ::2], {"specs": ["1:", "::2"]})
case("index x[..., -1, None, 1:5:3]", "index", [randn(2, 3, 6)], lambda x: x[..., -1, None, 1:5:3],
     {"specs": ["...", -1, None, "1:5:3"]})
case("index x[i, j] broadcast, repeated", "index", [randn(3, 4, 2), i32([[0], [2], [0]]), i32([1, -1])],
     lambda x, i, j: x[i.long(), j.long()], {"specs": [{"t": 1}, {"t": 2}]})
case("index x[:, i, 0, j] (not adjacent after the integer: in place)", "index", [randn(2, 3, 4, 5), i32([2, 0]), i32([4, 4])],
     lambda x, i, j: x[:, i.long(), 0, j.long()], {"specs": [":", {"t": 1}, 0, {"t": 2}]})
case("index x[i, :, j] (separated: first)", "index", [randn(3, 2, 4), i32([0, 2, 2]), i32([3, 1, 3])],
     lambda x, i, j: x[i.long(), :, j.long()], {"specs": [{"t": 1}, ":", {"t": 2}]})
case("gather (torch.gather) dim 1, repeated", "gather", [randn(3, 4), i32([[0, 0, 3], [1, 2, 1], [3, 3, 3]])],
     lambda x, i: torch.gather(x, 1, i.long()), {"dim": 1})
case("gather (torch.gather) dim 0, smaller index", "gather", [randn(4, 3), i32([[3, 0], [3, 1]])],
     lambda x, i: torch.gather(x, 0, i.long()), {"dim": 0})
case("scatterAdd (scatter_add) dim 1", "scatterAdd", [randn(2, 4), i32([[0, 0, 3], [2, 1, 2]]), randn(2, 3)],
     lambda x, i, s: x.scatter_add(1, i.long(), s), {"dim": 1})
case("scatterAdd (scatter_add) dim 0, index smaller", "scatterAdd", [randn(3, 2), i32([[2, 0], [2, 2]]), randn(2, 2)],
     lambda x, i, s: x.scatter_add(0, i.long(), s), {"dim": 0})
case("scatter dim 1, distinct positions", "scatter", [randn(2, 5), i32([[4, 0, 2], [1, 3, 0]]), randn(2, 3)],
     lambda x, i, s: x.scatter(1, i.long(), s), {"dim": 1})
case("indexSelect axis 1", "indexSelect", [randn(2, 4), i32([3, 3, 0])], lambda x, i: torch.index_select(x, 1, i), {"axis": 1})
case("maskedFill [3,4] with a [4] mask", "maskedFill", [randn(3, 4), i32([1, 0, 0, 1])],
     lambda x, m: x.masked_fill(m.bool(), -2.5), {"value": -2.5})
case("where broadcasts all three: [3,1,4] ? [1,5,1] : [4]", "where",
     [(torch.rand(3, 1, 4) > 0.5).to(torch.int32), randn(1, 5, 1), randn(4)],
     lambda c, a, b: torch.where(c != 0, a, b))
case("einsum ij,jk->ik (matmul)", "einsum", [randn(3, 4), randn(4, 2)], lambda a, b: torch.einsum("ij,jk->ik", a, b),
     {"equation": "ij,jk->ik"})
case("einsum bij,bjk->bik (batched)", "einsum", [randn(2, 3, 4), randn(2, 4, 5)],
     lambda a, b: torch.einsum("bij,bjk->bik", a, b), {"equation": "bij,bjk->bik"})
case("einsum bhqd,bhkd->bhqk (attention)", "einsum", [randn(2, 2, 3, 4), randn(2, 2, 5, 4)],
     lambda a, b: torch.einsum("bhqd,bhkd->bhqk", a, b), {"equation": "bhqd,bhkd->bhqk"})
case("einsum ij->ji (transpose)", "einsum", [randn(2, 3)], lambda a: torch.einsum("ij->ji", a), {"equation": "ij->ji"})
case("einsum ii (trace)", "einsum", [randn(3, 3)], lambda a: torch.einsum("ii", a), {"equation": "ii"})
case("einsum ii->i (diagonal)", "einsum", [randn(3, 3)], lambda a: torch.einsum("ii->i", a), {"equation": "ii->i"})
case("einsum i,j->ij (outer)", "einsum", [randn(3), randn(4)], lambda a, b: torch.einsum("i,j->ij", a, b), {"equation": "i,j->ij"})
case("einsum ijk->j (sum)", "einsum", [randn(2, 3, 4)], lambda a: torch.einsum("ijk->j", a), {"equation": "ijk->j"})
case("einsum ...ij,...jk (ellipsis, implicit)", "einsum", [randn(2, 1, 3, 4), randn(5, 4, 2)],
     lambda a, b: torch.einsum("...ij,...jk", a, b), {"equation": "...ij,...jk"})
case("einsum ij,jk,kl->il (three operands)", "einsum", [randn(2, 3), randn(3, 4), randn(4, 2)],
     lambda a, b, c: torch.einsum("ij,jk,kl->il", a, b, c), {"equation": "ij,jk,kl->il"})
case("pad reflect [1,2] on the last axis", "pad", [randn(2, 4)], lambda x: F.pad(x, (1, 2), mode="reflect"),
     {"pads": [1, 2], "mode": "reflect"})
case("pad replicate H and W of [1,2,3,3]", "pad", [randn(1, 2, 3, 3)], lambda x: F.pad(x, (2, 0, 1, 3), mode="replicate"),
     {"pads": [2, 0, 1, 3], "mode": "replicate"})
case("pad circular H and W of [1,1,3,4]", "pad", [randn(1, 1, 3, 4)], lambda x: F.pad(x, (4, 1, 3, 2), mode="circular"),
     {"pads": [4, 1, 3, 2], "mode": "circular"})
case("pad constant 0.5 flat list", "pad", [randn(2, 3)], lambda x: F.pad(x, (1, 0, 0, 2), value=0.5),
     {"pads": [1, 0, 0, 2], "mode": "constant", "value": 0.5})

# Convolution and pooling options.
case("conv2d groups 2 dilation 2 stride 2 padding 2", "conv2d", [randn(2, 4, 9, 8), randn(6, 2, 3, 3) * 0.3, randn(6)],
     lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=2, dilation=2, groups=2),
     {"stride": 2, "padding": 2, "dilation": 2, "groups": 2})
case("conv2d depthwise (groups 3), dilation [1,2]", "conv2d", [randn(1, 3, 6, 7), randn(3, 1, 2, 3) * 0.3],
     lambda x, w: F.conv2d(x, w, None, padding=1, dilation=(1, 2), groups=3), {"padding": 1, "dilation": [1, 2], "groups": 3})
case("conv2d padding same, even kernel", "conv2d", [randn(1, 2, 5, 5), randn(3, 2, 2, 4) * 0.3, randn(3)],
     lambda x, w, b: F.conv2d(x, w, b, padding="same"), {"padding": "same"})
case("conv1d stride 2 padding 1", "conv1d", [randn(2, 3, 9), randn(4, 3, 3) * 0.3, randn(4)],
     lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), {"stride": 2, "padding": 1})
case("conv1d groups 2 dilation 3 padding same", "conv1d", [randn(1, 4, 10), randn(2, 2, 3) * 0.3],
     lambda x, w: F.conv1d(x, w, None, padding="same", dilation=3, groups=2), {"padding": "same", "dilation": 3, "groups": 2})
case("convTranspose2d stride 2 padding 1 outputPadding 1", "convTranspose2d",
     [randn(2, 3, 4, 5), randn(3, 2, 3, 3) * 0.3, randn(2)],
     lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     {"stride": 2, "padding": 1, "outputPadding": 1})
case("convTranspose2d groups 2 dilation 2 stride [1,3]", "convTranspose2d",
     [randn(1, 4, 3, 3), randn(4, 3, 2, 2) * 0.3, randn(6)],
     lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(1, 3), groups=2, dilation=2, output_padding=(1, 0)),
     {"stride": [1, 3], "groups": 2, "dilation": 2, "outputPadding": [1, 0]})
case("convTranspose2d 1x1 kernel, padding 0, no bias", "convTranspose2d", [randn(2, 3, 2, 2), randn(3, 4, 1, 1)],
     lambda x, w: F.conv_transpose2d(x, w), {})
case("maxPool2d 3x3 stride 2 ceilMode", "maxPool2d", [randn(1, 2, 8, 7)],
     lambda x: F.max_pool2d(x, 3, stride=2, ceil_mode=True), {"kernel": 3, "stride": 2, "ceilMode": True})
case("maxPool2d 2x2 dilation 2 padding 1 ceilMode", "maxPool2d", [randn(2, 1, 7, 8)],
     lambda x: F.max_pool2d(x, 2, stride=2, padding=1, dilation=2, ceil_mode=True),
     {"kernel": 2, "stride": 2, "padding": 1, "dilation": 2, "ceilMode": True})
case("maxPool2d [3,2] dilation [2,1] stride 1", "maxPool2d", [randn(1, 2, 6, 5)],
     lambda x: F.max_pool2d(x, (3, 2), stride=1, dilation=(2, 1)), {"kernel": [3, 2], "stride": 1, "dilation": [2, 1]})
case("avgPool2d 3x3 stride 2 padding 1 countIncludePad false ceilMode", "avgPool2d", [randn(1, 2, 6, 7)],
     lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     {"kernel": 3, "stride": 2, "padding": 1, "ceilMode": True, "countIncludePad": False})
case("avgPool2d 3x3 stride 2 padding 1 ceilMode (pad counted, clipped)", "avgPool2d", [randn(1, 1, 6, 6)],
     lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), {"kernel": 3, "stride": 2, "padding": 1, "ceilMode": True})
case("avgPool2d 2x2 padding 1 divisorOverride 3", "avgPool2d", [randn(2, 1, 4, 5)],
     lambda x: F.avg_pool2d(x, 2, padding=1, divisor_override=3), {"kernel": 2, "padding": 1, "divisorOverride": 3})
case("adaptiveAvgPool2d [5,7] to [3,2]", "adaptiveAvgPool2d", [randn(2, 3, 5, 7)],
     lambda x: F.adaptive_avg_pool2d(x, (3, 2)), {"outputSize": [3, 2]})
case("adaptiveAvgPool2d to 1 (global average)", "adaptiveAvgPool2d", [randn(2, 3, 4, 4)],
     lambda x: F.adaptive_avg_pool2d(x, 1), {"outputSize": 1})
case("adaptiveAvgPool2d [c,h,w] upsampling to [4,None]", "adaptiveAvgPool2d", [randn(2, 3, 5)],
     lambda x: F.adaptive_avg_pool2d(x, (4, None)), {"outputSize": [4, None]})
case("adaptiveMaxPool2d [7,6] to [3,4]", "adaptiveMaxPool2d", [randn(1, 2, 7, 6)],
     lambda x: F.adaptive_max_pool2d(x, (3, 4)), {"outputSize": [3, 4]})
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
case("log10 [3,4]", "log10", [positive(3, 4)], torch.log10)
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
case("linear [5,7] -> 4 with bias", "linear", [randn(5, 7), randn(4, 7) * 0.4, randn(4)],
     lambda x, w, b: F.linear(x, w, b), {})
case("linear relu [2,3,6] -> 5 with bias", "linear", [randn(2, 3, 6), randn(5, 6) * 0.4, randn(5)],
     lambda x, w, b: F.relu(F.linear(x, w, b)), {"activation": "relu"})
case("linear relu [4,3] -> 6 no bias", "linear", [randn(4, 3), randn(6, 3) * 0.5],
     lambda x, w: F.relu(F.linear(x, w)), {"activation": "relu"})

# Fused softmax cross-entropy (internal op of @bp/tensor; F.cross_entropy on [N, C] with class ids).
case("softmaxCrossEntropy mean", "softmaxCrossEntropy", [randn(5, 4) * 2, i32([1, 3, 0, 2, 3])],
     lambda x, y: F.cross_entropy(x, y.long()), {"reduction": "mean"})
case("softmaxCrossEntropy mean with ignored rows", "softmaxCrossEntropy", [randn(6, 3) * 3, i32([2, -100, 0, -100, 1, 1])],
     lambda x, y: F.cross_entropy(x, y.long()), {"reduction": "mean"})
case("softmaxCrossEntropy sum, ignoreIndex 2", "softmaxCrossEntropy", [randn(4, 5), i32([2, 4, 2, 0])],
     lambda x, y: F.cross_entropy(x, y.long(), ignore_index=2, reduction="sum"), {"reduction": "sum", "ignoreIndex": 2})
case("softmaxCrossEntropy none, large logits", "softmaxCrossEntropy", [randn(3, 6) * 1e3, i32([5, -100, 0])],
     lambda x, y: F.cross_entropy(x, y.long(), reduction="none"), {"reduction": "none"})

# Keras' clipped-probability NLL (internal op of @bp/tensor behind sparseCategoricalCrossentropy):
# -log(clamp(p[label] / sum(p), eps, 1 - eps)) per row.
def probability_nll(p, y, eps):
    q = torch.clamp(p / p.sum(-1, keepdim=True), eps, 1 - eps)
    return -torch.log(q).gather(1, y.long().reshape(-1, 1)).reshape(-1)


case("probabilityNll softmax rows", "probabilityNll", [torch.softmax(randn(5, 4) * 2, -1), i32([1, 3, 0, 2, 3])],
     lambda p, y: probability_nll(p, y, 1e-7), {})
case("probabilityNll unnormalised rows, eps 0.05 clipping two", "probabilityNll",
     [torch.tensor([[0.5, 1.5, 0.0], [0.2, 0.2, 0.6], [2.0, 0.01, 1.0], [0.0, 0.0, 3.0]]), i32([1, 0, 1, 2])],
     lambda p, y: probability_nll(p, y, 0.05), {"eps": 0.05})

# Max pooling after a ReLU as one op (internal op of @bp/tensor that Sequential runs for ReLU then MaxPool2d).
case("reluMaxPool2d 2", "reluMaxPool2d", [randn(2, 3, 6, 6)], lambda x: F.max_pool2d(F.relu(x), 2), {"kernel": 2})
case("reluMaxPool2d 3 stride 2 padding 1", "reluMaxPool2d", [randn(1, 2, 7, 7)],
     lambda x: F.max_pool2d(F.relu(x), 3, stride=2, padding=1), {"kernel": 3, "stride": 2, "padding": 1})

# A convolution, ReLU and 2x2 max pooling as one op (internal op of @bp/tensor that Sequential runs
# for Conv2d, ReLU, MaxPool2d in a row): odd convolution outputs drop their last row and column.
case("conv2dReluMaxPool2d padding 1", "conv2dReluMaxPool2d", [randn(2, 3, 6, 6), randn(4, 3, 3, 3) * 0.3, randn(4)],
     lambda x, w, b: F.max_pool2d(F.relu(F.conv2d(x, w, b, padding=1)), 2), {"conv": {"padding": 1}, "kernel": 2})
case("conv2dReluMaxPool2d stride 2, odd output, no bias", "conv2dReluMaxPool2d", [randn(1, 2, 11, 9), randn(3, 2, 2, 3) * 0.3],
     lambda x, w: F.max_pool2d(F.relu(F.conv2d(x, w, None, stride=2)), 2), {"conv": {"stride": 2}, "kernel": 2})

# Transposed convolution whose outputPadding reaches the stride (allowed where the dilation is larger)
# with padding: the rows outputPadding adds include rows the padding crop would drop, so they hold sums.
case("convTranspose2d dilation 2 stride [1,2] padding [2,1] outputPadding 1", "convTranspose2d",
     [randn(2, 2, 4, 3), randn(2, 3, 3, 2) * 0.3, randn(3)],
     lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(1, 2), padding=(2, 1), output_padding=1, dilation=2),
     {"stride": [1, 2], "padding": [2, 1], "outputPadding": 1, "dilation": 2})

# Norms of order below 1 over rows holding zeros: |x|^p has an infinite slope at 0, and PyTorch's
# gradient there is 0 (for negative p a zero makes the norm 0 and the whole row's gradient 0).
case("norm 0.5 axis 1 with zeros", "norm", [torch.tensor([[0.0, 1.0, -2.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0]])],
     lambda x: torch.linalg.vector_norm(x, 0.5, dim=1), {"p": 0.5, "axis": 1})
case("norm -1 axis 1 with zeros", "norm", [torch.tensor([[0.0, 1.0, -2.0], [1.5, -0.5, 2.0]])],
     lambda x: torch.linalg.vector_norm(x, -1, dim=1), {"p": -1, "axis": 1})

# Axes that share an einsum label broadcast when one of them has size 1 (PyTorch's rule).
case("einsum ij,ij->ij with a size-1 row", "einsum", [randn(1, 3), randn(3, 3)],
     lambda a, b: torch.einsum("ij,ij->ij", a, b), {"equation": "ij,ij->ij"})
case("einsum bij,bjk->bik with a size-1 batch", "einsum", [randn(1, 2, 3), randn(3, 3, 2)],
     lambda a, b: torch.einsum("bij,bjk->bik", a, b), {"equation": "bij,bjk->bik"})
case("einsum ij,jk->ik with a size-1 contracted axis", "einsum", [randn(2, 1), randn(3, 4)],
     lambda a, b: torch.einsum("ij,jk->ik", a, b), {"equation": "ij,jk->ik"})

with open(OUT, "w") as f:
    json.dump({
        "generator": "packages/conformance/scripts/gen_torch_refs.py",
        "torch": torch.__version__.split("+")[0],
        "cases": cases,
    }, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)")
