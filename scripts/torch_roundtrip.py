#!/usr/bin/env python3
"""The PyTorch side of bp's PyTorch round trip (apps/cli/src/torch-roundtrip.test.ts).

Reads one job as JSON on stdin:

  {"code": "model = nn.Sequential(...)",          # what `bp export --format safetensors` prints
   "weights": "bp.safetensors",                    # bp's weights, PyTorch state-dict names
   "input": {"file": "x.bin", "shape": [...], "dtype": "float32" | "int64"},
   "target": {"file": "y.bin", "shape": [...]},   # int64 class ids, shaped like the output less its last axis
   "steps": 5, "lr": 0.1, "out": "dir"}

1. Builds `model` from the code, loads bp's weights with strict names and shapes,
   and writes model(input) (eval mode) to out/bp_weights_output.f32.
2. Trains `steps` SGD steps on (input, target) with cross-entropy, writes the
   state dict to out/trained.safetensors and model(input) to out/trained_output.f32.
3. Prints a JSON summary (the losses, the output shapes).

Needs only torch: the safetensors files are read and written here directly
(8-byte little-endian header length, JSON header, raw little-endian data).
"""
import json
import struct
import sys

import torch
from torch import nn  # noqa: F401  (the model code uses nn)
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    """The tensors of a safetensors file, by name."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header.pop("__metadata__", None)
    tensors = {}
    for name, e in header.items():
        start, end = e["data_offsets"]
        raw = bytearray(data[8 + n + start : 8 + n + end])
        dtype = DTYPES[e["dtype"]]
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(e["shape"])
    return tensors


def write_safetensors(path, tensors, metadata=None):
    """Writes tensors (name -> tensor) as a safetensors file."""
    header = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name, t in tensors.items():
        raw = t.detach().cpu().contiguous().numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_raw(spec, dtype):
    with open(spec["file"], "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=dtype).reshape(spec["shape"])


def write_f32(path, t):
    with open(path, "wb") as f:
        f.write(t.detach().to(torch.float32).contiguous().numpy().tobytes())


def main():
    assert sys.byteorder == "little", "this script reads little-endian data in place"
    job = json.load(sys.stdin)
    torch.manual_seed(0)
    scope = {"torch": torch, "nn": torch.nn}
    exec(job["code"], scope)  # the code bp generated for this model, from the test itself
    model = scope["model"]
    model.load_state_dict(read_safetensors(job["weights"]), strict=True)

    x = read_raw(job["input"], torch.int64 if job["input"]["dtype"] == "int64" else torch.float32)
    y = read_raw(job["target"], torch.int64)
    model.eval()
    with torch.no_grad():
        before = model(x)
    write_f32(f"{job['out']}/bp_weights_output.f32", before)

    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=job["lr"])
    losses = []
    for _ in range(job["steps"]):
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    write_safetensors(f"{job['out']}/trained.safetensors", model.state_dict(), {"format": "pt"})
    model.eval()
    with torch.no_grad():
        after = model(x)
    write_f32(f"{job['out']}/trained_output.f32", after)
    json.dump({"torch": torch.__version__, "losses": losses, "shape": list(before.shape)}, sys.stdout)


if __name__ == "__main__":
    main()
