// Training runs in the page: one Trainer per run, in memory, stepped in turn or
// interleaved, with every record kept for the plot. No DOM here.
import * as tf from '@tensorflow/tfjs';
import { ByteTokenizer, corpusFromText, resolveRunConfig, sampleTokens, Trainer, type Corpus, type EvalRecord, type TrainRecord } from '@vwn/core';
import '@vwn/embedding';
import '@vwn/ghc';
import '@vwn/moe';
import '@vwn/mtp';
import { runConfigFor, selectionLabel, type Selection } from './variants.js';
import { COLORS } from './plot.js';

/** Lifecycle of a run. */
export type RunStatus = 'queued' | 'training' | 'done' | 'stopped' | 'failed';

/** One model being (or having been) trained in the page. */
export class PlaygroundRun {
  status: RunStatus = 'queued';
  error: string | null = null;
  trainer: Trainer | null = null;
  readonly records: TrainRecord[] = [];
  readonly evals: EvalRecord[] = [];
  /** Training wall time summed over steps (ms), for the mean tokens/s. */
  trainMs = 0;
  /** Last sampled continuation and its prompt. */
  sample: string | null = null;
  samplePrompt = '';

  constructor(
    readonly id: number,
    readonly selection: Selection,
    readonly color: string,
  ) {}

  get label(): string {
    return selectionLabel(this.selection);
  }

  get steps(): number {
    return this.trainer?.config.train.steps ?? this.selection.steps ?? 0;
  }

  /** Mean training throughput over the run so far (tokens/s). */
  get tokensPerSecond(): number {
    const tokens = this.records.at(-1)?.tokens ?? 0;
    return this.trainMs > 0 ? (tokens / this.trainMs) * 1000 : 0;
  }

  /** Trainable parameters of the model. */
  get params(): number {
    return this.trainer ? this.trainer.model.params.list().reduce((s, p) => s + p.variable.size, 0) : 0;
  }
}

/** Events a session emits to the page. */
export interface SessionEvents {
  onUpdate?: (run: PlaygroundRun) => void;
}

const yieldToBrowser = () => new Promise<void>((r) => setTimeout(r, 0));

/** Tokenizes the embedded corpus exactly as the CLI does for `data.corpus: "tinyshakespeare"` with bytes. */
export function embeddedCorpus(text: string): Corpus {
  return corpusFromText(new TextEncoder().encode(text), { name: 'tinyshakespeare', tokenizer: new ByteTokenizer(), validationFraction: 0.1 });
}

/** Runs and their training loop. */
export class Session {
  readonly runs: PlaygroundRun[] = [];
  private stopRequested = false;
  running = false;

  constructor(
    readonly corpus: Corpus,
    private readonly events: SessionEvents = {},
  ) {}

  /** Adds a run (not started). */
  add(selection: Selection): PlaygroundRun {
    const run = new PlaygroundRun(this.runs.length, selection, COLORS[this.runs.length % COLORS.length]!);
    this.runs.push(run);
    return run;
  }

  /** Asks the loop to stop after the current step; stopped runs keep their weights (sample, download). */
  stop(): void {
    this.stopRequested = true;
  }

  private async start(run: PlaygroundRun): Promise<void> {
    const config = resolveRunConfig(runConfigFor(run.selection), this.corpus.tokenizer.vocabSize);
    run.trainer = await Trainer.create({ config, corpus: this.corpus });
    run.status = 'training';
    run.evals.push(await run.trainer.evaluate());
    this.events.onUpdate?.(run);
  }

  /** One step of a run (and its evaluation when due); false when the run is finished. */
  private async step(run: PlaygroundRun): Promise<boolean> {
    const trainer = run.trainer!;
    const { steps, evalEvery } = trainer.config.train;
    if (trainer.step >= steps) return false;
    const rec = await trainer.trainStep();
    run.records.push(rec);
    run.trainMs += rec.stepMs;
    if ((evalEvery > 0 && trainer.step % evalEvery === 0) || trainer.step === steps) run.evals.push(await trainer.evaluate());
    if (trainer.step >= steps) run.status = 'done';
    this.events.onUpdate?.(run);
    return trainer.step < steps;
  }

  /**
   * Trains every queued run: one after another (`sequential`), or one step of
   * each in turn (`interleaved`, so the curves grow side by side).
   */
  async train(mode: 'sequential' | 'interleaved' = 'sequential'): Promise<void> {
    if (this.running) throw new Error('already training');
    this.running = true;
    this.stopRequested = false;
    const queue = this.runs.filter((r) => r.status === 'queued');
    const fail = (run: PlaygroundRun, e: unknown) => {
      run.status = 'failed';
      run.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      this.events.onUpdate?.(run);
    };
    try {
      if (mode === 'sequential') {
        for (const run of queue) {
          try {
            await this.start(run);
            while (!this.stopRequested && (await this.step(run))) await yieldToBrowser();
          } catch (e) {
            fail(run, e);
          }
          if (this.stopRequested) break;
        }
      } else {
        const active: PlaygroundRun[] = [];
        for (const run of queue) {
          try {
            await this.start(run);
            active.push(run);
          } catch (e) {
            fail(run, e);
          }
        }
        while (!this.stopRequested && active.length > 0) {
          for (const run of [...active]) {
            try {
              if (!(await this.step(run))) active.splice(active.indexOf(run), 1);
            } catch (e) {
              fail(run, e);
              active.splice(active.indexOf(run), 1);
            }
            await yieldToBrowser();
          }
        }
      }
    } finally {
      for (const run of this.runs) {
        if (run.status === 'training') {
          run.status = 'stopped';
          this.events.onUpdate?.(run);
        }
        if (run.status === 'queued' && this.stopRequested) this.events.onUpdate?.(run);
      }
      this.running = false;
    }
  }

  /** Samples text from a trained run (seeded, temperature 0.8, top-k 40). */
  async sample(run: PlaygroundRun, prompt: string, maxTokens = 200, seed = 0): Promise<string> {
    if (!run.trainer) throw new Error(`run ${run.id} (${run.label}) has not been trained`);
    const tok = this.corpus.tokenizer;
    const ids = await sampleTokens(run.trainer.model, tok.encode(prompt), { maxTokens, temperature: 0.8, topK: 40, seed });
    run.samplePrompt = prompt;
    run.sample = tok.decode(Int32Array.from(ids));
    this.events.onUpdate?.(run);
    return run.sample;
  }

  /** Logits `[T, V]` of the run's model on the first `T` tokens of the held-out text (what the tests compare with Node). */
  async probeLogits(run: PlaygroundRun, length?: number): Promise<{ ids: number[]; logits: Float32Array; shape: number[] }> {
    if (!run.trainer) throw new Error(`run ${run.id} (${run.label}) has not been trained`);
    const T = Math.min(length ?? run.trainer.config.model.seqLen, run.trainer.config.model.seqLen);
    const ids = Array.from(this.corpus.validation.subarray(0, T));
    const out = tf.tidy(() => run.trainer!.model.logits(tf.tensor2d(ids, [1, T], 'int32')));
    const logits = (await out.data()) as Float32Array;
    const shape = [...out.shape];
    out.dispose();
    return { ids, logits, shape };
  }

  /** Frees every run's tensors. */
  dispose(): void {
    for (const run of this.runs) run.trainer?.dispose();
  }
}
