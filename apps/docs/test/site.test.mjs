#!/usr/bin/env node
/**
 * The docs site in Debian's Chromium: serves the built site, visits every
 * page, runs every example on the CPU backend and the examples marked `gpu`
 * again on the GPU backend (WebGL2 on SwiftShader), and fails on any example
 * that ends in the wrong state, any page error and any console error.
 *
 * Pages load with `?quick=1`, which examples read as `quick` to train for
 * fewer epochs on fewer points: the same code paths, smaller sizes.
 *
 *   node test/site.test.mjs [--only SUBSTRING] [--shots DIR] [--full] [--no-gpu]
 *
 * `--shots DIR` saves screenshots of the graph and MNIST pages after their
 * runs; `--full` runs the examples at their normal sizes;
 * DOCS_TEST_CONCURRENCY sets how many pages are tested at once (default 2).
 *
 * Needs a built site (`pnpm --filter docs build`).
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serveStatic } from './static-server.mjs';

const DIST = fileURLToPath(new URL('../.vitepress/dist/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
];
/** Pages photographed with --shots (a leading / means exactly that page): the graph walk, the MNIST training run and the pages with figures. */
const SHOT_PAGES = [
  'concepts/backward-pass',
  'guides/mnist',
  'guides/cnn',
  'concepts/optimizers',
  'concepts/gradient-descent',
  'concepts/micrograd',
  'concepts/backprop-equations',
  'concepts/vanishing-exploding',
  '/index.html',
];
const EXAMPLE_TIMEOUT_MS = Number(process.env.DOCS_EXAMPLE_TIMEOUT_MS ?? 120_000);

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const only = opt('--only');
const shots = opt('--shots');
const gpuRuns = !argv.includes('--no-gpu');
/** `--full`: the examples' normal sizes instead of `?quick=1` (slower; for screenshots). */
const full = argv.includes('--full');
const CONCURRENCY = Number(process.env.DOCS_TEST_CONCURRENCY ?? 2);

function htmlPages(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'assets') out.push(...htmlPages(p));
    } else if (name.endsWith('.html') && name !== '404.html') out.push(p);
  }
  return out;
}

async function runExample(page, example, backend) {
  const title = await example.getAttribute('data-title');
  const expected = (await example.getAttribute('data-example-expect')) ?? 'done';
  const output = example.locator('[data-example-output]');
  const before = Number(await output.getAttribute('data-run'));
  const t0 = Date.now();
  await example.locator('[data-example-run]').click();
  // A long example on software-rendered WebGL asks first; the test runs it anyway.
  const warned = await page
    .waitForFunction(
      ([el, out, run]) => (el.querySelector('[data-example-warning]') ? 'warned' : Number(out.dataset.run) > run ? 'running' : null),
      [await example.elementHandle(), await output.elementHandle(), before],
      { timeout: 10_000, polling: 20 },
    )
    .then((h) => h.jsonValue())
    .catch(() => 'neither');
  if (warned === 'warned') await example.locator('[data-example-run-anyway]').click();
  const status = await page
    .waitForFunction(
      ([el, run]) => (Number(el.dataset.run) > run && ['done', 'error', 'stopped'].includes(el.dataset.status) ? el.dataset.status : null),
      [await output.elementHandle(), before],
      { timeout: EXAMPLE_TIMEOUT_MS, polling: 50 },
    )
    .then((h) => h.jsonValue())
    .catch(() => 'timeout');
  const ms = Date.now() - t0;
  const error =
    status === 'error'
      ? await example
          .locator('[data-example-error]')
          .first()
          .innerText()
          .catch(() => '')
      : '';
  return { title, backend, status, expected, ok: status === expected, ms, error, warned: warned === 'warned' };
}

async function main() {
  if (!existsSync(DIST)) throw new Error(`no built site at ${DIST}: run \`pnpm --filter docs build\` first`);
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
  const pages = htmlPages(DIST)
    .map((f) => '/' + relative(DIST, f).replace(/\\/g, '/'))
    .filter((p) => !only || p.includes(only))
    .sort();
  const server = await serveStatic(DIST);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const failures = [];
  const t0 = Date.now();
  let examples = 0;
  let examplePages = 0;
  const visit = async (path) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (!['127.0.0.1', 'localhost'].includes(u.hostname) && !['data:', 'blob:'].includes(u.protocol)) {
        problems.push(`request outside the site: ${r.url()}`);
      }
    });
    const pageStart = Date.now();
    const res = await page.goto(`${server.url}${path}${full ? '' : '?quick=1'}`, { waitUntil: 'load' });
    if (!res || res.status() !== 200) problems.push(`HTTP ${res?.status()}`);
    // Hydration attaches the click handlers; wait for it before pressing Run.
    await page.waitForFunction(() => document.querySelector('#app')?.__vue_app__ !== undefined, null, { timeout: 20_000 });
    const list = page.locator('[data-example]');
    const n = await list.count();
    problems.push(...(await staticChecks(page, path, n, server.url)));
    const results = [];
    for (let i = 0; i < n; i++) results.push(await runExample(page, list.nth(i), 'cpu'));
    if (gpuRuns) {
      const gpuList = page.locator('[data-example][data-example-gpu]');
      const g = await gpuList.count();
      if (g > 0) {
        await page.locator('[data-backend-select]').first().selectOption('gpu');
        for (let i = 0; i < g; i++) results.push(await runExample(page, gpuList.nth(i), 'gpu'));
        await page.locator('[data-backend-select]').first().selectOption('cpu');
      }
    }
    for (const r of results) {
      if (r.backend === 'gpu' && r.warned && !(await softwareRenderer(page)))
        problems.push(`"${r.title}": slow-example warning on hardware WebGL`);
    }
    problems.push(...(await interactiveChecks(page)));
    problems.push(...(await afterRunChecks(page, path, results)));
    if (shots && SHOT_PAGES.some((p) => (p.startsWith('/') ? path === p : path.includes(p)))) await screenshots(page, path, shots);
    await context.close();
    examples += results.length;
    if (n) examplePages++;
    const lines = [`${path}  ${n} examples, ${((Date.now() - pageStart) / 1000).toFixed(1)} s`];
    for (const r of results) lines.push(`    ${r.ok ? 'ok' : 'FAIL'} ${r.backend} ${(r.ms / 1000).toFixed(1)}s ${r.title}`);
    console.log(lines.join('\n'));
    for (const r of results.filter((x) => !x.ok)) {
      failures.push(`${path} [${r.backend}] "${r.title}": expected ${r.expected}, got ${r.status}${r.error ? `: ${r.error}` : ''}`);
    }
    for (const p of problems) failures.push(`${path}: ${p}`);
  };
  try {
    // A few pages at a time: much of a page's time is waiting (loads, worker start-up).
    const queue = pages.slice();
    const lanes = Array.from({ length: Math.max(1, CONCURRENCY) }, async () => {
      while (queue.length) {
        const path = queue.shift();
        try {
          await visit(path);
        } catch (e) {
          failures.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    });
    await Promise.all(lanes);
  } finally {
    await browser.close();
    await server.close();
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`\n${pages.length} pages, ${examplePages} with examples, ${examples} example runs, ${secs} s`);
  if (failures.length) {
    console.error(`\n${failures.length} problem(s):\n` + failures.map((f) => `  - ${f}`).join('\n'));
    process.exit(1);
  }
  console.log('docs site: all pages and examples OK');
}

/** The renderer behind WebGL2 in this browser, as the page sees it. */
async function softwareRenderer(page) {
  return page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    return /swiftshader|llvmpipe|software/i.test(String(gl && ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : ''));
  });
}

/**
 * What a page must show before anything runs: every example's build-time
 * output in the served HTML (pre-rendered, no JavaScript needed); no link to
 * an anchor that is not on its page; the backward-pass graph (controls,
 * caption and drawing) within one 1280×800 screen and a phone's width.
 */
async function staticChecks(page, path, examples, base) {
  const problems = [];
  const html = await (await fetch(`${base}${path}`)).text();
  const pre = (html.match(/data-prerendered/g) ?? []).length;
  if (pre !== examples) problems.push(`${pre} of ${examples} examples have a pre-rendered output in the HTML`);
  const empty = await page.evaluate(
    () => [...document.querySelectorAll('[data-example-output][data-prerendered]')].filter((o) => o.children.length < 2).length,
  );
  if (empty) problems.push(`${empty} pre-rendered outputs are empty`);
  // Links into the site that name an anchor: the anchor must exist on the target page.
  const anchors = await page.evaluate(() => [...document.querySelectorAll('.vp-doc a[href*="#"]')].map((a) => a.getAttribute('href')));
  for (const href of new Set(anchors)) {
    const u = new URL(href, `${base}${path}`);
    if (u.origin !== base || !u.hash) continue;
    const target = u.pathname === path ? html : await (await fetch(`${base}${u.pathname}`)).text();
    const id = decodeURIComponent(u.hash.slice(1));
    if (!target.includes(`id="${id}"`)) problems.push(`dead anchor: ${href}`);
  }
  if (path.includes('concepts/backward-pass')) problems.push(...(await graphFits(page)));
  // Every example's code in the highlighting editor (CodeMirror), once it has loaded.
  if (examples) {
    const editors = await page
      .waitForFunction(
        (n) =>
          document.querySelectorAll('[data-example-editor] .cm-editor').length === n &&
          document.querySelectorAll('[data-example-editor] .cm-content span').length > 0,
        examples,
        { timeout: 20_000 },
      )
      .then(() => true)
      .catch(() => false);
    if (!editors) problems.push('the code editors did not load (or show no highlighted tokens)');
    else if (path.includes('guide/examples')) problems.push(...(await helperHover(page)));
  }
  // A figure runs by itself once on screen.
  const figures = page.locator('[data-example].bp-figure');
  for (let i = 0; i < (await figures.count()); i++) {
    const fig = figures.nth(i);
    await fig.scrollIntoViewIfNeeded();
    const ran = await page
      .waitForFunction(
        (out) => Number(out.dataset.run) >= 1 && out.dataset.status === 'done',
        await fig.locator('[data-example-output]').elementHandle(),
        { timeout: 30_000 },
      )
      .then(() => true)
      .catch(() => false);
    if (!ran) problems.push(`figure "${await fig.getAttribute('data-title')}" did not run by itself when shown`);
  }
  return problems;
}

/** Hovering a helper's name in the editor shows its signature. */
async function helperHover(page) {
  const box = await page.evaluate(() => {
    for (const line of document.querySelectorAll('[data-example-editor] .cm-line')) {
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = n.textContent.search(/\bchart\(/);
        if (i < 0) continue;
        line.scrollIntoView({ block: 'center' });
        const r = document.createRange();
        r.setStart(n, i + 1);
        r.setEnd(n, i + 3);
        const b = r.getBoundingClientRect();
        return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
      }
    }
    return null;
  });
  if (!box) return ['no chart( call in an editor to hover'];
  await page.mouse.move(box.x, box.y);
  const text = await page
    .waitForSelector('.bp-hover', { timeout: 5_000 })
    .then((h) => h.innerText())
    .catch(() => '');
  await page.mouse.move(0, 0);
  return /^chart\(/.test(text) ? [] : [`hovering chart( in the editor shows "${text}", not its signature`];
}

/**
 * What the reader does with the outputs after a run: draw a digit on every
 * sketch pad (the model must answer), answer every exercise (the right
 * answer passes, a wrong one does not); and what the figures must hold:
 * a path on every landscape, a confusion matrix mostly on its diagonal.
 */
async function interactiveChecks(page) {
  const problems = [];
  const pads = page.locator('[data-sketch]');
  for (let i = 0; i < (await pads.count()); i++) {
    const pad = pads.nth(i);
    const canvas = pad.locator('[data-sketch-canvas]');
    await canvas.scrollIntoViewIfNeeded();
    const b = await canvas.boundingBox();
    // A 7: a bar across the top and a stroke down to the left.
    const pts = [
      [0.3, 0.22],
      [0.72, 0.22],
      [0.62, 0.45],
      [0.5, 0.8],
    ];
    await page.mouse.move(b.x + b.width * pts[0][0], b.y + b.height * pts[0][1]);
    await page.mouse.down();
    for (const [x, y] of pts.slice(1)) await page.mouse.move(b.x + b.width * x, b.y + b.height * y, { steps: 8 });
    await page.mouse.up();
    const best = await page
      .waitForFunction((el) => el.querySelector('[data-sketch-result]')?.dataset.best ?? null, await pad.elementHandle(), {
        timeout: 20_000,
      })
      .then((h) => h.jsonValue())
      .catch(() => null);
    if (best === null) problems.push('a drawn digit got no answer from the model');
  }
  const asks = page.locator('[data-ask]');
  for (let i = 0; i < (await asks.count()); i++) {
    const ask = asks.nth(i);
    const answer = Number(await ask.getAttribute('data-answer'));
    const verdict = async (typed) => {
      await ask.locator('[data-ask-input]').fill(typed);
      await ask.locator('[data-ask-check]').click();
      return ask.getAttribute('data-verdict');
    };
    const wrong = await verdict(String(answer + Math.max(1, Math.abs(answer))));
    const right = await verdict(String(Number(answer.toPrecision(4))));
    if (wrong !== 'wrong' || right !== 'right')
      problems.push(`exercise ${i + 1}: a wrong answer gave "${wrong}", the right one "${right}"`);
  }
  const landscapes = await page.evaluate(() =>
    [...document.querySelectorAll('[data-landscape]')].map((l) => l.querySelectorAll('.bp-landscape-legend li').length),
  );
  if (landscapes.some((n) => n === 0)) problems.push('a loss landscape without a descent path');
  const matrices = await page.evaluate(() =>
    [...document.querySelectorAll('[data-matrix] tbody')].map((t) => {
      const rows = [...t.querySelectorAll('tr')].map((r) => [...r.querySelectorAll('td')].map((c) => Number(c.textContent)));
      let diag = 0,
        all = 0;
      rows.forEach((r, i) =>
        r.forEach((v, j) => {
          all += v;
          if (i === j) diag += v;
        }),
      );
      return { n: rows.length, diag, all };
    }),
  );
  for (const m of matrices) if (!m.n || m.diag <= m.all / 2) problems.push(`a confusion matrix with ${m.diag} of ${m.all} on its diagonal`);
  return problems;
}

/** Walks the graph to its end and checks it stays within a laptop screen, then a phone's. */
async function graphFits(page) {
  const problems = [];
  const graph = page.locator('[data-graph]').first();
  if (!(await graph.count())) return ['no graph on the backward-pass page'];
  for (const [w, h] of [
    [1280, 800],
    [390, 844],
  ]) {
    await page.setViewportSize({ width: w, height: h });
    await page.waitForTimeout(100);
    // Walked to its end, where the captions are longest: the Step button, the caption and the drawing together.
    await graph
      .locator('[data-graph-all]')
      .click()
      .catch(() => {});
    const box = await graph.evaluate((g) => {
      const top = g.querySelector('[data-graph-step]').getBoundingClientRect().top;
      const svg = g.querySelector('svg').getBoundingClientRect();
      return { height: svg.bottom - top, right: svg.right, width: document.documentElement.clientWidth };
    });
    await graph.locator('[data-graph-reset]').click();
    if (box.height > h - 64)
      problems.push(
        `graph at ${w}×${h}: Step button to drawing's end ${Math.round(box.height)} px, more than one screen below the nav bar`,
      );
    if (box.right > box.width + 1) problems.push(`graph at ${w}×${h}: the drawing overflows the screen to ${Math.round(box.right)} px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  const step = graph.locator('[data-graph-step]');
  const total = Number((await graph.locator('[data-graph-phase]').innerText()).match(/\/(\d+)/)?.[1] ?? 0);
  for (let i = 0; i < total; i++) await step.click();
  const caption = await graph.locator('[data-graph-caption]').innerText();
  if (!/→ .*lower/.test(caption)) problems.push(`the graph's last step shows no lower loss: "${caption}"`);
  if (!(await graph.locator('[data-graph-back-edge]').count())) problems.push('the graph shows no backward edges');
  return problems;
}

/** After the runs: error class names as thrown (not minified), charts and canvases drawn. */
async function afterRunChecks(page, path, results) {
  const problems = [];
  for (const r of results.filter((x) => x.status === 'error')) {
    if (!/^[A-Z][A-Za-z]*Error: /.test(r.error)) problems.push(`"${r.title}": error shown as "${r.error.slice(0, 60)}" (class name lost?)`);
  }
  // Charts redraw once per animation frame: let the last points land.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const blank = await page.evaluate(
    () =>
      [...document.querySelectorAll('[data-example-output] canvas')].filter((c) => {
        const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
        if (!d) return false;
        for (let i = 0; i < d.length; i += 4) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return false;
        return true;
      }).length,
  );
  if (blank) problems.push(`${blank} blank canvases`);
  const charts = await page.evaluate(
    () => [...document.querySelectorAll('[data-chart] svg')].filter((s) => !s.querySelector('path, circle')).length,
  );
  if (charts) problems.push(`${charts} charts without a line or point`);
  return problems;
}

/** Screenshots for a human check: the graph page walked into the backward pass, the MNIST page after training. */
async function screenshots(page, path, dir) {
  mkdirSync(dir, { recursive: true });
  // The fixed nav bar would cover the top of a figure scrolled into view.
  await page.addStyleTag({ content: '.VPNav, .VPLocalNav { display: none !important; }' });
  const name = path
    .replace(/^\//, '')
    .replace(/\.html$/, '')
    .replace(/\//g, '-');
  if (path.includes('backward-pass')) {
    const graph = page.locator('[data-graph]').first();
    if (await graph.count()) {
      const step = graph.locator('[data-graph-step]');
      const total = Number((await graph.locator('.bp-graph-phase').innerText()).match(/\/(\d+)/)?.[1] ?? 0);
      for (let i = 0; i < Math.ceil(total * 0.6); i++) await step.click();
      await graph.scrollIntoViewIfNeeded();
      await graph.screenshot({ path: join(dir, `${name}-graph.png`) });
    }
  }
  if (path.includes('mnist')) {
    const training = page.locator('[data-example]').last();
    await training.scrollIntoViewIfNeeded();
    await training.screenshot({ path: join(dir, `${name}-training.png`) });
  }
  // Each figure on its own: landscapes, decision regions, matrices, sketch pads, image grids, exercises, editors.
  const kinds = {
    landscape: '[data-landscape]',
    scatter: '[data-scatter]',
    matrix: '[data-matrix]',
    sketch: '[data-sketch]',
    images: '.bp-digits',
    ask: '[data-ask]',
    editor: '[data-example-editor]',
  };
  for (const [kind, sel] of Object.entries(kinds)) {
    const els = page.locator(`[data-example-output] ${sel}, ${sel === '[data-example-editor]' ? sel : '#__never'}`);
    const n = Math.min(await els.count(), kind === 'images' ? 6 : kind === 'editor' ? 1 : 5);
    for (let i = 0; i < n; i++) {
      const el = els.nth(i);
      if (!(await el.isVisible())) continue;
      await el.scrollIntoViewIfNeeded();
      await el.screenshot({ path: join(dir, `${name}-${kind}-${i}.png`) });
    }
  }
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
