/**
 * Top-k routing on the host: which expert each token-slot goes to, which slots
 * a capacity limit drops, and the order each expert sees its tokens in.
 *
 * The MoE layer routes on the device (`device_routing.ts`) with exactly these
 * decisions; `routeTokens` is their plain reference (tests, tools) and
 * {@link RoutingPlan} the shape `MoeModule.lastRouting` reports them in.
 *
 * @module
 */

/**
 * The dispatch plan of one MoE layer for one forward pass (`N` tokens, `E`
 * experts, `k` slots per token; slot `s = t·k + r` is token `t`'s `r`-th choice).
 *
 * @example
 * ```ts
 * const plan = routeTokens(Float32Array.from([0.7, 0.2, 0.1]), 3, 2, 0);
 * plan.selected;     // Int32Array [0, 1]  (token 0: expert 0 first, then expert 1)
 * plan.expertCounts; // [1, 1, 0]
 * ```
 */
export interface RoutingPlan {
  /** Tokens N. */
  readonly tokens: number;
  /** Experts E. */
  readonly experts: number;
  /** Slots per token k. */
  readonly topK: number;
  /** `[N·k]`: expert of slot `t·k + r` (descending score; ties go to the lower expert index). */
  readonly selected: Int32Array;
  /** Tokens each expert may take (`Infinity` when dropless). */
  readonly capacity: number;
  /** `[S]`: kept slots (`t·k + r`) grouped by expert 0, 1, …, E−1; within an expert in acceptance order. */
  readonly keptSlots: Int32Array;
  /** `[S]`: the token of each kept slot (`keptSlots[i] / k`, rounded down). */
  readonly keptTokens: Int32Array;
  /** `[E]`: kept slots per expert (rows of each expert's GEMM); they sum to S. */
  readonly expertCounts: readonly number[];
  /** `[E]`: slots the router sent to each expert before the capacity limit; they sum to N·k. */
  readonly routedCounts: readonly number[];
  /** Slots dropped by the capacity limit (`N·k − S`; from a layer's `lastRouting`: valid slots − S). */
  readonly dropped: number;
}

/**
 * Tokens each expert may take with capacity factor `c`: `ceil(c · N · k / E)`;
 * `Infinity` for `c = 0` (dropless).
 *
 * @example
 * ```ts
 * expertCapacity(1.25, 2048, 2, 8); // 640
 * expertCapacity(0, 2048, 2, 8);    // Infinity
 * ```
 */
export function expertCapacity(capacityFactor: number, tokens: number, topK: number, experts: number): number {
  if (capacityFactor <= 0) return Infinity;
  // Round before ceil so that e.g. 1.1 · 10 · 2 / 2 = 11.000000000000002 stays 11.
  return Math.ceil(Number(((capacityFactor * tokens * topK) / experts).toPrecision(12)));
}

/**
 * Plans top-k routing from row-major router scores `[N, E]`: logits or
 * probabilities (any per-row order-preserving transform selects the same).
 *
 * Drop order under a capacity limit (`capacityFactor > 0`): slots are offered
 * to their expert rank-major, token-minor — every token's first choice in token
 * order, then every token's second choice in token order, and so on — and an
 * expert accepts slots until it holds `capacity` of them; later slots for a
 * full expert are dropped (that token simply gets no contribution from that
 * expert). A token's first choice therefore never loses its place to another
 * token's second choice.
 *
 * @param scores `[N·E]` row-major router logits (or probabilities)
 * @param capacityFactor 0 for dropless, else `c` in `capacity = ceil(c·N·k/E)`
 * @example
 * ```ts
 * // 3 tokens that all prefer expert 0; capacity ceil(1·3·1/2) = 2 drops token 2.
 * const p = Float32Array.from([0.9, 0.1, 0.8, 0.2, 0.7, 0.3]);
 * const plan = routeTokens(p, 2, 1, 1);
 * plan.keptTokens; // Int32Array [0, 1]
 * plan.dropped;    // 1
 * ```
 */
export function routeTokens(scores: ArrayLike<number>, experts: number, topK: number, capacityFactor: number): RoutingPlan {
  const E = experts;
  const k = topK;
  if (scores.length % E !== 0) throw new Error(`routeTokens: ${scores.length} scores are not a multiple of ${E} experts`);
  const N = scores.length / E;
  if (k < 1 || k > E) throw new Error(`routeTokens: topK must be in [1, ${E}], got ${k}`);

  // Top-k per token by partial selection (k ≤ E is small); strict '>' keeps the lower index on ties.
  const selected = new Int32Array(N * k);
  const taken = new Uint8Array(E);
  for (let t = 0; t < N; t++) {
    const row = t * E;
    taken.fill(0);
    for (let r = 0; r < k; r++) {
      let best = -1;
      let bestP = -Infinity;
      for (let e = 0; e < E; e++) {
        const p = scores[row + e]!;
        if (!taken[e] && (p > bestP || best < 0)) {
          best = e;
          bestP = p;
        }
      }
      taken[best] = 1;
      selected[t * k + r] = best;
    }
  }

  const capacity = expertCapacity(capacityFactor, N, k, E);
  const routedCounts = new Array<number>(E).fill(0);
  const perExpert: number[][] = Array.from({ length: E }, () => []);
  for (let r = 0; r < k; r++) {
    for (let t = 0; t < N; t++) {
      const slot = t * k + r;
      const e = selected[slot]!;
      routedCounts[e]! += 1;
      if (perExpert[e]!.length < capacity) perExpert[e]!.push(slot);
    }
  }
  const expertCounts = perExpert.map((s) => s.length);
  const S = expertCounts.reduce((a, b) => a + b, 0);
  const keptSlots = new Int32Array(S);
  const keptTokens = new Int32Array(S);
  let i = 0;
  for (const slots of perExpert) {
    for (const slot of slots) {
      keptSlots[i] = slot;
      keptTokens[i] = Math.floor(slot / k);
      i++;
    }
  }
  return { tokens: N, experts: E, topK: k, selected, capacity, keptSlots, keptTokens, expertCounts, routedCounts, dropped: N * k - S };
}
