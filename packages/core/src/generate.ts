import * as tf from '@tensorflow/tfjs';
import type { Model } from './model.js';
import { ConfigError } from './errors.js';
import { Rng } from './rng.js';

/**
 * Sampling settings.
 *
 * @example
 * ```ts
 * const opts: SampleOptions = { maxTokens: 200, temperature: 0.8, topK: 40, seed: 1 };
 * const ids = await sampleTokens(model, tokenizer.encode('ROMEO:'), opts);
 * ```
 */
export interface SampleOptions {
  /** New tokens to produce. */
  readonly maxTokens: number;
  /**
   * Softmax temperature; 0 means greedy (argmax).
   *
   * @defaultValue `1`
   */
  readonly temperature?: number;
  /**
   * Sample only among the k most likely tokens (0 or undefined = all).
   *
   * @defaultValue `0` (all tokens)
   */
  readonly topK?: number;
  /**
   * Seed of the sampler.
   *
   * @defaultValue `0`
   */
  readonly seed?: number;
}

/**
 * Autoregressive sampling: feeds the last `seqLen` tokens, takes the
 * next-token distribution at the final position (MTP modules are not run),
 * applies temperature and top-k, and draws with a seeded RNG.
 *
 * @example
 * ```ts
 * const ids = await sampleTokens(model, tokenizer.encode('ROMEO:'), { maxTokens: 100, temperature: 0.8, topK: 40 });
 * console.log(tokenizer.decode(ids));
 * ```
 */
export async function sampleTokens(model: Model, prompt: ArrayLike<number>, opts: SampleOptions): Promise<number[]> {
  const temperature = opts.temperature ?? 1;
  const topK = opts.topK ?? 0;
  if (!Number.isSafeInteger(opts.maxTokens) || opts.maxTokens < 0) throw new ConfigError('maxTokens', `must be a non-negative integer, got ${opts.maxTokens}`);
  if (!(temperature >= 0)) throw new ConfigError('temperature', `must be >= 0, got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new ConfigError('topK', `must be a non-negative integer, got ${topK}`);
  if (prompt.length === 0) throw new ConfigError('prompt', 'must contain at least one token');
  const V = model.config.vocabSize;
  for (const id of Array.from(prompt)) {
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new ConfigError('prompt', `token id ${id} is outside the vocabulary [0, ${V})`);
  }
  const rng = new Rng(opts.seed ?? 0);
  const tokens = Array.from(prompt);
  const out: number[] = [];
  for (let i = 0; i < opts.maxTokens; i++) {
    const context = tokens.slice(-model.config.seqLen);
    const last = tf.tidy(() => {
      const all = model.logits(tf.tensor2d(context, [1, context.length], 'int32')); // [T, V]
      return tf.slice(all, [context.length - 1, 0], [1, V]);
    });
    const logits = await last.data();
    last.dispose();
    const next = pick(logits, temperature, topK, rng);
    tokens.push(next);
    out.push(next);
  }
  return out;
}

function pick(logits: ArrayLike<number>, temperature: number, topK: number, rng: Rng): number {
  const idx = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]!);
  if (temperature === 0) return idx[0]!;
  const keep = topK > 0 ? idx.slice(0, topK) : idx;
  const max = logits[keep[0]!]!;
  const w = keep.map((i) => Math.exp((logits[i]! - max) / temperature));
  let u = rng.next() * w.reduce((a, b) => a + b, 0);
  for (let j = 0; j < keep.length; j++) {
    u -= w[j]!;
    if (u <= 0) return keep[j]!;
  }
  return keep[keep.length - 1]!;
}
