import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { createTokenizer } from '../data/tokenizer.js';
import { corpusFromText, type Corpus } from '../data/corpus.js';

/**
 * Reads a text file and builds a {@link Corpus} named after the path.
 * `tokenizer` is `'bytes'` (default: the file's bytes as they are, any
 * encoding) or `'chars'` (UTF-8 decoded; alphabet from the file). A missing
 * file, a directory and an empty file are refused with a {@link ConfigError}.
 *
 * @example
 * ```ts
 * const corpus = await corpusFromFile('my.txt', { tokenizer: 'chars', validationFraction: 0.05 });
 * ```
 */
export async function corpusFromFile(path: string, opts: { tokenizer?: 'bytes' | 'chars'; validationFraction?: number } = {}): Promise<Corpus> {
  if (typeof path !== 'string' || path.length === 0) throw new ConfigError('data.corpus', `path must be a non-empty string, got ${JSON.stringify(path)}`);
  const bytes = await readCorpusFile(path);
  const kind = opts.tokenizer ?? 'bytes';
  const tokenizer = createTokenizer(kind, kind === 'bytes' ? undefined : new TextDecoder().decode(bytes));
  return corpusFromText(bytes, {
    name: path,
    tokenizer,
    ...(opts.validationFraction !== undefined ? { validationFraction: opts.validationFraction } : {}),
  });
}

/**
 * Reads a corpus file's bytes, with a {@link ConfigError} (field `data.corpus`)
 * for a missing file, a directory, an unreadable or an empty file.
 *
 * @example
 * ```ts
 * const bytes = await readCorpusFile('my.txt'); // Buffer
 * ```
 */
export async function readCorpusFile(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    if ((await stat(path)).isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'it is a directory, not a text file' : (e as Error).message;
    throw new ConfigError('data.corpus', `cannot read ${path} (${why})`);
  }
  if (bytes.length === 0) throw new ConfigError('data.corpus', `${path} is empty; it needs some text`);
  return bytes;
}
