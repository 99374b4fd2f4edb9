import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, RunStateError } from '@vwn/core';
import { rebuildReport, StudyReadError } from '@vwn/report';

/**
 * `vwn report DIR`: rebuilds report.md, report.html and plots from study.json and the metrics files alone.
 * A missing or malformed file is a named error (exit 2) naming the file.
 */
export async function reportCommand(dir: string | undefined, opts: { json?: boolean | undefined }): Promise<number> {
  if (!dir) throw new ConfigError('DIR', 'is required: the study folder written by `vwn ablate --out DIR`');
  if (!existsSync(join(dir, 'study.json'))) throw new ConfigError('DIR', `${dir} has no study.json; is it a \`vwn ablate\` output folder?`);
  let files: string[];
  try {
    ({ files } = await rebuildReport(dir));
  } catch (e) {
    if (e instanceof StudyReadError) throw new RunStateError(e.file, `cannot build the report: ${e.message}`);
    throw e;
  }
  if (opts.json) process.stdout.write(JSON.stringify({ files }) + '\n');
  else process.stdout.write(`wrote ${files.join(', ')}\n`);
  return 0;
}
