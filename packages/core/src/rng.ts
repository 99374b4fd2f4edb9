/**
 * Deterministic 32-bit hash of numbers and strings: FNV-1a over the parts
 * (each tagged with its type and terminated, so `hash32('1')`, `hash32(1)` and
 * `hash32('a', 'b')` vs `hash32('ab')` all differ), then a murmur3 finalizer.
 * Returns an unsigned integer in `[0, 2^32)`. Numbers are hashed through their
 * shortest decimal form, so `0` and `-0` hash alike.
 *
 * The value is stable across machines, runs and versions of this package:
 * parameter initialisation and batch sampling derive their seeds from it.
 *
 * @example
 * ```ts
 * hash32(1234, 'layers.0.mixer.wq'); // same value on every machine and run
 * hash32(0, 5, 2) % 1000;            // a reproducible offset
 * ```
 */
export function hash32(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  const mix = (byte: number): void => {
    h ^= byte & 0xff;
    h = Math.imul(h, 0x01000193);
  };
  for (const p of parts) {
    if (typeof p !== 'number' && typeof p !== 'string') {
      throw new Error(`hash32: each part must be a number or a string, got ${typeof p}`);
    }
    const s = typeof p === 'number' ? `n${p}` : `s${p}`;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      mix(c);
      mix(c >>> 8);
    }
    mix(0x1f);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const TWO_32 = 4294967296;

/**
 * Small fast PRNG (sfc32, 128-bit state) seeded through splitmix32. Its state
 * is four unsigned 32-bit integers that round-trip through JSON, so a sampler
 * resumes the exact same sequence.
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.next();          // uniform in [0, 1)
 * rng.nextInt(10);     // uniform integer in [0, 10)
 * const s = rng.getState();
 * const a = rng.next();
 * rng.setState(JSON.parse(JSON.stringify(s)));
 * rng.next() === a;    // true
 * ```
 */
export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  /**
   * @param seed - an integer; only its low 32 bits are used (`seed mod 2^32`),
   * so negative seeds are fine.
   */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isInteger(seed)) {
      throw new Error(`Rng: seed must be an integer (its low 32 bits are used), got ${String(seed)}`);
    }
    let s = Number(BigInt.asUintN(32, BigInt(seed)));
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /**
   * Next unsigned 32-bit integer, in `[0, 2^32)`.
   *
   * @example
   * ```ts
   * new Rng(1).nextU32(); // the same value on every run for seed 1
   * ```
   */
  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /**
   * Uniform in `[0, 1)`, with 32 bits of resolution (one draw).
   *
   * @example
   * ```ts
   * const u = new Rng(7).next(); // 0 <= u < 1
   * ```
   */
  next(): number {
    return this.nextU32() / TWO_32;
  }

  /**
   * Uniform integer in `[0, maxExclusive)` (one draw; the bias is at most
   * `maxExclusive / 2^32`).
   *
   * @example
   * ```ts
   * new Rng(7).nextInt(6) + 1; // a die roll
   * ```
   */
  nextInt(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > TWO_32) {
      throw new Error(`Rng.nextInt: maxExclusive must be an integer in [1, 2^32], got ${String(maxExclusive)}`);
    }
    return Math.floor(this.next() * maxExclusive);
  }

  /**
   * The full state: four unsigned 32-bit integers, JSON-safe.
   *
   * @example
   * ```ts
   * const saved = JSON.stringify(rng.getState());
   * ```
   */
  getState(): number[] {
    return [this.a, this.b, this.c, this.d];
  }

  /**
   * Restores a state from {@link Rng.getState}; the sequence continues exactly
   * where it was saved.
   *
   * @example
   * ```ts
   * rng.setState(JSON.parse(saved));
   * ```
   */
  setState(s: number[]): void {
    if (!Array.isArray(s) || s.length !== 4 || !s.every((x) => Number.isInteger(x) && x >= 0 && x < TWO_32)) {
      throw new Error(`Rng.setState: state must be an array of 4 integers in [0, 2^32) (from getState()), got ${JSON.stringify(s)}`);
    }
    [this.a, this.b, this.c, this.d] = s as [number, number, number, number];
  }
}
