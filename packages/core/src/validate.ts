import { ConfigError } from './errors.js';

/**
 * Small typed readers for plain-JSON plugin configs. Each names the field in
 * its error and says what is allowed, so a plugin's `parseConfig` stays a few lines.
 *
 * @example
 * ```ts
 * const r = new ConfigReader({ m: 4, r: 2 }, 'connection');
 * const m = r.int('m', { min: 1 });          // 4
 * const tau = r.number('tau', { default: 1 }); // 1
 * r.done();                                   // throws on unknown keys
 * ```
 */
export class ConfigReader {
  private readonly seen = new Set<string>(['use']);
  /**
   * @param raw the user's object for this section
   * @param path dotted path of the section, used in error messages
   */
  constructor(
    readonly raw: Record<string, unknown>,
    readonly path: string,
  ) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError(path, `expected an object, got ${describe(raw)}`);
    }
  }

  /** True when the key is present (and not undefined). */
  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  /** Reads a finite number, optionally bounded; `default` makes it optional. */
  number(key: string, opts: { default?: number; min?: number; max?: number; minExclusive?: number } = {}): number {
    this.seen.add(key);
    const v = this.raw[key];
    if (v === undefined) {
      if (opts.default !== undefined) return opts.default;
      throw new ConfigError(this.field(key), 'is required (a number)');
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ConfigError(this.field(key), `expected a finite number, got ${describe(v)}`);
    }
    if (opts.min !== undefined && v < opts.min) throw new ConfigError(this.field(key), `must be >= ${opts.min}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) throw new ConfigError(this.field(key), `must be <= ${opts.max}, got ${v}`);
    if (opts.minExclusive !== undefined && v <= opts.minExclusive) {
      throw new ConfigError(this.field(key), `must be > ${opts.minExclusive}, got ${v}`);
    }
    return v;
  }

  /** Reads an integer, optionally bounded; `default` makes it optional. */
  int(key: string, opts: { default?: number; min?: number; max?: number } = {}): number {
    const v = this.number(key, opts);
    if (!Number.isInteger(v)) throw new ConfigError(this.field(key), `must be an integer, got ${v}`);
    return v;
  }

  /** Reads a boolean; `default` makes it optional. */
  bool(key: string, def?: boolean): boolean {
    this.seen.add(key);
    const v = this.raw[key];
    if (v === undefined) {
      if (def !== undefined) return def;
      throw new ConfigError(this.field(key), 'is required (true or false)');
    }
    if (typeof v !== 'boolean') throw new ConfigError(this.field(key), `expected true or false, got ${describe(v)}`);
    return v;
  }

  /** Reads one of a fixed set of strings; `def` makes it optional. */
  oneOf<T extends string>(key: string, allowed: readonly T[], def?: T): T {
    this.seen.add(key);
    const v = this.raw[key];
    if (v === undefined) {
      if (def !== undefined) return def;
      throw new ConfigError(this.field(key), `is required; allowed: ${allowed.map((a) => `"${a}"`).join(', ')}`);
    }
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      throw new ConfigError(this.field(key), `got ${describe(v)}; allowed: ${allowed.map((a) => `"${a}"`).join(', ')}`);
    }
    return v as T;
  }

  /** Marks a key as consumed without reading it (a nested section read elsewhere). */
  consume(key: string): unknown {
    this.seen.add(key);
    return this.raw[key];
  }

  /** Throws on any key that no reader consumed, listing the accepted ones. */
  done(): void {
    const unknown = Object.keys(this.raw).filter((k) => !this.seen.has(k));
    if (unknown.length > 0) {
      const known = [...this.seen].filter((k) => k !== 'use').sort();
      throw new ConfigError(this.field(unknown[0]!), `unknown field; allowed here: ${known.length ? known.join(', ') : '(none)'}`);
    }
  }

  /** Dotted path of a key in this section. */
  field(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }
}

/**
 * Short human description of a JSON value for error messages.
 *
 * @example
 * ```ts
 * describe(null);   // 'null'
 * describe([1, 2]); // 'an array'
 * describe('x');    // '"x"'
 * describe({});     // 'an object'
 * describe(3);      // '3'
 * ```
 */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v}"`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}
