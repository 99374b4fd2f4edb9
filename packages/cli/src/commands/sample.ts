import { ConfigError, sampleTokens } from '@vwn/core';
import { loadModelFromCheckpoint } from '@vwn/core/node';
import { selectBackend, type CommonOptions } from '../setup.js';
import { checkpointPath, rejectConfigFlags } from './eval.js';

/** Options of `vwn sample`. */
export interface SampleOptions extends CommonOptions {
  readonly out?: string | undefined;
  readonly checkpoint?: string | undefined;
  readonly prompt?: string | undefined;
  readonly tokens?: number | undefined;
  readonly temperature?: number | undefined;
  readonly topK?: number | undefined;
  readonly seed?: number | undefined;
  readonly json?: boolean | undefined;
}

/** `vwn sample`: prints text sampled from a checkpoint. */
export async function sampleCommand(opts: SampleOptions): Promise<number> {
  rejectConfigFlags(opts, 'sample', false);
  const check = (flag: string, v: number | undefined, ok: (v: number) => boolean, allowed: string) => {
    if (v !== undefined && !ok(v)) throw new ConfigError(flag, `must be ${allowed}, got ${v}`);
  };
  check('--tokens', opts.tokens, (v) => Number.isSafeInteger(v) && v >= 1, 'a positive integer');
  check('--temperature', opts.temperature, (v) => v >= 0, 'a number >= 0 (0 = greedy)');
  check('--top-k', opts.topK, (v) => Number.isSafeInteger(v) && v >= 0, 'a non-negative integer (0 = all)');
  check('--seed', opts.seed, (v) => Number.isSafeInteger(v) && v >= 0, 'a non-negative integer');
  if (opts.prompt === '') throw new ConfigError('--prompt', 'must not be empty (the model needs at least one token to continue)');
  await selectBackend(opts, undefined, true);
  const { model, tokenizer } = await loadModelFromCheckpoint(checkpointPath(opts));
  const prompt = opts.prompt ?? '\n';
  const ids = await sampleTokens(model, tokenizer.encode(prompt), {
    maxTokens: opts.tokens ?? 300,
    temperature: opts.temperature ?? 0.8,
    topK: opts.topK ?? 0,
    seed: opts.seed ?? 0,
  });
  const text = tokenizer.decode(ids);
  if (opts.json) process.stdout.write(JSON.stringify({ prompt, text }) + '\n');
  else process.stdout.write(prompt + text + '\n');
  model.dispose();
  return 0;
}
