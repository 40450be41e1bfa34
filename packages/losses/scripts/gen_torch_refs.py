"""Writes src/__fixtures__/torch-refs.json: loss values and input gradients from PyTorch.

Run from packages/losses with: /usr/bin/python3 scripts/gen_torch_refs.py

Each case stores its inputs, so the tests feed bp exactly the same float32
values. For every reduction it stores the loss and the gradient of
`loss.sum()` with respect to the input (for 'none' that is an all-ones
upstream gradient). The Keras-style probability losses have no PyTorch
counterpart; they are written here with torch ops following Keras' formula
(rescale rows to sum to 1, clip to [1e-7, 1 - 1e-7], log).
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
EPS = 1e-7


def keras_log_probs(p):
    p = p / p.sum(-1, keepdim=True)
    return p.clamp(EPS, 1 - EPS).log()


def categorical_crossentropy(p, y, reduction, opts):
    loss = -(y * keras_log_probs(p)).sum(-1)
    return reduce(loss, reduction)


def sparse_categorical_crossentropy(p, labels, reduction, opts):
    loss = -keras_log_probs(p).gather(1, labels.long().unsqueeze(1)).squeeze(1)
    return reduce(loss, reduction)


def reduce(loss, reduction):
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    return loss


FNS = {
    'mseLoss': lambda x, y, r, o: F.mse_loss(x, y, reduction=r),
    'l1Loss': lambda x, y, r, o: F.l1_loss(x, y, reduction=r),
    'huberLoss': lambda x, y, r, o: F.huber_loss(x, y, reduction=r, delta=o.get('delta', 1.0)),
    'bceLoss': lambda x, y, r, o: F.binary_cross_entropy(x, y, reduction=r, weight=torch.tensor(o['weight']) if 'weight' in o else None),
    'bceWithLogitsLoss': lambda x, y, r, o: F.binary_cross_entropy_with_logits(
        x, y, reduction=r, pos_weight=torch.tensor(o['posWeight']) if 'posWeight' in o else None,
        weight=torch.tensor(o['weight']) if 'weight' in o else None),
    'crossEntropyLoss': lambda x, y, r, o: F.cross_entropy(
        x, y.long() if y.dtype == torch.int32 else y, reduction=r, label_smoothing=o.get('labelSmoothing', 0.0),
        weight=torch.tensor(o['weight']) if 'weight' in o else None, ignore_index=o.get('ignoreIndex', -100)),
    'nllLoss': lambda x, y, r, o: F.nll_loss(x, y.long(), reduction=r, weight=torch.tensor(o['weight']) if 'weight' in o else None,
                                            ignore_index=o.get('ignoreIndex', -100)),
    'klDivLoss': lambda x, y, r, o: F.kl_div(x, y, reduction=o.get('klReduction', r), log_target=o.get('logTarget', False)),
    'categoricalCrossentropy': categorical_crossentropy,
    'sparseCategoricalCrossentropy': sparse_categorical_crossentropy,
}


def f32(t):
    return t.to(torch.float32)


def case(name, loss, x, y, opts=None, grads=True):
    opts = opts or {}
    x = x.detach().clone()
    out = {
        'name': name,
        'loss': loss,
        'opts': opts,
        'input': {'shape': list(x.shape), 'values': x.flatten().tolist()},
        'target': {'shape': list(y.shape), 'dtype': 'int32' if y.dtype == torch.int32 else 'float32',
                   'values': y.flatten().tolist()},
        'results': {},
    }
    for r in ('mean', 'sum', 'none'):
        xi = x.clone().requires_grad_(True)
        v = FNS[loss](xi, y, r, opts)
        v.sum().backward()
        out['results'][r] = {
            'shape': list(v.shape),
            'value': v.detach().flatten().tolist(),
            'grad': xi.grad.flatten().tolist() if grads else None,
        }
    return out


def randn(*s, scale=1.0):
    return f32(torch.randn(*s) * scale)


def labels(n, c):
    return torch.randint(0, c, (n,), dtype=torch.int32)


cases = []
x, y = randn(4, 3), randn(4, 3)
cases.append(case('mse', 'mseLoss', x, y))
x2 = x.clone()
x2[0, 0] = y[0, 0]  # an exact match: the L1 gradient there is 0
cases.append(case('l1', 'l1Loss', x2, y))
cases.append(case('huber delta 1', 'huberLoss', randn(4, 3, scale=2), randn(4, 3)))
cases.append(case('huber delta 0.5', 'huberLoss', randn(4, 3, scale=2), randn(4, 3), {'delta': 0.5}))
cases.append(case('mse 1-d', 'mseLoss', randn(7), randn(7)))

p = torch.sigmoid(randn(4, 3, scale=2))
cases.append(case('bce hard targets', 'bceLoss', p, f32(torch.randint(0, 2, (4, 3)))))
cases.append(case('bce soft targets', 'bceLoss', p, f32(torch.rand(4, 3))))
# Probabilities of exactly 0 and 1: each log is clamped at -100; PyTorch's gradient
# (p - y) / max(p (1 - p), 1e-12) is 0 or +-1e12 there, and bp's equals it.
cases.append(case('bce saturated', 'bceLoss', torch.tensor([0.0, 1.0, 0.3, 1.0]), torch.tensor([0.0, 1.0, 1.0, 0.0])))

z = randn(4, 3, scale=3)
z[1, 1] = 0.0  # the kink-free gradient at exactly 0: sigmoid(0) - y
cases.append(case('bce logits', 'bceWithLogitsLoss', z, f32(torch.randint(0, 2, (4, 3)))))
cases.append(case('bce logits soft', 'bceWithLogitsLoss', z, f32(torch.rand(4, 3))))
cases.append(case('bce logits posWeight', 'bceWithLogitsLoss', z, f32(torch.randint(0, 2, (4, 3))), {'posWeight': [0.5, 2.0, 3.0]}))
cases.append(case('bce logits extreme', 'bceWithLogitsLoss', torch.tensor([1e4, -1e4, 1e4, -1e4, 0.0]), torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0])))

logits = randn(5, 4, scale=2)
lab = labels(5, 4)
cases.append(case('cross entropy', 'crossEntropyLoss', logits, lab))
cases.append(case('cross entropy smoothing', 'crossEntropyLoss', logits, lab, {'labelSmoothing': 0.1}))
cases.append(case('cross entropy extreme', 'crossEntropyLoss', torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4]]),
                  torch.tensor([1, 2, 0], dtype=torch.int32)))
cases.append(case('cross entropy extreme smoothing', 'crossEntropyLoss', torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]]),
                  torch.tensor([1, 2], dtype=torch.int32), {'labelSmoothing': 0.2}))
cases.append(case('nll', 'nllLoss', torch.log_softmax(randn(5, 4), -1), labels(5, 4)))

probs = torch.softmax(randn(5, 4, scale=2), -1)
onehot = F.one_hot(lab.long(), 4).to(torch.float32)
cases.append(case('categorical', 'categoricalCrossentropy', probs, onehot))
unnorm = torch.tensor([[0.5, 0.25, 0.0, 0.25], [0.2, 0.2, 0.2, 0.2], [1.0, 0.0, 0.0, 0.0]])
cases.append(case('categorical unnormalised', 'categoricalCrossentropy', unnorm, torch.tensor([[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]])))
cases.append(case('sparse categorical', 'sparseCategoricalCrossentropy', probs, lab))
cases.append(case('sparse categorical unnormalised', 'sparseCategoricalCrossentropy', unnorm, torch.tensor([2, 1, 0], dtype=torch.int32)))

# Class weights, ignoreIndex, probability targets and [N, C, d...] inputs; KL divergence; BCE weights.
W4 = [0.5, 2.0, 1.0, 3.0]
lab_ign = torch.tensor([1, -100, 3, 0, -100], dtype=torch.int32)
cases.append(case('cross entropy weights', 'crossEntropyLoss', logits, lab, {'weight': W4}))
cases.append(case('cross entropy ignoreIndex', 'crossEntropyLoss', logits, lab_ign))
cases.append(case('cross entropy ignoreIndex 2, weights, smoothing', 'crossEntropyLoss', logits,
                  torch.tensor([1, 2, 3, 0, 2], dtype=torch.int32), {'ignoreIndex': 2, 'weight': W4, 'labelSmoothing': 0.2}))
cases.append(case('cross entropy ignoreIndex with smoothing', 'crossEntropyLoss', logits, lab_ign, {'labelSmoothing': 0.1}))
probs_t = torch.softmax(randn(5, 4), -1)
cases.append(case('cross entropy probability targets', 'crossEntropyLoss', logits, probs_t))
cases.append(case('cross entropy probability targets, weights, smoothing', 'crossEntropyLoss', logits, probs_t,
                  {'weight': W4, 'labelSmoothing': 0.1}))
x4 = randn(2, 3, 4, 2, scale=2)
y4 = torch.randint(0, 3, (2, 4, 2), dtype=torch.int32)
y4[0, 1, 1] = -100
cases.append(case('cross entropy [N,C,d1,d2] ignoreIndex', 'crossEntropyLoss', x4, y4))
cases.append(case('cross entropy [N,C,d1,d2] weights, smoothing', 'crossEntropyLoss', x4, y4, {'weight': [1.0, 0.5, 2.0], 'labelSmoothing': 0.1}))
cases.append(case('cross entropy [N,C,d] probability targets', 'crossEntropyLoss', randn(2, 3, 4), torch.softmax(randn(2, 3, 4), 1)))
cases.append(case('cross entropy unbatched [C]', 'crossEntropyLoss', randn(5), torch.tensor(3, dtype=torch.int32)))
lp = torch.log_softmax(randn(5, 4), -1)
cases.append(case('nll weights, ignoreIndex', 'nllLoss', lp, lab_ign, {'weight': W4}))
cases.append(case('nll [N,C,d] ignoreIndex 1', 'nllLoss', torch.log_softmax(randn(2, 4, 3), 1),
                  torch.tensor([[1, 0, 2], [3, 1, 1]], dtype=torch.int32), {'ignoreIndex': 1}))
kl_in = torch.log_softmax(randn(3, 4), -1)
kl_t = torch.softmax(randn(3, 4), -1)
kl_t[1, 2] = 0.0  # 0 log 0 = 0
cases.append(case('kl div', 'klDivLoss', kl_in, kl_t))
cases.append(case('kl div batchmean', 'klDivLoss', kl_in, kl_t, {'klReduction': 'batchmean'}))
cases.append(case('kl div logTarget', 'klDivLoss', kl_in, torch.log_softmax(randn(3, 4), -1), {'logTarget': True}))
cases.append(case('bce weight', 'bceLoss', p, f32(torch.rand(4, 3)), {'weight': [0.5, 1.0, 2.0]}))
cases.append(case('bce saturated weight', 'bceLoss', torch.tensor([[0.0, 1.0], [1.0, 0.0]]), torch.tensor([[1.0, 0.0], [1.0, 0.5]]), {'weight': [2.0, 0.5]}))
cases.append(case('bce logits weight and posWeight', 'bceWithLogitsLoss', z, f32(torch.rand(4, 3)),
                  {'weight': [[1.0], [0.5], [2.0], [0.0]], 'posWeight': [0.5, 2.0, 3.0]}))

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, '..', 'src', '__fixtures__', 'torch-refs.json')
with open(out, 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': cases}, f, indent=1)
    f.write('\n')
print(f'wrote {len(cases)} cases to {os.path.normpath(out)}')
