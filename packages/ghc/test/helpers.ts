import * as tf from '@tensorflow/tfjs';
import { ParameterStore, createForwardContext, type BuildContext, type Model, type ModelDims, type StateLayout } from '@vwn/core';

/** Random `[B, T]` int32 token ids. */
export function tokenIds(B: number, T: number, V: number, seed = 1): tf.Tensor2D {
  return tf.randomUniform([B, T], 0, V, 'int32', seed) as tf.Tensor2D;
}

/** State after the embedding and after every layer, as nested arrays. */
export function statesOf(model: Model, ids: tf.Tensor2D): number[][][] {
  const ctx = createForwardContext(ids.shape[0], ids.shape[1], false);
  const { states } = model.forward(ids, ctx, { collectStates: true });
  const out = states.map((s) => s.arraySync() as number[][]);
  tf.dispose(states);
  return out;
}

/**
 * Gives every parameter matching `filter` a random value, so sublayers do visible work.
 * Gains, dynamic scales and the GHC matrices get noise around their current value
 * (std/2) instead, so reads stay well-conditioned.
 */
export function randomize(model: Model, filter: (name: string) => boolean, std = 0.3, seed = 7): void {
  model.params.list().forEach((p, i) => {
    if (!filter(p.name)) return;
    tf.tidy(() => {
      const noise = tf.randomNormal(p.variable.shape, 0, std, 'float32', seed * 1000 + i);
      const around = /(gain|scale_alpha|scale_beta|\.read|\.carry|\.write)$/.test(p.name);
      p.variable.assign(around ? tf.add(p.variable, tf.mul(noise, 0.5)) : noise);
    });
  });
}

/** Copies every parameter of `from` that `to` has under the same name (and `filter` accepts). */
export function copyParams(from: Model, to: Model, filter: (name: string) => boolean = () => true): string[] {
  const copied: string[] = [];
  for (const p of from.params.list()) {
    const q = to.params.get(p.name);
    if (!q || !filter(p.name)) continue;
    q.variable.assign(p.variable);
    copied.push(p.name);
  }
  return copied;
}

/** The parameters of the sublayers and their pre-norms (everything but embedding, connections and head). */
export const isSublayerParam = (name: string) => name.startsWith('layers.') && !name.includes('_connection.');

/** The first `cols` columns of every row. */
export const firstColumns = (rows: number[][], cols: number) => rows.map((r) => r.slice(0, cols));

/** A build context for creating one module directly (outside a model). */
export function buildContext(dims: Partial<ModelDims> & { dModel: number }, layout: StateLayout, siteIndex = 0): BuildContext {
  const full: ModelDims = { vocabSize: 7, layers: 1, heads: 1, seqLen: 4, ffnHidden: 4, ...dims };
  return {
    dims: full,
    params: new ParameterStore(0).scope('c'),
    layout,
    seed: 0,
    tieEmbeddings: false,
    site: { layer: Math.floor(siteIndex / 2), sublayer: siteIndex % 2 ? 'ffn' : 'mixer', index: siteIndex },
  };
}

/** Sets a parameter of a directly built module by its name under the `c` scope. */
export function setParam(ctx: BuildContext, name: string, values: number[] | number[][]): void {
  const p = ctx.params.store.get(`c.${name}`);
  if (!p) throw new Error(`no parameter c.${name}`);
  p.variable.assign(tf.tensor(values as number[], p.variable.shape));
}
