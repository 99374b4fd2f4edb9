import * as tf from '@tensorflow/tfjs';
import { hash32 } from './rng.js';
import { MemoryLimitError } from './errors.js';
import { MAX_TENSOR_ELEMENTS } from './memory.js';

/**
 * How a parameter is initialized.
 * - `normal`: N(0, std²), seeded from the model seed and the parameter's name, so
 *   adding or removing a plugin never shifts another parameter's values.
 * - `zeros`, `ones`: constants.
 * - `values`: an explicit array (row-major), e.g. GHC's identity-like init.
 *
 * @example
 * ```ts
 * const init: Init = { kind: 'normal', std: 0.02 };
 * const w = store.create('w', [64, 64], init);
 * const read = store.create('read', [3, 2], { kind: 'values', values: [1, 0, 0, 1, 0, 0] }, { decay: false }); // [I_2; 0]
 * ```
 */
export type Init = { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' } | { kind: 'values'; values: ArrayLike<number> };

let nextVariableId = 0;

/**
 * One trainable tensor of the model with its optimizer-relevant flags.
 *
 * @example
 * ```ts
 * const p: Parameter = model.params.get('layers.0.mixer.wq')!;
 * p.variable.shape; // [D, D]
 * model.params.list().filter((q) => !q.decay).map((q) => q.name); // norm gains, GHC static matrices, …
 * ```
 */
export interface Parameter {
  /** Full dotted name, also the safetensors key (`layers.0.mixer.wq`). */
  readonly name: string;
  readonly variable: tf.Variable;
  /** Whether AdamW applies decoupled weight decay to it. */
  readonly decay: boolean;
}

/**
 * Owns every trainable variable of a model. Plugins create their parameters
 * through a {@link ParamScope}, which prefixes names.
 *
 * @example
 * ```ts
 * const store = new ParameterStore(1234);
 * const w = store.scope('layers.0.mixer').create('wq', [64, 64], { kind: 'normal', std: 0.02 });
 * store.count(); // 4096
 * ```
 */
export class ParameterStore {
  private readonly params = new Map<string, Parameter>();
  /** @param seed model seed; every normal init derives its own seed from it and the name */
  constructor(readonly seed: number) {}

  /** A name-prefixing view used by plugins. */
  scope(prefix: string): ParamScope {
    return new ParamScope(this, prefix);
  }

  /** Creates and registers a variable; names must be unique. */
  create(name: string, shape: number[], init: Init, opts: { decay?: boolean } = {}): tf.Variable {
    if (this.params.has(name)) throw new Error(`parameter "${name}" is defined twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (size > MAX_TENSOR_ELEMENTS) {
      throw new MemoryLimitError(
        4 * size,
        4 * MAX_TENSOR_ELEMENTS,
        `parameter "${name}" of shape [${shape.join(', ')}] has ${size.toExponential(3)} values, more than one tensor can hold (${MAX_TENSOR_ELEMENTS}); lower dModel or the vocabulary`,
      );
    }
    // tfjs treats seed 0 as "unseeded" (Math.random), so never pass 0.
    const value = tf.tidy(() => initTensor(shape, init, hash32(this.seed, name) || 1));
    // tfjs variable names are process-global: make them unique per store.
    const variable = tf.variable(value, true, `${name}#${nextVariableId++}`);
    value.dispose();
    this.params.set(name, { name, variable, decay: opts.decay ?? true });
    return variable;
  }

  /** All parameters in creation order. */
  list(): Parameter[] {
    return [...this.params.values()];
  }

  /** Looks one up by full name. */
  get(name: string): Parameter | undefined {
    return this.params.get(name);
  }

  /** Number of scalars, optionally only under a name prefix. */
  count(prefix = ''): number {
    let n = 0;
    for (const p of this.params.values()) if (p.name.startsWith(prefix)) n += p.variable.size;
    return n;
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const p of this.params.values()) p.variable.dispose();
    this.params.clear();
  }
}

/**
 * A prefix into a {@link ParameterStore}: `scope('layers.0').scope('mixer').create('wq', …)`
 * registers `layers.0.mixer.wq`.
 *
 * @example
 * ```ts
 * const s = new ParameterStore(1).scope('head');
 * const g = s.create('norm.gain', [64], { kind: 'ones' }, { decay: false });
 * ```
 */
export class ParamScope {
  constructor(
    readonly store: ParameterStore,
    readonly prefix: string,
  ) {}

  /** A nested scope. */
  scope(name: string): ParamScope {
    return new ParamScope(this.store, this.join(name));
  }

  /** Creates a parameter named `<prefix>.<name>`. */
  create(name: string, shape: number[], init: Init, opts: { decay?: boolean } = {}): tf.Variable {
    return this.store.create(this.join(name), shape, init, opts);
  }

  /** Number of scalars created under this scope. */
  count(): number {
    return this.store.count(this.prefix ? `${this.prefix}.` : '');
  }

  private join(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }
}

/**
 * Builds the initial value of a parameter (float32).
 *
 * @example
 * ```ts
 * initTensor([2, 2], { kind: 'values', values: [1, 0, 0, 1] }, 1).arraySync(); // [[1, 0], [0, 1]]
 * const w = initTensor([64, 64], { kind: 'normal', std: 0.02 }, hash32(1234, 'wq')); // seed must be non-zero
 * ```
 */
export function initTensor(shape: number[], init: Init, seed: number): tf.Tensor {
  switch (init.kind) {
    case 'normal':
      return tf.randomNormal(shape, 0, init.std, 'float32', seed);
    case 'zeros':
      return tf.zeros(shape);
    case 'ones':
      return tf.ones(shape);
    case 'values': {
      const size = shape.reduce((a, b) => a * b, 1);
      if (init.values.length !== size) throw new Error(`init values have ${init.values.length} entries, shape needs ${size}`);
      return tf.tensor(Float32Array.from(init.values), shape, 'float32');
    }
  }
}
