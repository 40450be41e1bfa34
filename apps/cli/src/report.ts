/**
 * The training report: loss and accuracy per epoch as a CSV table and as an
 * SVG chart (two panels, training solid, validation dashed). The SVG is
 * self-contained text with no scripts or fonts to fetch, so it opens in any
 * browser and diffs cleanly in a repository.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '@bp/layers';

/** One epoch's figures. Validation fields are absent when the run had no validation set. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Wall time of the epoch in seconds. */
  seconds: number;
}

const CSV_COLUMNS = ['epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'seconds'] as const;

/** The records as CSV with a header row; a missing value is an empty cell. */
export function renderCsv(records: readonly EpochRecord[]): string {
  const cell = (v: number | undefined) => (v === undefined ? '' : String(v));
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of records) {
    lines.push([r.epoch, r.loss, r.accuracy, r.valLoss, r.valAccuracy, r.seconds].map(cell).join(','));
  }
  return lines.join('\n') + '\n';
}

/** Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  for (let v = start; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < hi) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmtTick(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(4)));
}

interface Series {
  label: string;
  values: (number | undefined)[];
  color: string;
  dashed: boolean;
}

const PANEL_W = 380;
const PANEL_H = 260;
const MARGIN = { left: 56, right: 14, top: 34, bottom: 40 };

/** `legendAt`: the corner the curves leave free (top for falling loss, bottom for rising accuracy). */
function panel(x0: number, title: string, epochs: number[], series: Series[], legendAt: 'top' | 'bottom'): string {
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const finite = series.flatMap((s) => s.values).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const yTicks = finite.length ? niceTicks(Math.min(...finite), Math.max(...finite)) : [0, 1];
  const yLo = yTicks[0];
  const yHi = yTicks[yTicks.length - 1];
  const xLo = epochs.length ? epochs[0] : 0;
  const xHi = epochs.length > 1 ? epochs[epochs.length - 1] : xLo + 1;
  const px = (e: number) => x0 + MARGIN.left + ((e - xLo) / (xHi - xLo)) * plotW;
  const py = (v: number) => MARGIN.top + plotH - ((v - yLo) / (yHi - yLo)) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${x0 + MARGIN.left + plotW / 2}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`);
  for (const t of yTicks) {
    const y = py(t).toFixed(1);
    parts.push(`<line x1="${x0 + MARGIN.left}" y1="${y}" x2="${x0 + MARGIN.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${x0 + MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmtTick(t)}</text>`);
  }
  const xStep = Math.max(1, Math.ceil(epochs.length / 10));
  for (let i = 0; i < epochs.length; i += xStep) {
    const x = px(epochs[i]).toFixed(1);
    parts.push(`<text x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${epochs[i]}</text>`);
  }
  parts.push(
    `<rect x="${x0 + MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
    `<text x="${x0 + MARGIN.left + plotW / 2}" y="${PANEL_H - 6}" text-anchor="middle">epoch</text>`,
  );
  let legendY = legendAt === 'top' ? MARGIN.top + 14 : MARGIN.top + plotH - 10 - 16 * (series.length - 1);
  for (const s of series) {
    const pts = epochs
      .map((e, i) => [e, s.values[i]] as const)
      .filter((p): p is readonly [number, number] => p[1] !== undefined && Number.isFinite(p[1]));
    if (!pts.length) continue;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const coords = pts.map(([e, v]) => `${px(e).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${coords}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const [e, v] of pts) parts.push(`<circle cx="${px(e).toFixed(1)}" cy="${py(v).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    const lx = x0 + MARGIN.left + plotW - 110;
    parts.push(`<line x1="${lx}" y1="${legendY}" x2="${lx + 24}" y2="${legendY}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 30}" y="${legendY}" dominant-baseline="middle">${escapeXml(s.label)}</text>`);
    legendY += 16;
  }
  return parts.join('\n');
}

/** The loss and accuracy curves as a standalone SVG document. */
export function renderSvg(records: readonly EpochRecord[], title = 'bp training report'): string {
  const epochs = records.map((r) => r.epoch);
  const hasVal = records.some((r) => r.valLoss !== undefined);
  const lossSeries: Series[] = [{ label: 'train', values: records.map((r) => r.loss), color: '#1f77b4', dashed: false }];
  const accSeries: Series[] = [{ label: 'train', values: records.map((r) => r.accuracy), color: '#1f77b4', dashed: false }];
  if (hasVal) {
    lossSeries.push({ label: 'validation', values: records.map((r) => r.valLoss), color: '#ff7f0e', dashed: true });
    accSeries.push({ label: 'validation', values: records.map((r) => r.valAccuracy), color: '#ff7f0e', dashed: true });
  }
  const width = PANEL_W * 2;
  const height = PANEL_H + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<g transform="translate(0,24)">`,
    panel(0, 'Loss', epochs, lossSeries, 'top'),
    panel(PANEL_W, 'Accuracy', epochs, accSeries, 'bottom'),
    `</g>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}

/** Writes `report.csv` and `report.svg` into `dir` (atomically, so a reader never sees half a file). */
export async function writeReport(dir: string, records: readonly EpochRecord[], title?: string): Promise<{ csv: string; svg: string }> {
  const csv = join(dir, 'report.csv');
  const svg = join(dir, 'report.svg');
  await writeFileAtomic(csv, renderCsv(records));
  await writeFileAtomic(svg, renderSvg(records, title));
  return { csv, svg };
}
