import { ArgumentError } from '@bp/tensor';

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
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const c = this.chars[ids[i]];
      if (c === undefined) throw new ArgumentError('CharTokenizer', `id ${ids[i]} is out of range for a vocabulary of ${this.size}`);
      s += c;
    }
    return s;
  }
}
