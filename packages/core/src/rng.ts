/**
 * Deterministic 32-bit hash of numbers and strings (FNV-1a over the parts,
 * then a murmur3 finalizer). Used to derive seeds from names and indices.
 *
 * @example
 * ```ts
 * hash32(1234, 'layers.0.mixer.wq'); // same value on every machine and run
 * ```
 */
export function hash32(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  const mix = (byte: number) => {
    h ^= byte & 0xff;
    h = Math.imul(h, 0x01000193);
  };
  for (const p of parts) {
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

/**
 * Small fast PRNG (sfc32) seeded through splitmix32; its state round-trips
 * through JSON so samplers resume exactly.
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.next();          // [0, 1)
 * const s = rng.getState(); rng.next(); rng.setState(s); // replays
 * ```
 */
export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = () => {
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

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive <= 0) throw new Error(`nextInt: maxExclusive must be a positive integer, got ${maxExclusive}`);
    return Math.floor(this.next() * maxExclusive);
  }

  /** The full state, JSON-safe. */
  getState(): number[] {
    return [this.a, this.b, this.c, this.d];
  }

  /** Restores a state from {@link Rng.getState}. */
  setState(s: number[]): void {
    if (!Array.isArray(s) || s.length !== 4) throw new Error('Rng.setState: expected an array of 4 unsigned integers');
    [this.a, this.b, this.c, this.d] = s.map((x) => x >>> 0) as [number, number, number, number];
  }
}
