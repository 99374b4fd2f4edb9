/**
 * SIGINT (Ctrl-C) and SIGTERM (`timeout`, Docker, Kubernetes, Slurm) handling
 * shared by `vwn train` and `vwn ablate`: the first signal asks the run to
 * stop after the current step and write a checkpoint; a second one exits at
 * once. The command then exits 130 (SIGINT) or 143 (SIGTERM).
 *
 * @example
 * ```ts
 * const signals = onStopSignals(() => trainer.requestStop(), 'saving a checkpoint after this step');
 * try { await trainer.run(); } finally { signals.dispose(); }
 * return signals.received ? signals.exitCode() : 0;
 * ```
 */
export interface StopSignals {
  /** The first stop signal received, or null. */
  readonly received: NodeJS.Signals | null;
  /** 130 after SIGINT, 143 after SIGTERM (128 + signal number), 0 when none came. */
  exitCode(): number;
  /** Removes the handlers. */
  dispose(): void;
}

const CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Installs the handlers; `onStop` runs once, at the first SIGINT or SIGTERM.
 *
 * @example
 * ```ts
 * const signals = onStopSignals(() => (stop = true), 'checkpointing; rerun the same command to resume');
 * ```
 */
export function onStopSignals(onStop: (signal: NodeJS.Signals) => void, what: string, stream: NodeJS.WritableStream = process.stderr): StopSignals {
  let received: NodeJS.Signals | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      stream.write(`\n${signal} again: exiting without a checkpoint\n`);
      process.exit(CODES[signal] ?? 1);
    }
    received = signal;
    stream.write(`\n${signal === 'SIGINT' ? 'interrupted' : 'terminated'} (${signal}): ${what} (send it again to abort)\n`);
    onStop(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get received() {
      return received;
    },
    exitCode: () => (received ? CODES[received]! : 0),
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
