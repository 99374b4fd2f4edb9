import { ConfigReader, type ConnectionModule, type ModelDims, type PluginDefinition } from '@vwn/core';
import { checkLayout, createGeneralizedHyperConnection } from './generalized_hyper_connection.js';
import { readVirtualWidth } from '@vwn/core';

/**
 * Config of the `ghc` and `dynamic-ghc` connections (resolved: always `n`, never `r`).
 *
 * @example
 * ```ts
 * const config: GhcConfig = { m: 2, n: 3 }; // written {"use": "ghc", "m": 2, "r": 1.5} works too
 * ```
 */
export interface GhcConfig {
  /**
   * Fraction rate m: the sublayer reads m segments of width d_b = D/m.
   * PAPER.md §2, §4. Required (no default); must divide D.
   */
  readonly m: number;
  /**
   * Segments n of the carried state; configs may give `r = n/m` instead. Must match the embedding.
   * PAPER.md §2, §4. Required (no default), as `n` or `r`; n ≥ m.
   */
  readonly n: number;
}

function parseGhc(raw: Record<string, unknown>, path: string, dims: ModelDims): GhcConfig {
  const r = new ConfigReader(raw, path);
  const width = readVirtualWidth(r, dims);
  r.done();
  return width;
}

/**
 * Static Generalized Hyper-Connections (PAPER.md §4): per sublayer,
 *
 *     X = Åᵀ·H'    Z = T(X)    H'_new = Bᵀ·Z + Âᵀ·H'
 *
 * with Å = [I_m; 0] (`read`), Â = I_n (`carry`), B[i, j] = 1 iff j mod m == i
 * (`write`), none of them weight-decayed. At init the first m segments are a
 * pre-norm residual stream of width D; with n = m it is exactly the residual
 * connection. `{m, n}` (or `{m, r}`) must match the embedding's layout.
 * FLOPs per token (PAPER.md §9): `2·(m+n)·(n/m)·D + 2·n·D`.
 *
 * @example
 * ```json
 * { "embedding": { "use": "over-width", "m": 2, "n": 3 },
 *   "connection": { "use": "ghc", "m": 2, "n": 3 } }
 * ```
 */
export const ghcConnection: PluginDefinition<'connection', GhcConfig> = {
  specificationVersion: 'v1',
  kind: 'connection',
  id: 'ghc',
  description: "static generalized hyper-connections: read Åᵀ·H', carry Âᵀ·H', write Bᵀ·Z (m, n must match the embedding)",
  parseConfig: parseGhc,
  create(config, ctx): ConnectionModule {
    checkLayout(ctx.layout, config.m, config.n, ctx.dims.dModel);
    return createGeneralizedHyperConnection(ctx.params, {
      ...config, dModel: ctx.dims.dModel, dynamic: false, readSegment: (i) => i, scales: { shape: 'matrix', init: 1 }, norm: 'rms',
    });
  },
};

/**
 * Dynamic Generalized Hyper-Connections (DGHC, PAPER.md §5): static GHC plus
 * input-dependent terms computed per token from its own state,
 *
 *     H̄ = RMSNorm_{d_b}(H')   (per segment, learnable gain, eps 1e-6)
 *     A(H') = S_α ⊙ tanh(H̄·W_α/τ) + [Å | Â]
 *     B(H') = S_β ⊙ tanh(H̄·W_β/τ)ᵀ + B,      τ = sqrt(D/m)
 *
 * with W_α, W_β packed into one `d_b×(2m+n)` projection (`dynamic.w`, init 0,
 * weight-decayed), S_α, S_β init 1 and not decayed (PAPER.md §5 Decisions). At
 * init DGHC equals static GHC. FLOPs per token (PAPER.md §9):
 * `4·(n/m)·D + 2·(2m+n)·(n/m)·D + 2·(m+n)·(n/m)·D + 2·n·D`.
 *
 * @example
 * ```json
 * { "embedding": { "use": "over-width", "m": 8, "n": 32 },
 *   "connection": { "use": "dynamic-ghc", "m": 8, "n": 32 } }
 * ```
 */
export const dynamicGhcConnection: PluginDefinition<'connection', GhcConfig> = {
  specificationVersion: 'v1',
  kind: 'connection',
  id: 'dynamic-ghc',
  description: 'dynamic generalized hyper-connections (DGHC): GHC + S⊙tanh(RMSNorm(H\')·W/τ) per token (m, n must match the embedding)',
  parseConfig: parseGhc,
  create(config, ctx): ConnectionModule {
    checkLayout(ctx.layout, config.m, config.n, ctx.dims.dModel);
    return createGeneralizedHyperConnection(ctx.params, {
      ...config, dModel: ctx.dims.dModel, dynamic: true, readSegment: (i) => i, scales: { shape: 'matrix', init: 1 }, norm: 'rms',
    });
  },
};
