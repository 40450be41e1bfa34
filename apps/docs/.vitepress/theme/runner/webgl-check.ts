/**
 * Whether this browser's WebGL2 is software-rendered (SwiftShader, llvmpipe,
 * Microsoft's Basic Render Driver): then gpu.js runs its kernels on the CPU
 * through an emulator, far slower than the CPU backend itself.
 */
let cached: string | null | undefined;

/** The software renderer's name, or null for a hardware GPU or no WebGL2 at all. */
export function softwareWebGL(): string | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (gl) {
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
      if (/swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer)) cached = renderer.replace(/\s+/g, ' ').slice(0, 80);
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
  } catch {
    cached = null;
  }
  return cached;
}
