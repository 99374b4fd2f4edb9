import { hash32 } from '../rng.js';

/** A batch of token rows. */
export interface Batch {
  readonly batchSize: number;
  readonly seqLen: number;
  /** `[batchSize, width]` token ids, row-major. */
  readonly tokens: Int32Array;
  /** Row width: `seqLen + 1 + extra`. */
  readonly width: number;
}

/**
 * Random contiguous windows of a token stream. Batch `index` is a pure
 * function of `(seed, index)`, so a resumed run needs only the next index and
 * every ablation variant with the same seed sees the same batches.
 *
 * @example
 * ```ts
 * const sampler = new BatchSampler(corpus.train, { batchSize: 16, seqLen: 128, seed: 0 });
 * const b = sampler.batch(0); // b.tokens: 16 × 129 ids
 * ```
 */
export class BatchSampler {
  readonly width: number;
  constructor(
    private readonly tokens: Int32Array,
    readonly opts: { batchSize: number; seqLen: number; seed: number; extra?: number },
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`train.batchSize: must be a positive integer, got ${opts.batchSize}`);
    if (!Number.isInteger(opts.seqLen) || opts.seqLen < 1) throw new Error(`seqLen: must be a positive integer, got ${opts.seqLen}`);
    this.width = opts.seqLen + 1 + (opts.extra ?? 0);
    if (tokens.length < this.width) {
      throw new Error(`data.corpus: ${tokens.length} training tokens are fewer than one row of ${this.width} (seqLen + 1); use a longer corpus or a shorter seqLen`);
    }
  }

  /** Batch number `index` (0-based). */
  batch(index: number): Batch {
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
 * Deterministic held-out batches: evenly spaced, non-overlapping windows
 * over the validation tokens (the last batch may hold fewer rows).
 *
 * @example
 * ```ts
 * const evalSet = evaluationBatches(corpus.validation, { batchSize: 16, seqLen: 128, maxBatches: 8 });
 * ```
 */
export function evaluationBatches(
  tokens: Int32Array,
  opts: { batchSize: number; seqLen: number; maxBatches: number; extra?: number },
): Batch[] {
  const W = opts.seqLen + 1 + (opts.extra ?? 0);
  const fit = Math.floor(tokens.length / W);
  if (fit < 1) throw new Error(`data: the held-out part has ${tokens.length} tokens, fewer than one row of ${W}; raise data.validationFraction`);
  const rows = Math.min(fit, opts.batchSize * opts.maxBatches);
  // Spread the windows over the whole held-out part.
  const stride = Math.floor(tokens.length / rows);
  const batches: Batch[] = [];
  for (let first = 0; first < rows; first += opts.batchSize) {
    const n = Math.min(opts.batchSize, rows - first);
    const out = new Int32Array(n * W);
    for (let r = 0; r < n; r++) {
      const start = (first + r) * stride;
      out.set(tokens.subarray(start, start + W), r * W);
    }
    batches.push({ batchSize: n, seqLen: opts.seqLen, tokens: out, width: W });
  }
  return batches;
}
