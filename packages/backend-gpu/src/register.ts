/**
 * Importing this entry registers the gpu backend under the name `'gpu'`, so
 * `await setBackend('gpu')` selects it without importing {@link gpu} directly.
 *
 * @packageDocumentation
 */
import { registerBackend } from '@bp/tensor';
import { gpu, gpuAsync } from './gpu-backend.js';

registerBackend('gpu', () => gpuAsync(), { priority: 2 });

export { gpu, gpuAsync };
