/**
 * `bp explain`: one step of backpropagation through the seeds' tiny XOR
 * network (2 inputs, 2 sigmoid hidden units, 1 sigmoid output, MSE), with
 * every number computed by bp. The forward pass and the loss run through the
 * library's ops with gradients recorded; each gradient is then rebuilt by hand
 * from its chain-rule factors (also computed with bp ops) and checked against
 * what `backward()` left in `.grad`; finally the plain gradient-descent update
 * is applied and the loss recomputed.
 */
import { noGrad } from '@bp/autograd';
import { mul, sub, tensor, type Tensor } from '@bp/tensor';
import type { GraphFormat } from '../choices.js';
import { renderGraph } from '../graph.js';
import type { Colors } from '../style.js';

/** Options of `bp explain`. */
export interface ExplainOptions {
  /** Learning rate of the update step. */
  lr: number;
  /** Print only the recorded computation graph in this format. */
  graph?: GraphFormat;
  /** Print the step (or, with `graph`, the graph) as one JSON object. */
  json?: boolean;
}

/** The fixed starting point: the XOR sample (1, 1) -> 0 and small hand-picked weights. */
const START = {
  x: [1, 1],
  y: 0,
  w1: [
    [0.15, 0.2],
    [0.25, 0.3],
  ],
  b1: [0.35, 0.35],
  w2: [[0.4, 0.45]],
  b2: [0.6],
};

/** How close a hand-built gradient must be to autograd's (both are float32, summed in different orders). */
const AGREE = 1e-6;

function fmt(v: number): string {
  if (v === 0) return '0';
  const s = Number(v.toPrecision(6)).toString();
  return s.length > 12 ? v.toExponential(5) : s;
}

function fmtVec(t: Tensor): string {
  const v = Array.from(t.dataSync(), fmt);
  if (t.rank < 2) return `[${v.join(', ')}]`;
  const cols = t.shape[t.rank - 1];
  const rows: string[] = [];
  for (let r = 0; r < v.length; r += cols) rows.push(`[${v.slice(r, r + cols).join(', ')}]`);
  return `[${rows.join(', ')}]`;
}

function at(t: Tensor, ...index: number[]): number {
  let off = 0;
  for (let d = 0; d < index.length; d++) {
    let stride = 1;
    for (let k = d + 1; k < t.rank; k++) stride *= t.shape[k];
    off += index[d] * stride;
  }
  return t.dataSync()[off];
}

interface Forward {
  x: Tensor;
  y: Tensor;
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
  z1: Tensor;
  h: Tensor;
  z2: Tensor;
  a: Tensor;
  loss: Tensor;
}

/** The network's forward pass with bp ops, as `torch.nn.Linear` computes it: z = x Wᵀ + b. */
function forward(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Forward {
  const x = tensor([START.x]);
  const y = tensor([[START.y]]);
  x.name = 'x';
  y.name = 'y';
  const w1t = w1.transpose();
  w1t.name = 'W1ᵀ';
  const xw = x.matmul(w1t);
  xw.name = 'x·W1ᵀ';
  const z1 = xw.add(b1);
  z1.name = 'z1';
  const h = z1.sigmoid();
  h.name = 'h';
  const w2t = w2.transpose();
  w2t.name = 'W2ᵀ';
  const hw = h.matmul(w2t);
  hw.name = 'h·W2ᵀ';
  const z2 = hw.add(b2);
  z2.name = 'z2';
  const a = z2.sigmoid();
  a.name = 'a';
  const err = a.sub(y);
  err.name = 'a - y';
  const sq = err.square();
  sq.name = '(a - y)²';
  const loss = sq.mean();
  loss.name = 'L';
  return { x, y, w1, b1, w2, b2, z1, h, z2, a, loss };
}

function parameters(): Tensor[] {
  const w1 = tensor(START.w1, { requiresGrad: true });
  const b1 = tensor(START.b1, { requiresGrad: true });
  const w2 = tensor(START.w2, { requiresGrad: true });
  const b2 = tensor(START.b2, { requiresGrad: true });
  w1.name = 'W1';
  b1.name = 'b1';
  w2.name = 'W2';
  b2.name = 'b2';
  return [w1, b1, w2, b2];
}

/** The recorded graph of the loss after `backward()`, with values and gradients. */
export function explainGraph(format: GraphFormat): string {
  const [w1, b1, w2, b2] = parameters();
  const f = forward(w1, b1, w2, b2);
  for (const t of [f.z1, f.h, f.z2, f.a]) t.retainGrad();
  f.loss.backward();
  return renderGraph(f.loss, format);
}

/** Nested arrays of a tensor's values (a number for a 0-d tensor). */
function values(t: Tensor): unknown {
  return t.rank === 0 ? t.item() : t.toArray();
}

/**
 * The step as data (what `bp explain --json` prints): the forward values, the
 * gradients autograd left in `.grad`, the same gradients rebuilt from their
 * chain-rule factors, whether every pair agrees, and the update's result.
 */
export function explainData(lr: number): Record<string, unknown> {
  const [w1, b1, w2, b2] = parameters();
  const f = forward(w1, b1, w2, b2);
  f.loss.backward();
  const hand = noGrad(() => {
    const dLdz2 = f.a
      .sub(f.y)
      .mul(2)
      .mul(f.a.mul(sub(1, f.a)));
    const dLdz1 = dLdz2.matmul(w2).mul(f.h.mul(sub(1, f.h)));
    return { W1: dLdz1.transpose().matmul(f.x), b1: dLdz1.sum(0), W2: dLdz2.transpose().matmul(f.h), b2: dLdz2.sum(0) };
  });
  const params = { W1: w1, b1, W2: w2, b2 };
  const names = Object.keys(params) as (keyof typeof params)[];
  const agree = names.every((k) => {
    const mine = hand[k].dataSync();
    const auto = params[k].grad!.dataSync();
    return mine.every((v, i) => Math.abs(v - auto[i]) <= AGREE * Math.max(1, Math.abs(auto[i])));
  });
  const updated = noGrad(() => names.map((k) => sub(params[k], mul(params[k].grad!, lr))));
  const after = noGrad(() => forward(updated[0], updated[1], updated[2], updated[3]));
  const record = (get: (k: (typeof names)[number], i: number) => Tensor) => Object.fromEntries(names.map((k, i) => [k, values(get(k, i))]));
  return {
    network: '2 inputs, 2 sigmoid hidden units, 1 sigmoid output; loss (a - y)^2',
    input: START.x,
    target: START.y,
    lr,
    parameters: record((k) => params[k]),
    forward: { z1: values(f.z1), h: values(f.h), z2: values(f.z2), a: values(f.a), loss: f.loss.item() },
    gradients: record((k) => params[k].grad!),
    chainRule: record((k) => hand[k]),
    agree,
    updated: record((_, i) => updated[i]),
    lossAfter: after.loss.item(),
  };
}

/** The full walk-through as text. */
export function explainText(opts: ExplainOptions, c: Colors): string {
  const lines: string[] = [];
  const say = (s = '') => lines.push(s);
  const head = (s: string) => {
    say();
    say(c.bold(s));
  };
  let checks = 0;
  let failed = 0;
  const check = (mine: number, auto: number) => {
    checks++;
    const ok = Math.abs(mine - auto) <= AGREE * Math.max(1, Math.abs(auto));
    if (!ok) failed++;
    return `  autograd .grad ${fmt(auto)} ${ok ? c.green('✓') : c.red('✗ differs')}`;
  };

  say(c.bold('One step of backpropagation, every number computed by bp'));

  // 1. The loss on its own: the worked example.
  head('1. The loss: mean squared error');
  const pred = tensor(0.8, { requiresGrad: true });
  const target = tensor(1.0);
  const mse = pred.sub(target).square().mean();
  mse.backward();
  const diff = noGrad(() => sub(pred, target));
  say(`   prediction a = ${fmt(pred.item())}, target y = ${fmt(target.item())}`);
  say(`   L = (a - y)² = (${fmt(pred.item())} - ${fmt(target.item())})² = (${fmt(diff.item())})² = ${c.cyan(fmt(mse.item()))}`);
  const dLdaWorked = noGrad(() => mul(diff, 2));
  say(`   dL/da = 2(a - y) = ${fmt(dLdaWorked.item())}` + check(dLdaWorked.item(), pred.grad!.item()));
  say('   The slope is negative: raising the prediction towards the target lowers the loss.');

  // 2. The network and the forward pass.
  const [w1, b1, w2, b2] = parameters();
  const f = forward(w1, b1, w2, b2);
  for (const t of [f.z1, f.h, f.z2, f.a]) t.retainGrad();
  head('2. The network: 2 inputs → 2 sigmoid units → 1 sigmoid output (the XOR network)');
  say(`   input x = ${fmtVec(f.x)}, target y = ${fmt(START.y)}   (XOR of 1 and 1 is 0)`);
  say(`   W1 = ${fmtVec(w1)}   b1 = ${fmtVec(b1)}`);
  say(`   W2 = ${fmtVec(w2)}   b2 = ${fmtVec(b2)}`);
  say('   W1[i,j] connects input j to hidden unit i (the layout of torch.nn.Linear).');

  head('3. Forward pass');
  const x = f.x.dataSync();
  for (let i = 0; i < 2; i++) {
    say(
      `   z1[${i}] = W1[${i},0]·x0 + W1[${i},1]·x1 + b1[${i}] = ${fmt(at(w1, i, 0))}·${fmt(x[0])} + ${fmt(at(w1, i, 1))}·${fmt(x[1])} + ${fmt(at(b1, i))} = ${fmt(at(f.z1, 0, i))}`,
    );
  }
  for (let i = 0; i < 2; i++) say(`   h[${i}]  = σ(z1[${i}]) = σ(${fmt(at(f.z1, 0, i))}) = ${fmt(at(f.h, 0, i))}`);
  say(
    `   z2    = W2[0,0]·h0 + W2[0,1]·h1 + b2 = ${fmt(at(w2, 0, 0))}·${fmt(at(f.h, 0, 0))} + ${fmt(at(w2, 0, 1))}·${fmt(at(f.h, 0, 1))} + ${fmt(at(b2, 0))} = ${fmt(f.z2.item())}`,
  );
  say(`   a     = σ(z2) = σ(${fmt(f.z2.item())}) = ${fmt(f.a.item())}`);
  say(`   L     = (a - y)² = (${fmt(f.a.item())} - ${fmt(START.y)})² = ${c.cyan(fmt(f.loss.item()))}`);

  f.loss.backward();

  // The chain-rule factors, computed with bp ops outside the graph.
  const { dLda, dadz2, dLdz2, dhdz1 } = noGrad(() => {
    const dLda = f.a.sub(f.y).mul(2);
    const dadz2 = f.a.mul(sub(1, f.a));
    const dLdz2 = dLda.mul(dadz2);
    const dhdz1 = f.h.mul(sub(1, f.h));
    return { dLda, dadz2, dLdz2, dhdz1 };
  });

  head('4. Backward pass: the chain rule');
  say('   Output layer: dL/dW2[0,j] = dL/da · da/dz2 · dz2/dW2[0,j]');
  say(`   dL/da  = 2(a - y) = ${fmt(dLda.item())}` + check(dLda.item(), f.a.grad!.item()));
  say(`   da/dz2 = a(1 - a) = ${fmt(dadz2.item())}   (the slope of the sigmoid)`);
  const grads = new Map<string, number>();
  for (let j = 0; j < 2; j++) {
    const hj = at(f.h, 0, j);
    const g = noGrad(() => mul(mul(dLda, dadz2), hj)).item();
    grads.set(`W2[0,${j}]`, g);
    say(`   dz2/dW2[0,${j}] = h[${j}] = ${fmt(hj)}`);
    say(`   dL/dW2[0,${j}] = ${fmt(dLda.item())} · ${fmt(dadz2.item())} · ${fmt(hj)} = ${c.cyan(fmt(g))}` + check(g, at(w2.grad!, 0, j)));
  }
  const gb2 = dLdz2.item();
  grads.set('b2[0]', gb2);
  say(`   dL/db2 = dL/da · da/dz2 · 1 = ${c.cyan(fmt(gb2))}` + check(gb2, at(b2.grad!, 0)));
  say();
  say('   Hidden layer: dL/dW1[i,j] = dL/dh[i] · dh[i]/dz1[i] · dz1[i]/dW1[i,j]');
  say(`   where dL/dh[i] = dL/dz2 · W2[0,i], and dL/dz2 = dL/da · da/dz2 = ${fmt(dLdz2.item())}`);
  for (let i = 0; i < 2; i++) {
    const dLdh = noGrad(() => mul(dLdz2, at(w2, 0, i))).item();
    const dhdz = at(dhdz1, 0, i);
    say(`   dL/dh[${i}] = ${fmt(dLdz2.item())} · ${fmt(at(w2, 0, i))} = ${fmt(dLdh)}` + check(dLdh, at(f.h.grad!, 0, i)));
    say(`   dh[${i}]/dz1[${i}] = h[${i}](1 - h[${i}]) = ${fmt(dhdz)}`);
    for (let j = 0; j < 2; j++) {
      const g = noGrad(() => mul(mul(tensor(dLdh), dhdz), x[j])).item();
      grads.set(`W1[${i},${j}]`, g);
      say(`   dL/dW1[${i},${j}] = ${fmt(dLdh)} · ${fmt(dhdz)} · x${j} (${fmt(x[j])}) = ${c.cyan(fmt(g))}` + check(g, at(w1.grad!, i, j)));
    }
    const gb = noGrad(() => mul(tensor(dLdh), dhdz)).item();
    grads.set(`b1[${i}]`, gb);
    say(`   dL/db1[${i}] = ${fmt(dLdh)} · ${fmt(dhdz)} · 1 = ${c.cyan(fmt(gb))}` + check(gb, at(b1.grad!, i)));
  }

  head(`5. Update: w ← w - lr · dL/dw, with lr = ${fmt(opts.lr)}`);
  const params: [string, Tensor][] = [
    ['W1', w1],
    ['b1', b1],
    ['W2', w2],
    ['b2', b2],
  ];
  const updated = noGrad(() => params.map(([, p]) => sub(p, mul(p.grad!, opts.lr))));
  for (let k = 0; k < params.length; k++) {
    const [name, p] = params[k];
    const old = p.dataSync();
    const g = p.grad!.dataSync();
    const nw = updated[k].dataSync();
    for (let e = 0; e < p.size; e++) {
      const idx = p.rank === 2 ? `[${Math.floor(e / p.shape[1])},${e % p.shape[1]}]` : `[${e}]`;
      say(`   ${(name + idx).padEnd(8)} = ${fmt(old[e])} - ${fmt(opts.lr)} · ${fmt(g[e])} = ${c.cyan(fmt(nw[e]))}`);
    }
  }

  head('6. After the step');
  const [nw1, nb1, nw2, nb2] = updated;
  const after = noGrad(() => forward(nw1, nb1, nw2, nb2));
  say(`   W1 = ${fmtVec(nw1)}   b1 = ${fmtVec(nb1)}`);
  say(`   W2 = ${fmtVec(nw2)}   b2 = ${fmtVec(nb2)}`);
  say(`   prediction a: ${fmt(f.a.item())} → ${fmt(after.a.item())}   (target ${fmt(START.y)})`);
  say(`   loss L:       ${fmt(f.loss.item())} → ${c.cyan(fmt(after.loss.item()))}`);
  say();
  const summary = `${checks - failed} of ${checks} hand-built gradients agree with autograd`;
  say(failed ? c.red(summary) : c.green(summary));
  say(`See the graph autograd recorded: bp explain --graph mermaid (or --graph dot | dot -Tsvg > graph.svg)`);
  return lines.join('\n') + '\n';
}

/** Runs `bp explain`; returns the exit status. */
export async function runExplain(opts: ExplainOptions): Promise<number> {
  if (opts.json) {
    const result = opts.graph ? { format: opts.graph, graph: explainGraph(opts.graph) } : explainData(opts.lr);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  const { out } = await import('../style.js');
  process.stdout.write(opts.graph ? explainGraph(opts.graph) : explainText(opts, out));
  return 0;
}
