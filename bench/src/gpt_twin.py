#!/usr/bin/env python3
"""The PyTorch twin of bp's character-level GPT (see gpt-twin.ts).

    /usr/bin/python3 gpt_twin.py DIR
    /usr/bin/python3 gpt_twin.py DIR --time --threads N [--warmup W]

DIR holds init.safetensors (bp's initial weights, PyTorch's names) and
run.json (config, hyperparameters, token streams and each step's batch
offsets). The same module tree is built, the weights are loaded with a
plain safetensors reader, the same batches are replayed with AdamW (decay on
tensors with 2+ dimensions), linear warmup then cosine decay and gradient
clipping, and one JSON object is printed: per-step losses, validation losses
before and after, and the step time with 1 and with 2 threads. With --time,
only the step time with N threads is measured (over the steps after the
first W, default 5) and printed.
"""
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ST = {'F32': torch.float32, 'I32': torch.int32, 'I64': torch.int64}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        a, b = info['data_offsets']
        out[name] = torch.frombuffer(bytearray(data[base + a:base + b]), dtype=ST[info['dtype']]).reshape(info['shape']).clone()
    return out


class Mlp(nn.Module):
    def __init__(self, n, bias):
        super().__init__()
        self.c_fc = nn.Linear(n, 4 * n, bias=bias)
        self.gelu = nn.GELU(approximate='none')
        self.c_proj = nn.Linear(4 * n, n, bias=bias)
        self.dropout = nn.Dropout(0.0)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, n, heads, bias):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n)
        self.attn = nn.MultiheadAttention(n, heads, bias=bias, batch_first=True)
        self.resid_dropout = nn.Dropout(0.0)
        self.ln_2 = nn.LayerNorm(n)
        self.mlp = Mlp(n, bias)

    def forward(self, x, mask):
        h = self.ln_1(x)
        x = x + self.resid_dropout(self.attn(h, h, h, attn_mask=mask, need_weights=False)[0])
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        n = c['nEmbd']
        self.wte = nn.Embedding(c['vocabSize'], n)
        self.wpe = nn.Embedding(c['blockSize'], n)
        self.drop = nn.Dropout(0.0)
        self.h = nn.ModuleList([Block(n, c['nHead'], c['bias']) for _ in range(c['nLayer'])])
        self.ln_f = nn.LayerNorm(n)
        self.lm_head = None if c['tieWeights'] else nn.Linear(n, c['vocabSize'], bias=False)

    def forward(self, idx):
        T = idx.shape[1]
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)  # True = may not attend
        x = self.drop(self.wte(idx) + self.wpe(torch.arange(T)))
        for b in self.h:
            x = b(x, mask)
        x = self.ln_f(x)
        return self.lm_head(x) if self.lm_head is not None else x @ self.wte.weight.T


def batch(data, T, offsets):
    x = torch.stack([data[o:o + T] for o in offsets]).long()
    y = torch.stack([data[o + 1:o + T + 1] for o in offsets]).long()
    return x, y


def loss_of(model, data, T, offsets):
    x, y = batch(data, T, offsets)
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def evaluate(model, data, T, B, max_batches):
    windows = min((len(data) - 1) // T, B * max_batches)
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, windows, B):
            offs = [(start + i) * T for i in range(min(B, windows - start))]
            total += loss_of(model, data, T, offs).item() * len(offs)
            count += len(offs)
    model.train()
    return total / count


def lr_factor(e, h):
    W, total, base = h['warmupSteps'], h['steps'], h['lr']
    total = max(total, W + 1)
    if e < W:
        s = 1 / W
        return s + (1 - s) * e / W
    T = total - W
    t = min(e - W, T)
    eta = h['minLr']
    return (eta + (base - eta) * (1 + math.cos(math.pi * t / T)) / 2) / base


def train(d, run, threads=None, steps=None, warmup=0):
    if threads is not None:
        torch.set_num_threads(threads)
    c, h = run['config'], run['hyper']
    model = GPT(c)
    model.load_state_dict(read_safetensors(os.path.join(d, 'init.safetensors')), strict=True)
    tr = torch.tensor(run['train'], dtype=torch.int64)
    va = torch.tensor(run['val'], dtype=torch.int64)
    T = c['blockSize']
    val_before = evaluate(model, va, T, h['batchSize'], h['evalBatches'])
    params = list(model.parameters())
    opt = torch.optim.AdamW([
        {'params': [p for p in params if p.dim() >= 2], 'weight_decay': h['weightDecay']},
        {'params': [p for p in params if p.dim() < 2], 'weight_decay': 0.0},
    ], lr=h['lr'], betas=tuple(h['betas']))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lr_factor(e, h))
    losses = []
    n = steps if steps is not None else h['steps']
    t0 = time.perf_counter()
    for s in range(n):
        if s == warmup:
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_of(model, tr, T, run['offsets'][s])
        loss.backward()
        if h['gradClip'] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), h['gradClip'])
        opt.step()
        sched.step()
        losses.append(loss.item())
    ms = (time.perf_counter() - t0) * 1000 / (n - warmup)
    return model, losses, val_before, ms, va


def main():
    args = sys.argv[1:]
    d = args[0]
    with open(os.path.join(d, 'run.json')) as f:
        run = json.load(f)
    h = run['hyper']

    def opt(name, default):
        return int(args[args.index(name) + 1]) if name in args else default

    if '--time' in args:
        threads = opt('--threads', 1)
        warmup = min(opt('--warmup', 5), h['steps'] - 1)
        _, _, _, ms, _ = train(d, run, threads=threads, warmup=warmup)
        print(json.dumps({'torch': torch.__version__, 'threads': threads, 'steps': h['steps'] - warmup, 'msPerStep': ms}))
        return
    model, losses, val_before, ms1, va = train(d, run, threads=1)
    val_after = evaluate(model, va, run['config']['blockSize'], h['batchSize'], h['evalBatches'])
    timing = {'threads1': ms1}
    _, _, _, ms2, _ = train(d, run, threads=2, steps=min(50, h['steps']))
    timing['threads2'] = ms2
    print(json.dumps({'torch': torch.__version__, 'losses': losses, 'valBefore': val_before, 'valAfter': val_after, 'msPerStep': timing}))


if __name__ == '__main__':
    main()
