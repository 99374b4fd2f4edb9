import { hash32 } from '../rng.js';
import { ConfigError } from '../errors.js';

/**
 * A batch of token rows: each row is a contiguous window of the corpus, the
 * model input is `row[0 .. seqLen)` and the targets are shifted by one (plus
 * `extra` lookahead tokens for objectives that predict further ahead).
 *
 * @example
 * ```ts
 * const b: Batch = sampler.batch(0);
 * const row1 = b.tokens.subarray(1 * b.width, 2 * b.width);
 * ```
 */
export interface Batch {
  readonly batchSize: number;
  readonly seqLen: number;
  /** `[batchSize, width]` token ids, row-major. */
  readonly tokens: Int32Array;
  /** Row width: `seqLen + 1 + extra`. */
  readonly width: number;
}

function positiveInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${field}: must be a positive integer, got ${String(v)}`);
  return v;
}

function rowWidth(opts: { seqLen: number; extra?: number }): number {
  const seqLen = positiveInt('seqLen', opts.seqLen);
  const extra = opts.extra ?? 0;
  if (typeof extra !== 'number' || !Number.isInteger(extra) || extra < 0) throw new Error(`extra: must be a non-negative integer, got ${String(extra)}`);
  return seqLen + 1 + extra;
}

function checkTokens(tokens: unknown): asserts tokens is Int32Array {
  if (!(tokens instanceof Int32Array)) throw new Error('tokens: must be an Int32Array of token ids');
}

/**
 * Random contiguous windows of a token stream. Batch `index` is a pure
 * function of `(seed, index)`: row `r` starts at
 * `hash32(seed, index, r) % (tokens.length - width + 1)`. A resumed run needs
 * only the next batch index, and runs with the same seed see the same batches.
 *
 * @example
 * ```ts
 * const sampler = new BatchSampler(corpus.train, { batchSize: 16, seqLen: 128, seed: 0 });
 * const b = sampler.batch(0); // b.tokens: 16 × 129 ids
 * ```
 */
export class BatchSampler {
  /** Row width: `seqLen + 1 + extra`. */
  readonly width: number;
  private readonly tokens: Int32Array;

  constructor(
    tokens: Int32Array,
    readonly opts: { batchSize: number; seqLen: number; seed: number; extra?: number },
  ) {
    checkTokens(tokens);
    positiveInt('batchSize', opts.batchSize);
    if (typeof opts.seed !== 'number' || !Number.isFinite(opts.seed)) throw new Error(`seed: must be a finite number, got ${String(opts.seed)}`);
    this.width = rowWidth(opts);
    if (tokens.length < this.width) {
      throw new ConfigError(
        'data.corpus',
        `${tokens.length} training tokens are fewer than one row of ${this.width} (seqLen + 1 + extra); use a longer corpus or a shorter seqLen`,
      );
    }
    this.tokens = tokens;
  }

  /**
   * Batch number `index` (a non-negative integer).
   *
   * @example
   * ```ts
   * const again = new BatchSampler(corpus.train, sampler.opts).batch(7); // same ids as sampler.batch(7)
   * ```
   */
  batch(index: number): Batch {
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
      throw new Error(`batch index: must be a non-negative integer, got ${String(index)}`);
    }
    const { batchSize, seqLen, seed } = this.opts;
    const W = this.width;
    const starts = this.tokens.length - W + 1;
    const out = new Int32Array(batchSize * W);
    for (let r = 0; r < batchSize; r++) {
      const start = hash32(seed, index, r) % starts;
      out.set(this.tokens.subarray(start, start + W), r * W);
    }
    return { batchSize, seqLen, tokens: out, width: W };
  }
}

/**
 * Deterministic held-out batches: `rows = min(floor(tokens.length / width),
 * batchSize · maxBatches)` non-overlapping windows, row `k` starting at
 * `k · floor(tokens.length / rows)` (evenly spread over the whole held-out
 * part), grouped into batches of `batchSize` rows; the last batch may hold
 * fewer rows and its `batchSize` says how many.
 *
 * @example
 * ```ts
 * const evalSet = evaluationBatches(corpus.validation, { batchSize: 16, seqLen: 128, maxBatches: 8 });
 * ```
 */
export function evaluationBatches(tokens: Int32Array, opts: { batchSize: number; seqLen: number; maxBatches: number; extra?: number }): Batch[] {
  checkTokens(tokens);
  const batchSize = positiveInt('batchSize', opts.batchSize);
  const maxBatches = positiveInt('maxBatches', opts.maxBatches);
  const W = rowWidth(opts);
  const fit = Math.floor(tokens.length / W);
  if (fit < 1) {
    throw new ConfigError(
      'data.validationFraction',
      `the held-out part has ${tokens.length} tokens, fewer than one row of ${W} (seqLen + 1 + extra); raise data.validationFraction, use a longer corpus or lower seqLen`,
    );
  }
  const rows = Math.min(fit, batchSize * maxBatches);
  // stride >= W because rows <= floor(length / W), so windows never overlap.
  const stride = Math.floor(tokens.length / rows);
  const batches: Batch[] = [];
  for (let first = 0; first < rows; first += batchSize) {
    const n = Math.min(batchSize, rows - first);
    const out = new Int32Array(n * W);
    for (let r = 0; r < n; r++) {
      const start = (first + r) * stride;
      out.set(tokens.subarray(start, start + W), r * W);
    }
    batches.push({ batchSize: n, seqLen: opts.seqLen, tokens: out, width: W });
  }
  return batches;
}
