/**
 * The response headers that make a page cross-origin isolated (`crossOriginIsolated === true`), the
 * condition for SharedArrayBuffer and so for bp's CPU kernels to run on worker threads in a browser.
 * The site loads nothing from other origins, so `require-corp` blocks nothing. Sent by the dev
 * server (config.ts), by `pnpm preview` (scripts/preview.mjs), and listed in public/_headers for
 * static hosts that read it.
 */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
