import { ConfigError } from './errors.js';
import { MODEL_CONFIG_KEYS, resolveModelConfig, type ModelConfig, type ResolvedModelConfig } from './model.js';
import { ConfigReader, describe } from './validate.js';

/** Optimizer, schedule and loop settings of a training run. */
export interface TrainConfig {
  /** Rows per optimizer step (split into `accumulate` micro-batches). */
  readonly batchSize: number;
  /** Optimizer steps. */
  readonly steps: number;
  readonly lr: number;
  /** Final LR of the cosine schedule (default lr/10). */
  readonly minLr: number;
  readonly warmupSteps: number;
  readonly schedule: 'cosine' | 'constant';
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Global-norm gradient clipping threshold; 0 turns it off. */
  readonly clipNorm: number;
  /** Micro-batches per optimizer step (gradient accumulation). */
  readonly accumulate: number;
  /** Held-out evaluation every this many steps (and at the end); 0 = only at the end. */
  readonly evalEvery: number;
  /** Held-out batches per evaluation. */
  readonly evalBatches: number;
  /** Checkpoint every this many steps (and at the end); 0 = only at the end. */
  readonly checkpointEvery: number;
  /** Seed of the data order. */
  readonly seed: number;
}

/** Where the text comes from and how it is tokenized. */
export interface DataConfig {
  /** `"tinyshakespeare"` (the embedded default) or a path to a UTF-8 text file. */
  readonly corpus: string;
  readonly tokenizer: 'bytes' | 'chars';
  /** Trailing fraction of the corpus held out for evaluation. */
  readonly validationFraction: number;
}

/**
 * A run config as users write it: the model fields at top level (so an
 * ablation variant is a small diff such as `{"connection": {"use": "ghc", …}}`),
 * plus `train` and `data` sections. `vocabSize` comes from the tokenizer.
 */
export type RunConfigInput = Partial<ModelConfig> & {
  readonly train?: Partial<TrainConfig>;
  readonly data?: Partial<DataConfig>;
  readonly backend?: string;
};

/** A run config with every default filled in. */
export interface RunConfig {
  readonly model: ResolvedModelConfig;
  readonly train: TrainConfig;
  readonly data: DataConfig;
}

/**
 * Validates the `train` section and fills defaults (PAPER.md §8: AdamW
 * β = 0.9/0.95, wd 0.1, clipping 1.0, warmup then cosine).
 *
 * @example
 * ```ts
 * resolveTrainConfig({ steps: 100, lr: 1e-3 }).minLr; // 1e-4
 * ```
 */
export function resolveTrainConfig(raw: Partial<TrainConfig> = {}, path = 'train'): TrainConfig {
  const r = new ConfigReader(raw as Record<string, unknown>, path);
  const batchSize = r.int('batchSize', { default: 16, min: 1 });
  const steps = r.int('steps', { default: 1000, min: 0 });
  const lr = r.number('lr', { default: 1e-3, minExclusive: 0 });
  const minLr = r.number('minLr', { default: lr / 10, min: 0 });
  const warmupSteps = r.int('warmupSteps', { default: Math.min(100, Math.floor(steps / 10)), min: 0 });
  const schedule = r.oneOf('schedule', ['cosine', 'constant'] as const, 'cosine');
  const weightDecay = r.number('weightDecay', { default: 0.1, min: 0 });
  const beta1 = r.number('beta1', { default: 0.9, min: 0, max: 0.999999 });
  const beta2 = r.number('beta2', { default: 0.95, min: 0, max: 0.999999 });
  const eps = r.number('eps', { default: 1e-8, minExclusive: 0 });
  const clipNorm = r.number('clipNorm', { default: 1.0, min: 0 });
  const accumulate = r.int('accumulate', { default: 1, min: 1 });
  if (batchSize % accumulate !== 0) {
    throw new ConfigError(`${path}.accumulate`, `must divide batchSize = ${batchSize}, got ${accumulate}`);
  }
  const evalEvery = r.int('evalEvery', { default: 100, min: 0 });
  const evalBatches = r.int('evalBatches', { default: 8, min: 1 });
  const checkpointEvery = r.int('checkpointEvery', { default: 100, min: 0 });
  const seed = r.int('seed', { default: 0, min: 0 });
  r.done();
  return {
    batchSize, steps, lr, minLr, warmupSteps, schedule, weightDecay, beta1, beta2, eps, clipNorm, accumulate,
    evalEvery, evalBatches, checkpointEvery, seed,
  };
}

/**
 * Validates the `data` section.
 *
 * @example
 * ```ts
 * resolveDataConfig({}); // { corpus: 'tinyshakespeare', tokenizer: 'bytes', validationFraction: 0.1 }
 * ```
 */
export function resolveDataConfig(raw: Partial<DataConfig> = {}, path = 'data'): DataConfig {
  const r = new ConfigReader(raw as Record<string, unknown>, path);
  r.consume('corpus');
  const corpus = raw.corpus ?? 'tinyshakespeare';
  if (typeof corpus !== 'string' || corpus.length === 0) {
    throw new ConfigError(`${path}.corpus`, `expected "tinyshakespeare" or a file path, got ${describe(corpus)}`);
  }
  const tokenizer = r.oneOf('tokenizer', ['bytes', 'chars'] as const, 'bytes');
  const validationFraction = r.number('validationFraction', { default: 0.1, minExclusive: 0, max: 0.5 });
  r.done();
  return { corpus, tokenizer, validationFraction };
}

/**
 * Validates a whole run config. `vocabSize` is the tokenizer's.
 *
 * @example
 * ```ts
 * const run = resolveRunConfig({ dModel: 64, layers: 2, heads: 4, seqLen: 64, train: { steps: 10 } }, 256);
 * ```
 */
export function resolveRunConfig(raw: RunConfigInput, vocabSize: number): RunConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('(config)', `expected a JSON object, got ${describe(raw)}`);
  }
  const allowed = new Set<string>([...MODEL_CONFIG_KEYS, 'train', 'data', 'backend']);
  for (const k of Object.keys(raw)) {
    if (!allowed.has(k)) throw new ConfigError(k, `unknown field; allowed: ${[...allowed].sort().join(', ')}`);
  }
  const { train, data, backend: _backend, ...modelFields } = raw;
  if (modelFields.vocabSize !== undefined && modelFields.vocabSize !== vocabSize) {
    throw new ConfigError('vocabSize', `is ${modelFields.vocabSize} but the tokenizer has ${vocabSize} symbols; leave it out`);
  }
  const model = resolveModelConfig({ ...(modelFields as ModelConfig), vocabSize }).resolvedConfig;
  return { model, train: resolveTrainConfig(train), data: resolveDataConfig(data) };
}

/**
 * Merges config layers (preset, file, flags): objects merge key by key, except
 * that a plugin section whose `use` changes is replaced whole (so one plugin's
 * fields never leak into another's); arrays are replaced.
 *
 * @example
 * ```ts
 * mergeConfig({ ffn: { use: 'swiglu', hidden: 64 } }, { ffn: { use: 'moe', experts: 8 } });
 * // { ffn: { use: 'moe', experts: 8 } }
 * ```
 */
export function mergeConfig<T extends Record<string, unknown>>(base: T, over: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
    if (isObj(v) && isObj(b) && !(typeof v['use'] === 'string' && v['use'] !== b['use'])) {
      out[k] = mergeConfig(b, v);
    } else {
      out[k] = v;
    }
  }
  return out as T;
}
