import { ConfigError } from '../errors.js';
import { ByteTokenizer, type Tokenizer } from './tokenizer.js';

/**
 * A tokenized text with a deterministic train / held-out split.
 *
 * @example
 * ```ts
 * const corpus: Corpus = corpusFromText('some text …', { name: 'demo', tokenizer: new ByteTokenizer() });
 * corpus.train.length + corpus.validation.length; // every token, once
 * ```
 */
export interface Corpus {
  readonly name: string;
  readonly tokenizer: Tokenizer;
  readonly train: Int32Array;
  readonly validation: Int32Array;
}

/** Smallest part (train or validation) a corpus may have, in tokens. */
const MIN_PART = 2;

/**
 * Tokenizes a text (a string, or a file's raw bytes: the byte tokenizer then
 * uses the bytes as they are, other tokenizers decode them as UTF-8) and holds out its end: with `n` tokens, the last
 * `floor(n · validationFraction)` tokens (contiguous) are the validation part
 * and the rest, in order, the training part, so the split is the same on every
 * machine. `validationFraction` must be in `(0, 0.5]` (default 0.1); each part
 * needs at least 2 tokens.
 *
 * @example
 * ```ts
 * const corpus = corpusFromText('x'.repeat(1000), { name: 'mine', tokenizer: new ByteTokenizer() });
 * corpus.train.length;      // 900
 * corpus.validation.length; // 100
 * ```
 */
export function corpusFromText(text: string | Uint8Array, opts: { name: string; tokenizer: Tokenizer; validationFraction?: number }): Corpus {
  if (typeof text !== 'string' && !(text instanceof Uint8Array)) throw new Error(`data.corpus: text must be a string or a Uint8Array, got ${typeof text}`);
  if (typeof opts?.name !== 'string') throw new Error(`data.corpus: name must be a string, got ${typeof opts?.name}`);
  if (typeof opts.tokenizer?.encode !== 'function') throw new Error('data.tokenizer: must be a Tokenizer (with encode/decode), e.g. new ByteTokenizer()');
  const fraction = opts.validationFraction ?? 0.1;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 0.5)) {
    throw new Error(`data.validationFraction: must be a number in (0, 0.5], got ${String(fraction)}`);
  }
  const ids =
    typeof text !== 'string'
      ? opts.tokenizer instanceof ByteTokenizer
        ? Int32Array.from(text)
        : opts.tokenizer.encode(new TextDecoder().decode(text))
      : opts.tokenizer.encode(text);
  if (ids.length === 0) throw new ConfigError('data.corpus', `"${opts.name}" is empty; it needs some text`);
  // The small epsilon keeps e.g. 100 × 0.29 = 28.999999999999996 from losing a token.
  const held = Math.floor(ids.length * fraction + 1e-9);
  const cut = ids.length - held;
  if (cut < MIN_PART || held < MIN_PART) {
    throw new ConfigError(
      'data.corpus',
      `"${opts.name}" has ${ids.length} tokens; with validationFraction ${fraction} that is ${cut} for training and ${held} held out, ` +
        `but each part needs at least ${MIN_PART} tokens; use a longer text or a larger validationFraction`,
    );
  }
  return { name: opts.name, tokenizer: opts.tokenizer, train: ids.slice(0, cut), validation: ids.slice(cut) };
}
