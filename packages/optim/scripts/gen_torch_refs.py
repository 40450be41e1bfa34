"""Writes src/__fixtures__/torch-refs.json: optimizer trajectories, scheduler
learning rates and clip_grad_norm_ results from PyTorch.

Run from packages/optim with: /usr/bin/python3 scripts/gen_torch_refs.py

The problem every optimizer runs on: a weight W [2,3] and a bias b [2],
loss = mean((W X + b - Y)^2) for fixed X [3,4] and Y [2,4]. The tests build
the same loss with bp, so the gradients come from bp's autograd and the
comparison covers the whole training step.
"""
import json
import math
import os

import torch

torch.manual_seed(0)
STEPS = 6

W0 = torch.randn(2, 3)
B0 = torch.randn(2)
X = torch.randn(3, 4)
Y = torch.randn(2, 4)


def loss_fn(w, b):
    return ((w @ X + b[:, None] - Y) ** 2).mean()


def flat(t):
    return t.detach().flatten().tolist()


OPTS = {
    'SGD': lambda params, o: torch.optim.SGD(params, lr=o['lr'], momentum=o.get('momentum', 0),
                                             dampening=o.get('dampening', 0), nesterov=o.get('nesterov', False),
                                             weight_decay=o.get('weightDecay', 0)),
    'Adam': lambda params, o: torch.optim.Adam(params, lr=o.get('lr', 1e-3), betas=tuple(o.get('betas', (0.9, 0.999))),
                                               eps=o.get('eps', 1e-8), weight_decay=o.get('weightDecay', 0),
                                               amsgrad=o.get('amsgrad', False)),
    'AdamW': lambda params, o: torch.optim.AdamW(params, lr=o.get('lr', 1e-3), betas=tuple(o.get('betas', (0.9, 0.999))),
                                                 eps=o.get('eps', 1e-8), weight_decay=o.get('weightDecay', 1e-2),
                                                 amsgrad=o.get('amsgrad', False)),
    'RMSprop': lambda params, o: torch.optim.RMSprop(params, lr=o.get('lr', 1e-2), alpha=o.get('alpha', 0.99),
                                                     eps=o.get('eps', 1e-8), weight_decay=o.get('weightDecay', 0),
                                                     momentum=o.get('momentum', 0), centered=o.get('centered', False)),
    'Adagrad': lambda params, o: torch.optim.Adagrad(params, lr=o.get('lr', 1e-2), lr_decay=o.get('lrDecay', 0),
                                                     weight_decay=o.get('weightDecay', 0),
                                                     initial_accumulator_value=o.get('initialAccumulatorValue', 0),
                                                     eps=o.get('eps', 1e-10)),
}

CONFIGS = [
    ('SGD', {'lr': 0.1}),
    ('SGD', {'lr': 0.1, 'momentum': 0.9}),
    ('SGD', {'lr': 0.1, 'momentum': 0.9, 'nesterov': True}),
    ('SGD', {'lr': 0.1, 'momentum': 0.9, 'dampening': 0.5, 'weightDecay': 0.01}),
    ('SGD', {'lr': 0.05, 'weightDecay': 0.1}),
    ('Adam', {'lr': 0.1}),
    ('Adam', {}),
    ('Adam', {'lr': 0.05, 'betas': [0.8, 0.99], 'eps': 1e-6}),
    ('Adam', {'lr': 0.1, 'weightDecay': 0.1}),
    ('Adam', {'lr': 0.1, 'amsgrad': True}),
    ('Adam', {'lr': 0.1, 'amsgrad': True, 'weightDecay': 0.05}),
    ('AdamW', {'lr': 0.1}),
    ('AdamW', {'lr': 0.1, 'weightDecay': 0.1, 'amsgrad': True}),
    ('RMSprop', {}),
    ('RMSprop', {'lr': 0.01, 'momentum': 0.9}),
    ('RMSprop', {'lr': 0.01, 'centered': True}),
    ('RMSprop', {'lr': 0.01, 'centered': True, 'momentum': 0.5, 'weightDecay': 0.1}),
    ('RMSprop', {'lr': 0.02, 'alpha': 0.9, 'eps': 1e-6}),
    ('Adagrad', {'lr': 0.1}),
    ('Adagrad', {'lr': 0.1, 'lrDecay': 0.1, 'weightDecay': 0.1}),
    ('Adagrad', {'lr': 0.1, 'initialAccumulatorValue': 0.1, 'eps': 1e-7}),
]


def trajectory(name, opts, groups=None):
    w = W0.clone().requires_grad_(True)
    b = B0.clone().requires_grad_(True)
    params = [w, b] if groups is None else [dict(g, params=[w, b][g['param']]) for g in groups]
    if groups is not None:
        for g in params:
            del g['param']
    opt = OPTS[name](params, opts)
    out = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss_fn(w, b).backward()
        opt.step()
        out.append({'w': flat(w), 'b': flat(b)})
    return out


optimizers = [{'optimizer': n, 'opts': o, 'steps': trajectory(n, o)} for n, o in CONFIGS]
# AdamW with per-group learning rate and decoupled weight decay (no decay on the bias, as transformer recipes do)
ADAMW_GROUPS = [{'param': 0, 'weightDecay': 0.1}, {'param': 1, 'lr': 0.05, 'weightDecay': 0.0}]
optimizers.append({
    'optimizer': 'AdamW', 'opts': {'lr': 0.1},
    'groups': ADAMW_GROUPS,
    'steps': trajectory('AdamW', {'lr': 0.1}, [{'param': 0, 'weight_decay': 0.1}, {'param': 1, 'lr': 0.05, 'weight_decay': 0.0}]),
})
# parameter groups: W with the defaults, b with its own lr and momentum
optimizers.append({
    'optimizer': 'SGD', 'opts': {'lr': 0.1},
    'groups': [{'param': 0}, {'param': 1, 'lr': 0.01, 'momentum': 0.5}],
    'steps': trajectory('SGD', {'lr': 0.1}, [{'param': 0}, {'param': 1, 'lr': 0.01, 'momentum': 0.5}]),
})


def lr_sequence(make, epochs=25, metrics=None):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    lrs = []
    for e in range(epochs):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[e])
        lrs.append(opt.param_groups[0]['lr'])
    return lrs


S = torch.optim.lr_scheduler
PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.91, 0.9, 0.899, 0.7, 0.71, 0.72, 0.73, 0.74, 0.69, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
ACC_METRICS = [0.5, 0.6, 0.6, 0.65, 0.64, 0.66, 0.66, 0.66, 0.66, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
schedulers = [
    {'scheduler': 'StepLR', 'opts': {'stepSize': 3, 'gamma': 0.5}, 'lrs': lr_sequence(lambda o: S.StepLR(o, step_size=3, gamma=0.5))},
    {'scheduler': 'ExponentialLR', 'opts': {'gamma': 0.9}, 'lrs': lr_sequence(lambda o: S.ExponentialLR(o, gamma=0.9))},
    {'scheduler': 'CosineAnnealingLR', 'opts': {'tMax': 5, 'etaMin': 0.01},
     'lrs': lr_sequence(lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=0.01))},
    {'scheduler': 'CosineAnnealingLR', 'opts': {'tMax': 10},
     'lrs': lr_sequence(lambda o: S.CosineAnnealingLR(o, T_max=10))},
    {'scheduler': 'ReduceLROnPlateau', 'opts': {'patience': 2, 'factor': 0.5, 'threshold': 0.01, 'cooldown': 1, 'minLr': 0.02},
     'metrics': PLATEAU_METRICS,
     'lrs': lr_sequence(lambda o: S.ReduceLROnPlateau(o, patience=2, factor=0.5, threshold=0.01, cooldown=1, min_lr=0.02),
                        len(PLATEAU_METRICS), PLATEAU_METRICS)},
    {'scheduler': 'ReduceLROnPlateau', 'opts': {'mode': 'max', 'thresholdMode': 'abs', 'threshold': 0.02, 'patience': 1},
     'metrics': ACC_METRICS,
     'lrs': lr_sequence(lambda o: S.ReduceLROnPlateau(o, mode='max', threshold_mode='abs', threshold=0.02, patience=1),
                        len(ACC_METRICS), ACC_METRICS)},
    {'scheduler': 'LinearWarmupCosineLR', 'opts': {'warmupSteps': 5, 'totalSteps': 20, 'startFactor': 0.2, 'etaMin': 0.01},
     'lrs': lr_sequence(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.2, end_factor=1.0, total_iters=5),
                                                    S.CosineAnnealingLR(o, T_max=15, eta_min=0.01)], milestones=[5]), 20)},
    {'scheduler': 'LinearWarmupCosineLR', 'opts': {'warmupSteps': 4, 'totalSteps': 12},
     'lrs': lr_sequence(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4),
                                                    S.CosineAnnealingLR(o, T_max=8)], milestones=[4]), 12)},
]

G1 = torch.randn(2, 3) * 2
G2 = torch.randn(4)
clips = []
for max_norm, norm_type in [(1.0, 2.0), (1.0, 1.0), (0.5, 3.0), (1.0, math.inf), (100.0, 2.0)]:
    a = torch.zeros(2, 3, requires_grad=True)
    c = torch.zeros(4, requires_grad=True)
    a.grad = G1.clone()
    c.grad = G2.clone()
    total = torch.nn.utils.clip_grad_norm_([a, c], max_norm, norm_type)
    clips.append({'maxNorm': max_norm, 'normType': 'Infinity' if math.isinf(norm_type) else norm_type,
                  'total': total.item(), 'grads': [flat(a.grad), flat(c.grad)]})

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, '..', 'src', '__fixtures__', 'torch-refs.json')
with open(out, 'w') as f:
    json.dump({
        'torch': torch.__version__,
        'problem': {'w0': flat(W0), 'b0': flat(B0), 'x': flat(X), 'y': flat(Y)},
        'optimizers': optimizers,
        'schedulers': schedulers,
        'clipGradNorm': {'grads': [flat(G1), flat(G2)], 'cases': clips},
    }, f, indent=1)
    f.write('\n')
print(f'wrote {len(optimizers)} trajectories, {len(schedulers)} schedules, {len(clips)} clips to {os.path.normpath(out)}')
