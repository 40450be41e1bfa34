"""Loads the weights `bp export <run> --format safetensors` writes into the
same network in PyTorch, and classifies the MNIST test images with it.

    python3 load_in_pytorch.py runs/mnist/weights.safetensors --model mlp --data DIR

DIR holds MNIST's original files (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte).
Needs only torch: the safetensors file is read below (with the safetensors
package installed, `safetensors.torch.load_file(path)` does the same).
"""
import argparse
import json
import struct

import torch
from torch import nn


def build(name):
    """The networks of `bp train mnist` (mlp) and `bp train mnist --model cnn`."""
    if name == "mlp":
        return nn.Sequential(nn.Flatten(1, -1), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(1, -1), nn.Linear(32 * 7 * 7, 10),
    )


DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32}


def read_safetensors(path):
    """name -> tensor: an 8-byte little-endian header length, a JSON header, then the raw data."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header.pop("__metadata__", None)
    tensors = {}
    for name, e in header.items():
        start, end = e["data_offsets"]
        raw = bytearray(data[8 + n + start : 8 + n + end])
        tensors[name] = torch.frombuffer(raw, dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return tensors


def read_idx(path):
    """An MNIST IDX file: a big-endian header (magic, then one size per axis), then uint8 values."""
    with open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    shape = struct.unpack(f">{rank}I", data[4 : 4 + 4 * rank])
    return torch.frombuffer(bytearray(data[4 + 4 * rank :]), dtype=torch.uint8).reshape(shape)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("weights")
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--data", required=True, help="folder with t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte")
    p.add_argument("--limit", type=int, default=10000, help="classify the first LIMIT test images")
    args = p.parse_args()

    model = build(args.model)
    model.load_state_dict(read_safetensors(args.weights))  # strict: every name and shape must match
    model.eval()

    # bp's MNIST pixels: [N, 1, 28, 28] float32 in [0, 1].
    x = read_idx(f"{args.data}/t10k-images-idx3-ubyte")[: args.limit].unsqueeze(1).float() / 255
    y = read_idx(f"{args.data}/t10k-labels-idx1-ubyte")[: args.limit].long()
    with torch.no_grad():
        logits = model(x)
    correct = int((logits.argmax(1) == y).sum())
    print(f"test accuracy: {correct}/{len(y)} = {correct / len(y):.4f}")
    print(f"logits of test image 0: {json.dumps(logits[0].tolist())}")


if __name__ == "__main__":
    main()
