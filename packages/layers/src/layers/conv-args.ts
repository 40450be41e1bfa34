import { ArgumentError } from '@bp/tensor';
import { shownValue } from '@bp/tensor/internal';

/** A number or a pair of integers >= `min`, as a pair; throws naming the layer otherwise. */
export function pairArg(layer: string, name: string, v: unknown, min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new ArgumentError(layer, `${name} must be an integer >= ${min} or a pair of them, got ${shownValue(v)}`);
  }
  return [p[0], p[1]];
}

/** An integer >= `min`; throws naming the layer otherwise. */
export function intArg(layer: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ArgumentError(layer, `${name} must be an integer >= ${min}, got ${shownValue(v)}`);
  }
  return v;
}

/** Channel counts that the groups divide, as PyTorch's `_ConvNd` checks them. */
export function checkChannels(layer: string, inChannels: number, outChannels: number, groups: number): void {
  intArg(layer, 'inChannels', inChannels, 1);
  intArg(layer, 'outChannels', outChannels, 1);
  intArg(layer, 'groups', groups, 1);
  if (inChannels % groups !== 0) throw new ArgumentError(layer, `inChannels ${inChannels} must be divisible by groups ${groups}`);
  if (outChannels % groups !== 0) throw new ArgumentError(layer, `outChannels ${outChannels} must be divisible by groups ${groups}`);
}

/** A boolean option (default `dflt`); throws naming the layer otherwise. */
export function boolArg(layer: string, name: string, v: unknown, dflt: boolean): boolean {
  const b = v ?? dflt;
  if (typeof b !== 'boolean') throw new ArgumentError(layer, `${name} must be true or false, got ${shownValue(v)}`);
  return b;
}
