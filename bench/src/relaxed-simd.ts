/**
 * Imported first by the benchmark: turns on relaxed SIMD in engines that have it behind a flag
 * (Node 20: `--experimental-wasm-relaxed-simd`) before any kernel is compiled, unless `--no-fma`,
 * which also sets `BP_CPU_FMA=0` so bp's jobs run the plain kernel.
 * Whether the engine had it before and after is reported, tested by compiling the FMA probe.
 */
import { setFlagsFromString } from 'node:v8';
import { PEAK_WASM_FMA } from '../../packages/tensor/src/cpu/wasm/peak-wasm.js';

function compiles(base64: string): boolean {
  return WebAssembly.validate(Buffer.from(base64, 'base64'));
}

const before = compiles(PEAK_WASM_FMA);
const wanted = !process.argv.includes('--no-fma');
// bp's backends (here and in the child processes) then keep the plain kernel too.
if (!wanted) process.env.BP_CPU_FMA = '0';
if (wanted && !before) setFlagsFromString('--experimental-wasm-relaxed-simd');

/** Relaxed SIMD in this engine: on by default, after the flag, and whether the benchmark uses it. */
export const relaxedSimd = { byDefault: before, afterFlag: compiles(PEAK_WASM_FMA), used: wanted && compiles(PEAK_WASM_FMA) };
