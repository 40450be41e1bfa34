/**
 * A small SVG line chart: named series over a shared x axis (a field of each
 * point, or its index), nice round ticks, optional log scale. No chart library: the site
 * fetches nothing from outside and the charts stay a few lines of markup.
 */
import type { ChartSpec } from './protocol.js';

const COLORS = ['#3a7bd5', '#e4572e', '#29a36a', '#9b5de5', '#f2a541', '#17a2b8', '#6c757d'];
const W = 640;
const H = 260;
const PAD = { left: 56, right: 12, top: 28, bottom: 36 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

/**
 * Log-axis ticks between 10^lo and 10^hi (exponents): every power of ten,
 * with 2 and 5 between them when the range spans at most two decades, and
 * every other power when it spans more than six.
 */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(lo);
  const b = Math.ceil(hi);
  const span = b - a;
  const out: number[] = [];
  for (let e = a; e <= b; e++) {
    if (span > 6 && (e - a) % 2) continue;
    for (const m of span <= 2 ? [1, 2, 5] : [1]) {
      const v = Number((m * 10 ** e).toPrecision(6));
      const t = Math.log10(v);
      if (t >= lo - 1e-9 && t <= hi + 1e-9) out.push(v);
    }
  }
  return out;
}

/** One series' values by point index (NaN where a point skipped it). */
export function seriesValues(points: readonly Record<string, number>[], name: string): number[] {
  return points.map((p) => (name in p && p[name] !== null ? p[name] : Number.NaN));
}

/** Legend entries: each series' colour, and a note when some of its values could not be drawn. */
export function legend(spec: ChartSpec, points: readonly Record<string, number>[]): { name: string; color: string; note: string }[] {
  return spec.series.map((name, k) => {
    const vals = seriesValues(points, name).filter((v) => !Number.isNaN(v));
    const bad = vals.some((v) => !Number.isFinite(v) || (spec.logY && v <= 0));
    const last = vals.length ? vals[vals.length - 1] : undefined;
    const note = bad ? 'diverged: NaN/Infinity not drawn' : last === undefined ? '' : `last ${fmtTick(last)}`;
    return { name, color: COLORS[k % COLORS.length], note };
  });
}

/** The chart as an SVG string. Non-finite values are left out ({@link legend} says so). */
export function renderLineChart(spec: ChartSpec, points: readonly Record<string, number>[]): string {
  const n = points.length;
  const tf = spec.logY ? (v: number) => Math.log10(v) : (v: number) => v;
  const usable = (v: number) => Number.isFinite(v) && (!spec.logY || v > 0);
  let lo = Infinity;
  let hi = -Infinity;
  for (const name of spec.series) {
    for (const v of seriesValues(points, name)) {
      if (Number.isNaN(v)) continue;
      if (!usable(v)) continue;
      lo = Math.min(lo, tf(v));
      hi = Math.max(hi, tf(v));
    }
  }
  if (lo === Infinity) {
    lo = 0;
    hi = 1;
  } else if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  // x: the spec's x field of each point, else the point's index.
  const xv = spec.x ? points.map((p) => Number(p[spec.x!])) : points.map((_, i) => i);
  const finiteX = xv.filter(Number.isFinite);
  const x0 = finiteX.length ? Math.min(...finiteX) : 0;
  const x1 = finiteX.length ? Math.max(...finiteX) : 1;
  const xAt = (v: number) => PAD.left + (x1 <= x0 ? pw / 2 : ((v - x0) / (x1 - x0)) * pw);
  const x = (i: number) => xAt(xv[i]);
  const y = (v: number) => PAD.top + ph - ((tf(v) - lo) / (hi - lo)) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" class="bp-chart" role="img" aria-label="${esc(spec.title ?? 'chart')}">`,
  );
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="var(--vp-c-bg, #fff)"/>`);
  if (spec.title) parts.push(`<text x="${PAD.left}" y="18" font-size="13" font-weight="600" fill="currentColor">${esc(spec.title)}</text>`);
  const yt = spec.logY ? logTicks(lo, hi) : ticks(lo, hi);
  for (const v of yt) {
    const yy = y(v);
    if (yy < PAD.top - 1 || yy > PAD.top + ph + 1) continue;
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${yy.toFixed(1)}" y2="${yy.toFixed(1)}" stroke="#8884" stroke-width="1"/>`,
    );
    parts.push(
      `<text x="${PAD.left - 6}" y="${(yy + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="currentColor">${fmtTick(v)}</text>`,
    );
  }
  if (x1 > x0) {
    const xt = ticks(x0, x1, 6).filter((t) => (spec.x ? true : Number.isInteger(t)));
    for (const t of xt) {
      parts.push(
        `<text x="${xAt(t).toFixed(1)}" y="${H - PAD.bottom + 16}" font-size="11" text-anchor="middle" fill="currentColor">${fmtTick(t)}</text>`,
      );
    }
  }
  parts.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + ph}" stroke="currentColor" stroke-width="1"/>`);
  parts.push(
    `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + ph}" y2="${PAD.top + ph}" stroke="currentColor" stroke-width="1"/>`,
  );
  if (spec.xLabel)
    parts.push(
      `<text x="${PAD.left + pw / 2}" y="${H - 4}" font-size="11" text-anchor="middle" fill="currentColor">${esc(spec.xLabel)}</text>`,
    );
  if (spec.yLabel)
    parts.push(
      `<text transform="translate(12 ${PAD.top + ph / 2}) rotate(-90)" font-size="11" text-anchor="middle" fill="currentColor">${esc(spec.yLabel)}${spec.logY ? ' (log)' : ''}</text>`,
    );
  spec.series.forEach((name, k) => {
    const color = COLORS[k % COLORS.length];
    let d = '';
    let pen = false;
    seriesValues(points, name).forEach((v, i) => {
      if (!usable(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)}`;
      pen = true;
    });
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`);
    // Short series get a dot per point, so a single epoch is still visible.
    if (n <= 40) {
      seriesValues(points, name).forEach((v, i) => {
        if (usable(v)) parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"/>`);
      });
    }
  });
  parts.push('</svg>');
  return parts.join('');
}
