import { ArgumentError } from '@bp/tensor';

/** What `v` is, for an error message. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return `${typeof v} ${String(v)}`;
}

/**
 * Characters to ids and back: the vocabulary is the sorted set of
 * characters of a training text (Unicode code points), as in makemore and
 * nanoGPT's character-level models.
 */
export class CharTokenizer {
  /** The vocabulary, id order. */
  readonly chars: string[];
  private readonly ids: Map<string, number>;

  constructor(chars: string[]) {
    if (!Array.isArray(chars) || chars.length === 0) throw new ArgumentError('CharTokenizer', 'needs a non-empty list of characters');
    const seen = new Set<string>();
    for (const c of chars) {
      if (typeof c !== 'string' || [...c].length !== 1)
        throw new ArgumentError('CharTokenizer', `each entry must be one character, got ${JSON.stringify(c)}`);
      if (seen.has(c)) throw new ArgumentError('CharTokenizer', `character ${JSON.stringify(c)} appears twice`);
      seen.add(c);
    }
    this.chars = chars.slice();
    this.ids = new Map(chars.map((c, i) => [c, i]));
  }

  /** The tokenizer of every character in `text`, sorted by code point. */
  static fromText(text: string): CharTokenizer {
    if (typeof text !== 'string') throw new ArgumentError('CharTokenizer.fromText', `text must be a string, got ${describe(text)}`);
    return new CharTokenizer([...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  /** Vocabulary size. */
  get size(): number {
    return this.chars.length;
  }

  /** The id of `c`, or undefined when it is not in the vocabulary. */
  idOf(c: string): number | undefined {
    return this.ids.get(c);
  }

  /** Ids of each character of `text`; a character outside the vocabulary throws, naming it. */
  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw new ArgumentError('CharTokenizer.encode', `text must be a string, got ${describe(text)}`);
    const cs = [...text];
    const out = new Int32Array(cs.length);
    cs.forEach((c, i) => {
      const id = this.ids.get(c);
      if (id === undefined)
        throw new ArgumentError(
          'CharTokenizer',
          `character ${JSON.stringify(c)} at position ${i} is not in the vocabulary of ${this.size}`,
        );
      out[i] = id;
    });
    return out;
  }

  /** The text of `ids`. */
  decode(ids: ArrayLike<number>): string {
    if (!Array.isArray(ids) && !(ArrayBuffer.isView(ids) && !(ids instanceof DataView))) {
      throw new ArgumentError('CharTokenizer.decode', `ids must be an array or Int32Array of token ids, got ${describe(ids)}`);
    }
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const c = Number.isInteger(id) && id >= 0 ? this.chars[id] : undefined;
      if (c === undefined) throw new ArgumentError('CharTokenizer', `id ${String(id)} is out of range for a vocabulary of ${this.size}`);
      s += c;
    }
    return s;
  }
}
