import { ConfigError } from './errors.js';
import type { ConfigReader } from './validate.js';
import type { ModelDims, StateLayout } from './plugin.js';

/**
 * The `{m, n}` of a virtual-width config, with `n` resolved from `r` when given.
 *
 * @example
 * ```ts
 * const width: VirtualWidth = { m: 8, n: 32 }; // r = 4, D' = 4·D
 * ```
 */
export interface VirtualWidth {
  /** Fraction rate m: the backbone vector of width D is split into m segments (PAPER.md §2). */
  readonly m: number;
  /** Number of segments n ≥ m of the carried state; D' = n·D/m. */
  readonly n: number;
}

/**
 * Reads `{m, n}` or `{m, r}` (with `n = m·r`) from a plugin section and checks
 * it against D (PAPER.md §2): `m` divides D, `n ≥ m`, and `m·r` is an integer.
 * The result always holds `n` (never `r`), so a resolved config parses back to itself.
 * Shared by virtual-width plugins (embeddings and connections).
 *
 * @param reader the section's reader (consumes `m`, `n`, `r`)
 * @param dims backbone sizes (for D)
 * @example
 * ```ts
 * const r = new ConfigReader({ use: 'my-wide-embedding', m: 2, r: 1.5 }, 'embedding');
 * readVirtualWidth(r, dims); // { m: 2, n: 3 }
 * ```
 */
export function readVirtualWidth(reader: ConfigReader, dims: ModelDims): VirtualWidth {
  const D = dims.dModel;
  const m = reader.int('m', { min: 1 });
  reader.consume('n'); // both are accepted keys, even when absent
  reader.consume('r');
  if (D % m !== 0) throw new ConfigError(reader.field('m'), `must divide dModel = ${D} (segment width d_b = D/m), got ${m}`);
  if (reader.has('n') && reader.has('r')) throw new ConfigError(reader.field('r'), 'give either n (segments) or r (= n/m), not both');
  let n: number;
  if (reader.has('r')) {
    const r = reader.number('r', { min: 1 });
    n = m * r;
    if (!Number.isInteger(n)) throw new ConfigError(reader.field('r'), `n = m·r = ${m}·${r} = ${n} must be an integer; pick r so that m·r is whole, or give n`);
  } else {
    n = reader.int('n', { min: 1 });
  }
  if (n < m) throw new ConfigError(reader.field(reader.has('r') ? 'r' : 'n'), `n = ${n} must be >= m = ${m} (the state is at least D wide)`);
  return { m, n };
}

/**
 * The carried-state layout of `{m, n}` at backbone width D:
 * `d_b = D/m`, `D' = n·d_b` (PAPER.md §2).
 *
 * @example
 * ```ts
 * virtualLayout({ m: 8, n: 32 }, 64); // { m: 8, n: 32, segmentWidth: 8, width: 256 }
 * ```
 */
export function virtualLayout(width: VirtualWidth, dModel: number): StateLayout {
  const segmentWidth = dModel / width.m;
  return { m: width.m, n: width.n, segmentWidth, width: width.n * segmentWidth };
}
