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
    const scale = Math.max(
      opts.minScale ?? 0.05,
      tf.tidy(() => tf.sqrt(tf.mean(tf.square(v))).dataSync()[0]!),
    );
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

/**
 * Numbers as tests compare them: a flat array (`number[]`, `Float32Array`,
 * `tensor.dataSync()`) or nested arrays (`tensor.arraySync()`).
 *
 * @example
 * ```ts
 * const a: NumericArray = [[1, 2], [3, 4]];
 * const b: NumericArray = new Float32Array([1, 2, 3, 4]);
 * ```
 */
export type NumericArray = ArrayLike<number> | ReadonlyArray<NumericArray>;

function flatten(a: NumericArray): ArrayLike<number> {
  if (!Array.isArray(a) || a.every((v) => typeof v === 'number')) return a as ArrayLike<number>;
  return (a as ReadonlyArray<NumericArray>).flatMap((v) => Array.from(flatten(v)));
}

function pair(a: NumericArray, b: NumericArray, what: string): [ArrayLike<number>, ArrayLike<number>] {
  const fa = flatten(a);
  const fb = flatten(b);
  if (fa.length !== fb.length) throw new Error(`${what}: ${fa.length} values vs ${fb.length}`);
  return [fa, fb];
}

/**
 * `max |a − b|` over two arrays of the same size (flat or nested, compared
 * in row-major order); throws when the sizes differ.
 *
 * @example
 * ```ts
 * maxAbsDiff([[1, 2], [3, 4]], [[1, 2], [3, 4.5]]); // 0.5
 * maxAbsDiff(got.dataSync(), want.dataSync()) < 1e-6;
 * ```
 */
export function maxAbsDiff(a: NumericArray, b: NumericArray): number {
  const [fa, fb] = pair(a, b, 'maxAbsDiff');
  let d = 0;
  for (let i = 0; i < fa.length; i++) d = Math.max(d, Math.abs((fa[i] as number) - (fb[i] as number)));
  return d;
}

/**
 * `‖a − b‖∞ / max(‖b‖∞, 1e-6)`: the error relative to the largest value of
 * the reference `b` (so entries near 0 do not blow it up), as the
 * fused-kernel tests bound it.
 *
 * @example
 * ```ts
 * relativeError([1, 2.001], [1, 2]); // 0.0005
 * ```
 */
export function relativeError(a: NumericArray, b: NumericArray): number {
  const [fa, fb] = pair(a, b, 'relativeError');
  let scale = 1e-6;
  for (let i = 0; i < fb.length; i++) scale = Math.max(scale, Math.abs(fb[i] as number));
  return maxAbsDiff(fa, fb) / scale;
}

/**
 * Deterministic pseudo-random floats in `[-scale, scale)` from a 32-bit LCG,
 * independent of tfjs's RNG, so every backend (and a kernel's reference)
 * sees the same inputs.
 *
 * @example
 * ```ts
 * const x = tf.tensor2d(randomValues(6, 1), [2, 3]); // same values on cpu, wasm and webgpu
 * ```
 */
export function randomValues(size: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}
