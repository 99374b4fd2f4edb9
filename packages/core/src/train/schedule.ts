/**
 * Learning-rate schedule settings.
 *
 * @example
 * ```ts
 * const cfg: ScheduleConfig = { lr: 3e-3, minLr: 3e-4, warmupSteps: 40, schedule: 'cosine', totalSteps: 600 };
 * learningRate(cfg, 39);  // 3e-3 (end of warm-up)
 * learningRate(cfg, 599); // ≈ 3e-4
 * ```
 */
export interface ScheduleConfig {
  /**
   * Peak learning rate.
   *
   * @defaultValue `1e-3` (`TrainConfig.lr`; the trainer passes its train config)
   */
  readonly lr: number;
  /**
   * Final learning rate of the cosine schedule.
   *
   * @defaultValue `lr / 10` (`TrainConfig.minLr`)
   */
  readonly minLr: number;
  /**
   * Linear warm-up steps from 0 to `lr`.
   *
   * @defaultValue `min(100, floor(steps / 10))` (`TrainConfig.warmupSteps`)
   */
  readonly warmupSteps: number;
  /**
   * `cosine` decays to `minLr` at `totalSteps`; `constant` stays at `lr`.
   *
   * @defaultValue `'cosine'` (`TrainConfig.schedule`, PAPER.md §8)
   */
  readonly schedule: 'cosine' | 'constant';
  /**
   * Total optimizer steps of the run.
   *
   * @defaultValue `TrainConfig.steps` (1000)
   */
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
