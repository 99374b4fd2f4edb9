import { parseArgs, type ParseArgsConfig } from 'node:util';
import { asStorageError, ConfigError, VwnError } from '@vwn/core';
import '@vwn/core/node'; // Node side of @vwn/core: machine/cgroup memory limit, node:crypto checkpoint hashing
import { trainCommand } from './commands/train.js';
import { evalCommand } from './commands/eval.js';
import { sampleCommand } from './commands/sample.js';
import { inspectCommand } from './commands/inspect.js';
import { ablateCommand } from './commands/ablate.js';
import { reportCommand } from './commands/report.js';
import { STUDIES } from './ablate/studies.js';
import { benchCommand } from './commands/bench.js';
import { workerCommand } from './commands/worker.js';
import { PRESETS } from './presets.js';
import { installDiscovery } from './discovery.js';

// The composition root: plugin and backend packages are found through their package.json manifests.
installDiscovery();

type Options = NonNullable<ParseArgsConfig['options']>;

const common: Options = {
  config: { type: 'string' },
  preset: { type: 'string' },
  backend: { type: 'string' },
  corpus: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** Help of the flags every command takes, keyed by flag. */
const COMMON_HELP: ReadonlyArray<readonly [flag: string, help: string]> = [
  ['--config', '  --config FILE     JSON run config merged over the preset (model fields at top level, "train", "data")'],
  [
    '--preset',
    `  --preset NAME     ${Object.entries(PRESETS)
      .map(([k, v]) => `${k}: ${v.description}`)
      .join('\n                    ')}`,
  ],
  ['--backend', '  --backend NAME    auto | native | wasm | cpu | webgpu | tensorflow (default auto)'],
  ['--corpus', '  --corpus PATH     a text file instead of the embedded tiny Shakespeare (bytes tokenizer: any encoding)'],
  ['--out', '  --out DIR         run directory (checkpoint.safetensors, metrics.jsonl, config.json)'],
  ['--json', '  --json            machine-readable output on stdout'],
  ['--verbose', '  --verbose         print the stack trace of an error too (also VWN_DEBUG=1)'],
  ['-h', '  -h, --help        this help'],
];

/** The common flags' help, minus the flags a command's own usage already describes (e.g. ablate's `--config`). */
function commonHelpFor(usage: string): string {
  return COMMON_HELP.filter(([flag]) => !usage.includes(`\n  ${flag} `))
    .map(([, help]) => help)
    .join('\n');
}

/**
 * One `vwn` subcommand: help text, its flags and what it runs.
 *
 * @example
 * ```ts
 * const cmd: Command = COMMANDS['inspect']!;
 * cmd.summary; // 'parameter and FLOP table per component of a config'
 * const code = await cmd.run({ preset: 'tiny', layers: true }, []); // 0
 * ```
 */
export interface Command {
  /** One line for `vwn --help`. */
  summary: string;
  /** Usage and command-specific flags for `vwn <command> --help`. */
  usage: string;
  /** The command's own flags (`node:util` `parseArgs` options), merged with the common ones. */
  options: Options;
  /** Accepts positional arguments (e.g. `vwn report DIR`). */
  positionals?: boolean;
  /** Runs the command with the parsed flags; resolves to the exit code. */
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

const num = (v: unknown, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(flag, `expected a number, got "${String(v)}"`);
  return n;
};

/**
 * The `vwn` commands.
 *
 * @example
 * ```ts
 * Object.keys(COMMANDS); // ['train', 'eval', 'sample', 'ablate', 'report', 'bench', 'inspect', 'worker']
 * const code = await COMMANDS['report']!.run({}, ['ablate-out/default']);
 * ```
 */
export const COMMANDS: Record<string, Command> = {
  train: {
    summary: 'train a model; writes checkpoint and metrics.jsonl into --out',
    usage: `vwn train [options]
  --steps N         optimizer steps (overrides the config)
  --seed N          data-order seed
  --resume          continue from --out's checkpoint, loss-for-loss
  --force           start over even if --out holds a checkpoint
  --ignore-memory-check
                    train even when the memory estimate exceeds what the machine (or cgroup, or wasm heap) has`,
    options: {
      steps: { type: 'string' },
      seed: { type: 'string' },
      resume: { type: 'boolean' },
      force: { type: 'boolean' },
      'ignore-memory-check': { type: 'boolean' },
    },
    run: (v) =>
      trainCommand({
        ...(v as object),
        ignoreMemoryCheck: Boolean(v['ignore-memory-check']),
        steps: num(v['steps'], '--steps'),
        seed: num(v['seed'], '--seed'),
      }),
  },
  eval: {
    summary: 'held-out next-token loss of a checkpoint',
    usage: `vwn eval [--out DIR | --checkpoint FILE] [options]
  --checkpoint FILE a checkpoint file (default: --out DIR/checkpoint.safetensors)
  --batches N       held-out batches (default 32)`,
    options: { checkpoint: { type: 'string' }, batches: { type: 'string' } },
    run: (v) => evalCommand({ ...(v as object), batches: num(v['batches'], '--batches') }),
  },
  sample: {
    summary: 'generate text from a checkpoint',
    usage: `vwn sample [--out DIR | --checkpoint FILE] [options]
  --prompt TEXT     text to continue (default a newline)
  --tokens N        tokens to generate (default 300)
  --temperature T   softmax temperature, 0 = greedy (default 0.8)
  --top-k K         sample among the K most likely tokens (default all)
  --seed N          sampling seed`,
    options: {
      checkpoint: { type: 'string' },
      prompt: { type: 'string' },
      tokens: { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      seed: { type: 'string' },
    },
    run: (v) =>
      sampleCommand({
        ...(v as object),
        tokens: num(v['tokens'], '--tokens'),
        temperature: num(v['temperature'], '--temperature'),
        topK: num(v['top-k'], '--top-k'),
        seed: num(v['seed'], '--seed'),
      }),
  },
  ablate: {
    summary: 'the main job: train baseline vs VWN variants on equal tokens, then report with plots',
    usage: `vwn ablate [options]
  --preset NAME     study: ${Object.entries(STUDIES)
    .map(([k, v]) => `${k} (${v.description})`)
    .join('\n                    ')}
                    (default: default)
  --config FILE     a grid: {"base": {run config}, "baseline": name, "variants": [{"name", "config": {diff}}]}
  --tokens N        training tokens per variant (default 512000)
  --seeds N         paired seeds per variant (default: the study's, 3 for default and controls, else 1);
                    ≥ 2 gives each Δ a 95 % confidence interval and p-value
  --out DIR         study folder (default ablate-out/<study>); rerun to resume
  --parallel N      N runs at once in local processes (split cores: --blas-threads)
  --queue URL       run on \`vwn worker\`s via BullMQ: redis://[user:pass@]host:port[/db] or rediss://
                    (rerun the same command to re-attach; see docs/distributed.md)
  --blas-threads N  OpenBLAS threads per run process with --parallel (default cores ÷ N)
  --allow-mixed     accept a study folder made with another grid, token budget or backend`,
    options: {
      tokens: { type: 'string' },
      seeds: { type: 'string' },
      parallel: { type: 'string' },
      queue: { type: 'string' },
      'blas-threads': { type: 'string' },
      'allow-mixed': { type: 'boolean' },
    },
    run: (v) =>
      ablateCommand({
        ...(v as object),
        tokens: num(v['tokens'], '--tokens'),
        seeds: num(v['seeds'], '--seeds'),
        parallel: num(v['parallel'], '--parallel'),
        blasThreads: num(v['blas-threads'], '--blas-threads'),
        allowMixed: v['allow-mixed'] as boolean | undefined,
      }),
  },
  report: {
    summary: 'rebuild a study report (report.md, report.html, plots) from its metrics files',
    usage: `vwn report DIR`,
    options: {},
    positionals: true,
    run: (v, positionals) => reportCommand(positionals[0], v as object),
  },
  bench: {
    summary: 'training-step throughput, GFLOP/s and VWN overhead of the reference configs per backend',
    usage: `vwn bench [options]
  --backend LIST    comma-separated: wasm, wasm+fix, wasm+blas (= native), cpu, cpu+blas, tensorflow, webgpu
                    (default wasm,wasm+fix,wasm+blas)
  --configs LIST    bench-small, bench-small-r2, bench-small-r4, bench-small-moe, bench-small-moe-r2, bench-small-moe-r4,
                    bench-medium (D = 1024, 8 layers, T = 512, batch 16; for GPUs) (default all but bench-medium)
  --steps N         timed steps per config after 1 warm-up (default 5)
                    webgpu also reports per step: kernel dispatches, queue submits, GPU→CPU reads (bytes), buffers created
  --out FILE        also write the JSON report to FILE`,
    options: { configs: { type: 'string' }, steps: { type: 'string' } },
    run: (v) => benchCommand({ ...(v as object), steps: num(v['steps'], '--steps') }),
  },
  inspect: {
    summary: 'parameter and FLOP table per component of a config',
    usage: `vwn inspect [options]
  --layers          one row per layer instead of summing layers`,
    options: { layers: { type: 'boolean' } },
    run: (v) => inspectCommand(v as object),
  },
  worker: {
    summary: 'train queued study runs from `vwn ablate --queue` (BullMQ on Redis) until stopped',
    usage: `vwn worker --queue URL [options]
  --queue URL       redis://[user:pass@]host:port[/db] or rediss:// (TLS), the same as the coordinator's
                    (default: the VWN_QUEUE_URL environment variable)
  --backend NAME    backend for every run (default: the study's; a different one needs --allow-mixed there)
  --concurrency N   runs at once on this machine (default 1)
  --cache DIR       where runs train when the study folder is not visible here (default ~/.cache/vwn/worker)
  --isolated        never write into the study folder, even when it is visible (results go back through Redis)
  --blas-threads N  OpenBLAS threads per run (default cores ÷ concurrency)
  --lock-ms MS      job lock duration (default 30000): a dead worker's job runs again after this
  --stalled-ms MS   how often to look for jobs of dead workers (default 30000)`,
    options: {
      queue: { type: 'string' },
      concurrency: { type: 'string' },
      cache: { type: 'string' },
      isolated: { type: 'boolean' },
      'blas-threads': { type: 'string' },
      'lock-ms': { type: 'string' },
      'stalled-ms': { type: 'string' },
    },
    run: (v) =>
      workerCommand({
        ...(v as object),
        concurrency: num(v['concurrency'], '--concurrency'),
        blasThreads: num(v['blas-threads'], '--blas-threads'),
        lockMs: num(v['lock-ms'], '--lock-ms'),
        stalledMs: num(v['stalled-ms'], '--stalled-ms'),
      }),
  },
};

function help(): string {
  return `vwn: Virtual Width Networks on TensorFlow.js

usage: vwn <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([k, c]) => `  ${k.padEnd(9)} ${c.summary}`)
  .join('\n')}

Run \`vwn <command> --help\` for its options.
`;
}

/**
 * Entry point of the `vwn` binary; returns the exit code: 0 done, 2 a bad
 * input, config or state (a named error, printed without a stack trace unless
 * `--verbose` or `VWN_DEBUG=1`), 1 an internal error, 130 / 143 stopped by
 * SIGINT / SIGTERM after writing a checkpoint (see docs/reliability.md).
 *
 * @example
 * ```ts
 * process.exitCode = await main(['inspect', '--preset', 'tiny']);
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`vwn: unknown command "${name}"; allowed: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  let verbose = process.env['VWN_DEBUG'] === '1' || rest.includes('--verbose');
  try {
    const { values, positionals } = parseArgs({ args: rest, options: { ...common, ...command.options }, allowPositionals: true, strict: true });
    if (values['help']) {
      process.stdout.write(`${command.usage}\n${commonHelpFor(command.usage)}\n`);
      return 0;
    }
    if (positionals.length > (command.positionals ? 1 : 0)) {
      throw new ConfigError(name, `unexpected argument "${positionals[command.positionals ? 1 : 0]}"`);
    }
    verbose ||= Boolean(values['verbose']);
    return await command.run(values as Record<string, unknown>, positionals);
  } catch (caught) {
    // Exit codes: 2 = a bad input, config or state (a named error: message only), 1 = an internal error.
    const e = asStorageError(caught, (caught as NodeJS.ErrnoException | null)?.path ?? '(a file)', 'rerun with --resume once fixed');
    const stack = verbose && e instanceof Error && e.stack ? `\n${e.stack}\n` : '';
    if (e instanceof VwnError) {
      process.stderr.write(`vwn ${name}: ${e.message}\n${stack}`);
      return 2;
    }
    if (e instanceof TypeError && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`vwn ${name}: ${e.message}; see \`vwn ${name} --help\`\n${stack}`);
      return 2;
    }
    process.stderr.write(
      `vwn ${name}: internal error (a bug; please report it with this output):\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return 1;
  }
}
