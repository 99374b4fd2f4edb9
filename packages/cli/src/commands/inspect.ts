import { assembleModel, checkMemory, estimateMemory, formatBytes, resolveRunConfig, type AccountingRow } from '@vwn/core';
import { dataConfigOf, loadRunConfigInput, type CommonOptions } from '../setup.js';
import { useBackend } from '@vwn/core';

/** Options of `vwn inspect`. */
export interface InspectOptions extends CommonOptions {
  readonly json?: boolean | undefined;
  /** Show every layer instead of summing layers per component. */
  readonly layers?: boolean | undefined;
}

/**
 * Sums per-layer rows (`layers.3.ffn` → `layers.*.ffn`).
 *
 * @example
 * ```ts
 * const model = assembleModel({ vocabSize: 256, dModel: 64, layers: 4, heads: 4, seqLen: 32 });
 * groupLayers(model.accounting()).map((r) => r.component);
 * // ['embedding', 'layers.*.mixer_norm', 'layers.*.mixer', 'layers.*.mixer_connection',
 * //  'layers.*.ffn_norm', 'layers.*.ffn', 'layers.*.ffn_connection', 'head']
 * ```
 */
export function groupLayers(rows: readonly AccountingRow[]): AccountingRow[] {
  const out = new Map<string, AccountingRow>();
  for (const r of rows) {
    const component = r.component.replace(/^layers\.\d+\./, 'layers.*.');
    const prev = out.get(component);
    out.set(
      component,
      prev
        ? { ...prev, params: prev.params + r.params, activeParams: prev.activeParams + r.activeParams, flopsPerToken: prev.flopsPerToken + r.flopsPerToken }
        : { ...r, component },
    );
  }
  return [...out.values()];
}

/** `vwn inspect`: parameter and FLOP table per component of a config. */
export async function inspectCommand(opts: InspectOptions): Promise<number> {
  const { backend } = await useBackend(opts.backend ?? 'cpu');
  const input = await loadRunConfigInput(opts, 'tiny');
  const data = dataConfigOf(input);
  // The vocabulary is the byte tokenizer's unless the config says chars (then it needs the corpus).
  let vocab = 256;
  if (data.tokenizer === 'chars') {
    const { loadCorpus } = await import('../setup.js');
    vocab = (await loadCorpus(data)).tokenizer.vocabSize;
  }
  const config = resolveRunConfig(input, vocab);
  // Sizes are checked before any tensor is allocated (only a tensor no backend can hold is refused here).
  checkMemory(estimateMemory(config, backend), { ignore: true });
  const model = assembleModel(config.model);
  const rows = opts.layers ? model.accounting() : groupLayers(model.accounting());
  const totals = model.totals();
  const memory = estimateMemory(config, backend, totals.params);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ model: config.model, components: rows, totals, memory: { backend, ...memory } }, null, 2) + '\n');
  } else {
    const fmt = (n: number) => n.toLocaleString('en-US');
    const table = [
      ['component', 'plugin', 'params', 'active params', 'FLOPs/token'],
      ...rows.map((r) => [r.component, r.plugin, fmt(r.params), fmt(r.activeParams), fmt(r.flopsPerToken)]),
      ['total', '', fmt(totals.params), fmt(totals.activeParams), fmt(totals.flopsPerToken)],
    ];
    const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
    for (const [i, row] of table.entries()) {
      process.stdout.write(row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ') + '\n');
      if (i === 0 || i === table.length - 2) process.stdout.write(widths.map((w) => '-'.repeat(w)).join('  ') + '\n');
    }
    const D = config.model.dModel;
    process.stdout.write(
      `D = ${D}, D' = ${model.layout.width} (m = ${model.layout.m}, n = ${model.layout.n}), L = ${config.model.layers}, T = ${config.model.seqLen}, V = ${config.model.vocabSize}\n`,
    );
    process.stdout.write(
      `memory estimate for training on ${backend} (batch ${config.train.batchSize}, accumulate ${config.train.accumulate}): ${formatBytes(memory.totalBytes)} = ` +
        `parameters ${formatBytes(memory.paramBytes)} + optimizer state ${formatBytes(memory.optimizerBytes)} + gradients ${formatBytes(memory.gradientBytes)} + ` +
        `activations of one step ${formatBytes(memory.activationBytes)}; available ${formatBytes(memory.limit.bytes)} (${memory.limit.source})` +
        (memory.totalBytes > memory.limit.bytes ? ' — TOO LARGE: `vwn train` will refuse it' : '') +
        '\n',
    );
  }
  model.dispose();
  return 0;
}
