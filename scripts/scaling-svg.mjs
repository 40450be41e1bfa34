#!/usr/bin/env node
// Draws the scaling plot from the JSON of `pnpm bench --scaling`: epoch time of the MNIST MLP against
// batch size (left) and hidden width (right), bp and PyTorch, log-log. Usage:
//   node scripts/scaling-svg.mjs bench/scaling.json bench/scaling.svg
import { readFileSync, writeFileSync } from 'node:fs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: node scripts/scaling-svg.mjs <scaling.json> <out.svg>\n');
  process.exit(2);
}
let doc;
try {
  doc = JSON.parse(readFileSync(input, 'utf8'));
} catch (e) {
  process.stderr.write(`scaling-svg: ${input} is not readable JSON (${e instanceof Error ? e.message.slice(0, 80) : 'error'})\n`);
  process.exit(1);
}
const s = doc.scaling;
if (!s || !Array.isArray(s.batchSweep) || !Array.isArray(s.widthSweep)) {
  process.stderr.write(`scaling-svg: ${input} has no scaling.batchSweep / scaling.widthSweep (run pnpm bench --scaling)\n`);
  process.exit(1);
}
const num = (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null);
const esc = (t) => String(t).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

const W = 860;
const H = 400;
const panelW = 360;
const panelH = 260;
const top = 60;
const series = [
  { key: 'bpEpochSeconds', name: 'bp', color: '#d9480f' },
  { key: 'pytorchEpochSeconds', name: 'PyTorch (faster of 1 and 2 threads)', color: '#1c7ed6' },
];

function panel(x0, rows, xKey, xLabel) {
  const xs = rows.map((r) => r[xKey]);
  const ys = rows.flatMap((r) => series.map((se) => num(r[se.key]))).filter((v) => v !== null);
  const lx0 = Math.log2(Math.min(...xs));
  const lx1 = Math.log2(Math.max(...xs));
  const ly0 = Math.floor(Math.log10(Math.min(...ys)) * 2) / 2;
  const ly1 = Math.ceil(Math.log10(Math.max(...ys)) * 2) / 2;
  const px = (v) => x0 + ((Math.log2(v) - lx0) / (lx1 - lx0 || 1)) * panelW;
  const py = (v) => top + panelH - ((Math.log10(v) - ly0) / (ly1 - ly0 || 1)) * panelH;
  const out = [`<rect x="${x0}" y="${top}" width="${panelW}" height="${panelH}" fill="none" stroke="#ccc"/>`];
  for (const v of xs) {
    out.push(`<line x1="${px(v)}" y1="${top}" x2="${px(v)}" y2="${top + panelH}" stroke="#eee"/>`);
    out.push(`<text x="${px(v)}" y="${top + panelH + 16}" text-anchor="middle">${v}</text>`);
  }
  for (let e = Math.ceil(ly0); e <= Math.floor(ly1); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) > ly1) continue;
      out.push(`<line x1="${x0}" y1="${py(v)}" x2="${x0 + panelW}" y2="${py(v)}" stroke="#eee"/>`);
      out.push(`<text x="${x0 - 6}" y="${py(v) + 4}" text-anchor="end">${v >= 1 ? v : v.toPrecision(1)}</text>`);
    }
  }
  out.push(`<text x="${x0 + panelW / 2}" y="${top + panelH + 36}" text-anchor="middle">${esc(xLabel)}</text>`);
  for (const se of series) {
    const pts = rows.filter((r) => num(r[se.key]) !== null).map((r) => [px(r[xKey]), py(r[se.key])]);
    if (pts.length === 0) continue;
    out.push(
      `<polyline fill="none" stroke="${se.color}" stroke-width="2" points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}"/>`,
    );
    for (const [a, b] of pts) out.push(`<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="3" fill="${se.color}"/>`);
  }
  return out.join('\n');
}

const byKey = (k) => (a, b) => a[k] - b[k];
const m = doc.machine ?? {};
const sub = `${m.cpu ?? 'unknown CPU'}${m.avx512f ? ' (AVX-512)' : m.avx2 ? ' (AVX2)' : ''}, ${m.cpus ?? '?'} cores, Node ${m.node ?? '?'}; ${doc.date ? doc.date.slice(0, 10) : ''}`;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="15">MNIST MLP (784-hidden-10, Adam): epoch time in seconds, log scales</text>
<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${esc(sub)}</text>
<text x="20" y="${top + panelH / 2}" transform="rotate(-90 20 ${top + panelH / 2})" text-anchor="middle">seconds per 60,000 samples</text>
${panel(70, [...s.batchSweep].sort(byKey('batch')), 'batch', 'batch size (hidden 128)')}
${panel(480, [...s.widthSweep].sort(byKey('hidden')), 'hidden', 'hidden width (batch 128)')}
${series.map((se, i) => `<rect x="${250 + i * 140}" y="${H - 22}" width="12" height="12" fill="${se.color}"/><text x="${266 + i * 140}" y="${H - 12}">${esc(se.name)}</text>`).join('\n')}
</svg>
`;
writeFileSync(output, svg);
process.stderr.write(`scaling-svg: wrote ${output}\n`);
