import type { RunConfigInput } from '@vwn/core';

/** One variant of a study: a name and the config diff it applies to the study's base. */
export interface VariantSpec {
  readonly name: string;
  readonly description: string;
  /** Merged over the base config (plugin sections with another `use` replace the base's). */
  readonly config: Record<string, unknown>;
}

/** A study: a base run config and the variants compared under equal tokens. */
export interface StudySpec {
  readonly name: string;
  readonly description: string;
  readonly base: RunConfigInput;
  /** The variant every Δ is measured against. */
  readonly baseline: string;
  readonly variants: readonly VariantSpec[];
}

/**
 * The base of the built-in studies: a byte-level MoE Transformer (8 experts,
 * top-2, PAPER.md §8) small enough that the default study finishes in about
 * 15 minutes on 2 CPU cores.
 */
export const STUDY_BASE: RunConfigInput = {
  dModel: 128,
  layers: 4,
  heads: 4,
  seqLen: 128,
  ffn: { use: 'moe', experts: 8, topK: 2 },
  train: { batchSize: 16, lr: 3e-3, minLr: 3e-4, warmupSteps: 25, evalEvery: 25, evalBatches: 6, checkpointEvery: 50 },
  data: { corpus: 'tinyshakespeare', tokenizer: 'bytes' },
};

/** Default token budget per variant of the built-in studies. */
export const DEFAULT_STUDY_TOKENS = 512_000; // 250 steps of 16 × 128 tokens

/** VWN config diff: over-width embedding + (dynamic) GHC with fraction rate m and n segments. */
export function vwn(m: number, n: number, connection: 'dynamic-ghc' | 'ghc' = 'dynamic-ghc'): Record<string, unknown> {
  return { embedding: { use: 'over-width', m, n }, connection: { use: connection, m, n } };
}

const MTP = { objectives: [{ use: 'mtp', depth: 1, weight: 0.3 }] };

/** Built-in studies for `vwn ablate --preset`. */
export const STUDIES: Readonly<Record<string, StudySpec>> = {
  quick: {
    name: 'quick',
    description: 'baseline (MoE) vs VWN r = 2 and r = 4 (DGHC, m = 4) and VWN r = 4 + MTP',
    base: STUDY_BASE,
    baseline: 'baseline',
    variants: [
      { name: 'baseline', description: 'MoE Transformer, residual stream of width D', config: {} },
      { name: 'vwn-r2', description: 'over-width embedding + DGHC, m = 4, n = 8 (r = 2)', config: vwn(4, 8) },
      { name: 'vwn-r4', description: 'over-width embedding + DGHC, m = 4, n = 16 (r = 4)', config: vwn(4, 16) },
      { name: 'vwn-r4-mtp', description: 'VWN r = 4 + multi-token prediction (depth 1, λ = 0.3)', config: { ...vwn(4, 16), ...MTP } },
    ],
  },
  'r-sweep': {
    name: 'r-sweep',
    description: 'virtual width factor r ∈ {1.5, 2, 4, 8} at m = 4 (DGHC), vs baseline',
    base: STUDY_BASE,
    baseline: 'baseline',
    variants: [
      { name: 'baseline', description: 'MoE Transformer (r = 1)', config: {} },
      { name: 'vwn-r1.5', description: 'DGHC m = 4, n = 6', config: vwn(4, 6) },
      { name: 'vwn-r2', description: 'DGHC m = 4, n = 8', config: vwn(4, 8) },
      { name: 'vwn-r4', description: 'DGHC m = 4, n = 16', config: vwn(4, 16) },
      { name: 'vwn-r8', description: 'DGHC m = 4, n = 32', config: vwn(4, 32) },
    ],
  },
  'm-sweep': {
    name: 'm-sweep',
    description: 'fraction rate m ∈ {2, 4, 8} at r = 2 (DGHC), vs baseline',
    base: STUDY_BASE,
    baseline: 'baseline',
    variants: [
      { name: 'baseline', description: 'MoE Transformer (r = 1)', config: {} },
      { name: 'vwn-m2', description: 'DGHC m = 2, n = 4', config: vwn(2, 4) },
      { name: 'vwn-m4', description: 'DGHC m = 4, n = 8', config: vwn(4, 8) },
      { name: 'vwn-m8', description: 'DGHC m = 8, n = 16', config: vwn(8, 16) },
    ],
  },
  components: {
    name: 'components',
    description: 'one component at a time: over-width embedding + static GHC, + dynamic, + MTP; and MoE vs dense',
    base: STUDY_BASE,
    baseline: 'baseline',
    variants: [
      { name: 'dense', description: 'dense SwiGLU FFN instead of MoE (same active parameters)', config: { ffn: { use: 'swiglu' } } },
      { name: 'baseline', description: 'MoE Transformer', config: {} },
      { name: 'owe+ghc', description: 'over-width embedding + static GHC, m = 4, n = 8', config: vwn(4, 8, 'ghc') },
      { name: 'owe+dghc', description: '+ dynamic GHC', config: vwn(4, 8) },
      { name: 'owe+dghc+mtp', description: '+ multi-token prediction', config: { ...vwn(4, 8), ...MTP } },
    ],
  },
};

/** Built-in study names. */
export const STUDY_NAMES = Object.keys(STUDIES);
