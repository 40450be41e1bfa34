import { ArgumentError, ShapeError, type Tensor, adaptiveAvgPool2d, adaptiveMaxPool2d, avgPool2d, fmtShape, isTensor } from '@bp/tensor';
import { checkOptions, windowOutputSize, shownValue } from '@bp/tensor/internal';
import { Module, checkNoMoreArgs } from '../module.js';
import { spendOutput } from '../parameter-budget.js';
import { boolArg, pairArg } from './conv-args.js';

/** Options of {@link AvgPool2d}, as PyTorch's `nn.AvgPool2d`. */
export interface AvgPool2dOptions {
  /** Zeros added on each side, at most half the kernel (default 0). */
  padding?: number | [number, number];
  /** Round the output size up (default false). */
  ceilMode?: boolean;
  /** Count the padding in each window's divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead (default: the window's size). */
  divisorOverride?: number | null;
}

/** 2-D average pooling over NCHW images (PyTorch's `nn.AvgPool2d`); `stride` defaults to the kernel size. */
export class AvgPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: number | [number, number], stride?: number | [number, number] | null, opts: AvgPool2dOptions = {}) {
    super();
    checkOptions(this.layerType, opts, ['padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    const L = 'AvgPool2d';
    this.kernelSize = pairArg(L, 'kernelSize', kernelSize, 1);
    this.stride = pairArg(L, 'stride', stride ?? this.kernelSize, 1);
    this.padding = pairArg(L, 'padding', opts.padding ?? 0, 0);
    if (this.padding[0] * 2 > this.kernelSize[0] || this.padding[1] * 2 > this.kernelSize[1]) {
      throw new ArgumentError(L, `padding (${this.padding}) must be at most half the kernel (${this.kernelSize})`);
    }
    this.ceilMode = boolArg(L, 'ceilMode', opts.ceilMode, false);
    this.countIncludePad = boolArg(L, 'countIncludePad', opts.countIncludePad, true);
    const d = opts.divisorOverride ?? null;
    if (d !== null && (typeof d !== 'number' || !Number.isFinite(d) || d === 0)) {
      throw new ArgumentError(L, `divisorOverride must be a non-zero number, got ${shownValue(opts.divisorOverride)}`);
    }
    this.divisorOverride = d;
  }

  override get layerType(): string {
    return 'AvgPool2d';
  }

  override forward(x: Tensor): Tensor {
    if (!isTensor(x) || (x.rank !== 4 && x.rank !== 3))
      throw new ShapeError(
        this.layerType,
        `expects NCHW input [n, C, H, W] or one image [C, H, W], got ${isTensor(x) ? fmtShape(x.shape) : typeof x}`,
      );
    spendOutput(this.layerType, () => {
      const [c, h, w] = x.shape.slice(-3);
      const size = (n: number, i: 0 | 1) => windowOutputSize(n, this.kernelSize[i], this.stride[i], this.padding[i], 1, this.ceilMode);
      return [c, size(h, 0), size(w, 1)];
    });
    return avgPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  override getConfig(): Record<string, unknown> {
    return {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    };
  }

  protected override extraRepr(): string {
    return `kernel_size=(${this.kernelSize}), stride=(${this.stride}), padding=(${this.padding})`;
  }
}

type OutputSize = number | [number | null, number | null];

function checkOutputSize(layer: string, v: unknown): OutputSize {
  const ok = (d: unknown) => d === null || (typeof d === 'number' && Number.isInteger(d) && d >= 1);
  if ((typeof v === 'number' && ok(v)) || (Array.isArray(v) && v.length === 2 && v.every(ok))) return v as OutputSize;
  throw new ArgumentError(layer, `outputSize must be a positive integer or a pair (null keeps the input size), got ${shownValue(v)}`);
}

/** Counts an adaptive pooling's output against a loader's build bound ({@link spendOutput}). */
function spendAdaptive(layer: string, x: Tensor, outputSize: OutputSize): void {
  if (!isTensor(x) || x.rank < 3) return;
  spendOutput(layer, () => {
    const [c, h, w] = x.shape.slice(-3);
    const [oh, ow] = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
    return [c, oh ?? h, ow ?? w];
  });
}

/** Adaptive 2-D average pooling to a fixed output size (PyTorch's `nn.AdaptiveAvgPool2d`); `[n, c, h, w]` or `[c, h, w]`. */
export class AdaptiveAvgPool2d extends Module {
  /** The output height and width (null keeps the input's). */
  readonly outputSize: OutputSize;

  constructor(outputSize: OutputSize, ...more: never[]) {
    super();
    checkNoMoreArgs('AdaptiveAvgPool2d', more, 'one argument (outputSize)');
    this.outputSize = checkOutputSize('AdaptiveAvgPool2d', outputSize);
  }

  override get layerType(): string {
    return 'AdaptiveAvgPool2d';
  }

  override forward(x: Tensor): Tensor {
    spendAdaptive(this.layerType, x, this.outputSize);
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  override getConfig(): Record<string, unknown> {
    return { outputSize: this.outputSize };
  }

  protected override extraRepr(): string {
    return `output_size=${JSON.stringify(this.outputSize)}`;
  }
}

/** Adaptive 2-D max pooling to a fixed output size (PyTorch's `nn.AdaptiveMaxPool2d`, values only). */
export class AdaptiveMaxPool2d extends Module {
  /** The output height and width (null keeps the input's). */
  readonly outputSize: OutputSize;

  constructor(outputSize: OutputSize, ...more: never[]) {
    super();
    checkNoMoreArgs('AdaptiveMaxPool2d', more, 'one argument (outputSize)');
    this.outputSize = checkOutputSize('AdaptiveMaxPool2d', outputSize);
  }

  override get layerType(): string {
    return 'AdaptiveMaxPool2d';
  }

  override forward(x: Tensor): Tensor {
    spendAdaptive(this.layerType, x, this.outputSize);
    return adaptiveMaxPool2d(x, this.outputSize);
  }

  override getConfig(): Record<string, unknown> {
    return { outputSize: this.outputSize };
  }

  protected override extraRepr(): string {
    return `output_size=${JSON.stringify(this.outputSize)}`;
  }
}
