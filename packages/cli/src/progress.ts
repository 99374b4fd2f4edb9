/**
 * A one-line progress display: a bar with loss, tokens/s and ETA on a TTY,
 * plain periodic lines otherwise (logs, CI).
 *
 * @example
 * ```ts
 * const bar = new Progress('train', 600);
 * bar.update(150, { loss: '2.314', 'tok/s': '5,120' }, 93);
 * // not a TTY: 'train 150/600 (25%)  loss 2.314  tok/s 5,120  ETA 1m33s'
 * bar.finish('done');
 * ```
 */
export class Progress {
  private lastPlain = 0;
  private readonly tty: boolean;
  /**
   * @param label shown first on every line (e.g. `train`)
   * @param total the count that means done (e.g. optimizer steps)
   * @param stream where to write (default `process.stderr`); a TTY gets the redrawn bar
   * @param plainEveryMs on a non-TTY, the least time between two plain lines (default 5000)
   */
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly plainEveryMs = 5000,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** Shows `done` of `total` with extra fields (already formatted). */
  update(done: number, fields: Record<string, string>, etaSeconds: number): void {
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const info = Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join('  ');
    const eta = `ETA ${formatDuration(etaSeconds)}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round(frac * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.stream.write(`\r\x1b[2K${this.label} ${bar} ${done}/${this.total}  ${info}  ${eta}`);
    } else {
      const now = Date.now();
      if (now - this.lastPlain >= this.plainEveryMs || done === this.total) {
        this.lastPlain = now;
        this.stream.write(`${this.label} ${done}/${this.total} (${(frac * 100).toFixed(0)}%)  ${info}  ${eta}\n`);
      }
    }
  }

  /** Ends the line. */
  finish(message?: string): void {
    if (this.tty) this.stream.write('\n');
    if (message) this.stream.write(message + '\n');
  }
}

/**
 * `93` → `1m33s`.
 *
 * @example
 * ```ts
 * formatDuration(45);   // '45s'
 * formatDuration(93);   // '1m33s'
 * formatDuration(3700); // '1h01m'
 * formatDuration(NaN);  // '?'
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
