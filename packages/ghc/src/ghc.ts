import { ConfigError, ConfigReader, readVirtualWidth, type ConnectionModule, type ModelDims, type ParseContext, type PluginDefinition } from '@vwn/core';
import { checkLayout, createGeneralizedHyperConnection } from './generalized_hyper_connection.js';

/**
 * Config of the `ghc` and `dynamic-ghc` connections (resolved: always `n`, never `r`).
 *
 * @example
 * ```ts
 * const config: GhcConfig = { m: 2, n: 3 }; // written {"use": "ghc"}: taken from the embedding
 * ```
 */
export interface GhcConfig {
  /**
   * Fraction rate m: the sublayer reads m segments of width d_b = D/m.
   * PAPER.md §2, §4. Taken from the embedding's layout (a config need not
   * write it; when it does, it must agree).
   */
  readonly m: number;
  /**
   * Segments n of the carried state (configs may write `r = n/m`).
   * PAPER.md §2, §4. Taken from the embedding's layout, like `m`.
   */
  readonly n: number;
}

/**
 * Reads a GHC section: `{m, n}` come from the embedding's layout (the resolved
 * config still stores them, so checkpoints of specification v1 load as they
 * are). A section that repeats them must agree: a v1 config with the same
 * numbers in both sections keeps working, one that disagrees gets a
 * ConfigError with the one-line fix.
 */
function parseGhc(raw: Record<string, unknown>, path: string, dims: ModelDims, ctx: ParseContext): GhcConfig {
  const { layout } = ctx;
  const r = new ConfigReader(raw, path);
  if (!r.has('m') && !r.has('n') && !r.has('r')) {
    r.done();
    return { m: layout.m, n: layout.n };
  }
  const given = readVirtualWidth(r, dims);
  r.done();
  // GHC with n = m on a D-wide state (Frac-Connections) needs no matching embedding.
  const agrees = (given.m === layout.m && given.n === layout.n) || (given.m === given.n && layout.width === dims.dModel);
  if (!agrees) {
    const field = given.n !== layout.n ? (r.has('r') ? 'r' : 'n') : 'm';
    throw new ConfigError(
      `${path}.${field}`,
      `the connection says m = ${given.m}, n = ${given.n} but the embedding makes m = ${layout.m}, n = ${layout.n}; ` +
        `the connection takes its layout from the embedding: delete "m", "n" and "r" from "${path}" (or set the embedding's m and n)`,
    );
  }
  return given;
}

/**
 * Static Generalized Hyper-Connections (PAPER.md §4): per sublayer,
 *
 *     X = Åᵀ·H'    Z = T(X)    H'_new = Bᵀ·Z + Âᵀ·H'
 *
 * with Å = [I_m; 0] (`read`), Â = I_n (`carry`), B[i, j] = 1 iff j mod m == i
 * (`write`), none of them weight-decayed. At init the first m segments are a
 * pre-norm residual stream of width D; with n = m it is exactly the residual
 * connection. `{m, n}` are the embedding's (a section may repeat them if they agree).
 * FLOPs per token (PAPER.md §9): `2·(m+n)·(n/m)·D + 2·n·D`.
 *
 * @example
 * ```json
 * { "embedding": { "use": "over-width", "m": 2, "n": 3 },
 *   "connection": { "use": "ghc" } }
 * ```
 */
export const ghcConnection: PluginDefinition<'connection', GhcConfig> = {
  specificationVersion: 'v2',
  kind: 'connection',
  id: 'ghc',
  description: "static generalized hyper-connections: read Åᵀ·H', carry Âᵀ·H', write Bᵀ·Z (m, n from the embedding)",
  parseConfig: parseGhc,
  create(config, ctx): ConnectionModule {
    checkLayout(ctx.layout, config.m, config.n, ctx.dims.dModel);
    return createGeneralizedHyperConnection(ctx.params, {
      ...config,
      dModel: ctx.dims.dModel,
      dynamic: false,
      readSegment: (i) => i,
      scales: { shape: 'matrix', init: 1 },
      norm: 'rms',
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
 *   "connection": { "use": "dynamic-ghc" } }
 * ```
 */
export const dynamicGhcConnection: PluginDefinition<'connection', GhcConfig> = {
  specificationVersion: 'v2',
  kind: 'connection',
  id: 'dynamic-ghc',
  description: "dynamic generalized hyper-connections (DGHC): GHC + S⊙tanh(RMSNorm(H')·W/τ) per token (m, n from the embedding)",
  parseConfig: parseGhc,
  create(config, ctx): ConnectionModule {
    checkLayout(ctx.layout, config.m, config.n, ctx.dims.dModel);
    return createGeneralizedHyperConnection(ctx.params, {
      ...config,
      dModel: ctx.dims.dModel,
      dynamic: true,
      readSegment: (i) => i,
      scales: { shape: 'matrix', init: 1 },
      norm: 'rms',
    });
  },
};
