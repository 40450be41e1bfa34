/**
 * Selecting the backend named by `--backend`. The GPU package is imported
 * only when asked for, so CPU runs never load gpu.js.
 */
import { setBackend } from '@bp/tensor';

/** Makes `name` the active backend; returns a one-line description for the user. */
export async function useBackend(name: 'cpu' | 'gpu'): Promise<string> {
  if (name === 'cpu') {
    await setBackend('cpu');
    return 'cpu';
  }
  const { gpu } = await import('@bp/backend-gpu');
  const backend = gpu();
  await setBackend(backend);
  const info = backend.info();
  return `gpu (gpu.js ${info.mode}${info.renderer ? `, ${info.renderer}` : ''})`;
}
