// Serves the built site (.vitepress/dist) with the cross-origin isolation headers (COOP/COEP, see
// .vitepress/isolation.mjs) that let the examples' worker run bp's kernels on threads; `vitepress
// preview` sends no custom headers. Usage: pnpm preview [--port N] (default 4173).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isolationHeaders } from '../.vitepress/isolation.mjs';
import { serveStatic } from '../test/static-server.mjs';

const root = fileURLToPath(new URL('../.vitepress/dist', import.meta.url));
if (!existsSync(`${root}/index.html`)) {
  process.stderr.write(`preview: no built site in ${root}; run pnpm build first\n`);
  process.exit(1);
}
const at = process.argv.indexOf('--port');
const port = at > 0 ? Number(process.argv[at + 1]) : 4173;
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('preview: --port must be an integer from 1 to 65535\n');
  process.exit(2);
}
const { url } = await serveStatic(root, { port, headers: isolationHeaders });
process.stdout.write(`Built site served at ${url}/ (cross-origin isolated)\n`);
