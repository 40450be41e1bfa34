"""Continues training a bp model on PyTorch, on as many processes, GPUs and
machines as you have, with DistributedDataParallel, and writes the weights
back in the safetensors format bp reads.

One machine, 4 processes (4 GPUs, or 4 CPU processes):
    torchrun --nproc_per_node=4 train_ddp.py runs/mnist/weights.safetensors --model mlp --data DIR --out trained.safetensors
Two machines: run on each, with the first one's address:
    torchrun --nnodes=2 --node_rank=0|1 --nproc_per_node=4 --master_addr=HOST --master_port=29500 train_ddp.py ...

Every process holds a replica of the model; DistributedSampler gives each a
different share of every epoch, and DDP averages the gradients across all
processes during backward(), so the replicas stay identical. The backend is
nccl on GPUs (one per process) and gloo on CPUs. DIR holds MNIST's original
files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-*).
"""
import argparse
import json
import os
import struct

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


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
NAMES = {v: k for k, v in DTYPES.items()}


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


def write_safetensors(path, tensors):
    """The reverse: the header padded with spaces to a multiple of 8 bytes, then each tensor's bytes."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        raw = t.detach().cpu().contiguous().numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_idx(path):
    """An MNIST IDX file: a big-endian header (magic, then one size per axis), then uint8 values."""
    with open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    shape = struct.unpack(f">{rank}I", data[4 : 4 + 4 * rank])
    return torch.frombuffer(bytearray(data[4 + 4 * rank :]), dtype=torch.uint8).reshape(shape)


def mnist(folder, split, limit):
    """bp's MNIST: pixels [N, 1, 28, 28] float32 in [0, 1], int64 labels."""
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(f"{folder}/{prefix}-images-idx3-ubyte")[:limit].unsqueeze(1).float() / 255
    y = read_idx(f"{folder}/{prefix}-labels-idx1-ubyte")[:limit].long()
    return x, y


def main():
    p = argparse.ArgumentParser()
    p.add_argument("weights", help="bp's weights: bp export <run> --format safetensors")
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--data", required=True)
    p.add_argument("--out", default="trained.safetensors")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64, help="per process")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--limit", type=int, default=60000, help="train on the first LIMIT images")
    p.add_argument("--test-limit", type=int, default=10000)
    args = p.parse_args()

    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")  # torchrun sets RANK, WORLD_SIZE, MASTER_ADDR...
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)

    model = build(args.model)
    model.load_state_dict(read_safetensors(args.weights))  # every replica starts from bp's weights
    model.to(device)
    ddp = DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)

    x, y = mnist(args.data, "train", args.limit)
    sampler = DistributedSampler(TensorDataset(x, y), num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(TensorDataset(x, y), batch_size=args.batch_size, sampler=sampler)
    opt = torch.optim.SGD(ddp.parameters(), lr=args.lr, momentum=0.9)

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a different shuffle each epoch, the same on every process
        ddp.train()
        sums = torch.zeros(2, device=device)
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            loss = F.cross_entropy(ddp(xb), yb)
            loss.backward()  # DDP all-reduces the gradients here
            opt.step()
            sums += torch.stack([loss.detach() * len(yb), torch.tensor(float(len(yb)), device=device)])
        dist.all_reduce(sums)  # the loss over every process's share
        if rank == 0:
            print(f"epoch {epoch + 1}/{args.epochs}: train loss {float(sums[0] / sums[1]):.4f} on {int(sums[1])} images, {world} process(es)")

    if rank == 0:
        # model is the replica DDP wraps: its state dict has bp's names (no "module." prefix).
        write_safetensors(args.out, model.state_dict())
        model.eval()
        tx, ty = mnist(args.data, "test", args.test_limit)
        with torch.no_grad():
            correct = int((model(tx.to(device)).argmax(1).cpu() == ty).sum())
        print(f"wrote {args.out}; test accuracy: {correct}/{len(ty)} = {correct / len(ty):.4f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
