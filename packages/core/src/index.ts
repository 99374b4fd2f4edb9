/**
 * @vwn/core: plugin interfaces (specification v1), registry and model
 * assembly, the baseline Transformer plugins, trainer, data, checkpoints and
 * backends for Virtual Width Networks on TensorFlow.js.
 *
 * This entry imports no Node built-in and runs in a browser: checkpoints are
 * bytes, metrics are events (or a {@link RunStore}). Files (checkpoint files,
 * run directories, corpus files, locks) are in `@vwn/core/node`.
 *
 * @packageDocumentation
 */
import './kernels/register_all.js';
import './plugins/register_builtin.js';

export * from './plugin.js';
export * from './errors.js';
export { ConfigReader, describe } from './validate.js';
export * from './registry.js';
export * from './params.js';
export * from './nn.js';
export * from './model.js';
export * from './run_config.js';
export * from './backend.js';
export * from './rng.js';
export * from './generate.js';
export * from './data/tokenizer.js';
export * from './data/corpus.js';
export * from './data/sampler.js';
export * from './checkpoint/safetensors.js';
export * from './checkpoint/checkpoint.js';
export * from './checkpoint/load_model.js';
export * from './train/adamw.js';
export * from './train/schedule.js';
export * from './train/trainer.js';
export * from './train/run_store.js';
export { METRICS_FILE, type StoredTrainRecord, type StoredEvalRecord } from './metrics_schema.js';
export { registerVwnKernels } from './kernels/register_all.js';
export { standardEmbedding, type StandardEmbeddingConfig } from './plugins/standard_embedding.js';
export { residualConnection, type ResidualConfig } from './plugins/residual.js';
export { causalSelfAttention, type AttentionConfig } from './plugins/attention.js';
export { swigluFeedForward, type SwigluConfig } from './plugins/swiglu.js';
export { lmHead, createUnembedding, type LmHeadConfig } from './plugins/lm_head.js';
export * from './testing.js';
export * from './virtual_width.js';
export { getFusedOps, registerFusedOps, unregisterFusedOps, type FusedOps, type FusedOpsName } from './fused.js';
export * from './memory.js';
