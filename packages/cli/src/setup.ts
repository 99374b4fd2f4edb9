import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import {
  ConfigError,
  corpusFromText,
  createTokenizer,
  loadPluginsFor,
  mergeConfig,
  resolveDataConfig,
  tokenizerFromJSON,
  useBackend,
  type Corpus,
  type DataConfig,
  type RunConfigInput,
  type Tokenizer,
  type TokenizerJSON,
} from '@vwn/core';
import { readCorpusFile } from '@vwn/core/node';
import { loadEmbeddedCorpus, EMBEDDED_CORPORA, type EmbeddedCorpusName } from '@vwn/datasets';
import { PRESETS, PRESET_NAMES } from './presets.js';
import { installDiscovery } from './discovery.js';

// Plugin and backend packages are found through their package.json manifests.
installDiscovery();

/** Options every command shares. */
export interface CommonOptions {
  readonly config?: string | undefined;
  readonly preset?: string | undefined;
  readonly backend?: string | undefined;
  readonly corpus?: string | undefined;
}

/** Reads a JSON file with errors that name the path. */
export async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  if (!existsSync(path)) throw new ConfigError(what, `file not found: ${path}`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(what, `cannot read ${path} (${(e as NodeJS.ErrnoException).code === 'EISDIR' ? 'it is a directory' : (e as Error).message})`);
  }
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch (e) {
    throw new ConfigError(what, `${path} is not a JSON object (${(e as Error).message})`);
  }
}

/**
 * Builds the run config: `--preset` (default `fallbackPreset`), then the
 * `--config` file merged over it, then flag overrides. Plugin packages the
 * config names are imported.
 */
export async function loadRunConfigInput(opts: CommonOptions, fallbackPreset: string, overrides: Record<string, unknown> = {}): Promise<RunConfigInput> {
  const presetName = opts.preset ?? fallbackPreset;
  const preset = PRESETS[presetName];
  if (!preset) throw new ConfigError('--preset', `unknown preset "${presetName}"; allowed: ${PRESET_NAMES.join(', ')}`);
  let config: Record<string, unknown> = structuredClone(preset.config) as Record<string, unknown>;
  if (opts.config) config = mergeConfig(config, await readJson(opts.config, '--config'));
  config = mergeConfig(config, overrides);
  if (opts.corpus) config = mergeConfig(config, { data: { corpus: opts.corpus } });
  await loadPluginsFor(config);
  return config as RunConfigInput;
}

/**
 * Loads the corpus a data config names (the embedded default or a file). A
 * file is read as bytes: the byte tokenizer trains on them as they are, the
 * char tokenizer decodes them as UTF-8.
 */
export async function loadCorpus(data: DataConfig, tokenizerJson?: TokenizerJSON): Promise<Corpus> {
  let text: string | Uint8Array;
  if ((EMBEDDED_CORPORA as readonly string[]).includes(data.corpus)) {
    text = await loadEmbeddedCorpus(data.corpus as EmbeddedCorpusName);
  } else {
    if (!existsSync(data.corpus)) {
      throw new ConfigError('data.corpus', `file not found: ${data.corpus} (or use one of: ${EMBEDDED_CORPORA.join(', ')})`);
    }
    text = await readCorpusFile(data.corpus);
  }
  const kind = tokenizerJson ? (tokenizerJson as { kind: string }).kind : data.tokenizer;
  const asText = () => (typeof text === 'string' ? text : new TextDecoder().decode(text));
  const tokenizer: Tokenizer = tokenizerJson ? tokenizerFromJSON(tokenizerJson) : createTokenizer(data.tokenizer, kind === 'bytes' ? undefined : asText());
  return corpusFromText(kind === 'bytes' ? text : asText(), { name: data.corpus, tokenizer, validationFraction: data.validationFraction });
}

/** Resolves just the data section of a config input (to build the tokenizer first). */
export function dataConfigOf(input: RunConfigInput): DataConfig {
  return resolveDataConfig(input.data ?? {});
}

/** Selects the backend (`--backend`, else the config's, else `auto`) and reports it. */
export async function selectBackend(opts: CommonOptions, input?: RunConfigInput, quiet = false): Promise<{ backend: string; note: string }> {
  const selected = await useBackend(opts.backend ?? input?.backend ?? 'auto');
  if (!quiet) process.stderr.write(`backend: ${selected.note}\n`);
  return selected;
}
