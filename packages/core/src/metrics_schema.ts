/**
 * The `metrics.jsonl` schema: one JSON record per line, written by the
 * trainer (`@vwn/core`) and read by the report package. This module imports
 * nothing (no TensorFlow.js, no Node built-in), so a reader can depend on it
 * alone: `import type { TrainRecord } from '@vwn/core/metrics-schema'`.
 *
 * @module
 */

/**
 * Name of the metrics file inside a run directory.
 *
 * @example
 * ```ts
 * METRICS_FILE; // 'metrics.jsonl'
 * const text = await readFile(join('runs/tiny', METRICS_FILE), 'utf8');
 * ```
 */
export const METRICS_FILE = 'metrics.jsonl';

/**
 * One line of `metrics.jsonl` for a training step, as the trainer writes it
 * (every field present).
 *
 * @example
 * ```ts
 * const rec: TrainRecord = await trainer.trainStep();
 * console.log(rec.step, rec.loss.toFixed(3), rec.lr, Math.round(rec.tokensPerSecond));
 * rec.metrics; // plugin metrics, e.g. MoE expert load arrays
 * ```
 */
export interface TrainRecord {
  readonly type: 'train';
  /** Optimizer steps completed (1-based after the step). */
  readonly step: number;
  /** Training tokens consumed so far (inputs, B·T per row). */
  readonly tokens: number;
  /** Next-token loss (nats); `null` in the file when it diverged (JSON has no NaN). */
  readonly loss: number;
  /** Total loss optimized (next-token + objectives + auxiliary). */
  readonly totalLoss: number;
  /** Other named losses (objective terms such as `next2_loss`, auxiliary losses). */
  readonly terms: Readonly<Record<string, number>>;
  /** Plugin metrics (e.g. MoE expert load), scalars or arrays. */
  readonly metrics: Readonly<Record<string, number | readonly number[]>>;
  /** Learning rate of the step. */
  readonly lr: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** Training tokens per second of wall time in this step. */
  readonly tokensPerSecond: number;
  /** Wall time of this step in milliseconds. */
  readonly stepMs: number;
  /** `tf.memory().numTensors` after the step (flat when nothing leaks). */
  readonly tensors: number;
}

/**
 * One line of `metrics.jsonl` for a held-out evaluation.
 *
 * @example
 * ```ts
 * const ev: EvalRecord = await trainer.evaluate();
 * ev.loss;                // held-out next-token loss (nats)
 * ev.terms['next2_loss']; // with the MTP objective
 * ```
 */
export interface EvalRecord {
  readonly type: 'eval';
  /** Optimizer steps completed when it was measured. */
  readonly step: number;
  /** Training tokens consumed when it was measured. */
  readonly tokens: number;
  /** Held-out next-token loss (nats). */
  readonly loss: number;
  /** Held-out objective terms (e.g. `next2_loss` for MTP). */
  readonly terms: Readonly<Record<string, number>>;
}

/**
 * A line of `metrics.jsonl`.
 *
 * @example
 * ```ts
 * const records = text.trim().split('\n').map((line) => JSON.parse(line) as MetricsRecord);
 * const evals = records.filter((r): r is EvalRecord => r.type === 'eval');
 * ```
 */
export type MetricsRecord = TrainRecord | EvalRecord;

/**
 * A train record as a reader may find it in a file: `type`, `step`, `tokens`
 * and `loss` are always there; the other fields are missing in files written
 * by older versions (a reader must check).
 *
 * @example
 * ```ts
 * const rec = JSON.parse(line) as StoredTrainRecord;
 * const rate = rec.tokensPerSecond ?? null;
 * ```
 */
export type StoredTrainRecord = Pick<TrainRecord, 'type' | 'step' | 'tokens' | 'loss'> & Partial<Omit<TrainRecord, 'type' | 'step' | 'tokens' | 'loss'>>;

/**
 * An eval record as a reader may find it in a file (`terms` may be missing).
 *
 * @example
 * ```ts
 * const ev = JSON.parse(line) as StoredEvalRecord;
 * const next2 = ev.terms?.['next2_loss'];
 * ```
 */
export type StoredEvalRecord = Pick<EvalRecord, 'type' | 'step' | 'tokens' | 'loss'> & Partial<Pick<EvalRecord, 'terms'>>;
