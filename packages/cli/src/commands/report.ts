import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@vwn/core';
import { rebuildReport } from '@vwn/report';

/** `vwn report DIR`: rebuilds report.md, report.html and plots from study.json and the metrics files alone. */
export async function reportCommand(dir: string | undefined, opts: { json?: boolean | undefined }): Promise<number> {
  if (!dir) throw new ConfigError('DIR', 'is required: the study folder written by `vwn ablate --out DIR`');
  if (!existsSync(join(dir, 'study.json'))) throw new ConfigError('DIR', `${dir} has no study.json; is it a \`vwn ablate\` output folder?`);
  const { files } = await rebuildReport(dir);
  if (opts.json) process.stdout.write(JSON.stringify({ files }) + '\n');
  else process.stdout.write(`wrote ${files.join(', ')}\n`);
  return 0;
}
