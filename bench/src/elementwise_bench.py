#!/usr/bin/env python3
"""PyTorch's side of bench/src/elementwise-bench.ts: the time of elementwise ops on float32 tensors.

    /usr/bin/python3 elementwise_bench.py --threads N --sizes 131072,1048576 --ops exp,log,... --reps R

For each op and size, the op runs on a fixed uniform input in [-4, 4) (log and sqrt on its absolute
value plus 0.5), its output allocated each call as bp's is, R calls after a warmup; the best of three
such runs is kept. Prints one JSON object: the version, the threads and nanoseconds per value by op and
size.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


threads = int(arg('--threads', '1'))
sizes = [int(s) for s in arg('--sizes', '131072').split(',')]
ops = arg('--ops', 'exp').split(',')
reps = int(arg('--reps', '50'))
torch.set_num_threads(threads)

FNS = {
    'exp': torch.exp,
    'log': torch.log,
    'sigmoid': torch.sigmoid,
    'tanh': torch.tanh,
    'gelu': F.gelu,
    'relu': torch.relu,
    'sqrt': torch.sqrt,
    'add': lambda x: x + x,
    'mul': lambda x: x * x,
}

out = {}
with torch.no_grad():
    for op in ops:
        f = FNS[op]
        out[op] = {}
        for n in sizes:
            g = torch.Generator().manual_seed(n)
            x = torch.rand(n, generator=g) * 8 - 4
            if op in ('log', 'sqrt'):
                x = x.abs() + 0.5
            for _ in range(5):
                f(x)
            best = float('inf')
            for _ in range(3):
                t0 = time.perf_counter()
                for _ in range(reps):
                    f(x)
                best = min(best, (time.perf_counter() - t0) / reps)
            out[op][str(n)] = round(best * 1e9 / n, 3)
print(json.dumps({'torch': torch.__version__, 'threads': threads, 'nsPerValue': out}))
