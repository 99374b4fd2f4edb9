/** Serializable description of a tokenizer (stored in checkpoints). */
export type TokenizerJSON = { kind: 'bytes' } | { kind: 'chars'; alphabet: string };

/** Text ↔ token ids. */
export interface Tokenizer {
  readonly kind: 'bytes' | 'chars';
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  toJSON(): TokenizerJSON;
}

/**
 * Byte-level tokenizer (the default): UTF-8 bytes, vocabulary 256. Decoding
 * tolerates broken UTF-8 (replacement characters).
 *
 * @example
 * ```ts
 * new ByteTokenizer().encode('é'); // Int32Array [195, 169]
 * ```
 */
export class ByteTokenizer implements Tokenizer {
  readonly kind = 'bytes' as const;
  readonly vocabSize = 256;
  encode(text: string): Int32Array {
    return Int32Array.from(new TextEncoder().encode(text));
  }
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(ids as ArrayLike<number>));
  }
  toJSON(): TokenizerJSON {
    return { kind: 'bytes' };
  }
}

/**
 * Character-level tokenizer over a fixed alphabet (sorted unique code points).
 *
 * @example
 * ```ts
 * const t = CharTokenizer.fromText('hello'); // alphabet "ehlo"
 * t.decode(t.encode('hole')); // 'hole'
 * ```
 */
export class CharTokenizer implements Tokenizer {
  readonly kind = 'chars' as const;
  readonly vocabSize: number;
  private readonly chars: string[];
  private readonly index = new Map<string, number>();

  constructor(readonly alphabet: string) {
    this.chars = Array.from(alphabet);
    if (this.chars.length === 0) throw new Error('tokenizer: the character alphabet is empty');
    this.chars.forEach((c, i) => this.index.set(c, i));
    if (this.index.size !== this.chars.length) throw new Error('tokenizer: the character alphabet has repeated characters');
    this.vocabSize = this.chars.length;
  }

  /** Alphabet of every distinct character in `text`, sorted by code point. */
  static fromText(text: string): CharTokenizer {
    const set = [...new Set(Array.from(text))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer(set.join(''));
  }

  encode(text: string): Int32Array {
    const chars = Array.from(text);
    const out = new Int32Array(chars.length);
    chars.forEach((c, i) => {
      const id = this.index.get(c);
      if (id === undefined) throw new Error(`tokenizer: character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) is not in the alphabet`);
      out[i] = id;
    });
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]!] ?? '\uFFFD';
    return s;
  }

  toJSON(): TokenizerJSON {
    return { kind: 'chars', alphabet: this.alphabet };
  }
}

/**
 * Rebuilds a tokenizer from its JSON description.
 *
 * @example
 * ```ts
 * tokenizerFromJSON({ kind: 'bytes' }).vocabSize; // 256
 * ```
 */
export function tokenizerFromJSON(j: TokenizerJSON): Tokenizer {
  if (j?.kind === 'bytes') return new ByteTokenizer();
  if (j?.kind === 'chars' && typeof j.alphabet === 'string') return new CharTokenizer(j.alphabet);
  throw new Error(`tokenizer: cannot rebuild from ${JSON.stringify(j)}; expected {"kind": "bytes"} or {"kind": "chars", "alphabet": "…"}`);
}

/**
 * Creates a tokenizer by name: `bytes`, or `chars` (alphabet from `text`).
 *
 * @example
 * ```ts
 * createTokenizer('chars', corpusText).vocabSize; // 65 for tiny Shakespeare
 * ```
 */
export function createTokenizer(kind: string, text?: string): Tokenizer {
  if (kind === 'bytes') return new ByteTokenizer();
  if (kind === 'chars') {
    if (text === undefined) throw new Error('data.tokenizer: "chars" needs the corpus text to build its alphabet');
    return CharTokenizer.fromText(text);
  }
  throw new Error(`data.tokenizer: got "${kind}"; allowed: "bytes", "chars"`);
}
