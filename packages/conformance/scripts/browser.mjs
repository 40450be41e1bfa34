// Bundles the conformance cases for the browser and runs them in headless Chromium on the default
// backend, printing a JSON summary. Exits non-zero when a case fails.
//   node packages/conformance/scripts/browser.mjs [--quick] [--chromium /usr/bin/chromium]
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const exe = args.includes('--chromium') ? args[args.indexOf('--chromium') + 1] : (process.env.CHROMIUM_PATH ?? '/usr/bin/chromium');

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const bundle = await build({
  entryPoints: [entry],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  conditions: ['@bp/source'],
  write: false,
});
const code = bundle.outputFiles[0].text;

const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><title>bp conformance</title>');
  const result = await page.evaluate(
    async ({ src, quick }) => {
      const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
      const { conformanceCases } = await import(url);
      const cases = conformanceCases({ quick });
      const failures = [];
      const t0 = performance.now();
      for (const c of cases) {
        try {
          await c.run();
        } catch (e) {
          failures.push({ group: c.group, name: c.name, message: String(e && e.message) });
        }
      }
      return {
        userAgent: navigator.userAgent,
        cases: cases.length,
        failed: failures.length,
        ms: Math.round(performance.now() - t0),
        failures,
      };
    },
    { src: code, quick },
  );
  console.log(JSON.stringify({ bundleBytes: code.length, ...result }, null, 2));
  process.exitCode = result.failed ? 1 : 0;
} finally {
  await browser.close();
}
