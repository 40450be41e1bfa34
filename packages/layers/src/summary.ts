import type { Module } from './module.js';

/** What {@link summarize} reads of a model. */
interface Summarizable extends Module {
  readonly layers: readonly Module[];
  readonly layerOutputShapes: number[][] | null;
}

function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

function floatBufferSize(m: Module): number {
  return m.buffers().reduce((s, b) => s + (b.dtype === 'float32' ? b.size : 0), 0);
}

function pad(s: string, width: number): string {
  return s.length >= width ? `${s} ` : s + ' '.repeat(width - s.length);
}

/**
 * Keras' `model.summary()` table: one row per layer with its name and type,
 * its output shape (`null` stands for the batch axis) and its parameter
 * count, then the totals. Non-trainable parameters are the floating-point
 * buffers (BatchNorm's running statistics), as Keras counts them.
 */
export function summarize(model: Summarizable): string {
  const shapes = model.layerOutputShapes;
  const rows = model.layers.map((layer, i) => {
    const shape = shapes ? `[null, ${shapes[i].join(', ')}]`.replace(', ]', ']') : '?';
    const count = layer.numParameters() + floatBufferSize(layer);
    const params = layer.built ? fmtCount(count) : '? (unbuilt)';
    return [`${i} (${layer.layerType})`, shape, params];
  });
  const header = ['Layer (type)', 'Output Shape', 'Param #'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)) + 3);
  const lineWidth = widths.reduce((a, b) => a + b, 0);
  const line = (ch: string): string => ch.repeat(lineWidth);
  const fmtRow = (r: string[]): string =>
    r
      .map((cell, c) => pad(cell, widths[c]))
      .join('')
      .trimEnd();
  const trainable = model.parameters().reduce((s, p) => s + p.size, 0);
  const nonTrainable = floatBufferSize(model);
  const out = [
    `Model: "${model.layerType.toLowerCase()}"`,
    line('_'),
    fmtRow(header),
    line('='),
    ...rows.flatMap((r, i) => (i === 0 ? [fmtRow(r)] : [line('_'), fmtRow(r)])),
    line('='),
    `Total params: ${fmtCount(trainable + nonTrainable)}`,
    `Trainable params: ${fmtCount(trainable)}`,
    `Non-trainable params: ${fmtCount(nonTrainable)}`,
    line('_'),
  ];
  if (!model.built)
    out.push('Some layers are not built yet: pass inputShape to the first layer, call build(inputShape), or run one batch.');
  return out.join('\n');
}
