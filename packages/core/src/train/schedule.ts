/** Learning-rate schedule settings. */
export interface ScheduleConfig {
  /** Peak learning rate. */
  readonly lr: number;
  /** Final learning rate of the cosine schedule. */
  readonly minLr: number;
  /** Linear warm-up steps from 0 to `lr`. */
  readonly warmupSteps: number;
  /** `cosine` decays to `minLr` at `totalSteps`; `constant` stays at `lr`. */
  readonly schedule: 'cosine' | 'constant';
  /** Total optimizer steps of the run. */
  readonly totalSteps: number;
}

/**
 * Learning rate at optimizer step `step` (0-based): linear warm-up, then
 * cosine decay to `minLr` or constant.
 *
 * @example
 * ```ts
 * learningRate({ lr: 1e-3, minLr: 1e-4, warmupSteps: 10, schedule: 'cosine', totalSteps: 100 }, 4); // 5e-4
 * ```
 */
export function learningRate(cfg: ScheduleConfig, step: number): number {
  if (step < cfg.warmupSteps) return (cfg.lr * (step + 1)) / cfg.warmupSteps;
  if (cfg.schedule === 'constant') return cfg.lr;
  const span = Math.max(1, cfg.totalSteps - cfg.warmupSteps);
  const progress = Math.min(1, (step - cfg.warmupSteps) / span);
  return cfg.minLr + 0.5 * (cfg.lr - cfg.minLr) * (1 + Math.cos(Math.PI * progress));
}
