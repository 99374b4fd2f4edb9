import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsRecord } from '../metrics_schema.js';
import { RUN_FILES } from '../train/trainer.js';
import type { RunFile, RunStore } from '../train/run_store.js';
import { removeOrphanTempFiles, writeFileAtomic } from './atomic.js';
import { readCheckpointFile } from './checkpoint_file.js';
import { faultDue, injectedEnospc, killSelf, maybeFault } from './fault.js';

/**
 * A run directory as a {@link RunStore}: `checkpoint.safetensors`,
 * `metrics.jsonl` and `config.json` in `dir` (see {@link RUN_FILES}).
 * Checkpoints, the config and metrics rewrites are atomic (temp file +
 * rename); metrics lines are appended. {@link RunStore.prepare} creates the
 * folder and removes temp files a killed process left.
 *
 * @example
 * ```ts
 * import { Trainer } from '@vwn/core';
 * import { runDirectory } from '@vwn/core/node';
 * const trainer = await Trainer.create({ config, corpus, store: runDirectory('runs/tiny'), resume: true });
 * await trainer.run(); // runs/tiny/checkpoint.safetensors, metrics.jsonl, config.json
 * ```
 */
export function runDirectory(dir: string): RunDirectory {
  return new RunDirectory(dir);
}

/**
 * The {@link RunStore} {@link runDirectory} returns.
 *
 * @example
 * ```ts
 * const store = new RunDirectory('runs/tiny');
 * store.pathOf('checkpoint'); // 'runs/tiny/checkpoint.safetensors'
 * ```
 */
export class RunDirectory implements RunStore {
  /** @param dir - The run directory (created when missing). */
  constructor(readonly dir: string) {}

  pathOf(file: RunFile): string {
    return join(this.dir, RUN_FILES[file]);
  }

  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await removeOrphanTempFiles(this.dir);
  }

  async readCheckpoint(): Promise<Uint8Array | null> {
    const path = this.pathOf('checkpoint');
    return existsSync(path) ? readCheckpointFile(path) : null;
  }

  async writeCheckpoint(bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.pathOf('checkpoint'), bytes, { faultPoint: 'checkpoint' });
  }

  async writeConfig(json: string): Promise<void> {
    await writeFileAtomic(this.pathOf('config'), json);
  }

  async readMetrics(): Promise<string | null> {
    const path = this.pathOf('metrics');
    return existsSync(path) ? readFile(path, 'utf8') : null;
  }

  async writeMetrics(text: string): Promise<void> {
    if (text === '') await rm(this.pathOf('metrics'), { force: true });
    else await writeFileAtomic(this.pathOf('metrics'), text);
  }

  async appendMetrics(record: MetricsRecord): Promise<void> {
    const path = this.pathOf('metrics');
    // Fault point (tests): a training step completed, before its metrics line.
    if (record.type === 'train') maybeFault('step', this.dir);
    const line = JSON.stringify(record) + '\n';
    const partial = faultDue('metrics-partial');
    if (partial) {
      await appendFile(path, line.slice(0, line.length >> 1));
      if (partial === 'kill') killSelf();
      throw partial === 'throw' ? new Error('injected internal error') : injectedEnospc(path);
    }
    await appendFile(path, line);
  }
}
