/**
 * Base class of every *named* error: a bad input, config or state that the
 * user can fix (the `vwn` command exits 2 and prints only the message).
 * Anything else that escapes is an internal error (exit 1).
 *
 * @example
 * ```ts
 * try { await trainer.run(); }
 * catch (e) { if (e instanceof VwnError) console.error(e.message); else throw e; }
 * ```
 */
export class VwnError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VwnError';
  }
}

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
export class ConfigError extends VwnError {
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
export class NonFiniteLossError extends VwnError {
  /** The optimizer step that failed, 1-based as in `metrics.jsonl` (the previous steps all completed). */
  readonly step: number;
  constructor(step: number, what: string) {
    super(`non-finite ${what} at step ${step}; the update was not applied (try a lower lr or gradient clipping)`);
    this.name = 'NonFiniteLossError';
    this.step = step;
  }
}

/**
 * A run or study folder is in a state that does not allow the operation:
 * held by another process, holding a different run, or with unreadable files.
 * `path` names the folder or file.
 *
 * @example
 * ```ts
 * try { await Trainer.create({ config, corpus, outDir: 'runs/a', resume: true }); }
 * catch (e) { if (e instanceof RunStateError) console.error(e.path, e.message); }
 * ```
 */
export class RunStateError extends VwnError {
  /** The folder or file concerned. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.name = 'RunStateError';
    this.path = path;
  }
}

/**
 * Writing failed for a reason outside the program: the disk is full
 * (`ENOSPC`, `EDQUOT`), read-only (`EROFS`) or not writable (`EACCES`, `EPERM`).
 * What was written before (the last checkpoint) is intact; rerun with `--resume`
 * once the cause is fixed.
 *
 * @example
 * ```ts
 * try { await trainer.run(); }
 * catch (e) { if (e instanceof StorageError) console.error(e.code, e.path); }
 * ```
 */
export class StorageError extends VwnError {
  /** The errno code (`ENOSPC`, …). */
  readonly code: string;
  /** The file being written. */
  readonly path: string;
  constructor(code: string, path: string, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'StorageError';
    this.code = code;
    this.path = path;
  }
}

/** Errno codes that mean "the storage refused", not "the program is wrong". */
const STORAGE_CODES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EFBIG: 'file too large for the file system',
  EIO: 'input/output error',
};

/**
 * Turns an errno error from a write into a {@link StorageError} (returned),
 * or returns the error unchanged when it is something else.
 *
 * @example
 * ```ts
 * try { await appendFile(path, line); }
 * catch (e) { throw asStorageError(e, path, 'the last checkpoint is intact; rerun with --resume'); }
 * ```
 */
export function asStorageError(e: unknown, path: string, advice = ''): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (e instanceof VwnError || typeof code !== 'string' || !(code in STORAGE_CODES)) return e;
  return new StorageError(code, path, `cannot write ${path}: ${STORAGE_CODES[code]} (${code})${advice ? `; ${advice}` : ''}`, e);
}

/**
 * The estimated memory of a run is more than the machine (or its cgroup, or
 * the backend's heap) offers; both numbers are in the message and the fields.
 *
 * @example
 * ```ts
 * try { checkMemory(estimateMemory(config, 'wasm')); }
 * catch (e) { if (e instanceof MemoryLimitError) console.error(e.neededBytes, e.availableBytes); }
 * ```
 */
export class MemoryLimitError extends VwnError {
  /** Estimated bytes the run needs. */
  readonly neededBytes: number;
  /** Bytes available (the smallest of machine, cgroup and backend limits). */
  readonly availableBytes: number;
  constructor(neededBytes: number, availableBytes: number, message: string) {
    super(message);
    this.name = 'MemoryLimitError';
    this.neededBytes = neededBytes;
    this.availableBytes = availableBytes;
  }
}

/**
 * A plugin definition implements another version of the plugin specification
 * than this @vwn/core (e.g. a `v1` plugin under core's `v2`). The message says
 * what to change.
 *
 * @example
 * ```ts
 * try { registerPlugin(oldDefinition); }
 * catch (e) { if (e instanceof PluginSpecificationError) console.error(e.plugin, e.message); }
 * ```
 */
export class PluginSpecificationError extends VwnError {
  /** `kind:id` of the plugin. */
  readonly plugin: string;
  constructor(plugin: string, message: string) {
    super(`plugin ${plugin}: ${message}`);
    this.name = 'PluginSpecificationError';
    this.plugin = plugin;
  }
}
