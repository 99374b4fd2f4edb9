/**
 * A configuration value was missing, of the wrong type or out of range.
 *
 * `field` is the dotted path of the offending value in the user's JSON config
 * (for example `connection.m`), so the message can be traced back to the file.
 *
 * @example
 * ```ts
 * try { assembleModel({ connection: { use: 'nope' } }); }
 * catch (e) { if (e instanceof ConfigError) console.log(e.field); } // "connection.use"
 * ```
 */
export class ConfigError extends Error {
  /** Dotted path of the offending field. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}

/**
 * Training hit a non-finite loss or gradient; nothing is applied at that step.
 *
 * @example
 * ```ts
 * try { await trainer.run(); } catch (e) { if (e instanceof NonFiniteLossError) console.log(e.step); }
 * ```
 */
export class NonFiniteLossError extends Error {
  /** The optimizer step (0-based) at which the loss was not finite. */
  readonly step: number;
  constructor(step: number, what: string) {
    super(`non-finite ${what} at step ${step}; the update was not applied (try a lower lr or gradient clipping)`);
    this.name = 'NonFiniteLossError';
    this.step = step;
  }
}
