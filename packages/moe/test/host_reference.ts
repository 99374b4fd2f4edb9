/**
 * The MoE forward as it was before routing moved to the device (host-side
 * top-k from the logits read back with `dataSync`, `routeTokens` plan,
 * float64 statistics), kept as the reference the device path must match.
 */
import * as tf from '@tensorflow/tfjs';
import { linear, silu, type ForwardContext } from '@vwn/core';
import { layerStats, routeTokens, type MoeLayerStats, type MoeModule, type RoutingPlan, type SwigluWeights } from '@vwn/moe';

function swiglu(x: tf.Tensor2D, w: SwigluWeights): tf.Tensor2D {
  return linear(tf.mul(silu(linear(x, w.w1)), linear(x, w.w3)), w.w2);
}

/** Host-routed forward of `ffn`'s weights; aux losses go to `ctx` as before, statistics are returned. */
export function hostRoutedForward(ffn: MoeModule, x: tf.Tensor2D, ctx: ForwardContext): { y: tf.Tensor2D; plan: RoutingPlan; stats: MoeLayerStats } {
  const { experts: E, topK: k, capacityFactor } = ffn.config;
  const D = x.shape[1];
  let plan: RoutingPlan | null = null;
  let stats: MoeLayerStats | null = null;
  const y = tf.tidy(() => {
    const logits = linear(x, ffn.router);
    const logitValues = logits.dataSync();
    plan = routeTokens(logitValues, E, k, capacityFactor);
    const probs = tf.softmax(logits);
    let out = dispatch(x, probs, plan);
    if (ffn.shared) out = tf.add(out, swiglu(x, ffn.shared));
    stats = layerStats(logitValues, plan, -1);
    if (!ctx.training) return out;
    if (ffn.config.balanceLossWeight > 0) {
      const f = tf.tensor1d(plan.routedCounts.map((c) => c / (plan!.tokens * k)));
      ctx.addAuxLoss('moe_balance_loss', tf.mul(ffn.config.balanceLossWeight * E, tf.sum(tf.mul(f, tf.mean(probs, 0)))));
    }
    if (ffn.config.zLossWeight > 0) {
      ctx.addAuxLoss('moe_z_loss', tf.mul(ffn.config.zLossWeight, tf.mean(tf.square(tf.logSumExp(logits, 1)))));
    }
    return out;
  });
  return { y, plan: plan!, stats: stats! };

  function dispatch(x: tf.Tensor2D, probs: tf.Tensor2D, plan: RoutingPlan): tf.Tensor2D {
    const N = plan.tokens;
    const S = plan.keptSlots.length;
    if (S === 0) return tf.zeros([N, D]);
    const selectedFlat = new Int32Array(N * k);
    for (let s = 0; s < N * k; s++) selectedFlat[s] = Math.floor(s / k) * E + plan.selected[s]!;
    let gates = tf.gather(tf.reshape(probs, [N * E]), tf.tensor1d(selectedFlat, 'int32')).reshape([N, k]);
    if (ffn.config.renormalize) gates = tf.div(gates, tf.sum(gates, 1, true));
    const slotGates = tf.gather(tf.reshape(gates, [N * k]), tf.tensor1d(plan.keptSlots, 'int32'));
    const xs = tf.gather(x, tf.tensor1d(plan.keptTokens, 'int32')) as tf.Tensor2D;
    const active = plan.expertCounts.flatMap((c, e) => (c > 0 ? [e] : []));
    const pieces =
      active.length === 1
        ? [xs]
        : tf.split(
            xs,
            active.map((e) => plan.expertCounts[e]!),
            0,
          );
    const ys = active.map((e, i) => swiglu(pieces[i] as tf.Tensor2D, ffn.experts[e]!));
    let weighted = tf.mul(ys.length === 1 ? ys[0]! : tf.concat(ys, 0), tf.expandDims(slotGates, 1));
    const back = new Int32Array(k * N).fill(S);
    plan.keptSlots.forEach((slot, row) => (back[(slot % k) * N + Math.floor(slot / k)] = row));
    if (plan.dropped > 0) weighted = tf.concat([weighted, tf.zeros([1, D])], 0);
    const perSlot = tf.gather(weighted, tf.tensor1d(back, 'int32'));
    return (k === 1 ? perSlot : tf.sum(tf.reshape(perSlot, [k, N * D]), 0).reshape([N, D])) as tf.Tensor2D;
  }
}
