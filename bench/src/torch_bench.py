"""PyTorch side of `pnpm bench`: the same workloads as bench/src/bp-bench.ts.

Prints one JSON object on stdout. Arguments: `--steps N` times N training steps
per batch size (0 = a whole epoch), `--steps -1` skips the MLP, `--reps N` matmul repetitions, `--threads N`,
`--cnn-steps N` times N steps of the CNN at batch 64 (0 = a whole epoch; skipped by default).
"""
import argparse
import json
import re
import statistics
import sys
import time

import torch


def matmul_gflops(n: int, reps: int) -> float:
    a = torch.rand(n, n)
    b = torch.rand(n, n)
    for _ in range(2):
        a @ b
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(times) / 1e9


def timed_epoch(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int, steps: int) -> dict:
    """Times `steps` training steps (0 = a whole epoch) of `model` with Adam 1e-3 and cross-entropy."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    samples = x.shape[0]
    per_epoch = samples // batch
    steps = per_epoch if steps <= 0 else min(steps, per_epoch)
    perm = torch.randperm(samples)
    # One warm-up step so allocator and thread pool start-up are not timed.
    idx = perm[:batch]
    opt.zero_grad()
    loss_fn(model(x[idx]), y[idx]).backward()
    opt.step()
    t0 = time.perf_counter()
    for s in range(steps):
        idx = perm[s * batch:(s + 1) * batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    loss.item()
    dt = time.perf_counter() - t0
    return {
        "batchSize": batch,
        "stepsTimed": steps,
        "secondsTimed": dt,
        "epochSeconds": dt / steps * per_epoch,
        "finalLoss": float(loss.item()),
    }


def mlp_epoch(batch: int, samples: int, steps: int) -> dict:
    """Keras' MNIST MLP (784-128-10, ReLU, softmax cross-entropy, Adam 1e-3) on synthetic data."""
    torch.manual_seed(0)
    x = torch.rand(samples, 784)
    y = torch.randint(0, 10, (samples,))
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    return timed_epoch(model, x, y, batch, steps)


def cnn_epoch(batch: int, samples: int, steps: int) -> dict:
    """The CNN of examples/src/mnist-cnn.ts (two Conv2d 3x3 + ReLU + MaxPool2d 2 blocks, Linear), Adam 1e-3."""
    torch.manual_seed(0)
    x = torch.rand(samples, 1, 28, 28)
    y = torch.randint(0, 10, (samples,))
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 10),
    )
    return timed_epoch(model, x, y, batch, steps)


def scaling(cfg: dict) -> dict:
    """Seconds per sample of the MLP (784-hidden-10) at each {batch, hidden, steps} point of `cfg`."""
    n = cfg["data"]
    out = []
    for pt in cfg["points"]:
        torch.manual_seed(0)
        x = torch.rand(n, 784)
        y = torch.randint(0, 10, (n,))
        b, h, steps = pt["batch"], pt["hidden"], pt["steps"]
        model = torch.nn.Sequential(torch.nn.Linear(784, h), torch.nn.ReLU(), torch.nn.Linear(h, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        perm = torch.randperm(n)
        per = n // b

        def step(s: int) -> torch.Tensor:
            o = (s % per) * b
            idx = perm[o:o + b]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            return loss

        step(0)
        t0 = time.perf_counter()
        for s in range(1, steps + 1):
            loss = step(s)
        loss.item()
        out.append((time.perf_counter() - t0) / (steps * b))
    return {"secondsPerSample": out}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=0)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--samples", type=int, default=60000)
    p.add_argument("--cnn-steps", type=int, default=-1, help="CNN steps at batch 64 (0 = a whole epoch, -1 = skip)")
    p.add_argument("--only-cnn", action="store_true", help="skip matmul and MLP")
    p.add_argument("--scaling", type=str, default="", help="JSON {points: [{batch, hidden, steps}], data}: time the MLP sweep only")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.scaling:
        json.dump(scaling(json.loads(args.scaling)), sys.stdout)
        return
    out = {
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": "unknown",
        "matmulGflops": {} if args.only_cnn else {str(n): matmul_gflops(n, args.reps) for n in (256, 512, 1024)},
        "mlp": {} if args.steps < 0 or args.only_cnn else {str(b): mlp_epoch(b, args.samples, args.steps) for b in (32, 128)},
    }
    if args.cnn_steps >= 0:
        out["cnn"] = cnn_epoch(64, args.samples, args.cnn_steps)
    cfg = torch.__config__.show()
    found = re.search(r"BLAS_INFO=([^,]+)", cfg)
    if found:
        out["blas"] = found.group(1)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
