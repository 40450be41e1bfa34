/**
 * Sliders bound to an example's parameters. An example declares one with the
 * `param` helper, which returns the slider's value when the page runs it and
 * the default everywhere else (the build, the Node test):
 *
 * ```ts
 * const lr = param('learning rate', 0.1, { min: 0.001, max: 1, log: true });
 * ```
 *
 * The page finds the declarations in the source (this parser) to draw the
 * sliders before the first run.
 */

/** One slider: its label, range and default. */
export interface ParamSpec {
  name: string;
  value: number;
  min: number;
  max: number;
  /** Slide over log10 of the value (for learning rates and scales). */
  log: boolean;
  /** Whole numbers only (for depths and counts). */
  int: boolean;
}

const NUM = String.raw`-?\d+(?:\.\d+)?(?:e-?\d+)?`;
const CALL = new RegExp(String.raw`\bparam\(\s*'([^']+)'\s*,\s*(${NUM})\s*,\s*\{([^}]*)\}\s*\)`, 'g');

function field(obj: string, key: string): number | undefined {
  const m = new RegExp(String.raw`\b${key}\s*:\s*(${NUM})`).exec(obj);
  return m ? Number(m[1]) : undefined;
}

/** The `param(...)` declarations of an example's source, in order. */
export function parseParams(code: string): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (const m of code.matchAll(CALL)) {
    const value = Number(m[2]);
    const min = field(m[3], 'min') ?? Math.min(0, value);
    const max = field(m[3], 'max') ?? Math.max(1, value * 2);
    out.push({ name: m[1], value, min, max, log: /\blog\s*:\s*true/.test(m[3]), int: /\bint\s*:\s*true/.test(m[3]) });
  }
  return out;
}

/** The `param` helper for example code: the page's value for `name`, else the default, kept in range. */
export function makeParam(values: Record<string, number>): (name: string, value: number, opts?: { min?: number; max?: number }) => number {
  return (name, value, opts = {}) => {
    const v = name in values ? values[name] : value;
    if (!Number.isFinite(v)) throw new RangeError(`param('${name}'): ${v} is not a finite number`);
    return Math.min(opts.max ?? Infinity, Math.max(opts.min ?? -Infinity, v));
  };
}

/** Slider position (0..1000) ↔ value, linear or logarithmic. */
export function toSlider(p: ParamSpec, v: number): number {
  const f = p.log ? (Math.log10(v) - Math.log10(p.min)) / (Math.log10(p.max) - Math.log10(p.min)) : (v - p.min) / (p.max - p.min);
  return Math.round(Math.min(1, Math.max(0, f)) * 1000);
}
export function fromSlider(p: ParamSpec, s: number): number {
  const f = s / 1000;
  const v = p.log ? 10 ** (Math.log10(p.min) + f * (Math.log10(p.max) - Math.log10(p.min))) : p.min + f * (p.max - p.min);
  return p.int ? Math.round(v) : Number(v.toPrecision(3));
}
