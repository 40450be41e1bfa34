import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ArgumentError } from '@bp/tensor';

/** True when the module at `moduleUrl` is the script Node was started with (not imported by a test). */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** The options every example accepts on the command line. */
export interface CliOptions {
  epochs?: number;
  limit?: number;
  batchSize?: number;
  seed?: number;
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ArgumentError('examples', `--${name} must be a non-negative integer, got ${v}`);
  return n;
}

/** Reads `--epochs N --limit N --batch-size N --seed N` from the command line. */
export function cliOptions(argv = process.argv.slice(2)): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: 'string' },
      limit: { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const out: CliOptions = {};
  const epochs = int('epochs', values.epochs);
  const limit = int('limit', values.limit);
  const batchSize = int('batch-size', values['batch-size']);
  const seed = int('seed', values.seed);
  if (epochs !== undefined) out.epochs = epochs;
  if (limit !== undefined) out.limit = limit;
  if (batchSize !== undefined) out.batchSize = batchSize;
  if (seed !== undefined) out.seed = seed;
  return out;
}
