/**
 * Top-k routing on the device: the same decisions as {@link routeTokens}
 * (descending score, ties to the lower expert, capacity offered rank-major,
 * token-minor), computed with tensor ops so that nothing is read back to the
 * host — the path that lets `ffn: moe` run on webgpu.
 *
 * Every shape is static: an expert holds at most `capacity` slots, so the
 * dispatch buffer has `E·C` rows (expert `e` owns rows `e·C … e·C + C − 1`)
 * and a slot that finds its expert full (or belongs to a masked position)
 * points at the row `E·C`, a sentinel no expert writes.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The routing tensors of one MoE layer for one forward pass, all computed on
 * the device (`N` tokens, `E` experts, `k` slots per token; slots are
 * ordered rank-major: slot `r·N + t` is token `t`'s `r`-th choice).
 *
 * @example
 * ```ts
 * const routing = routeOnDevice(logits, { topK: 2, capacity: 640 }); // logits: [2048, 8]
 * routing.slotRow.shape; // [4096]: buffer row of every slot, 8·640 for a dropped one
 * ```
 */
export interface DeviceRouting {
  /** `[N, k]` int32: the experts of each token, best first (ties to the lower index). */
  readonly selected: tf.Tensor2D;
  /** `[k·N]` float32: expert of every slot, rank-major. */
  readonly slotExpert: tf.Tensor1D;
  /** `[k·N]` float32: the slot's place in its expert's queue (acceptance order; counts kept and dropped slots). */
  readonly position: tf.Tensor1D;
  /** `[k·N]` float32: 1 where the slot was routed and kept (valid position, within capacity). */
  readonly kept: tf.Tensor1D;
  /** `[E]` float32: slots of valid positions the router sent to each expert (before capacity). */
  readonly routedCounts: tf.Tensor1D;
  /** `[E]` float32: kept slots per expert, `min(routedCounts, capacity)`. */
  readonly keptCounts: tf.Tensor1D;
}

/**
 * Routes `N` tokens from their router logits `[N, E]` on the device.
 *
 * `capacity` is the most slots one expert keeps (`Infinity`: dropless).
 * `valid` (`[N]`, 0/1), when given, marks the positions that take part:
 * a masked position is routed to nothing, takes no capacity slot, and is
 * left out of `routedCounts`.
 *
 * No gradient flows through the result (selection is discrete); gates are
 * gathered from the router probabilities with `selected` by the caller.
 *
 * @example
 * ```ts
 * const r = routeOnDevice(tf.tensor2d([[0.6, 0.3, 0.1], [0.5, 0.1, 0.4]]), { topK: 1, capacity: 1 });
 * r.kept.arraySync();         // [1, 0]: token 1's first choice found expert 0 full
 * r.routedCounts.arraySync(); // [2, 0, 0]
 * ```
 */
export function routeOnDevice(
  logits: tf.Tensor2D,
  opts: { readonly topK: number; readonly capacity: number; readonly valid?: tf.Tensor1D | undefined },
): DeviceRouting {
  const [N, E] = logits.shape;
  const k = opts.topK;
  const S = k * N;
  const packed = detached(() => {
    const selected = tf.topk(logits, k).indices; // [N, k], ties → lower index (cpu, wasm, webgpu)
    const slotExpert = tf.reshape(tf.transpose(selected), [S]); // rank-major
    // One-hot by comparison (tfjs-wasm's OneHot returns zeros for a float32 result).
    let assign = tf.cast(tf.equal(tf.expandDims(slotExpert, 1), tf.range(0, E, 1, 'int32')), 'float32'); // [k·N, E]
    let validSlot: tf.Tensor | null = null;
    if (opts.valid) {
      validSlot = tf.tile(tf.cast(opts.valid, 'float32'), [k]); // [k·N]
      assign = tf.mul(assign, tf.expandDims(validSlot, 1));
    }
    // Place in the expert's queue: routed slots before this one, rank-major, token-minor.
    const position = tf.sum(tf.mul(tf.cumsum(assign, 0, true), assign), 1); // [k·N]
    let kept = Number.isFinite(opts.capacity) ? tf.cast(tf.less(position, opts.capacity), 'float32') : tf.onesLike(position);
    if (validSlot) kept = tf.mul(kept, validSlot);
    const routedCounts = tf.sum(assign, 0); // [E]
    const keptCounts = tf.sum(tf.mul(assign, tf.expandDims(kept, 1)), 0); // [E]
    return tf.concat([tf.cast(slotExpert, 'float32'), position, kept, routedCounts, keptCounts]);
  });
  const [slotExpert, position, kept, routedCounts, keptCounts] = tf.split(packed, [S, S, S, E, E]) as tf.Tensor1D[];
  const selected = tf.cast(tf.transpose(tf.reshape(slotExpert!, [k, N])), 'int32') as tf.Tensor2D;
  return { selected, slotExpert: slotExpert!, position: position!, kept: kept!, routedCounts: routedCounts!, keptCounts: keptCounts! };
}

/**
 * Where every slot goes in the expert buffer of `rows` rows, and what fills
 * each row. `start` (`[E]`) is the first row of each expert: `e·C` for the
 * static buffer, or the running sum of kept counts for one sized to them.
 *
 * @returns `slotRow` (`[k·N]` int32): `start[e] + position` for a kept slot,
 * any valid row for a dropped one (its gate is zeroed by `kept`);
 * `rowToken` (`[rows]` int32): the token of each row (0 for an unused row,
 * which is never combined).
 * @example
 * ```ts
 * const { slotRow, rowToken } = slotRows(routing, tf.range(0, E).mul(C), E * C); // static [E·C, D] buffer
 * ```
 */
export function slotRows(routing: DeviceRouting, start: tf.Tensor1D, rows: number): { slotRow: tf.Tensor1D; rowToken: tf.Tensor1D } {
  const S = routing.kept.shape[0];
  const N = routing.selected.shape[0];
  const k = S / N;
  const packed = detached(() => {
    const row = tf.add(tf.gather(start, tf.cast(routing.slotExpert, 'int32')), routing.position);
    const kept = tf.cast(routing.kept, 'bool');
    // Token of each buffer row: each row holds at most one slot; dropped slots go to segment `rows`, cut off.
    const slotToken = tf.tile(tf.range(0, N, 1, 'float32'), [k]);
    const segment = tf.cast(tf.where(kept, row, tf.fill([S], rows)), 'int32');
    const rowToken = tf.slice(tf.unsortedSegmentSum(slotToken, segment as tf.Tensor1D, rows + 1), [0], [rows]);
    return tf.concat([tf.minimum(tf.where(kept, row, tf.zerosLike(row)), rows - 1), rowToken]);
  });
  const [slotRow, rowToken] = tf.split(tf.cast(packed, 'int32'), [S, rows]) as tf.Tensor1D[];
  return { slotRow: slotRow!, rowToken: rowToken! };
}

/**
 * `f()` computed outside the gradient tape: the result is recorded as the
 * output of an op with no inputs, so no gradient path runs through it (tfjs
 * has none for `TopK`, and a gather or segment sum whose indices lie on a
 * gradient path fails in backprop). `f` must not need any gradient.
 */
function detached(f: () => tf.Tensor): tf.Tensor {
  return tf.customGrad(() => ({ value: f(), gradFunc: () => [] }))();
}
