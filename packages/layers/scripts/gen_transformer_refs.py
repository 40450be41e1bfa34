#!/usr/bin/env python3
"""PyTorch reference values for @bp/layers' transformer layers.

Regenerate (run from packages/layers):

    /usr/bin/python3 scripts/gen_transformer_refs.py

writes src/__fixtures__/transformer_refs.json: forward outputs and the
gradients of sum(out * upstream) for Embedding (with padding_idx),
LayerNorm, GroupNorm, BatchNorm2d and MultiheadAttention (batch_first and
not, masks, causal), computed in float64 from float32 values, plus the
state-dict names of each module.
"""
import json
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'src', '__fixtures__', 'transformer_refs.json')


def f32(*shape):
    return torch.randn(*shape, dtype=torch.float32).double()


def r9(v):
    return float('%.9g' % v)


def flat(t):
    return [r9(v) for v in t.detach().reshape(-1).tolist()]


def params(m):
    return {k: {'shape': list(v.shape), 'values': flat(v)} for k, v in m.state_dict().items() if v.is_floating_point()}


def run(m, inputs, call):
    """Forward `call(m, *inputs)`, backward of sum(out * g); gradients of float inputs and of parameters."""
    m = m.double()
    before = params(m)  # before the forward: BatchNorm's forward moves its running statistics
    leaves = [x.clone().requires_grad_(True) if x.is_floating_point() else x for x in inputs]
    out = call(m, *leaves)
    g = f32(*out.shape)
    (out * g).sum().backward()
    return {
        'params': before,
        'names': list(m.state_dict().keys()),
        'inputs': [{'shape': list(x.shape), 'values': flat(x), 'dtype': 'float32' if x.is_floating_point() else 'int32'} for x in leaves],
        'out': flat(out), 'outShape': list(out.shape), 'upstream': flat(g),
        'inputGrads': [flat(x.grad) if x.is_floating_point() else None for x in leaves],
        'paramGrads': {k: flat(p.grad) for k, p in m.named_parameters() if p.grad is not None},
    }


class GptBlock(nn.Module):
    def __init__(self, n, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n)
        self.attn = nn.MultiheadAttention(n, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(n)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(n, 4 * n)
        self.mlp.c_proj = nn.Linear(4 * n, n)

    def forward(self, x, mask):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        h = self.ln_2(x)
        return x + self.mlp.c_proj(torch.nn.functional.gelu(self.mlp.c_fc(h)))


class Gpt(nn.Module):
    """nanoGPT's layout with nn.MultiheadAttention and tied output weights: the module tree of bp's GPT."""

    def __init__(self, vocab, block, layers, heads, n):
        super().__init__()
        self.wte = nn.Embedding(vocab, n)
        self.wpe = nn.Embedding(block, n)
        self.h = nn.ModuleList([GptBlock(n, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(n)

    def forward(self, idx):
        T = idx.shape[1]
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x, mask)
        return self.ln_f(x) @ self.wte.weight.T


def gpt_case():
    m = Gpt(7, 6, 2, 2, 8).double()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape, dtype=torch.float32).double() * 0.3)
    before = params(m)
    idx = torch.randint(0, 7, (2, 5))
    tgt = torch.randint(0, 7, (2, 5))
    logits = m(idx)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 7), tgt.reshape(-1))
    loss.backward()
    return {
        'config': {'vocabSize': 7, 'blockSize': 6, 'nLayer': 2, 'nHead': 2, 'nEmbd': 8},
        'names': list(m.state_dict().keys()), 'params': before,
        'idx': idx.reshape(-1).tolist(), 'targets': tgt.reshape(-1).tolist(),
        'logits': flat(logits), 'loss': r9(loss.item()),
        'paramGrads': {k: flat(p.grad) for k, p in m.named_parameters()},
    }


def main():
    torch.manual_seed(0)
    refs = {'torchVersion': torch.__version__}
    ids = torch.tensor([[1, 0, 3], [3, 4, 0]])
    refs['embedding'] = [
        run(nn.Embedding(5, 3), [ids], lambda m, i: m(i)),
        dict(run(nn.Embedding(5, 3, padding_idx=0), [ids], lambda m, i: m(i)), paddingIdx=0),
    ]
    refs['layerNorm'] = [
        dict(run(nn.LayerNorm(4), [f32(2, 3, 4) * 2 + 1], lambda m, x: m(x)), normalizedShape=[4], eps=1e-5, affine=True),
        dict(run(nn.LayerNorm([3, 4], eps=1e-3, elementwise_affine=False), [f32(2, 3, 4)], lambda m, x: m(x)),
             normalizedShape=[3, 4], eps=1e-3, affine=False),
    ]
    ln = nn.LayerNorm(4)
    with torch.no_grad():
        ln.weight.copy_(torch.randn(4))
        ln.bias.copy_(torch.randn(4))
    refs['layerNorm'].append(dict(run(ln, [f32(3, 4)], lambda m, x: m(x)), normalizedShape=[4], eps=1e-5, affine=True))
    gn = nn.GroupNorm(2, 4)
    with torch.no_grad():
        gn.weight.copy_(torch.randn(4))
        gn.bias.copy_(torch.randn(4))
    refs['groupNorm'] = [
        dict(run(gn, [f32(2, 4, 3, 2)], lambda m, x: m(x)), numGroups=2, numChannels=4, eps=1e-5, affine=True),
        dict(run(nn.GroupNorm(3, 6, eps=1e-3, affine=False), [f32(2, 6, 5)], lambda m, x: m(x)), numGroups=3, numChannels=6, eps=1e-3, affine=False),
    ]
    bn = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(3))
        bn.bias.copy_(torch.randn(3))
    c = run(bn, [f32(4, 3, 2, 3)], lambda m, x: m(x))
    c['runningMean'] = flat(bn.running_mean)
    c['runningVar'] = flat(bn.running_var)
    bn.eval()
    xe = f32(2, 3, 2, 2)
    c['evalX'] = flat(xe)
    c['evalOut'] = flat(bn.double()(xe))
    refs['batchNorm2d'] = [c]

    mha = []
    for batch_first, shape, bias in [(True, (2, 4, 6), True), (False, (4, 2, 6), True), (True, (2, 3, 6), False)]:
        m = nn.MultiheadAttention(6, 2, bias=bias, batch_first=batch_first)
        if bias:
            with torch.no_grad():
                m.in_proj_bias.copy_(torch.randn(18) * 0.1)
                m.out_proj.bias.copy_(torch.randn(6) * 0.1)
        x = f32(*shape)
        mha.append(dict(run(m, [x], lambda mm, xx: mm(xx, xx, xx, need_weights=False)[0]),
                        batchFirst=batch_first, bias=bias, embedDim=6, numHeads=2, mask='none'))
    # Cross-attention with a causal-style boolean mask (True = masked) and a key padding mask.
    m = nn.MultiheadAttention(4, 2, batch_first=True)
    L, S = 3, 5
    causal = torch.ones(L, S, dtype=torch.bool).triu(1)
    pad = torch.tensor([[False, False, False, False, True], [False, False, True, True, True]])
    q, kv = f32(2, L, 4), f32(2, S, 4)
    mha.append(dict(run(m, [q, kv, causal.int(), pad.int()],
                        lambda mm, qq, kk, cm, pm: mm(qq, kk, kk, attn_mask=cm.bool(), key_padding_mask=pm.bool(), need_weights=False)[0]),
                    batchFirst=True, bias=True, embedDim=4, numHeads=2, mask='bool+padding'))
    # Self-attention with a float additive mask and the causal mask spelled as -inf above the diagonal.
    m = nn.MultiheadAttention(4, 1, batch_first=True)
    x = f32(2, 3, 4)
    fm = f32(3, 3) * 0.5
    mha.append(dict(run(m, [x, fm], lambda mm, xx, mm2: mm(xx, xx, xx, attn_mask=mm2 + torch.full((3, 3), float('-inf')).triu(1).double(), need_weights=False)[0]),
                    batchFirst=True, bias=True, embedDim=4, numHeads=1, mask='float+causal'))
    refs['multiheadAttention'] = mha

    refs['gpt'] = gpt_case()

    with open(OUT, 'w') as f:
        json.dump(refs, f)
        f.write('\n')
    print('wrote', os.path.normpath(OUT))


if __name__ == '__main__':
    main()
