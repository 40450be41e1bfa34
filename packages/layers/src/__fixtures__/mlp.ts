import { tensor } from '@bp/tensor';
import { ReLU, Softmax } from '../layers/activations.js';
import { BatchNorm1d } from '../layers/batch-norm1d.js';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../sequential.js';
import { refs } from './refs.js';

/** The model of scripts/gen_torch_refs.py's `mlp()`, holding the fixture's PyTorch weights, in eval mode. */
export function fixtureMlp(): Sequential {
  const model = new Sequential([new Linear(4, 5), new ReLU(), new BatchNorm1d(5), new Linear(5, 3), new Softmax(-1)]);
  const sd: Record<string, ReturnType<typeof tensor>> = {};
  for (const [name, e] of Object.entries(refs.mlp.state as Record<string, { shape: number[]; dtype: string; values: number[] }>)) {
    sd[name] =
      e.dtype === 'F32' ? tensor(Float32Array.from(e.values), { shape: e.shape }) : tensor(Int32Array.from(e.values), { shape: e.shape });
  }
  model.loadStateDict(sd);
  return model.eval();
}
