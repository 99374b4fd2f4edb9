/**
 * @vwn/datasets: the embedded default corpus of vwn.
 *
 * `tinyshakespeare`: ~1.1 MB of Shakespeare's plays (public domain), the
 * classic character-level language-modelling corpus.
 *
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * Names of the corpora shipped in this package.
 *
 * @example
 * ```ts
 * EMBEDDED_CORPORA; // ['tinyshakespeare']
 * const embedded = (EMBEDDED_CORPORA as readonly string[]).includes(data.corpus); // else a file path
 * ```
 */
export const EMBEDDED_CORPORA = ['tinyshakespeare'] as const;

/**
 * A corpus name shipped in this package.
 *
 * @example
 * ```ts
 * const name: EmbeddedCorpusName = 'tinyshakespeare';
 * const text = await loadEmbeddedCorpus(name);
 * ```
 */
export type EmbeddedCorpusName = (typeof EMBEDDED_CORPORA)[number];

/**
 * Absolute path of an embedded corpus file.
 *
 * @example
 * ```ts
 * embeddedCorpusPath('tinyshakespeare'); // '/…/node_modules/@vwn/datasets/tinyshakespeare.txt'
 * ```
 */
export function embeddedCorpusPath(name: EmbeddedCorpusName = 'tinyshakespeare'): string {
  if (!(EMBEDDED_CORPORA as readonly string[]).includes(name)) {
    throw new Error(`corpus: unknown embedded corpus "${name}"; allowed: ${EMBEDDED_CORPORA.map((c) => `"${c}"`).join(', ')}`);
  }
  // dist/index.js and src/index.ts both sit one folder below the package root.
  return fileURLToPath(new URL(`../${name}.txt`, import.meta.url));
}

/**
 * Reads an embedded corpus as text.
 *
 * @example
 * ```ts
 * const text = await loadEmbeddedCorpus('tinyshakespeare'); // 1,115,394 characters
 * ```
 */
export async function loadEmbeddedCorpus(name: EmbeddedCorpusName = 'tinyshakespeare'): Promise<string> {
  return readFile(embeddedCorpusPath(name), 'utf8');
}
