/**
 * The training check: an MNIST-shaped MLP (Linear 784-128, relu, Linear
 * 128-10, cross-entropy, plain SGD) on synthetic data, trained the same few
 * steps on the CPU backend and on the backend under test. Same seed, same
 * data, so the losses must agree step by step.
 */
import { noGrad } from '@bp/autograd';
import { getBackend, manualSeed, oneHot, rand, randint, randn, setBackend, type Backend, type Tensor } from '@bp/tensor';

/** Per-step losses on both backends. */
export interface TrainLosses {
  cpu: number[];
  other: number[];
}

function train(steps: number): number[] {
  manualSeed(7);
  const x = rand([64, 784]);
  const labels = randint(0, 10, [64]);
  const target = oneHot(labels, 10);
  // Kaiming-style scales keep the activations O(1), as torch's default init does.
  const w1 = randn([128, 784]).mul(Math.sqrt(2 / 784));
  const b1 = randn([128]).mul(0.01);
  const w2 = randn([10, 128]).mul(Math.sqrt(2 / 128));
  const b2 = randn([10]).mul(0.01);
  const params: Tensor[] = [w1, b1, w2, b2];
  for (const p of params) p.requiresGrad = true;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const h = x.matmul(w1.T).add(b1).relu();
    const logits = h.matmul(w2.T).add(b2);
    const loss = logits.logSoftmax(-1).mul(target).sum().div(-64);
    loss.backward();
    losses.push(loss.item());
    noGrad(() => {
      for (const p of params) {
        p.assign(p.sub(p.grad!.mul(0.05)));
        p.grad = null;
      }
    });
  }
  return losses;
}

/** Trains on the CPU backend and on `backend`; throws when a step's loss differs beyond `rtol`. */
export async function trainCheck(backend: Backend, steps = 5, rtol = 1e-3): Promise<TrainLosses> {
  const previous = getBackend();
  try {
    await setBackend('cpu');
    const cpu = train(steps);
    await setBackend(backend);
    const other = train(steps);
    cpu.forEach((c, i) => {
      if (!(Math.abs(other[i] - c) <= rtol * Math.abs(c))) {
        throw new Error(
          `train: step ${i} loss ${other[i]} on ${backend.name} vs ${c} on cpu (rtol ${rtol}); cpu ${cpu.join(', ')}; other ${other.join(', ')}`,
        );
      }
    });
    if (!(cpu[steps - 1] < cpu[0])) throw new Error(`train: the loss did not fall (${cpu.join(', ')})`);
    return { cpu, other };
  } finally {
    await setBackend(previous);
  }
}
