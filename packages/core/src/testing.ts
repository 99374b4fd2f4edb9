import * as tf from '@tensorflow/tfjs';
import { hash32 } from './rng.js';

/**
 * Result of a directional finite-difference check for one variable.
 *
 * @example
 * ```ts
 * const w = tf.variable(tf.randomNormal([4, 4]));
 * const [check]: GradientCheck[] = checkGradients(() => tf.sum(tf.square(w)) as tf.Scalar, [w]);
 * check!.relError < 1e-2; // true: ⟨2w, u⟩ matches the central difference
 * ```
 */
export interface GradientCheck {
  readonly name: string;
  /** ⟨∇L, u⟩ from autodiff. */
  readonly analytic: number;
  /** (L(p + εu) − L(p − εu)) / 2ε. */
  readonly numeric: number;
  /** |analytic − numeric| / max(|analytic|, |numeric|, floor). */
  readonly relError: number;
}

/**
 * Checks autodiff gradients against central finite differences along a random
 * direction `u` per variable (seeded, with the RMS of the variable itself, at
 * least `minScale`, so the step stays small relative to the values). Robust in
 * float32, and it exercises every entry of the gradient at once. Restores
 * every variable.
 *
 * @param loss a pure function of the variables' current values
 * @example
 * ```ts
 * const loss = () => {
 *   const { total, terms, metrics } = model.loss(rows, { training: true });
 *   tf.dispose([...Object.values(terms), ...Object.values(metrics)]); // keep only the total
 *   return total;
 * };
 * const checks = checkGradients(loss, [w]);
 * expect(checks[0].relError).toBeLessThan(1e-2);
 * ```
 */
export function checkGradients(
  loss: () => tf.Scalar,
  variables: readonly tf.Variable[],
  opts: { eps?: number; seed?: number; floor?: number; minScale?: number } = {},
): GradientCheck[] {
  const eps = opts.eps ?? 1e-2;
  const floor = opts.floor ?? 1e-4;
  const { grads } = tf.variableGrads(loss, [...variables]);
  const out: GradientCheck[] = [];
  for (const [i, v] of variables.entries()) {
    const g = grads[v.name];
    const scale = Math.max(opts.minScale ?? 0.05, tf.tidy(() => tf.sqrt(tf.mean(tf.square(v))).dataSync()[0]!));
    const u = tf.randomNormal(v.shape, 0, scale, 'float32', hash32(opts.seed ?? 0, i) || 1); // tfjs treats seed 0 as unseeded
    const analytic = g ? tf.tidy(() => tf.sum(tf.mul(g, u)).dataSync()[0]!) : 0;
    const original = tf.clone(v);
    const at = (sign: number) => {
      tf.tidy(() => v.assign(tf.add(original, tf.mul(u, sign * eps))));
      return tf.tidy(() => loss().dataSync()[0]!);
    };
    const numeric = (at(1) - at(-1)) / (2 * eps);
    tf.tidy(() => v.assign(original));
    tf.dispose([u, original]);
    const relError = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), floor);
    out.push({ name: v.name, analytic, numeric, relError });
  }
  tf.dispose(Object.values(grads));
  return out;
}
