/**
 * Progress of a study whose runs go on at the same time (`--parallel`,
 * `--queue`): per-run state, a whole-study ETA from the FLOP rate observed
 * so far, a status line on the terminal and JSON events.
 *
 * @module
 */
import { formatDuration } from '../progress.js';
import { runFlops, type PlannedRun } from './runner.js';

/** State of one run as the coordinator sees it. */
export type RunState = 'pending' | 'queued' | 'active' | 'done' | 'skipped' | 'failed';

/**
 * One event of a concurrent study, as printed with `--json`.
 *
 * @example
 * ```ts
 * const e: StudyEvent = { type: 'run', kind: 'done', variant: 'baseline', seed: 0, index: 0, total: 4, worker: 'host-a:1234' };
 * ```
 */
export interface StudyEvent {
  readonly type: 'run' | 'progress' | 'queue-overhead';
  readonly kind?: 'queued' | 'start' | 'skip' | 'done' | 'failed' | 'retry';
  readonly variant?: string;
  readonly seed?: number;
  readonly index?: number;
  readonly total?: number;
  readonly [extra: string]: unknown;
}

interface Entry {
  readonly run: PlannedRun;
  state: RunState;
  step: number;
  startStep: number | null;
  loss: number | null;
  where: string;
}

/**
 * Tracks the runs of a study for the coordinator's terminal (or `--json`).
 *
 * @example
 * ```ts
 * const t = new StudyTracker(plannedRuns(manifest), { json: false });
 * t.set(0, 'active', { where: 'host-a' });
 * t.progress(0, 120, 2.31);
 * t.etaSeconds(); // seconds left for the whole study at the rate seen so far
 * ```
 */
export class StudyTracker {
  private readonly entries: Entry[];
  /** When the first progress arrived (the rate is measured from there, without process start-up). */
  private t0 = NaN;
  private lastLine = 0;
  private readonly tty: boolean;

  constructor(
    runs: readonly PlannedRun[],
    private readonly opts: { json: boolean; stream?: NodeJS.WriteStream; out?: NodeJS.WriteStream; plainEveryMs?: number },
  ) {
    this.entries = runs.map((run) => ({ run, state: 'pending', step: 0, startStep: null, loss: null, where: '' }));
    this.tty = !opts.json && Boolean((opts.stream ?? process.stderr).isTTY);
  }

  private get stream(): NodeJS.WriteStream {
    return this.opts.stream ?? process.stderr;
  }

  /** Writes a JSON event (with `--json`). */
  emit(event: StudyEvent): void {
    if (this.opts.json) (this.opts.out ?? process.stdout).write(JSON.stringify(event) + '\n');
  }

  private base(i: number) {
    const r = this.entries[i]!.run;
    return { variant: r.variant.name, seed: r.seed, index: r.index, total: this.entries.length };
  }

  /** Changes a run's state and prints/emits it; `extra` lands in the JSON event. */
  set(i: number, state: RunState, extra: Record<string, unknown> = {}): void {
    const e = this.entries[i]!;
    const prev = e.state;
    e.state = state;
    if (typeof extra['where'] === 'string') e.where = extra['where'];
    if (state === 'done' || state === 'skipped') e.step = e.run.variant.config.train.steps;
    const kind = (
      { queued: 'queued', active: prev === 'failed' ? 'retry' : 'start', done: 'done', skipped: 'skip', failed: 'failed', pending: undefined } as const
    )[state];
    if (!kind) return;
    this.emit({ type: 'run', kind, ...this.base(i), ...extra });
    if (!this.opts.json && state !== 'queued') {
      const label = `${e.run.variant.name} seed ${e.run.seed}`;
      const msg = {
        active: `started${e.where ? ` on ${e.where}` : ''}`,
        done: `done${e.where ? ` (${e.where})` : ''}`,
        skipped: 'already finished, skipped',
        failed: `failed: ${String(extra['error'] ?? '')}`,
      }[state as 'active' | 'done' | 'skipped' | 'failed'];
      this.clearLine();
      this.stream.write(`[${this.count('done', 'skipped')}/${this.entries.length}] ${label}: ${msg}\n`);
    }
  }

  /** A run reached `step` (loss of that step). */
  progress(i: number, step: number, loss: number | null): void {
    const e = this.entries[i]!;
    if (Number.isNaN(this.t0)) this.t0 = Date.now();
    if (e.startStep === null) e.startStep = step;
    if (step < e.step) e.startStep = Math.min(e.startStep, step); // restarted from a checkpoint
    e.step = step;
    e.loss = loss;
    e.state = e.state === 'done' ? 'done' : 'active';
    this.emit({ type: 'progress', ...this.base(i), step, steps: e.run.variant.config.train.steps, loss, etaSeconds: this.etaSeconds() });
    this.line();
  }

  /** Runs in one of the given states. */
  count(...states: RunState[]): number {
    return this.entries.filter((e) => states.includes(e.state)).length;
  }

  /** The run's state. */
  state(i: number): RunState {
    return this.entries[i]!.state;
  }

  /** Seconds left for the whole study at the FLOP rate observed since this tracker started (NaN before any progress). */
  etaSeconds(): number {
    let doneFlops = 0;
    let leftFlops = 0;
    for (const e of this.entries) {
      const v = e.run.variant;
      if (e.state === 'skipped') continue;
      if (e.startStep !== null) doneFlops += runFlops(v, Math.max(0, e.step - e.startStep));
      if (e.state !== 'done') leftFlops += runFlops(v, v.config.train.steps - e.step);
    }
    const seconds = (Date.now() - this.t0) / 1000;
    return doneFlops > 0 && seconds > 0 ? (leftFlops / doneFlops) * seconds : NaN;
  }

  private clearLine(): void {
    if (this.tty) this.stream.write('\r\x1b[2K');
  }

  /** The status line: finished count, active runs with step and loss, ETA. */
  line(force = false): void {
    if (this.opts.json) return;
    const now = Date.now();
    if (!this.tty && !force && now - this.lastLine < (this.opts.plainEveryMs ?? 5000)) return;
    if (this.tty && !force && now - this.lastLine < 100) return;
    this.lastLine = now;
    const active = this.entries
      .filter((e) => e.state === 'active')
      .map((e) => `${e.run.variant.name}/s${e.run.seed} ${e.step}/${e.run.variant.config.train.steps}${e.loss !== null ? ` ${e.loss.toFixed(3)}` : ''}`);
    const queued = this.count('queued', 'pending');
    const text = `[${this.count('done', 'skipped')}/${this.entries.length} done${queued ? `, ${queued} waiting` : ''}] ${active.join(' | ')}  ETA ${formatDuration(this.etaSeconds())}`;
    if (this.tty) this.stream.write(`\r\x1b[2K${text.slice(0, (this.stream.columns ?? 160) - 1)}`);
    else this.stream.write(text + '\n');
  }

  /** Ends the status line. */
  finish(): void {
    if (this.tty) this.stream.write('\n');
  }
}
