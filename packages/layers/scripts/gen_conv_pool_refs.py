#!/usr/bin/python3
"""Writes src/__fixtures__/conv_pool_refs.json: PyTorch's outputs and gradients for the
convolution, pooling and reshaping layers (Conv1d, Conv2d with groups and dilation,
ConvTranspose2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, Unflatten).

Each case holds the module's constructor arguments (bp's option names), its state dict
(names and values exactly as PyTorch's), an input, the output, a weight tensor w of the
output's shape, and the gradients of sum(out * w) for the input and every parameter.

Run from anywhere:  /usr/bin/python3 packages/layers/scripts/gen_conv_pool_refs.py
"""
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "__fixtures__", "conv_pool_refs.json")


def enc(t):
    t = t.detach().to(torch.float32)
    return {"shape": list(t.shape), "data": [round(v, 7) for v in t.reshape(-1).tolist()]}


cases = []


def case(layer, args, opts, module, xshape):
    x = torch.randn(*xshape).requires_grad_(True)
    out = module(x)
    w = torch.randn(out.shape)
    (out * w).sum().backward()
    cases.append({
        "layer": layer,
        "args": args,
        "opts": opts,
        "state": {k: enc(v) for k, v in module.state_dict().items()},
        "x": enc(x),
        "out": enc(out),
        "weight": enc(w),
        "dx": enc(x.grad),
        "grads": {k: enc(p.grad) for k, p in module.named_parameters()},
    })


case("Conv1d", [4, 6, 3], {"stride": 2, "padding": 1, "dilation": 2, "groups": 2},
     nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2), (2, 4, 11))
case("Conv1d", [3, 2, 4], {"padding": "same", "bias": False}, nn.Conv1d(3, 2, 4, padding="same", bias=False), (1, 3, 7))
case("Conv2d", [4, 6, [3, 2]], {"stride": [2, 1], "padding": [1, 2], "dilation": [1, 2], "groups": 2},
     nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2), (2, 4, 7, 6))
case("Conv2d", [3, 3, 3], {"padding": "same", "groups": 3}, nn.Conv2d(3, 3, 3, padding="same", groups=3), (1, 3, 5, 5))
case("ConvTranspose2d", [4, 6, 3], {"stride": 2, "padding": 1, "outputPadding": 1, "groups": 2},
     nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), (2, 4, 3, 4))
case("ConvTranspose2d", [2, 3, [2, 3]], {"stride": [1, 2], "dilation": 2, "bias": False},
     nn.ConvTranspose2d(2, 3, (2, 3), stride=(1, 2), dilation=2, bias=False), (1, 2, 4, 3))
case("MaxPool2d", [3, 2], {"padding": 1, "dilation": 2, "ceilMode": True},
     nn.MaxPool2d(3, 2, padding=1, dilation=2, ceil_mode=True), (2, 2, 8, 9))
case("AvgPool2d", [3, 2], {"padding": 1, "ceilMode": True, "countIncludePad": False},
     nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False), (2, 2, 6, 7))
case("AvgPool2d", [2, None], {"divisorOverride": 3}, nn.AvgPool2d(2, divisor_override=3), (1, 2, 4, 6))
case("AdaptiveAvgPool2d", [[3, None]], {}, nn.AdaptiveAvgPool2d((3, None)), (2, 2, 7, 5))
case("AdaptiveMaxPool2d", [[2, 3]], {}, nn.AdaptiveMaxPool2d((2, 3)), (1, 3, 5, 7))
case("Unflatten", [1, [2, 3]], {}, nn.Unflatten(1, (2, 3)), (4, 6, 2))

with open(OUT, "w") as f:
    json.dump({"generator": "packages/layers/scripts/gen_conv_pool_refs.py", "torch": torch.__version__.split("+")[0],
               "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)")
