import { describe, expect, it } from 'vitest';
import { runCli } from './testing/run-cli.js';

describe('bp: usage errors exit 2 and name the problem', () => {
  it('an unknown option is named', async () => {
    const r = await runCli(['train', 'xor', '--epoch', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--epoch'");
    expect(r.stderr).toContain('--epochs'); // the suggestion
    expect(r.stdout).toBe('');
  });

  it('a bad value names the flag, the value and what is expected', async () => {
    const r = await runCli(['train', 'xor', '--epochs', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'--epochs <n>' argument 'many' is invalid");
    expect(r.stderr).toContain('whole number >= 1');
  });

  it('an unknown dataset lists the datasets', async () => {
    const r = await runCli(['train', 'cifar']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'cifar'");
    expect(r.stderr).toContain('xor, spirals, moons, mnist, fashion-mnist');
  });

  it('a bad choice lists the choices', async () => {
    const r = await runCli(['train', 'xor', '--optimizer', 'lbfgs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'lbfgs'");
    expect(r.stderr).toContain('sgd, adam, adamw, rmsprop');
  });

  it('a missing dataset says what to give', async () => {
    const r = await runCli(['train']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing dataset: choose one of xor, spirals, moons, mnist, fashion-mnist');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('an unknown command is refused', async () => {
    const r = await runCli(['trian']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'trian'");
    expect(r.stderr).toContain('train');
  });

  it('--help exits 0 with examples', async () => {
    const r = await runCli(['train', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('bp train --resume');
  });
});

describe('bp: with --json, a failure is JSON on standard output as well', () => {
  it('a runtime failure: {"error", "exitCode": 1}', async () => {
    const r = await runCli(['eval', '/nonexistent/bp-model', 'xor', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/nonexistent/bp-model: not found: no such run directory');
    const out = JSON.parse(r.stdout) as { error: string; exitCode: number };
    expect(out.exitCode).toBe(1);
    expect(out.error).toContain('/nonexistent/bp-model: not found: no such run directory');
  });

  it('bad usage: exitCode 2', async () => {
    const r = await runCli(['export', '/tmp', '--format', 'tflite', '--json']);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as { error: string; exitCode: number };
    expect(out).toMatchObject({ exitCode: 2 });
    expect(out.error).toContain('tflite');
  });

  it('no JSON error without --json', async () => {
    const r = await runCli(['eval', '/nonexistent/bp-model', 'xor']);
    expect(r.stdout).toBe('');
  });
});

describe('bp: runtime failures exit 1 without a stack trace unless --verbose', () => {
  it('a model directory that does not exist', async () => {
    const r = await runCli(['eval', '/nonexistent/bp-model', 'xor']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/nonexistent/bp-model: not found: no such run directory');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--verbose adds the stack trace', async () => {
    const r = await runCli(['eval', '/nonexistent/bp-model', 'xor', '--verbose']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('bp explain --json', () => {
  it('prints the step as one JSON object, and the graph with --graph', async () => {
    const r = await runCli(['explain', '--json', '--lr', '0.1']);
    expect(r.code).toBe(0);
    const step = JSON.parse(r.stdout);
    expect(step.lr).toBe(0.1);
    expect(step.agree).toBe(true);
    expect(step.forward.loss).toBeCloseTo(0.587124, 5);
    expect(Object.keys(step.gradients)).toEqual(['W1', 'b1', 'W2', 'b2']);
    const g = await runCli(['explain', '--json', '--graph', 'mermaid']);
    expect(g.code).toBe(0);
    const graph = JSON.parse(g.stdout);
    expect(graph.format).toBe('mermaid');
    expect(graph.graph.startsWith('flowchart LR\n')).toBe(true);
  });
});

describe('bp info', () => {
  it('reports version, backends and where MNIST is, as JSON', async () => {
    const r = await runCli(['info', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(info.backends).toContain('cpu');
    // Node 20 gets relaxed SIMD from the backend, so its products fuse multiply-adds.
    expect(info.cpu).toEqual({ kernels: 'wasm-simd', fma: true });
    expect(info.mnist).toHaveProperty('searched');
  });
});
