/**
 * Turns a PNG (any size, colour or gray, with or without alpha) into the
 * 28x28 input an MNIST model expects, preprocessed the way MNIST itself was:
 * light strokes on a dark background, the drawing's bounding box scaled to
 * fit 20x20 with its aspect ratio kept, then placed so its centre of mass
 * sits at the centre of the 28x28 field. Without this, a digit drawn large
 * or off-centre is misread however good the model is.
 */
import { readRegularFile } from '@bp/layers';
import { PNG } from 'pngjs';
import { FormatError } from '@bp/tensor';
import { terminalSafe } from './terminal-safe.js';

/**
 * The most pixels a PNG may declare (as Pillow's `MAX_IMAGE_PIXELS`, but
 * lower: a digit needs 28x28): checked from the header, before anything is
 * inflated, so a small file declaring 16000x16000 pixels is refused at once.
 * 16 megapixels (a 12-megapixel photo fits) take about 320 MB and a few
 * seconds to decode and preprocess.
 */
export const MAX_PNG_PIXELS = 16_000_000;

/** The largest PNG file read. */
export const MAX_PNG_BYTES = 64 * 1024 * 1024;

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's header (its IHDR chunk), refusing what is not a PNG or is too large to decode. */
export function readPngHeader(bytes: Uint8Array, name: string): { width: number; height: number } {
  if (bytes.length === 0) throw new FormatError(name, 'is empty (0 bytes), not a PNG image');
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new FormatError(name, 'is not a PNG image (it does not start with the PNG signature)');
  }
  if (bytes.length < 33) throw new FormatError(name, `is cut short: its ${bytes.length} bytes end inside the PNG header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isIhdr = view.getUint32(8) === 13 && bytes[12] === 0x49 && bytes[13] === 0x48 && bytes[14] === 0x44 && bytes[15] === 0x52;
  if (!isIhdr) throw new FormatError(name, 'is not a valid PNG image: it does not begin with an IHDR header chunk');
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width === 0 || height === 0)
    throw new FormatError(name, `declares an image of ${width}x${height} pixels; a PNG has at least one pixel`);
  if (width * height > MAX_PNG_PIXELS) {
    throw new FormatError(
      name,
      `declares ${width}x${height} pixels (${Math.round((width * height) / 1e6)} megapixels), more than the ${MAX_PNG_PIXELS / 1e6} megapixels bp predict decodes; scale it down first (a digit is read at 28x28)`,
    );
  }
  return { width, height };
}

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

/** Whether most of the image's border is transparent (a drawing exported from a canvas): its background is then no colour at all. */
function transparentBorder(rgba: Uint8Array, w: number, h: number): boolean {
  const alpha = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) alpha[i] = rgba[4 * i + 3] / 255;
  return borderMean(alpha, w, h) < 0.5;
}

/** Whether the opaque pixels are dark on average (weighted by opacity): dark strokes, to be inverted. */
function darkStrokes(rgba: Uint8Array): boolean {
  let lum = 0;
  let weight = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    const a = rgba[i + 3] / 255;
    lum += a * ((0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]) / 255);
    weight += a;
  }
  return weight > 0 && lum / weight < 0.5;
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
  readPngHeader(bytes, name);
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), width: png.width, height: png.height };
  } catch (e) {
    const message = (e as Error).message ?? '';
    // pngjs's words for a file whose image data ends early.
    if (/read requests|unexpected end|finished stream/i.test(message))
      throw new FormatError(name, 'is a damaged PNG image: its data ends early');
    throw new FormatError(name, `is not a readable PNG image: ${terminalSafe(message.slice(0, 200))}`);
  }
}

/** Reads a PNG file and preprocesses it into a `size` x `size` digit. */
export async function pngToDigit(path: string, opts: PngDigitOptions = {}): Promise<Digit> {
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path, { maxBytes: MAX_PNG_BYTES, what: 'PNG image' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FormatError(path, 'not found: no such image file');
    throw e;
  }
  const { rgba, width, height } = decodePng(bytes, path);
  const size = opts.size ?? 28;
  // Composite transparency over the background the strokes are drawn against.
  const onWhite = toGray(rgba, width, height, 1);
  const inverted = opts.invert ?? (transparentBorder(rgba, width, height) ? darkStrokes(rgba) : borderMean(onWhite, width, height) > 0.5);
  const gray = inverted ? onWhite.map((v) => 1 - v) : toGray(rgba, width, height, 0);
  return { pixels: centerDigit(gray, width, height, size, opts.box ?? 20), size, inverted };
}
