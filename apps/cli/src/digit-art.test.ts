import { describe, expect, it } from 'vitest';
import { renderDigit, renderGuesses, topK } from './digit-art.js';

describe('digit art', () => {
  it('draws two pixel rows per line, shaded by their mean', () => {
    // 4x3: row pairs (0,1) and (2,3).
    const px = [1, 0, 0.5, 1, 0, 0.5, 0, 0, 1, 0, 0, 0];
    expect(renderDigit(px, 4, 3)).toBe(['┌───┐', '│█ ▒│', '│  ▒│', '└───┘'].join('\n'));
  });

  it('refuses a pixel count that does not match the size', () => {
    expect(() => renderDigit([0, 1], 2, 2)).toThrow(/renderDigit: expected 2x2 = 4 pixels, got 2/);
  });

  it('ranks the top k classes, best first', () => {
    expect(topK([0.1, 0.6, 0.05, 0.25], 3)).toEqual([
      { label: '1', probability: 0.6 },
      { label: '3', probability: 0.25 },
      { label: '0', probability: 0.1 },
    ]);
    expect(topK([0.2, 0.8], 1, ['cat', 'dog'])[0].label).toBe('dog');
  });

  it('draws bars proportional to the probability', () => {
    const text = renderGuesses(
      [
        { label: '7', probability: 0.5 },
        { label: '1', probability: 0.25 },
      ],
      8,
    );
    expect(text).toBe(['7   50.0%  ████', '1   25.0%  ██'].join('\n'));
  });
});
