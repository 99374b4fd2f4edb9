/**
 * Stand-alone entry for the benchmark until `vwn bench` is wired into main.ts:
 *
 *   npx tsx --tsconfig packages/blas/tsconfig.dev.json packages/cli/src/bench/run.ts \
 *     [--backend wasm,wasm+fix,wasm+blas] [--configs bench-small,...] [--steps 5] [--json] [--out FILE]
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { benchCommand } from '../commands/bench.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    configs: { type: 'string' },
    steps: { type: 'string' },
    json: { type: 'boolean' },
    out: { type: 'string' },
  },
});
process.exitCode = await benchCommand({
  backend: values.backend,
  configs: values.configs,
  steps: values.steps === undefined ? undefined : Number(values.steps),
  json: values.json,
  out: values.out,
});
