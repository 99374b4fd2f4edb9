import * as tf from '@tensorflow/tfjs';
import { ParameterStore, type ModelDims } from '@vwn/core';
import { moeFeedForward, type MoeConfig, type MoeModule, type SwigluWeights } from '@vwn/moe';

/** Builds a standalone MoE FFN (its own parameter store) from a partial config. */
export function buildMoe(
  dims: Partial<ModelDims> & { dModel: number },
  raw: Partial<MoeConfig>,
  seed = 1,
): { ffn: MoeModule; store: ParameterStore; config: MoeConfig } {
  const full: ModelDims = { vocabSize: 16, layers: 2, heads: 1, seqLen: 8, ffnHidden: 16, ...dims };
  const config = moeFeedForward.parseConfig({ use: 'moe', ...raw }, 'ffn', full);
  const store = new ParameterStore(seed);
  const layout = { m: 1, n: 1, segmentWidth: full.dModel, width: full.dModel };
  const ffn = moeFeedForward.create(config, { dims: full, params: store.scope('ffn'), layout, seed, tieEmbeddings: false }) as MoeModule;
  return { ffn, store, config };
}

/** Replaces every parameter by N(0, std²) so gradients are well above float32 noise. */
export function perturb(store: ParameterStore, std: number, seed = 7): void {
  store.list().forEach((p, i) => tf.tidy(() => p.variable.assign(tf.randomNormal(p.variable.shape, 0, std, 'float32', seed + i))));
}

function swiglu(x: tf.Tensor2D, w: SwigluWeights): tf.Tensor2D {
  const h = tf.mul(tf.mul(tf.matMul(x, w.w1), tf.sigmoid(tf.matMul(x, w.w1))), tf.matMul(x, w.w3));
  return tf.matMul(h as tf.Tensor2D, w.w2);
}

/**
 * Naive dense reference: every expert on every token, masked by the routing.
 * `keep: [N, E]` 0/1 says which (token, expert) pairs were selected and kept;
 * `selected: [N, E]` 0/1 which were selected (for renormalization).
 */
export function denseReference(ffn: MoeModule, x: tf.Tensor2D, selected: tf.Tensor2D, keep: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const probs = tf.softmax(tf.matMul(x, ffn.router)); // [N, E]
    let gates = tf.mul(probs, selected);
    if (ffn.config.renormalize) gates = tf.div(gates, tf.sum(gates, 1, true));
    gates = tf.mul(gates, keep);
    let y: tf.Tensor2D = tf.zeros([x.shape[0], x.shape[1]]);
    ffn.experts.forEach((w, e) => {
      y = tf.add(y, tf.mul(swiglu(x, w), tf.slice(gates, [0, e], [-1, 1])));
    });
    if (ffn.shared) y = tf.add(y, swiglu(x, ffn.shared));
    return y;
  });
}

/** Top-k 0/1 mask of the routing probabilities, computed independently of the plugin (tf.topk). */
export function topKMask(ffn: MoeModule, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const probs = tf.softmax(tf.matMul(x, ffn.router));
    const { indices } = tf.topk(probs, ffn.config.topK);
    return tf.minimum(tf.sum(tf.oneHot(indices, ffn.config.experts), 1), 1) as tf.Tensor2D;
  });
}
