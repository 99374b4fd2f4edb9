// What the playground can train: variants (config diffs, as in `vwn ablate`'s
// studies) and sizes (model + batch shapes). Pure data, no DOM, no tfjs.
import type { RunConfigInput } from '@vwn/core';

/** A variant the page offers: the config diff it applies to the size's base. */
export interface PlaygroundVariant {
  readonly id: string;
  readonly label: string;
  /** Virtual width factor r = n / m (1 for the baseline). */
  readonly r: number;
  readonly diff: Record<string, unknown>;
}

/** Over-width embedding + dynamic GHC with fraction rate m and n segments (r = n/m), as in `vwn ablate`. */
export function vwnDiff(m: number, n: number): Record<string, unknown> {
  return { embedding: { use: 'over-width', m, n }, connection: { use: 'dynamic-ghc', m, n } };
}

/** The variants, baseline first. */
export const VARIANTS: readonly PlaygroundVariant[] = [
  { id: 'baseline', label: 'baseline', r: 1, diff: {} },
  { id: 'vwn-r2', label: 'VWN r = 2', r: 2, diff: vwnDiff(4, 8) },
  { id: 'vwn-r4', label: 'VWN r = 4', r: 4, diff: vwnDiff(4, 16) },
];

/** A model and batch size the page offers. */
export interface PlaygroundSize {
  readonly id: string;
  readonly label: string;
  readonly dModel: number;
  readonly layers: number;
  readonly heads: number;
  readonly seqLen: number;
  readonly batchSize: number;
  readonly steps: number;
  readonly experts: number;
}

/** Sizes, smallest first. `micro` is the CLI's `--preset micro` shape (what the browser test runs). */
export const SIZES: readonly PlaygroundSize[] = [
  { id: 'micro', label: 'micro: D = 32, 1 layer, T = 32', dModel: 32, layers: 1, heads: 2, seqLen: 32, batchSize: 4, steps: 20, experts: 4 },
  { id: 'small', label: 'small: D = 64, 2 layers, T = 64', dModel: 64, layers: 2, heads: 4, seqLen: 64, batchSize: 8, steps: 150, experts: 4 },
  {
    id: 'tiny',
    label: "tiny: D = 128, 4 layers, T = 128 (the CLI's tiny)",
    dModel: 128,
    layers: 4,
    heads: 4,
    seqLen: 128,
    batchSize: 16,
    steps: 300,
    experts: 8,
  },
];

/** The choices of one training session. */
export interface Selection {
  readonly variant: string;
  readonly size: string;
  /** Multi-token prediction (depth 1, λ = 0.3) as an extra objective. */
  readonly mtp: boolean;
  /** Mixture-of-Experts FFN (top-2) instead of dense SwiGLU. */
  readonly moe: boolean;
  /** Optimizer steps; default: the size's. */
  readonly steps?: number;
  readonly seed?: number;
}

/** A readable name of a selection, e.g. `VWN r = 4 + MTP (MoE)`. */
export function selectionLabel(s: Selection): string {
  const v = VARIANTS.find((x) => x.id === s.variant);
  return `${v?.label ?? s.variant}${s.mtp ? ' + MTP' : ''}${s.moe ? ' (MoE)' : ''}`;
}

/**
 * The run config of a selection: the size's shape, the variant's diff, MoE and
 * MTP sections, and a recipe like the CLI presets'. The data section names the
 * embedded corpus, so a downloaded checkpoint works with `vwn eval` / `vwn sample`.
 */
export function runConfigFor(s: Selection): RunConfigInput {
  const size = SIZES.find((x) => x.id === s.size);
  if (!size) throw new Error(`size: unknown "${s.size}"; allowed: ${SIZES.map((x) => x.id).join(', ')}`);
  const variant = VARIANTS.find((x) => x.id === s.variant);
  if (!variant) throw new Error(`variant: unknown "${s.variant}"; allowed: ${VARIANTS.map((x) => x.id).join(', ')}`);
  const steps = s.steps ?? size.steps;
  return {
    dModel: size.dModel,
    layers: size.layers,
    heads: size.heads,
    seqLen: size.seqLen,
    ...(s.moe ? { ffn: { use: 'moe', experts: size.experts, topK: 2 } } : {}),
    ...variant.diff,
    ...(s.mtp ? { objectives: [{ use: 'mtp', depth: 1, weight: 0.3 }] } : {}),
    train: {
      batchSize: size.batchSize,
      steps,
      lr: 3e-3,
      minLr: 3e-4,
      warmupSteps: Math.max(1, Math.min(25, Math.round(steps / 10))),
      evalEvery: Math.max(5, Math.round(steps / 4)),
      evalBatches: 2,
      checkpointEvery: steps,
      seed: s.seed ?? 0,
    },
    data: { corpus: 'tinyshakespeare', tokenizer: 'bytes' },
  };
}
