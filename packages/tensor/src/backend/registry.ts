import { ArgumentError } from '../errors.js';
import type { Backend } from './backend.js';
import { cpuBackend } from '../cpu/cpu-backend.js';

/** Makes a backend, possibly asynchronously (a GPU context, a wasm module). */
export type BackendFactory = () => Backend | Promise<Backend>;

interface Entry {
  factory: BackendFactory;
  priority: number;
  instance?: Backend;
}

const registry = new Map<string, Entry>([['cpu', { factory: () => cpuBackend(), priority: 1 }]]);
let current: Backend | null = null;

/** Registers a backend under `name` so `setBackend(name)` can select it. */
export function registerBackend(name: string, factory: BackendFactory, opts: { priority?: number } = {}): void {
  registry.set(name, { factory, priority: opts.priority ?? 0 });
}

/** Names of the registered backends, highest priority first. */
export function listBackends(): string[] {
  return [...registry.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([n]) => n);
}

/** Every method of `Backend` that is not optional: a backend object without one is refused when it is set, before an op fails on it. */
export const REQUIRED_METHODS = [
  'upload',
  'read',
  'fill',
  'cast',
  'unary',
  'binary',
  'where',
  'reduce',
  'matmul',
  'transpose',
  'slice',
  'pad',
  'concat',
  'gather',
  'scatterAdd',
] as const satisfies readonly (keyof Backend)[];

function checkBackendObject(value: unknown): void {
  if (typeof value === 'function') {
    throw new ArgumentError(
      'setBackend',
      `got a function (${value.name || 'anonymous'}), not a backend: call the factory first, e.g. setBackend(cpuBackend())`,
    );
  }
  if (value === null || typeof value !== 'object')
    throw new ArgumentError('setBackend', `expected a backend name or object, got ${value === null ? 'null' : typeof value}`);
  const b = value as Record<string, unknown>;
  if (typeof b.name !== 'string' || b.name === '') throw new ArgumentError('setBackend', 'the backend object has no name');
  const missing = REQUIRED_METHODS.filter((m) => typeof b[m] !== 'function');
  if (missing.length) throw new ArgumentError('setBackend', `the backend object '${b.name}' lacks ${missing.join(', ')}`);
}

/**
 * Selects the backend every following op runs on: a registered name or a
 * backend object. Tensors made on another backend move over when next used.
 */
export async function setBackend(nameOrBackend: string | Backend): Promise<Backend> {
  if (typeof nameOrBackend !== 'string') {
    checkBackendObject(nameOrBackend);
    current = nameOrBackend;
    if (!registry.has(nameOrBackend.name)) {
      registry.set(nameOrBackend.name, { factory: () => nameOrBackend, priority: 0, instance: nameOrBackend });
    } else {
      registry.get(nameOrBackend.name)!.instance = nameOrBackend;
    }
    return current;
  }
  const entry = registry.get(nameOrBackend);
  if (!entry) {
    throw new ArgumentError('setBackend', `unknown backend '${nameOrBackend}'; registered: ${listBackends().join(', ')}`);
  }
  if (!entry.instance) entry.instance = await entry.factory();
  current = entry.instance;
  return current;
}

/** The backend ops run on now (the CPU backend unless another was set). */
export function getBackend(): Backend {
  if (!current) {
    const entry = registry.get('cpu')!;
    if (!entry.instance) entry.instance = entry.factory() as Backend;
    current = entry.instance;
  }
  return current;
}

/** A backend instance by name, created if needed (used to move tensors between backends). */
export function backendByName(name: string): Backend | undefined {
  const entry = registry.get(name);
  if (!entry) return undefined;
  if (!entry.instance) {
    const made = entry.factory();
    if (made instanceof Promise) return undefined;
    entry.instance = made;
  }
  return entry.instance;
}
