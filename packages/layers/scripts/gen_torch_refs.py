#!/usr/bin/env python3
"""PyTorch reference values for @bp/layers' tests.

Regenerate the fixtures (run from packages/layers):

    /usr/bin/python3 scripts/gen_torch_refs.py

writes src/__fixtures__/torch_refs.json (forward outputs and gradients of
Linear, Conv2d, MaxPool2d and BatchNorm1d, computed in float64 from float32
inputs) and src/__fixtures__/mlp.safetensors (the state dict of a small
model, serialised the way the reference safetensors implementation does).

Check that PyTorch reads a file bp wrote:

    /usr/bin/python3 scripts/gen_torch_refs.py --check path/to/model.safetensors

loads it with a plain json + struct reader into the same torch model,
runs it on the fixture input and compares with the expected output (exit 0
when they agree to 1e-5).
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'src', '__fixtures__')

# Rank of each dtype in the reference implementation's Dtype enum; files
# list tensors by descending rank, then by name.
DTYPE_RANK = {'I32': 0, 'F32': 1, 'F64': 2, 'I64': 3}
TORCH_TO_ST = {torch.float32: 'F32', torch.int32: 'I32', torch.int64: 'I64', torch.float64: 'F64'}
ST_TO_TORCH = {v: k for k, v in TORCH_TO_ST.items()}


def f32(*shape):
    """Random float32 values, returned as float64 for exact references."""
    return torch.randn(*shape, dtype=torch.float32).double()


def r9(v):
    """Nine significant digits: exact for float32 inputs, far below the tests' 1e-4 tolerance for results."""
    return float('%.9g' % v)


def flat(t):
    return [r9(v) for v in t.detach().reshape(-1).tolist()]


def case(x, out, grads, **extra):
    d = {'x': flat(x), 'xShape': list(x.shape), 'out': flat(out), 'outShape': list(out.shape)}
    d.update({k: flat(v) for k, v in grads.items()})
    d.update(extra)
    return d


def linear_case(n, fin, fout, bias):
    x = f32(n, fin).requires_grad_()
    w = f32(fout, fin).requires_grad_()
    b = f32(fout).requires_grad_() if bias else None
    out = torch.nn.functional.linear(x, w, b)
    g = f32(*out.shape)  # upstream gradient: loss = sum(out * g)
    (out * g).sum().backward()
    grads = {'dx': x.grad, 'dweight': w.grad}
    extra = {'weight': flat(w), 'weightShape': list(w.shape), 'upstream': flat(g), 'bias': flat(b) if bias else None}
    if bias:
        grads['dbias'] = b.grad
    return case(x, out, grads, **extra)


def conv_case(xshape, wshape, stride, padding, bias=True):
    x = f32(*xshape).requires_grad_()
    w = f32(*wshape).requires_grad_()
    b = f32(wshape[0]).requires_grad_() if bias else None
    out = torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding)
    g = f32(*out.shape)
    (out * g).sum().backward()
    grads = {'dx': x.grad, 'dweight': w.grad}
    if bias:
        grads['dbias'] = b.grad
    return case(x, out, grads, weight=flat(w), weightShape=list(w.shape), bias=flat(b) if bias else None,
                upstream=flat(g), stride=list(stride), padding=list(padding))


def pool_case(xshape, kernel, stride, padding):
    x = f32(*xshape).requires_grad_()
    out = torch.nn.functional.max_pool2d(x, kernel, stride=stride, padding=padding)
    g = f32(*out.shape)
    (out * g).sum().backward()
    return case(x, out, {'dx': x.grad}, upstream=flat(g), kernel=kernel, stride=stride, padding=padding)


def batchnorm_case(xshape):
    """Two training steps then one eval step of BatchNorm1d with non-trivial affine parameters."""
    c = xshape[1]
    bn = nn.BatchNorm1d(c).double()
    with torch.no_grad():
        bn.weight.copy_(f32(c))
        bn.bias.copy_(f32(c))
    w0, b0 = flat(bn.weight), flat(bn.bias)
    x1 = f32(*xshape).requires_grad_()
    out1 = bn(x1)
    g = f32(*out1.shape)
    (out1 * g).sum().backward()
    x2 = f32(*xshape)
    bn(x2)
    bn.eval()
    x3 = f32(*xshape)
    out3 = bn(x3)
    return {
        'xShape': list(xshape), 'weight': w0, 'bias': b0,
        'x1': flat(x1), 'out1': flat(out1), 'upstream': flat(g),
        'dx1': flat(x1.grad), 'dweight': flat(bn.weight.grad), 'dbias': flat(bn.bias.grad),
        'x2': flat(x2), 'x3': flat(x3), 'out3': flat(out3),
        'runningMean': flat(bn.running_mean), 'runningVar': flat(bn.running_var),
        'numBatchesTracked': int(bn.num_batches_tracked),
    }


def mlp():
    """The model of the safetensors round-trip tests; bp builds the same one."""
    return nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Linear(5, 3), nn.Softmax(dim=-1))


def write_safetensors(tensors, metadata):
    """The reference serialisation: dtype rank descending, then name; compact JSON; space padding to 8."""
    items = sorted(tensors.items(), key=lambda kv: (-DTYPE_RANK[TORCH_TO_ST[kv[1].dtype]], kv[0].encode('utf-8')))
    header = {}
    if metadata is not None:
        header['__metadata__'] = metadata
    offset = 0
    blobs = []
    for name, t in items:
        t = t.detach().contiguous()
        data = t.numpy().tobytes() if t.dtype != torch.int64 else struct.pack('<%dq' % t.numel(), *t.reshape(-1).tolist())
        header[name] = {'dtype': TORCH_TO_ST[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(blobs)


def read_safetensors(path):
    """A plain reader: json + struct + torch.frombuffer, no safetensors package."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    header.pop('__metadata__', None)
    out = {}
    for name, info in header.items():
        begin, end = info['data_offsets']
        buf = bytearray(raw[8 + n + begin:8 + n + end])
        out[name] = torch.frombuffer(buf, dtype=ST_TO_TORCH[info['dtype']]).reshape(info['shape']).clone()
    return out


def check(path):
    with open(os.path.join(FIXTURES, 'torch_refs.json')) as f:
        refs = json.load(f)['mlp']
    model = mlp()
    model.load_state_dict(read_safetensors(path), strict=True)
    model.eval()
    x = torch.tensor(refs['x'], dtype=torch.float32).reshape(refs['xShape'])
    got = model(x)
    want = torch.tensor(refs['out'], dtype=torch.float32).reshape(got.shape)
    diff = float((got - want).abs().max())
    print(json.dumps({'maxAbsDiff': diff, 'out': flat(got)}))
    return 0 if diff <= 1e-5 else 1


def main():
    torch.manual_seed(0)
    refs = {
        'torchVersion': torch.__version__,
        'linear': [linear_case(4, 5, 3, True), linear_case(3, 6, 2, False)],
        'conv2d': [
            conv_case((2, 3, 7, 6), (4, 3, 3, 2), (1, 1), (0, 0)),
            conv_case((2, 2, 8, 8), (3, 2, 3, 3), (2, 2), (1, 1)),
            conv_case((1, 3, 6, 9), (2, 3, 2, 3), (2, 1), (1, 0), bias=False),
        ],
        'maxPool2d': [
            pool_case((2, 3, 6, 6), [2, 2], [2, 2], [0, 0]),
            pool_case((1, 2, 7, 9), [3, 3], [2, 2], [1, 1]),
            pool_case((2, 1, 5, 6), [2, 3], [1, 2], [0, 1]),
        ],
        'batchNorm1d': [batchnorm_case((6, 4)), batchnorm_case((3, 2, 5))],
    }
    model = mlp()
    with torch.no_grad():
        bn = model[2]
        bn.weight.copy_(torch.randn(5))
        bn.bias.copy_(torch.randn(5))
        bn.running_mean.copy_(torch.randn(5))
        bn.running_var.copy_(torch.rand(5) + 0.5)
        bn.num_batches_tracked.fill_(7)
    model.eval()
    x = torch.randn(3, 4)
    state = model.state_dict()
    refs['mlp'] = {
        'x': flat(x), 'xShape': list(x.shape), 'out': flat(model(x)),
        'state': {k: {'shape': list(v.shape), 'dtype': TORCH_TO_ST[v.dtype], 'values': [r9(e) for e in v.reshape(-1).tolist()]}
                  for k, v in state.items()},
        'metadata': {'format': 'pt'},
    }
    os.makedirs(FIXTURES, exist_ok=True)
    with open(os.path.join(FIXTURES, 'torch_refs.json'), 'w') as f:
        json.dump(refs, f)
        f.write('\n')
    with open(os.path.join(FIXTURES, 'mlp.safetensors'), 'wb') as f:
        f.write(write_safetensors(state, {'format': 'pt'}))
    # The fixture must read back with the plain reader into the same model.
    assert check(os.path.join(FIXTURES, 'mlp.safetensors')) == 0


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--check':
        sys.exit(check(sys.argv[2]))
    main()
