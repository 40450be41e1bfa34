import { describe, expect, it } from 'vitest';
import { niceTicks, renderCsv, renderSvg, type EpochRecord } from './report.js';

const records: EpochRecord[] = [
  { epoch: 1, loss: 0.9, accuracy: 0.6, valLoss: 1.0, valAccuracy: 0.55, seconds: 1.5 },
  { epoch: 2, loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.75, seconds: 1.25 },
  { epoch: 3, loss: 0.25, accuracy: 0.9, valLoss: 0.4, valAccuracy: 0.85, seconds: 1.0 },
];

describe('report', () => {
  it('writes one CSV row per epoch, empty cells for missing validation', () => {
    expect(renderCsv(records)).toBe(
      'epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,0.9,0.6,1,0.55,1.5\n2,0.5,0.8,0.6,0.75,1.25\n3,0.25,0.9,0.4,0.85,1\n',
    );
    expect(renderCsv([{ epoch: 1, loss: 0.5, accuracy: 1, seconds: 2 }])).toBe(
      'epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,0.5,1,,,2\n',
    );
  });

  it('picks round ticks covering the range', () => {
    expect(niceTicks(0.25, 1.0)).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.55, 0.9)).toEqual([0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(niceTicks(3, 3)[0]).toBeLessThan(3);
  });

  it('draws both panels with a solid training and a dashed validation line', () => {
    const svg = renderSvg(records, 'run <1>');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('<title>run &lt;1&gt;</title>');
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(svg.match(/stroke-dasharray/g)!.length).toBeGreaterThanOrEqual(2);
    expect(svg).toContain('>Loss<');
    expect(svg).toContain('>Accuracy<');
    // The loss falls, so the training line's points go down the page (y grows) epoch by epoch.
    const pts = svg
      .match(/<polyline points="([^"]+)"/)![1]
      .split(' ')
      .map((p) => Number(p.split(',')[1]));
    expect(pts[0]).toBeLessThan(pts[1]);
    expect(pts[1]).toBeLessThan(pts[2]);
  });

  it('skips non-finite values instead of drawing NaN coordinates', () => {
    const svg = renderSvg([
      { epoch: 1, loss: NaN, accuracy: 0.5, seconds: 1 },
      { epoch: 2, loss: 0.3, accuracy: 0.6, seconds: 1 },
    ]);
    expect(svg).not.toContain('NaN');
  });
});
