/**
 * @bp/backend-gpu: every primitive of @bp/tensor as a gpu.js kernel (WebGPU,
 * WebGL2 or WebGL in browsers; WebGPU through the `webgpu` package's Dawn build,
 * headless-gl or WebAssembly in Node).
 *
 * @packageDocumentation
 */
export { gpu, gpuAsync, MAX_KERNEL_CELLS } from './gpu-backend.js';
export { webgpuAvailable } from './modes.js';
export type { GpuBackend, GpuBackendInfo, GpuBackendOptions, GpuCounters } from './gpu-backend.js';
export { GpuStorage } from './storage.js';
export type { GpuMode, GpuModeOption } from './modes.js';
