import { MemoryLimitError } from './errors.js';
import { getPlugin } from './registry.js';
import type { ResolvedModelConfig } from './model.js';
import type { RunConfig } from './run_config.js';

/**
 * Most values one tensor may hold (2³¹ − 1): tfjs indexes with 32-bit integers
 * on several backends, and larger typed arrays fail with "Invalid typed array length".
 *
 * @example
 * ```ts
 * MAX_TENSOR_ELEMENTS; // 2147483647
 * ```
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/**
 * Heap limit of the WebAssembly backends (`wasm`, `native`): a wasm32 memory
 * holds at most 4 GiB, and every tensor lives in it.
 *
 * @example
 * ```ts
 * WASM_HEAP_BYTES / 2 ** 30; // 4
 * ```
 */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/**
 * A memory estimate of one training run, in bytes (float32 everywhere).
 *
 * @example
 * ```ts
 * const est: MemoryEstimate = estimateMemory(runConfig, 'wasm');
 * console.log(formatBytes(est.totalBytes), 'of', formatBytes(est.limit.bytes), `(${est.limit.source})`);
 * ```
 */
export interface MemoryEstimate {
  /** Parameters counted (exact when given, else estimated from the config). */
  readonly params: number;
  /** Whether `params` is the assembled model's exact count. */
  readonly exactParams: boolean;
  /** Weights. */
  readonly paramBytes: number;
  /** AdamW first and second moments (2 × weights). */
  readonly optimizerBytes: number;
  /** Gradients of one step (1 × weights). */
  readonly gradientBytes: number;
  /** Activations kept for the backward pass of one micro-batch (estimate), plus its token batch. */
  readonly activationBytes: number;
  /** Sum of the above. */
  readonly totalBytes: number;
  /** Values of the largest single tensor (embedding table, logits, attention scores or FFN hidden). */
  readonly largestTensor: { readonly name: string; readonly elements: number };
  /** What the run may use: the smallest of machine memory, the cgroup limit and the backend's heap. */
  readonly limit: { readonly bytes: number; readonly source: string };
}

/**
 * Memory this run may use, as `{ bytes, source }`. In a browser (the main
 * entry's default): `navigator.deviceMemory` GiB when the browser tells it,
 * else unknown (`Infinity`: no machine limit; the wasm heap limit still
 * applies). Importing `@vwn/core/node` installs the Node answer: the machine's
 * total memory or the process's cgroup limit, whichever is smaller.
 *
 * @example
 * ```ts
 * const { bytes, source } = availableMemory(); // e.g. { bytes: 25_000_000_000, source: 'machine memory' }
 * ```
 */
export function availableMemory(): { bytes: number; source: string } {
  return memoryProvider();
}

function browserMemory(): { bytes: number; source: string } {
  const gib = (globalThis as { navigator?: { deviceMemory?: unknown } }).navigator?.deviceMemory;
  if (typeof gib === 'number' && gib > 0) return { bytes: gib * 2 ** 30, source: 'navigator.deviceMemory' };
  return { bytes: Infinity, source: 'unknown (this environment does not report its memory)' };
}

let memoryProvider: () => { bytes: number; source: string } = browserMemory;

/**
 * Replaces what {@link availableMemory} reports (the Node entry installs the
 * machine/cgroup answer; a page may pass what it knows of the GPU).
 *
 * @example
 * ```ts
 * setMemoryProvider(() => ({ bytes: 2 * 2 ** 30, source: 'assumed 2 GiB tab' }));
 * ```
 */
export function setMemoryProvider(provider: () => { bytes: number; source: string }): void {
  memoryProvider = provider;
}

const num = (section: unknown, key: string): number | undefined => {
  const v = (section as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

/** Width of the carried state, from the embedding plugin's layout (D when it has none). */
function stateWidth(model: ResolvedModelConfig): number {
  try {
    const def = getPlugin('embedding', model.embedding.use);
    return def.stateLayout?.(model.embedding as never, model)?.width ?? model.dModel;
  } catch {
    return model.dModel;
  }
}

/** Carried-state width, FFN shape and an estimate of the parameter count, from the config alone. */
function modelShape(m: ResolvedModelConfig): { Dw: number; topK: number; hidden: number; params: number } {
  const { dModel: D, vocabSize: V, layers: L } = m;
  const Dw = stateWidth(m);
  const experts = num(m.ffn, 'experts') ?? 1;
  const topK = num(m.ffn, 'topK') ?? 1;
  const hidden = num(m.ffn, 'hidden') ?? m.ffnHidden;
  const layerParams = 4 * D * D + experts * 3 * D * hidden + experts * D + 2 * D;
  const params = V * Dw + L * layerParams + (m.tieEmbeddings ? 0 : V * D) + (Dw !== D ? Dw * D : 0) + m.objectives.length * (layerParams + 2 * D * D);
  return { Dw, topK, hidden, params };
}

function backendLimit(backend: string): { bytes: number; source: string } {
  const machine = availableMemory();
  const wasm = backend === 'wasm' || backend === 'native';
  return wasm && WASM_HEAP_BYTES < machine.bytes ? { bytes: WASM_HEAP_BYTES, source: `the ${backend} backend's 4 GiB wasm heap` } : machine;
}

/**
 * Refuses a model whose weights alone (estimated from the config) cannot fit
 * in what the backend may use, before anything is allocated; called by
 * `assembleModel`, so `vwn inspect`, `vwn ablate`'s plan and checkpoint
 * loading never start allocating a model that cannot exist.
 *
 * @example
 * ```ts
 * checkModelSize(resolveModelConfig({ vocabSize: 256, dModel: 1 << 20, heads: 1, layers: 8, seqLen: 8 }).resolvedConfig, 'cpu'); // throws MemoryLimitError
 * ```
 */
export function checkModelSize(model: ResolvedModelConfig, backend: string): void {
  const { params } = modelShape(model);
  const limit = backendLimit(backend);
  if (4 * params > limit.bytes) {
    throw new MemoryLimitError(
      4 * params,
      limit.bytes,
      `the model's weights alone need about ${formatBytes(4 * params)} (${params.toExponential(3)} parameters) but only ${formatBytes(limit.bytes)} is available (${limit.source}); lower dModel, layers or the FFN width`,
    );
  }
}

/**
 * Estimates a training run's memory from its resolved config alone, before
 * anything is allocated: weights, AdamW moments and gradients (4 + 8 + 4 bytes
 * per parameter), and the activations one micro-batch keeps for its backward
 * pass (per token and layer about 6·D' + 16·D + 6·FFN-hidden·topK + 3·heads·T
 * floats, plus 4·V for the logits). Parameters are estimated from the config
 * (embedding V·D', per layer 4·D² attention and 3·D·hidden per expert, head
 * V·D) unless `params` gives the assembled model's exact count. The limit is
 * {@link availableMemory}, and {@link WASM_HEAP_BYTES} on `wasm` and `native`.
 *
 * @example
 * ```ts
 * const est = estimateMemory(resolveRunConfig({ dModel: 128, layers: 4, heads: 4, seqLen: 128 }, 256), 'wasm');
 * est.totalBytes < est.limit.bytes; // true
 * ```
 */
export function estimateMemory(config: RunConfig, backend: string, params?: number): MemoryEstimate {
  const m = config.model;
  const { dModel: D, vocabSize: V, layers: L, heads, seqLen: T } = m;
  const { Dw, topK, hidden, params: estimated } = modelShape(m);
  const P = params ?? estimated;
  const rows = config.train.batchSize / config.train.accumulate;
  const tokens = rows * T;
  const extraPasses = 1 + m.objectives.length; // MTP runs a layer and the head again per depth
  const perToken = L * (6 * Dw + 16 * D + 6 * hidden * topK + 3 * heads * T) + 2 * Dw + extraPasses * 4 * V;
  const activationBytes = 4 * tokens * perToken + 2 * 4 * rows * (T + 1);
  const paramBytes = 4 * P;
  const largest = [
    { name: 'embedding table (vocabSize × state width)', elements: V * Dw },
    { name: 'logits (batch rows × seqLen × vocabSize)', elements: tokens * V },
    { name: 'attention scores (batch rows × heads × seqLen²)', elements: rows * heads * T * T },
    { name: 'FFN hidden activations (batch rows × seqLen × hidden × topK)', elements: tokens * hidden * topK },
    { name: 'FFN weight (dModel × hidden)', elements: D * hidden },
  ].reduce((a, b) => (b.elements > a.elements ? b : a));
  const limit = backendLimit(backend);
  return {
    params: P,
    exactParams: params !== undefined,
    paramBytes,
    optimizerBytes: 2 * paramBytes,
    gradientBytes: paramBytes,
    activationBytes,
    totalBytes: 4 * paramBytes + activationBytes,
    largestTensor: largest,
    limit,
  };
}

/**
 * `1536` → `1.5 KiB`, `3.2e9` → `2.98 GiB`.
 *
 * @example
 * ```ts
 * formatBytes(1536);       // '1.5 KiB'
 * formatBytes(2 ** 32);    // '4 GiB'
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number(v.toPrecision(3))} ${units[u]}`;
}

/**
 * Refuses a run that cannot fit: throws a {@link MemoryLimitError} giving both
 * numbers when the estimate exceeds the limit (unless `ignore`, for a user who
 * knows better), and always when one tensor would exceed
 * {@link MAX_TENSOR_ELEMENTS} (no backend can allocate it).
 *
 * @example
 * ```ts
 * checkMemory(estimateMemory(config, 'wasm'));                   // throws when it cannot fit
 * checkMemory(estimateMemory(config, 'cpu'), { ignore: true });  // only the hard tensor-size limit
 * ```
 */
export function checkMemory(est: MemoryEstimate, opts: { ignore?: boolean } = {}): void {
  const t = est.largestTensor;
  if (t.elements > MAX_TENSOR_ELEMENTS) {
    throw new MemoryLimitError(
      est.totalBytes,
      est.limit.bytes,
      `the config needs a tensor of ${t.elements.toExponential(3)} values (${t.name}), more than one tensor can hold (${MAX_TENSOR_ELEMENTS}); lower dModel, vocabulary, batchSize or seqLen`,
    );
  }
  if (!opts.ignore && est.totalBytes > est.limit.bytes) {
    throw new MemoryLimitError(
      est.totalBytes,
      est.limit.bytes,
      `the run needs about ${formatBytes(est.totalBytes)} (parameters ${formatBytes(est.paramBytes)}, optimizer state ${formatBytes(est.optimizerBytes)}, ` +
        `gradients ${formatBytes(est.gradientBytes)}, activations of one step ${formatBytes(est.activationBytes)}) but only ${formatBytes(est.limit.bytes)} ` +
        `is available (${est.limit.source}); lower batchSize (or raise train.accumulate), seqLen or the model size, or pass --ignore-memory-check`,
    );
  }
}
