/**
 * A grayscale image drawn in the terminal, and a model's top guesses as bars.
 * Two pixel rows share one text line (terminal cells are about twice as tall
 * as wide), shaded by their mean brightness, so a 28x28 digit takes 14 lines
 * and keeps its proportions. Only block characters are used: no colour
 * needed, so it reads the same in a pipe or a log file.
 */
import { ArgumentError, fmtShape } from '@bp/tensor';

const SHADES = [' ', '░', '▒', '▓', '█'];

/**
 * Draws `pixels` (row-major, values in [0,1], 0 = background) of a
 * `height` x `width` image, framed, one text line per two pixel rows.
 */
export function renderDigit(pixels: ArrayLike<number>, height: number, width: number): string {
  if (pixels.length !== height * width) {
    throw new ArgumentError('renderDigit', `expected ${height}x${width} = ${height * width} pixels, got ${pixels.length}`);
  }
  const lines: string[] = ['┌' + '─'.repeat(width) + '┐'];
  for (let r = 0; r < height; r += 2) {
    let line = '│';
    for (let c = 0; c < width; c++) {
      const top = pixels[r * width + c];
      const bottom = r + 1 < height ? pixels[(r + 1) * width + c] : 0;
      const v = Math.min(1, Math.max(0, (top + bottom) / 2));
      line += SHADES[Math.round(v * (SHADES.length - 1))];
    }
    lines.push(line + '│');
  }
  lines.push('└' + '─'.repeat(width) + '┘');
  return lines.join('\n');
}

/** One ranked class with its probability. */
export interface Guess {
  label: string;
  probability: number;
}

/** The `k` most probable classes, best first (ties keep class order). */
export function topK(probabilities: ArrayLike<number>, k: number, labels?: readonly string[]): Guess[] {
  if (labels && labels.length !== probabilities.length) {
    throw new ArgumentError(
      'topK',
      `${labels.length} labels for ${probabilities.length} probabilities ${fmtShape([probabilities.length])}`,
    );
  }
  const idx = Array.from({ length: probabilities.length }, (_, i) => i);
  idx.sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  return idx.slice(0, k).map((i) => ({ label: labels ? labels[i] : String(i), probability: probabilities[i] }));
}

/** Guesses as aligned lines: label, percentage and a bar whose length is the probability. */
export function renderGuesses(guesses: readonly Guess[], barWidth = 30): string {
  const labelW = Math.max(...guesses.map((g) => g.label.length));
  return guesses
    .map((g) => {
      const pct = `${(g.probability * 100).toFixed(1)}%`.padStart(6);
      const eighths = Math.round(Math.min(1, Math.max(0, g.probability)) * barWidth * 8);
      const partial = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'][eighths % 8];
      return `${g.label.padEnd(labelW)}  ${pct}  ${'█'.repeat(Math.floor(eighths / 8))}${partial}`;
    })
    .join('\n');
}
