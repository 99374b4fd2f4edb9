import type { MetricsRecord } from '../metrics_schema.js';

/**
 * The files of a run, as named in {@link RunStore.pathOf}.
 *
 * @example
 * ```ts
 * const file: RunFile = 'checkpoint';
 * console.log(store.pathOf(file)); // 'runs/tiny/checkpoint.safetensors' for a run directory
 * ```
 */
export type RunFile = 'checkpoint' | 'metrics' | 'config';

/**
 * Where a {@link Trainer} keeps its run: the checkpoint (safetensors bytes),
 * the metrics (`metrics.jsonl` text, one record a line) and the config JSON.
 * `runDirectory(dir)` from `@vwn/core/node` keeps them as files (atomic
 * writes); {@link MemoryRunStore} keeps them in memory; a page may implement
 * it over IndexedDB. Errors thrown by a store reach the caller of the trainer
 * (disk-full style errors with a `code` become a `StorageError`).
 *
 * @example
 * ```ts
 * const store: RunStore = new MemoryRunStore();
 * const trainer = await Trainer.create({ config, corpus, store });
 * await trainer.run();
 * store.pathOf('metrics'); // 'memory:metrics.jsonl'
 * ```
 */
export interface RunStore {
  /** Where `file` lives, for messages (a path for a run directory). */
  pathOf(file: RunFile): string;
  /** Called once by `Trainer.create` before anything is read or written. */
  prepare(): Promise<void>;
  /** The checkpoint's bytes, or null when there is none yet. */
  readCheckpoint(): Promise<Uint8Array | null>;
  /** Replaces the checkpoint (all or nothing). */
  writeCheckpoint(bytes: Uint8Array): Promise<void>;
  /** Replaces the config JSON. */
  writeConfig(json: string): Promise<void>;
  /** The metrics text (JSON lines), or null when there is none. */
  readMetrics(): Promise<string | null>;
  /** Replaces the metrics text (`''`: no records; used on a fresh start and to drop redone steps on resume). */
  writeMetrics(text: string): Promise<void>;
  /** Appends one record (one JSON line). */
  appendMetrics(record: MetricsRecord): Promise<void>;
}

/**
 * A {@link RunStore} in memory: a browser tab's run, or a test's. Pass a
 * checkpoint to resume from it (`resume: true`).
 *
 * @example
 * ```ts
 * const store = new MemoryRunStore({ checkpoint: uploadedBytes });
 * const trainer = await Trainer.create({ config, corpus, store, resume: true });
 * await trainer.run();
 * store.checkpoint; // Uint8Array, the latest checkpoint
 * store.records.filter((r) => r.type === 'eval');
 * ```
 */
export class MemoryRunStore implements RunStore {
  /** The latest checkpoint written (or given), or null. */
  checkpoint: Uint8Array | null;
  /** The config JSON last written, or null. */
  config: string | null = null;
  /** The metrics text: one JSON record a line. */
  metricsText = '';

  /** @param init - A checkpoint to start from (resume). */
  constructor(init: { checkpoint?: Uint8Array } = {}) {
    this.checkpoint = init.checkpoint ?? null;
  }

  /** The records in {@link MemoryRunStore.metricsText}, parsed. */
  get records(): MetricsRecord[] {
    return this.metricsText
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as MetricsRecord);
  }

  pathOf(file: RunFile): string {
    return `memory:${file === 'checkpoint' ? 'checkpoint.safetensors' : file === 'metrics' ? 'metrics.jsonl' : 'config.json'}`;
  }

  async prepare(): Promise<void> {}

  async readCheckpoint(): Promise<Uint8Array | null> {
    return this.checkpoint;
  }

  async writeCheckpoint(bytes: Uint8Array): Promise<void> {
    this.checkpoint = bytes;
  }

  async writeConfig(json: string): Promise<void> {
    this.config = json;
  }

  async readMetrics(): Promise<string | null> {
    return this.metricsText;
  }

  async writeMetrics(text: string): Promise<void> {
    this.metricsText = text;
  }

  async appendMetrics(record: MetricsRecord): Promise<void> {
    this.metricsText += JSON.stringify(record) + '\n';
  }
}
