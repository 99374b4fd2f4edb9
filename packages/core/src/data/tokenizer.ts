import { ConfigError } from '../errors.js';

/**
 * Serializable description of a tokenizer (stored in checkpoints).
 *
 * @example
 * ```ts
 * const j: TokenizerJSON = { kind: 'chars', alphabet: 'abc' };
 * tokenizerFromJSON(j).vocabSize; // 3
 * ```
 */
export type TokenizerJSON = { kind: 'bytes' } | { kind: 'chars'; alphabet: string };

/**
 * Text ↔ token ids.
 *
 * @example
 * ```ts
 * const t: Tokenizer = createTokenizer('bytes');
 * t.decode(t.encode('hi')); // 'hi'
 * ```
 */
export interface Tokenizer {
  readonly kind: 'bytes' | 'chars';
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  toJSON(): TokenizerJSON;
}

function checkText(text: unknown, who: string): asserts text is string {
  if (typeof text !== 'string') throw new Error(`${who}: text must be a string, got ${typeof text}`);
}

function badId(who: string, id: unknown, position: number, vocabSize: number): Error {
  return new Error(`${who}: id ${String(id)} at position ${position} is not a token id; allowed: integers in [0, ${vocabSize})`);
}

/**
 * Byte-level tokenizer (the default): UTF-8 bytes, vocabulary 256. Lone
 * surrogates in the text are encoded as U+FFFD; decoding tolerates broken
 * UTF-8 (cut or invalid sequences become U+FFFD). Ids outside `[0, 256)` are
 * refused.
 *
 * @example
 * ```ts
 * const t = new ByteTokenizer();
 * t.encode('é');                    // Int32Array [195, 169]
 * t.decode([104, 105, 0xff]);       // 'hi\uFFFD'
 * ```
 */
export class ByteTokenizer implements Tokenizer {
  readonly kind = 'bytes' as const;
  readonly vocabSize = 256;

  /**
   * UTF-8 bytes of `text`, one id per byte.
   *
   * @example
   * ```ts
   * new ByteTokenizer().encode('a€'); // Int32Array [97, 226, 130, 172]
   * ```
   */
  encode(text: string): Int32Array {
    checkText(text, 'ByteTokenizer.encode');
    return Int32Array.from(new TextEncoder().encode(text));
  }

  /**
   * Text of a byte sequence; invalid UTF-8 becomes U+FFFD.
   *
   * @example
   * ```ts
   * new ByteTokenizer().decode([226, 130, 172]); // '€'
   * ```
   */
  decode(ids: ArrayLike<number>): string {
    const bytes = new Uint8Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id! < 0 || id! > 255) throw badId('ByteTokenizer.decode', id, i, 256);
      bytes[i] = id!;
    }
    return new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(bytes);
  }

  /**
   * `{ kind: 'bytes' }`.
   *
   * @example
   * ```ts
   * JSON.stringify(new ByteTokenizer()); // '{"kind":"bytes"}'
   * ```
   */
  toJSON(): TokenizerJSON {
    return { kind: 'bytes' };
  }
}

/**
 * Character-level tokenizer over a fixed alphabet of Unicode code points; id
 * `i` is the `i`-th code point of the alphabet. Encoding a character outside
 * the alphabet throws an error naming it.
 *
 * @example
 * ```ts
 * const t = CharTokenizer.fromText('hello'); // alphabet "ehlo"
 * t.decode(t.encode('hole'));                // 'hole'
 * t.encode('x');                             // throws: character "x" (U+0078) is not in the alphabet
 * ```
 */
export class CharTokenizer implements Tokenizer {
  readonly kind = 'chars' as const;
  readonly vocabSize: number;
  /** The alphabet, one code point per id. */
  readonly alphabet: string;
  private readonly chars: string[];
  private readonly index = new Map<string, number>();

  /**
   * @param alphabet - distinct code points, in id order (not necessarily sorted).
   */
  constructor(alphabet: string) {
    if (typeof alphabet !== 'string') throw new Error(`CharTokenizer: alphabet must be a string, got ${typeof alphabet}`);
    this.alphabet = alphabet;
    this.chars = Array.from(alphabet);
    if (this.chars.length === 0) throw new Error('CharTokenizer: alphabet is empty; it needs at least one character');
    this.chars.forEach((c, i) => {
      if (this.index.has(c)) throw new Error(`CharTokenizer: alphabet repeats character ${describeChar(c)}; each character may appear once`);
      this.index.set(c, i);
    });
    this.vocabSize = this.chars.length;
  }

  /**
   * A tokenizer whose alphabet is every distinct code point of `text`, sorted
   * by code point.
   *
   * @example
   * ```ts
   * CharTokenizer.fromText('banana').alphabet; // 'abn'
   * ```
   */
  static fromText(text: string): CharTokenizer {
    checkText(text, 'CharTokenizer.fromText');
    if (text.length === 0) throw new Error('CharTokenizer.fromText: text is empty; the alphabet needs at least one character');
    const set = [...new Set(Array.from(text))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer(set.join(''));
  }

  /**
   * One id per code point of `text`.
   *
   * @example
   * ```ts
   * new CharTokenizer('ab').encode('abba'); // Int32Array [0, 1, 1, 0]
   * ```
   */
  encode(text: string): Int32Array {
    checkText(text, 'CharTokenizer.encode');
    const chars = Array.from(text);
    const out = new Int32Array(chars.length);
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      const id = this.index.get(c);
      if (id === undefined) {
        throw new Error(
          `CharTokenizer.encode: character ${describeChar(c)} at position ${i} is not in the alphabet (${this.vocabSize} characters); use the byte tokenizer or build the alphabet from this text`,
        );
      }
      out[i] = id;
    }
    return out;
  }

  /**
   * The text of a sequence of ids; ids outside `[0, vocabSize)` are refused.
   *
   * @example
   * ```ts
   * new CharTokenizer('ab').decode([1, 0]); // 'ba'
   * ```
   */
  decode(ids: ArrayLike<number>): string {
    const parts: string[] = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const c = Number.isInteger(id) ? this.chars[id!] : undefined;
      if (c === undefined) throw badId('CharTokenizer.decode', id, i, this.vocabSize);
      parts[i] = c;
    }
    return parts.join('');
  }

  /**
   * `{ kind: 'chars', alphabet }`.
   *
   * @example
   * ```ts
   * new CharTokenizer('ab').toJSON(); // { kind: 'chars', alphabet: 'ab' }
   * ```
   */
  toJSON(): TokenizerJSON {
    return { kind: 'chars', alphabet: this.alphabet };
  }
}

function describeChar(c: string): string {
  return `${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * Rebuilds a tokenizer from its JSON description ({@link Tokenizer.toJSON}).
 *
 * @example
 * ```ts
 * tokenizerFromJSON({ kind: 'bytes' }).vocabSize;                // 256
 * tokenizerFromJSON({ kind: 'chars', alphabet: 'ab' }).vocabSize; // 2
 * ```
 */
export function tokenizerFromJSON(j: TokenizerJSON): Tokenizer {
  const raw = j as { kind?: unknown; alphabet?: unknown } | null | undefined;
  if (raw?.kind === 'bytes') return new ByteTokenizer();
  if (raw?.kind === 'chars' && typeof raw.alphabet === 'string') return new CharTokenizer(raw.alphabet);
  throw new Error(`tokenizer: cannot rebuild from ${JSON.stringify(j)}; allowed: {"kind": "bytes"} or {"kind": "chars", "alphabet": "<string>"}`);
}

/**
 * Creates a tokenizer by name: `bytes`, or `chars` (alphabet built from `text`,
 * which is then required).
 *
 * @example
 * ```ts
 * createTokenizer('bytes').vocabSize;         // 256
 * createTokenizer('chars', 'hello').vocabSize; // 4
 * ```
 */
export function createTokenizer(kind: string, text?: string): Tokenizer {
  if (kind === 'bytes') return new ByteTokenizer();
  if (kind === 'chars') {
    if (typeof text !== 'string' || text.length === 0) {
      throw new ConfigError('data.tokenizer', '"chars" needs the (non-empty) corpus text to build its alphabet');
    }
    return CharTokenizer.fromText(text);
  }
  throw new ConfigError('data.tokenizer', `got ${JSON.stringify(kind)}; allowed: "bytes", "chars"`);
}
