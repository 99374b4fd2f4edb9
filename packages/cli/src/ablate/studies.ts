import type { RunConfigInput } from '@vwn/core';
import { virtualWidth } from '@vwn/ghc';

/** One variant of a study: a name and the config diff it applies to the study's base. */
export interface VariantSpec {
  readonly name: string;
  readonly description: string;
  /** Merged over the base config (plugin sections with another `use` replace the base's). */
  readonly config: Record<string, unknown>;
  /**
   * Arm this variant belongs to when several variants are alternatives of one
   * arm (e.g. an lr sweep): the report compares each arm's best member.
   */
  readonly group?: string;
}

/** An extra paired comparison the report makes besides "vs the baseline". */
export interface ComparisonSpec {
  readonly variant: string;
  readonly reference: string;
  readonly label?: string;
}

/** A study: a base run config and the variants compared under equal tokens. */
export interface StudySpec {
  readonly name: string;
  readonly description: string;
  readonly base: RunConfigInput;
  /** The variant every Δ is measured against. */
  readonly baseline: string;
  readonly variants: readonly VariantSpec[];
  /** Paired seeds the study runs unless `--seeds` says otherwise (default 1). */
  readonly seeds?: number;
  /** Extra paired comparisons (e.g. VWN vs a control), reported with Δ, CI and p. */
  readonly comparisons?: readonly ComparisonSpec[];
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

const MTP = { objectives: [{ use: 'mtp', depth: 1, weight: 0.3 }] };

/** The base recipe's peak and final learning rates scaled by `factor` (for lr sweeps). */
function lrTimes(factor: number): Record<string, unknown> {
  const train = STUDY_BASE.train!;
  return { train: { lr: train.lr! * factor, minLr: train.minLr! * factor } };
}

/**
 * Iso-parameter control for VWN r = 4 (m = 4, n = 16) on {@link STUDY_BASE}: the
 * baseline plus one dense shared expert of hidden size 115, which adds as many
 * parameters (all active) as VWN's wide embedding, GHC matrices and reduce head:
 * 2,623,104 total / 1,037,952 active vs VWN r = 4's 2,623,360 / 1,038,208.
 */
export const ISO_PARAM_R4: Record<string, unknown> = { ffn: { use: 'moe', experts: 8, topK: 2, sharedExperts: 1, sharedHidden: 115 } };

/**
 * Iso-FLOP control for VWN r = 4 on {@link STUDY_BASE}: a wider backbone (D = 144)
 * with experts of hidden size 205, 2,464,704 forward FLOPs/token vs VWN r = 4's
 * 2,465,280 (the baseline: 1,922,560).
 */
export const ISO_FLOP_R4: Record<string, unknown> = { dModel: 144, ffn: { use: 'moe', experts: 8, topK: 2, expertHidden: 205 } };

/** Built-in studies for `vwn ablate --preset`. */
export const STUDIES: Readonly<Record<string, StudySpec>> = {
  default: {
    name: 'default',
    description: 'baseline (MoE) vs VWN r = 4 (DGHC, m = 4), 3 paired seeds: Δ with its 95 % CI and p-value',
    base: STUDY_BASE,
    baseline: 'baseline',
    seeds: 3,
    variants: [
      { name: 'baseline', description: 'MoE Transformer, residual stream of width D', config: {} },
      { name: 'vwn-r4', description: 'over-width embedding + DGHC, m = 4, n = 16 (r = 4)', config: virtualWidth({ m: 4, n: 16 }) },
    ],
  },
  controls: {
    name: 'controls',
    description: 'VWN r = 4 vs the baseline, an iso-parameter and an iso-FLOP baseline, and both arms at lr ×0.5/×1/×2, 3 paired seeds',
    base: STUDY_BASE,
    baseline: 'baseline',
    seeds: 3,
    variants: [
      { name: 'baseline', description: 'MoE Transformer, lr 3e-3', config: {}, group: 'baseline' },
      { name: 'vwn-r4', description: 'VWN r = 4 (DGHC, m = 4, n = 16), lr 3e-3', config: virtualWidth({ m: 4, n: 16 }), group: 'vwn-r4' },
      { name: 'iso-param', description: "baseline + a dense shared expert (hidden 115): VWN r = 4's total and active parameters", config: ISO_PARAM_R4 },
      { name: 'iso-flop', description: "baseline at D = 144, expert hidden 205: VWN r = 4's FLOPs/token", config: ISO_FLOP_R4 },
      { name: 'baseline-lr0.5', description: 'baseline at lr ×0.5', config: lrTimes(0.5), group: 'baseline' },
      { name: 'baseline-lr2', description: 'baseline at lr ×2', config: lrTimes(2), group: 'baseline' },
      { name: 'vwn-r4-lr0.5', description: 'VWN r = 4 at lr ×0.5', config: { ...virtualWidth({ m: 4, n: 16 }), ...lrTimes(0.5) }, group: 'vwn-r4' },
      { name: 'vwn-r4-lr2', description: 'VWN r = 4 at lr ×2', config: { ...virtualWidth({ m: 4, n: 16 }), ...lrTimes(2) }, group: 'vwn-r4' },
    ],
    comparisons: [
      { variant: 'vwn-r4', reference: 'iso-param', label: 'VWN r = 4 vs iso-parameter baseline' },
      { variant: 'vwn-r4', reference: 'iso-flop', label: 'VWN r = 4 vs iso-FLOP baseline' },
    ],
  },
  quick: {
    name: 'quick',
    description: 'one seed: baseline (MoE) vs VWN r = 2 and r = 4 (DGHC, m = 4) and VWN r = 4 + MTP',
    base: STUDY_BASE,
    baseline: 'baseline',
    variants: [
      { name: 'baseline', description: 'MoE Transformer, residual stream of width D', config: {} },
      { name: 'vwn-r2', description: 'over-width embedding + DGHC, m = 4, n = 8 (r = 2)', config: virtualWidth({ m: 4, n: 8 }) },
      { name: 'vwn-r4', description: 'over-width embedding + DGHC, m = 4, n = 16 (r = 4)', config: virtualWidth({ m: 4, n: 16 }) },
      { name: 'vwn-r4-mtp', description: 'VWN r = 4 + multi-token prediction (depth 1, λ = 0.3)', config: { ...virtualWidth({ m: 4, n: 16 }), ...MTP } },
    ],
  },
  'r-sweep': {
    name: 'r-sweep',
    description: 'virtual width factor r ∈ {1.5, 2, 4, 8} at m = 4 (DGHC), vs baseline',
    base: STUDY_BASE,
    baseline: 'baseline',
    variants: [
      { name: 'baseline', description: 'MoE Transformer (r = 1)', config: {} },
      { name: 'vwn-r1.5', description: 'DGHC m = 4, n = 6', config: virtualWidth({ m: 4, n: 6 }) },
      { name: 'vwn-r2', description: 'DGHC m = 4, n = 8', config: virtualWidth({ m: 4, n: 8 }) },
      { name: 'vwn-r4', description: 'DGHC m = 4, n = 16', config: virtualWidth({ m: 4, n: 16 }) },
      { name: 'vwn-r8', description: 'DGHC m = 4, n = 32', config: virtualWidth({ m: 4, n: 32 }) },
    ],
  },
  'm-sweep': {
    name: 'm-sweep',
    description: 'fraction rate m ∈ {2, 4, 8} at r = 2 (DGHC), vs baseline',
    base: STUDY_BASE,
    baseline: 'baseline',
    variants: [
      { name: 'baseline', description: 'MoE Transformer (r = 1)', config: {} },
      { name: 'vwn-m2', description: 'DGHC m = 2, n = 4', config: virtualWidth({ m: 2, n: 4 }) },
      { name: 'vwn-m4', description: 'DGHC m = 4, n = 8', config: virtualWidth({ m: 4, n: 8 }) },
      { name: 'vwn-m8', description: 'DGHC m = 8, n = 16', config: virtualWidth({ m: 8, n: 16 }) },
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
      { name: 'owe+ghc', description: 'over-width embedding + static GHC, m = 4, n = 8', config: virtualWidth({ m: 4, n: 8, dynamic: false }) },
      { name: 'owe+dghc', description: '+ dynamic GHC', config: virtualWidth({ m: 4, n: 8 }) },
      { name: 'owe+dghc+mtp', description: '+ multi-token prediction', config: { ...virtualWidth({ m: 4, n: 8 }), ...MTP } },
    ],
  },
};

/** Built-in study names. */
export const STUDY_NAMES = Object.keys(STUDIES);
