import { readFile } from 'node:fs/promises';
import { createTokenizer, type Tokenizer } from './tokenizer.js';

/** A tokenized text with a deterministic train / held-out split. */
export interface Corpus {
  readonly name: string;
  readonly tokenizer: Tokenizer;
  readonly train: Int32Array;
  readonly validation: Int32Array;
}

/**
 * Tokenizes a text and holds out its last `validationFraction` (contiguous),
 * so the split is the same on every machine.
 *
 * @example
 * ```ts
 * const corpus = corpusFromText(text, { name: 'mine', tokenizer: new ByteTokenizer() });
 * corpus.validation.length; // ≈ 10% of the bytes
 * ```
 */
export function corpusFromText(
  text: string,
  opts: { name: string; tokenizer: Tokenizer; validationFraction?: number },
): Corpus {
  const fraction = opts.validationFraction ?? 0.1;
  if (!(fraction > 0 && fraction <= 0.5)) {
    throw new Error(`data.validationFraction: must be in (0, 0.5], got ${fraction}`);
  }
  const ids = opts.tokenizer.encode(text);
  const cut = ids.length - Math.floor(ids.length * fraction);
  const train = ids.slice(0, cut);
  const validation = ids.slice(cut);
  if (train.length < 2 || validation.length < 2) {
    throw new Error(`data.corpus: "${opts.name}" has ${ids.length} tokens, too few to split into train and held-out parts`);
  }
  return { name: opts.name, tokenizer: opts.tokenizer, train, validation };
}

/**
 * Reads a UTF-8 text file and builds a {@link Corpus}.
 *
 * @example
 * ```ts
 * const corpus = await corpusFromFile('my.txt', { tokenizer: 'chars' });
 * ```
 */
export async function corpusFromFile(
  path: string,
  opts: { tokenizer?: 'bytes' | 'chars'; validationFraction?: number } = {},
): Promise<Corpus> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`data.corpus: cannot read ${path} (${(e as Error).message})`);
  }
  if (text.length === 0) throw new Error(`data.corpus: ${path} is empty`);
  const tokenizer = createTokenizer(opts.tokenizer ?? 'bytes', text);
  return corpusFromText(text, { name: path, tokenizer, ...(opts.validationFraction !== undefined ? { validationFraction: opts.validationFraction } : {}) });
}
