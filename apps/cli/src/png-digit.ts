/**
 * Turns a PNG (any size, colour or gray, with or without alpha) into the
 * 28x28 input an MNIST model expects, preprocessed the way MNIST itself was:
 * light strokes on a dark background, the drawing's bounding box scaled to
 * fit 20x20 with its aspect ratio kept, then placed so its centre of mass
 * sits at the centre of the 28x28 field. Without this, a digit drawn large
 * or off-centre is misread however good the model is.
 */
import { readFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import { FormatError } from '@bp/tensor';

/** Options of {@link pngToDigit}. */
export interface PngDigitOptions {
  /** Treat the image as dark strokes on a light background. Default: decided from the border's brightness. */
  invert?: boolean;
  /** Side of the output field (default 28) and of the box the drawing is scaled into (default 20). */
  size?: number;
  box?: number;
}

/** The preprocessed image and whether it was inverted. */
export interface Digit {
  pixels: Float32Array;
  size: number;
  inverted: boolean;
}

/** Grayscale intensities in [0,1] from RGBA bytes, composited over `background` (0 black, 1 white). */
export function toGray(rgba: Uint8Array, width: number, height: number, background: number): Float32Array {
  const out = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const a = rgba[4 * i + 3] / 255;
    const lum = (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
    out[i] = lum * a + background * (1 - a);
  }
  return out;
}

function borderMean(g: Float32Array, w: number, h: number): number {
  let sum = 0;
  let n = 0;
  for (let x = 0; x < w; x++) {
    sum += g[x] + g[(h - 1) * w + x];
    n += 2;
  }
  for (let y = 1; y < h - 1; y++) {
    sum += g[y * w] + g[y * w + w - 1];
    n += 2;
  }
  return n ? sum / n : 0;
}

/** Area-averaging resize of a `w` x `h` image to `nw` x `nh` (each output pixel is the mean of the input area it covers). */
export function resizeArea(src: Float32Array, w: number, h: number, nw: number, nh: number): Float32Array {
  const out = new Float32Array(nw * nh);
  const sx = w / nw;
  const sy = h / nh;
  for (let oy = 0; oy < nh; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < nw; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(y0); y < Math.min(h, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(w, Math.ceil(x1)); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          sum += src[y * w + x] * wx * wy;
          area += wx * wy;
        }
      }
      out[oy * nw + ox] = area > 0 ? sum / area : 0;
    }
  }
  return out;
}

/** MNIST-style centring of a grayscale image (light strokes on dark): crop, fit into `box`, centre of mass to the middle. */
export function centerDigit(g: Float32Array, w: number, h: number, size = 28, box = 20): Float32Array {
  const out = new Float32Array(size * size);
  let minX = w;
  let minY = h;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (g[y * w + x] > 0.1) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
  }
  if (maxX < 0) return out; // blank image
  const cw = maxX - minX + 1;
  const ch = maxY - minY + 1;
  const crop = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) crop[y * cw + x] = g[(minY + y) * w + minX + x];
  const scale = box / Math.max(cw, ch);
  const nw = Math.max(1, Math.round(cw * scale));
  const nh = Math.max(1, Math.round(ch * scale));
  const small = resizeArea(crop, cw, ch, nw, nh);
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < nh; y++) {
    for (let x = 0; x < nw; x++) {
      const v = small[y * nw + x];
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  const cx = mass > 0 ? mx / mass : (nw - 1) / 2;
  const cy = mass > 0 ? my / mass : (nh - 1) / 2;
  const offX = Math.round((size - 1) / 2 - cx);
  const offY = Math.round((size - 1) / 2 - cy);
  for (let y = 0; y < nh; y++) {
    for (let x = 0; x < nw; x++) {
      const tx = x + offX;
      const ty = y + offY;
      if (tx >= 0 && tx < size && ty >= 0 && ty < size) out[ty * size + tx] = Math.min(1, Math.max(0, small[y * nw + x]));
    }
  }
  return out;
}

/** Decodes PNG bytes; `name` appears in errors. */
export function decodePng(bytes: Uint8Array, name: string): { rgba: Uint8Array; width: number; height: number } {
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), width: png.width, height: png.height };
  } catch (e) {
    throw new FormatError(name, `is not a readable PNG image: ${(e as Error).message}`);
  }
}

/** Reads a PNG file and preprocesses it into a `size` x `size` digit. */
export async function pngToDigit(path: string, opts: PngDigitOptions = {}): Promise<Digit> {
  const bytes = await readFile(path);
  const { rgba, width, height } = decodePng(bytes, path);
  const size = opts.size ?? 28;
  // Composite transparency over the background the strokes are drawn against.
  const onWhite = toGray(rgba, width, height, 1);
  const inverted = opts.invert ?? borderMean(onWhite, width, height) > 0.5;
  const gray = inverted ? onWhite.map((v) => 1 - v) : toGray(rgba, width, height, 0);
  return { pixels: centerDigit(gray, width, height, size, opts.box ?? 20), size, inverted };
}
