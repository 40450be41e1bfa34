/**
 * Kernels of the backend's `fused` ops: work that the composite ops of @bp/tensor and
 * @bp/optim spread over several kernels, each writing a tensor to device memory, done
 * in one pass (or, for Adam, in one pass per state tensor: a gpu.js kernel has one output).
 *
 * `Math.fround` marks every place where the composite stores a float32 result. On the GL
 * and WebGPU modes it is the identity (every value is float32 there already); on gpu.js'
 * JavaScript mode, which computes in doubles, it rounds as the composite's stores do, so
 * there and on the WebAssembly mode (float32 arithmetic) a fused kernel gives the
 * composite's bits exactly.
 */
import type { KernelSpec } from './codegen.js';
import { matmulLines } from './matmul.js';

/**
 * A linear layer: `x: [rows, inF]` times `weight: [outF, inF]` transposed, plus `bias: [outF]`
 * when `bias`, then `max(0, .)` when `relu`. The product is {@link matmulLines}' sum, in the
 * order the composite's matrix product takes it; the bias is added to it rounded to float32.
 */
export function linearKernel(rows: number, inF: number, outF: number, bias: boolean, relu: boolean): KernelSpec {
  const lines = matmulLines(1, 1, rows, inF, outF, false, true);
  lines.push(bias ? 'const y = Math.fround(Math.fround(acc) + c[j]);' : 'const y = Math.fround(acc);');
  // As the CPU backend's fused linear: anything not above 0 (NaN included) gives 0.
  lines.push(relu ? 'return y > 0 ? y : 0;' : 'return y;');
  return {
    key: `linear:${rows}:${inF}:${outF}:${bias}:${relu}`,
    source: `function (a, b${bias ? ', c' : ''}) {\n  ${lines.join('\n  ')}\n}`,
    output: rows * outF,
  };
}

/** The gradient of relu: `dy` where `x > 0`, else 0 (NaN `x` included), as `where(gt(x, 0), dy, 0)`. */
export function reluBackwardKernel(size: number): KernelSpec {
  return {
    key: 'reluBackward',
    source: 'function (dy, x) {\n  const i = this.thread.x;\n  if (x[i] > 0) {\n    return dy[i];\n  }\n  return 0;\n}',
    output: size,
    dynamic: true,
  };
}

/** Which form of the Adam step a kernel computes (the flags are baked into its source). */
export interface AdamVariant {
  /** The first step: the old moments count as zero. */
  first: boolean;
  /** Adam's L2 penalty: `g + wd * p` replaces the gradient. */
  l2: boolean;
  /** AdamW's decoupled decay: `p * shrink` (`shrink = 1 - lr * weightDecay`) replaces the parameter. */
  decay: boolean;
}

/**
 * An Adam kernel and the names of its arguments in order: storages (`p`, `g`, `old`,
 * `m`, `v`, `second`) and float32 scalars (`b`, `a`, `wd`, `step`, `eps`, `shrink`).
 * A kernel takes only the arguments its variant reads.
 */
export interface AdamKernel extends KernelSpec {
  params: string[];
}

function adamKernel(key: string, size: number, params: string[], body: string[]): AdamKernel {
  return {
    key,
    source: `function (${params.join(', ')}) {\n  const i = this.thread.x;\n  ${body.join('\n  ')}\n}`,
    output: size,
    dynamic: true,
    params,
  };
}

/**
 * The new first moment (`moment: 'm'`, from `gi * a` with `a = 1 - beta1`) or second
 * moment (`'v'`, from `gi * gi * a` with `a = 1 - beta2`): `old * b + term` (`b` the
 * beta), or the term alone on the first step. `gi` is `g`, or `g + wd * p` with Adam's
 * L2 penalty.
 */
export function adamMomentKernel(size: number, moment: 'm' | 'v', v: AdamVariant): AdamKernel {
  const params = [...(v.l2 ? ['p'] : []), 'g', ...(v.first ? [] : ['old', 'b']), 'a', ...(v.l2 ? ['wd'] : [])];
  const term = moment === 'm' ? 'Math.fround(gi * a)' : 'Math.fround(Math.fround(gi * gi) * a)';
  return adamKernel(`adam${moment}:${v.first}:${v.l2}`, size, params, [
    v.l2 ? 'const gi = Math.fround(g[i] + Math.fround(p[i] * wd));' : 'const gi = g[i];',
    `const t = ${term};`,
    v.first ? 'return t;' : 'return Math.fround(Math.fround(old[i] * b) + t);',
  ]);
}

/**
 * AMSGrad's running maximum of the second moment: `max(old, v)` with a NaN in `old`
 * staying (the composite's `maximum`), or `v` itself on the first step.
 */
export function adamMaxKernel(size: number, first: boolean): AdamKernel {
  if (first) return adamKernel('adammax:true', size, ['v'], ['return v[i];']);
  return adamKernel(
    'adammax:false',
    size,
    ['old', 'v'],
    ['const o = old[i];', 'const n = v[i];', 'if (o >= n || o != o) {', '    return o;', '  }', 'return n;'],
  );
}

/**
 * The new parameter: `p - (m / (sqrt(second) + eps)) * step`, with `p` first scaled by
 * `shrink` for AdamW; `m` is the new first moment, `second` the new second moment (or its
 * running maximum), `step` and `eps` the bias-corrected step size and epsilon.
 */
export function adamParamKernel(size: number, v: AdamVariant): AdamKernel {
  const params = ['p', 'm', 'second', 'step', 'eps', ...(v.decay ? ['shrink'] : [])];
  return adamKernel(`adamp:${v.decay}`, size, params, [
    v.decay ? 'const pi = Math.fround(p[i] * shrink);' : 'const pi = p[i];',
    'const den = Math.fround(Math.fround(Math.sqrt(second[i])) + eps);',
    'return Math.fround(pi - Math.fround(Math.fround(m[i] / den) * step));',
  ]);
}
