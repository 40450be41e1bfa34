/**
 * How `bp train` reports progress. On a terminal: a live bar per epoch (step,
 * loss, accuracy, throughput, ETA) that is replaced by a summary line when
 * the epoch ends. Piped or redirected: only the summary lines, so logs stay
 * readable. With `--json`: one JSON object per epoch on stdout and nothing
 * else there, so the output parses line by line.
 */
import cliProgress from 'cli-progress';
import type { EpochRecord } from './report.js';
import { colorEnabled, type Colors } from './style.js';
import pc from 'picocolors';

/** Running figures of the epoch in progress. */
export interface StepFigures {
  loss: number;
  accuracy: number;
  examplesPerSecond: number;
}

/** Receives the training loop's events. */
export interface ProgressReporter {
  /** An epoch begins (`startStep` > 0 when resuming in the middle of it). */
  startEpoch(epoch: number, epochs: number, steps: number, startStep: number): void;
  /** `step` of the epoch's steps are done. */
  step(step: number, figures: StepFigures): void;
  /** The epoch is done, validation included. */
  endEpoch(record: EpochRecord, epochs: number, examplesPerSecond: number): void;
  /** A line of information for a human (the bar is paused around it). */
  note(text: string): void;
  /** Stops any live display (also on errors and Ctrl-C). */
  close(): void;
}

/** A loss for display: four decimals, or scientific notation once it has blown up. */
export function fmtLoss(v: number): string {
  return Number.isFinite(v) && Math.abs(v) >= 1e4 ? v.toExponential(3) : v.toFixed(4);
}

function pct(v: number): string {
  return `${(v * 100).toFixed(2)}%`;
}

function rate(v: number): string {
  return `${Math.round(v).toLocaleString('en-US')} ex/s`;
}

/** The one-line summary of an epoch, used by the terminal and plain reporters. */
export function epochLine(r: EpochRecord, epochs: number, examplesPerSecond: number, c: Colors): string {
  const width = String(epochs).length;
  const parts = [`epoch ${String(r.epoch).padStart(width)}/${epochs}`, `loss ${c.cyan(fmtLoss(r.loss))}`, `acc ${c.cyan(pct(r.accuracy))}`];
  if (r.valLoss !== undefined) parts.push(`val_loss ${c.yellow(fmtLoss(r.valLoss))}`, `val_acc ${c.yellow(pct(r.valAccuracy ?? NaN))}`);
  parts.push(c.dim(rate(examplesPerSecond)), c.dim(`${r.seconds.toFixed(1)}s`));
  return parts.join('  ');
}

/**
 * Whether epoch `epoch` of `epochs` gets a summary line: all of them for
 * up to 20 epochs, otherwise about 20 evenly spaced ones plus the first and
 * the last, so a 1000-epoch toy run does not print 1000 lines.
 */
export function showEpoch(epoch: number, epochs: number): boolean {
  const every = Math.max(1, Math.ceil(epochs / 20));
  return epoch === 1 || epoch === epochs || epoch % every === 0;
}

/** Summary lines only: for pipes, files and CI logs. */
export class PlainReporter implements ProgressReporter {
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stdout,
    private readonly c: Colors = pc.createColors(colorEnabled(stream)),
  ) {}
  startEpoch(): void {}
  step(): void {}
  endEpoch(r: EpochRecord, epochs: number, eps: number): void {
    if (showEpoch(r.epoch, epochs)) this.stream.write(epochLine(r, epochs, eps, this.c) + '\n');
  }
  note(text: string): void {
    this.stream.write(text + '\n');
  }
  close(): void {}
}

/** A live bar per epoch, for terminals. */
export class TtyReporter implements ProgressReporter {
  private bar: cliProgress.SingleBar | null = null;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stdout,
    private readonly c: Colors = pc.createColors(colorEnabled(stream)),
  ) {}

  startEpoch(epoch: number, epochs: number, steps: number, startStep: number): void {
    this.close();
    const width = String(epochs).length;
    this.bar = new cliProgress.SingleBar({
      stream: this.stream,
      format: `epoch ${String(epoch).padStart(width)}/${epochs} {bar} {value}/{total} | loss {loss} | acc {acc} | {speed} | ETA {eta_formatted}`,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
      etaBuffer: 50,
    });
    this.bar.start(steps, startStep, { loss: '-', acc: '-', speed: '-' });
  }

  step(step: number, f: StepFigures): void {
    this.bar?.update(step, { loss: fmtLoss(f.loss), acc: pct(f.accuracy), speed: rate(f.examplesPerSecond) });
  }

  endEpoch(r: EpochRecord, epochs: number, eps: number): void {
    this.close();
    if (showEpoch(r.epoch, epochs)) this.stream.write(epochLine(r, epochs, eps, this.c) + '\n');
  }

  note(text: string): void {
    // cli-progress redraws in place; a line written under a live bar would be overwritten, so stop it first.
    this.close();
    this.stream.write(text + '\n');
  }

  close(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
  }
}

/** One JSON object per epoch on stdout; notes go to stderr so stdout stays parseable. */
export class JsonReporter implements ProgressReporter {
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stdout,
    private readonly notes: NodeJS.WriteStream = process.stderr,
  ) {}
  startEpoch(): void {}
  step(): void {}
  endEpoch(r: EpochRecord, epochs: number, eps: number): void {
    const obj: Record<string, number> = { epoch: r.epoch, epochs, loss: r.loss, accuracy: r.accuracy };
    if (r.valLoss !== undefined) {
      obj.val_loss = r.valLoss;
      obj.val_accuracy = r.valAccuracy ?? NaN;
    }
    obj.seconds = r.seconds;
    obj.examples_per_second = eps;
    this.stream.write(JSON.stringify(obj) + '\n');
  }
  note(text: string): void {
    this.notes.write(text + '\n');
  }
  close(): void {}
}

/** The reporter that fits the output: JSON when asked, a bar on a terminal, plain lines otherwise. */
export function chooseReporter(json: boolean, stream: NodeJS.WriteStream = process.stdout): ProgressReporter {
  if (json) return new JsonReporter(stream);
  // A dumb terminal (an editor's shell) cannot redraw a bar: plain lines there too.
  return stream.isTTY && process.env.TERM !== 'dumb' ? new TtyReporter(stream) : new PlainReporter(stream);
}
