/**
 * A small, seeded file fuzzer for bp's parsers (IDX, safetensors, model.json).
 * It mutates valid inputs the way real corruption and hostile files do
 * (flipped bits, cut or padded files, rewritten header fields, edited JSON
 * numbers and strings) and checks that the parser either accepts the input
 * or refuses it with the error class it documents, quickly, without
 * allocating more than the input justifies. The fast-check seed makes every
 * run reproducible; `BP_FUZZ_CASES` raises the case count for long runs
 * (`node scripts/reliability/fuzz.mjs --cases N`).
 */
import fc from 'fast-check';

/** One edit applied to a file's bytes. */
export type ByteEdit =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'u32'; at: number; value: number; littleEndian: boolean }
  | { op: 'u64'; at: number; value: bigint }
  | { op: 'truncate'; at: number }
  | { op: 'remove'; at: number; length: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'append'; bytes: number[] }
  | { op: 'duplicate'; at: number; length: number };

/** A mutated input and the edits that made it, for the failure message. */
export interface Mutant<T> {
  value: T;
  edits: string[];
}

/** Byte values that parsers treat specially: zero, sign bits, all ones, JSON punctuation. */
const SPECIAL_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x20, 0x22, 0x2c, 0x2d, 0x30, 0x39, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d];
/** 32-bit values that break size arithmetic: zero, one, MNIST sizes, sign boundary, all ones. */
const SPECIAL_U32 = [0, 1, 2, 28, 784, 10000, 60000, 0x00000803, 0x00000801, 0x7fffffff, 0x80000000, 0xffffffff];
/** 64-bit header lengths: zero, tiny, past the end, past 2^53, all ones. */
const SPECIAL_U64 = [0n, 1n, 7n, 8n, 1n << 20n, 1n << 32n, (1n << 53n) + 1n, (1n << 64n) - 1n];

/** A position: uniform in [0, 1), or (half the time) inside the first `hot` bytes where headers live. */
const position = (hot: number) =>
  fc.oneof(
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    fc.integer({ min: 0, max: Math.max(0, hot - 1) }).map((i) => -1 - i),
  );

function at(pos: number, length: number): number {
  if (pos < 0) return Math.min(-1 - pos, Math.max(0, length - 1));
  return Math.floor(pos * length);
}

const byte = fc.oneof(fc.constantFrom(...SPECIAL_BYTES), fc.integer({ min: 0, max: 255 }));

/** Where a format keeps its header, so that edits aim there often enough to get past the first check. */
export interface EditOptions {
  /** The header's size in bytes: half the edit positions fall inside it (default 16). */
  hot?: number;
  /** Byte offset of a little-endian u64 length field (safetensors: 0), rewritten with extreme values. */
  u64At?: number;
}

/** Arbitrary edits of a file's bytes. */
export function byteEdit(opts: EditOptions = {}): fc.Arbitrary<(bytes: Uint8Array) => { bytes: Uint8Array; edit: ByteEdit }> {
  const p = position(opts.hot ?? 16);
  const u64At = opts.u64At;
  const u64 =
    u64At === undefined
      ? []
      : [
          fc.oneof(fc.constantFrom(...SPECIAL_U64), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })).map((value) => (b: Uint8Array) => {
            const out = b.slice();
            if (out.length >= u64At + 8) new DataView(out.buffer).setBigUint64(u64At, value, true);
            return { bytes: out, edit: { op: 'u64', at: u64At, value } as ByteEdit };
          }),
        ];
  return fc.oneof(
    ...u64,
    fc.tuple(p, fc.integer({ min: 0, max: 7 })).map(([pos, bit]) => (b: Uint8Array) => {
      const out = b.slice();
      const i = at(pos, b.length);
      if (i < out.length) out[i] ^= 1 << bit;
      return { bytes: out, edit: { op: 'flip', at: i, bit } as ByteEdit };
    }),
    fc.tuple(p, byte).map(([pos, value]) => (b: Uint8Array) => {
      const out = b.slice();
      const i = at(pos, b.length);
      if (i < out.length) out[i] = value;
      return { bytes: out, edit: { op: 'set', at: i, value } as ByteEdit };
    }),
    fc
      .tuple(p, fc.oneof(fc.constantFrom(...SPECIAL_U32), fc.integer({ min: 0, max: 0xffffffff })), fc.boolean())
      .map(([pos, value, littleEndian]) => (b: Uint8Array) => {
        const out = b.slice();
        const i = at(pos, b.length) & ~3;
        if (i + 4 <= out.length) new DataView(out.buffer).setUint32(i, value, littleEndian);
        return { bytes: out, edit: { op: 'u32', at: i, value, littleEndian } as ByteEdit };
      }),
    p.map((pos) => (b: Uint8Array) => {
      const i = at(pos, b.length);
      return { bytes: b.slice(0, i), edit: { op: 'truncate', at: i } as ByteEdit };
    }),
    fc.tuple(p, fc.integer({ min: 1, max: 64 })).map(([pos, length]) => (b: Uint8Array) => {
      const i = at(pos, b.length);
      const out = new Uint8Array(Math.max(0, b.length - Math.min(length, b.length - i)));
      out.set(b.subarray(0, i));
      out.set(b.subarray(i + length), i);
      return { bytes: out, edit: { op: 'remove', at: i, length } as ByteEdit };
    }),
    fc.tuple(p, fc.array(byte, { minLength: 1, maxLength: 32 })).map(([pos, bytes]) => (b: Uint8Array) => {
      const i = at(pos, b.length);
      const out = new Uint8Array(b.length + bytes.length);
      out.set(b.subarray(0, i));
      out.set(bytes, i);
      out.set(b.subarray(i), i + bytes.length);
      return { bytes: out, edit: { op: 'insert', at: i, bytes } as ByteEdit };
    }),
    fc.array(byte, { minLength: 1, maxLength: 64 }).map((bytes) => (b: Uint8Array) => {
      const out = new Uint8Array(b.length + bytes.length);
      out.set(b);
      out.set(bytes, b.length);
      return { bytes: out, edit: { op: 'append', bytes } as ByteEdit };
    }),
    fc.tuple(p, fc.integer({ min: 1, max: 256 })).map(([pos, length]) => (b: Uint8Array) => {
      const i = at(pos, b.length);
      const chunk = b.subarray(i, i + length);
      const out = new Uint8Array(b.length + chunk.length);
      out.set(b.subarray(0, i + chunk.length));
      out.set(chunk, i + chunk.length);
      out.set(b.subarray(i + chunk.length), i + 2 * chunk.length);
      return { bytes: out, edit: { op: 'duplicate', at: i, length: chunk.length } as ByteEdit };
    }),
  );
}

function describeEdit(e: ByteEdit): string {
  return JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** One of `seeds`, with one to four byte edits applied. */
export function mutatedBytes(seeds: Uint8Array[], opts: EditOptions = {}): fc.Arbitrary<Mutant<Uint8Array>> {
  return fc
    .tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(byteEdit(opts), { minLength: 1, maxLength: 4 }))
    .map(([s, edits]) => {
      let bytes = seeds[s];
      const log: string[] = [`seed ${s}`];
      for (const edit of edits) {
        const r = edit(bytes);
        bytes = r.bytes;
        log.push(describeEdit(r.edit));
      }
      return { value: bytes, edits: log };
    });
}

/** JSON literals that stress validation: negative, fractional, huge, beyond 2^53, wrong types. */
const SPECIAL_NUMBERS = ['-1', '0', '1', '2.5', '1e9', '4294967296', '9007199254740993', '1e308', '-0', 'null', '"7"', '[]', '{}', 'true'];
const SPECIAL_STRINGS = [
  '""',
  '"F16"',
  '"F64"',
  '"I64"',
  '"BOOL"',
  '"__metadata__"',
  '"Dense"',
  '"Linear"',
  '"Conv2d"',
  '"relu"',
  '"x"',
  'null',
  '1',
  '[]',
];

/** A JSON-aware edit of a text: a number or a string literal replaced, a span deleted or doubled. */
export function textEdit(): fc.Arbitrary<(text: string) => { text: string; edit: string }> {
  const pick = fc.nat();
  return fc.oneof(
    fc.tuple(pick, fc.constantFrom(...SPECIAL_NUMBERS)).map(([k, lit]) => (t: string) => {
      const hits = [...t.matchAll(/-?\d+(\.\d+)?([eE][-+]?\d+)?/g)];
      if (hits.length === 0) return { text: t, edit: 'no number to replace' };
      const m = hits[k % hits.length];
      return { text: t.slice(0, m.index) + lit + t.slice(m.index! + m[0].length), edit: `number ${m[0]} at ${m.index} -> ${lit}` };
    }),
    fc.tuple(pick, fc.constantFrom(...SPECIAL_STRINGS)).map(([k, lit]) => (t: string) => {
      const hits = [...t.matchAll(/"(?:[^"\\]|\\.)*"/g)];
      if (hits.length === 0) return { text: t, edit: 'no string to replace' };
      const m = hits[k % hits.length];
      return { text: t.slice(0, m.index) + lit + t.slice(m.index! + m[0].length), edit: `string ${m[0]} at ${m.index} -> ${lit}` };
    }),
    fc.tuple(pick, fc.integer({ min: 1, max: 40 })).map(([k, n]) => (t: string) => {
      const i = t.length ? k % t.length : 0;
      return { text: t.slice(0, i) + t.slice(i + n), edit: `delete ${n} chars at ${i}` };
    }),
    fc.tuple(pick, fc.integer({ min: 1, max: 60 })).map(([k, n]) => (t: string) => {
      const i = t.length ? k % t.length : 0;
      return { text: t.slice(0, i + n) + t.slice(i, i + n) + t.slice(i + n), edit: `double ${n} chars at ${i}` };
    }),
  );
}

/** One of `seeds`, with one to three JSON-aware text edits applied. */
export function mutatedText(seeds: string[]): fc.Arbitrary<Mutant<string>> {
  return fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(textEdit(), { minLength: 1, maxLength: 3 })).map(([s, edits]) => {
    let text = seeds[s];
    const log: string[] = [`seed ${s}`];
    for (const edit of edits) {
      const r = edit(text);
      text = r.text;
      log.push(r.edit);
    }
    return { value: text, edits: log };
  });
}

/** What one fuzz run saw: how many inputs were accepted or refused, and why. */
export interface FuzzReport {
  cases: number;
  accepted: number;
  rejected: number;
  /** Refusals counted by the start of their message (the file name and numbers stripped). */
  reasons: Record<string, number>;
  /** The slowest single case, in milliseconds. */
  maxMs: number;
  totalMs: number;
}

/** Options of {@link fuzz}. */
export interface FuzzOptions<T> {
  /** The inputs to try. */
  inputs: fc.Arbitrary<Mutant<T>>;
  /** Parses one input; returns normally to accept it or throws to refuse it. */
  parse: (input: T) => void;
  /** True for the errors the parser documents (e.g. `e instanceof FormatError`); anything else fails the run. */
  expected: (error: unknown) => boolean;
  cases: number;
  /** fast-check seed: the same seed gives the same inputs. */
  seed: number;
  /** A case slower than this (ms, default 1000) fails the run: the parser must not hang or crawl through huge sizes. */
  maxCaseMs?: number;
}

function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg
    .replace(/^[^:]*:\s*/, '')
    .replace(/'[^']*'/g, "'…'")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\b0x[0-9a-f]+\b/gi, 'H')
    .replace(/-?(\d+(\.\d+)?(e[-+]?\d+)?n?|Infinity)/gi, 'N')
    .replace(/N(xN)+/g, 'N')
    .replace(/\[[^\]]*\]/g, '[…]')
    .slice(0, 40);
}

/**
 * Runs `parse` on `cases` mutated inputs and returns what happened; throws
 * (with the seed, the case and its edits) when an input crashes the parser
 * with an undocumented error or takes longer than `maxCaseMs`.
 */
export function fuzz<T>(opts: FuzzOptions<T>): FuzzReport {
  const report: FuzzReport = { cases: 0, accepted: 0, rejected: 0, reasons: {}, maxMs: 0, totalMs: 0 };
  const limit = opts.maxCaseMs ?? 1000;
  fc.assert(
    fc.property(opts.inputs, (m) => {
      const t0 = performance.now();
      let error: unknown = null;
      try {
        opts.parse(m.value);
      } catch (e) {
        error = e;
      }
      const ms = performance.now() - t0;
      report.cases++;
      report.totalMs += ms;
      report.maxMs = Math.max(report.maxMs, ms);
      if (error === null) report.accepted++;
      else {
        if (!opts.expected(error)) {
          throw new Error(`undocumented error ${(error as Error)?.name}: ${(error as Error)?.message}\n  edits: ${m.edits.join(' | ')}`);
        }
        report.rejected++;
        const r = reasonOf(error);
        report.reasons[r] = (report.reasons[r] ?? 0) + 1;
      }
      if (ms > limit) throw new Error(`case took ${ms.toFixed(0)} ms (limit ${limit})\n  edits: ${m.edits.join(' | ')}`);
    }),
    { numRuns: opts.cases, seed: opts.seed, endOnFailure: true },
  );
  return report;
}

/** The number of cases per fuzz suite: `BP_FUZZ_CASES` when set (long runs), otherwise `fallback`. */
export function fuzzCaseCount(fallback: number): number {
  const env = typeof process !== 'undefined' ? process.env.BP_FUZZ_CASES : undefined;
  const n = env === undefined ? NaN : Number(env);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Writes `report` as one JSON line to `BP_FUZZ_REPORT` (a file) when set, for the long-run script's table. */
export async function recordFuzzReport(suite: string, report: FuzzReport): Promise<void> {
  const file = typeof process !== 'undefined' ? process.env.BP_FUZZ_REPORT : undefined;
  if (!file) return;
  const { appendFile } = await import('node:fs/promises');
  await appendFile(
    file,
    JSON.stringify({ suite, ...report, totalMs: Math.round(report.totalMs), maxMs: Math.round(report.maxMs * 10) / 10 }) + '\n',
  );
}
