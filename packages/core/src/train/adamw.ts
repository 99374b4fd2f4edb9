import * as tf from '@tensorflow/tfjs';
import { getFusedOps } from '../fused.js';
import { sumTensors } from '../nn.js';
import type { Parameter } from '../params.js';

/**
 * Fused optimizer ops a backend package may offer under the fused-ops name
 * `'adamw'` (the WebGPU kernel package does for `webgpu`); {@link AdamW.apply} and
 * {@link globalGradNorm} use them when registered for the active backend.
 *
 * @example
 * ```ts
 * registerFusedOps('adamw', { fusedAdamW, fusedGlobalNorm } satisfies FusedAdamWOps, ['webgpu']);
 * ```
 */
export interface FusedAdamWOps {
  fusedAdamW(
    entries: ReadonlyArray<{ param: tf.Variable; m: tf.Variable; v: tf.Variable; grad: tf.Tensor; decay: boolean }>,
    hp: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number; gradScale: number },
  ): void;
  fusedGlobalNorm(grads: readonly tf.Tensor[]): tf.Scalar;
}

/**
 * Global L2 norm of a list of gradients, `sqrt(Σ ‖g‖²)` (fused on backends
 * that register `'adamw'` ops).
 *
 * @example
 * ```ts
 * const norm = globalGradNorm([...grads.values()]); // tf.Scalar, still on the device
 * ```
 */
export function globalGradNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  const fused = getFusedOps('adamw');
  if (fused) return fused.fusedGlobalNorm(grads);
  return tf.tidy(() => tf.sqrt(sumTensors(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/**
 * AdamW hyper-parameters (PAPER.md §8 defaults: β = 0.9, 0.95; wd 0.1).
 *
 * @example
 * ```ts
 * const cfg: AdamWConfig = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
 * const opt = new AdamW(model.params.list(), cfg);
 * ```
 */
export interface AdamWConfig {
  /**
   * First-moment decay β₁ (PAPER.md §8).
   *
   * @defaultValue `0.9` (`TrainConfig.beta1`, which {@link Trainer.create} passes in)
   */
  readonly beta1: number;
  /**
   * Second-moment decay β₂ (PAPER.md §8).
   *
   * @defaultValue `0.95` (`TrainConfig.beta2`)
   */
  readonly beta2: number;
  /**
   * ε added to √v̂ in the denominator.
   *
   * @defaultValue `1e-8` (`TrainConfig.eps`)
   */
  readonly eps: number;
  /**
   * Decoupled weight decay, applied only to parameters whose `decay` flag is set.
   *
   * @defaultValue `0.1` (`TrainConfig.weightDecay`, PAPER.md §8)
   */
  readonly weightDecay: number;
}

/**
 * AdamW with decoupled weight decay and no-decay parameter groups:
 * `p ← p − lr·(m̂/(√v̂ + ε) + wd·p)` with bias-corrected moments; parameters
 * created with `decay: false` (norm gains, GHC static matrices) skip the `wd·p` term.
 *
 * @example
 * ```ts
 * const opt = new AdamW(model.params.list(), { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
 * opt.apply(gradsByName, 3e-4);
 * ```
 */
export class AdamW {
  /** Number of updates applied so far. */
  step = 0;
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();

  constructor(
    readonly params: readonly Parameter[],
    readonly config: AdamWConfig,
  ) {
    for (const p of params) {
      this.m.set(p.name, tf.variable(tf.zerosLike(p.variable), false));
      this.v.set(p.name, tf.variable(tf.zerosLike(p.variable), false));
    }
  }

  /**
   * Applies one update with learning rate `lr`; `grads` is keyed by parameter
   * name and multiplied by `gradScale` first (global-norm clipping).
   */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number, gradScale = 1): void {
    this.step += 1;
    const { beta1, beta2, eps, weightDecay } = this.config;
    const fused = getFusedOps('adamw');
    if (fused) {
      const entries = this.params.flatMap((p) => {
        const grad = grads.get(p.name);
        return grad ? [{ param: p.variable, m: this.m.get(p.name)!, v: this.v.get(p.name)!, grad, decay: p.decay && weightDecay > 0 }] : [];
      });
      fused.fusedAdamW(entries, { lr, beta1, beta2, eps, weightDecay, step: this.step, gradScale });
      return;
    }
    const c1 = 1 - Math.pow(beta1, this.step);
    const c2 = 1 - Math.pow(beta2, this.step);
    tf.tidy(() => {
      for (const p of this.params) {
        let g = grads.get(p.name);
        if (!g) continue; // parameter unused by this loss (e.g. an objective turned off)
        if (gradScale !== 1) g = tf.mul(g, gradScale);
        const m = this.m.get(p.name)!;
        const v = this.v.get(p.name)!;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        let update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        if (p.decay && weightDecay > 0) update = tf.add(update, tf.mul(p.variable, weightDecay));
        p.variable.assign(tf.sub(p.variable, tf.mul(update, lr)));
      }
    });
  }

  /** Frees the moment buffers. */
  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
