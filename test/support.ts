// Shared by the repository-level tests (packaging, docs): the repository root,
// a child-process runner, and the parts of a package README the packaging test
// executes: the install block (the first ```sh block with an `npm install` line)
// and the example block (the fenced block right after `<!-- readme-example -->`).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (with a trailing slash). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Folder names under `packages/` that hold a package (`core`, `ghc`, …). */
export const PACKAGE_DIRS: readonly string[] = readdirSync(join(ROOT, 'packages')).filter((d) => existsSync(join(ROOT, 'packages', d, 'package.json')));

/** The environment for child npm/node: npm's own `npm_*` variables would point them at this repository. */
const childEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'NODE_OPTIONS'),
);

/** Runs `cmd args` in `cwd`; resolves to stdout + stderr, rejects with both on failure or timeout. */
export function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: childEnv, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`;
      if (err) reject(new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${out}`));
      else resolve(out);
    });
  });
}

/** One shell command of a README block, without its trailing comment. */
export interface ShellLine {
  readonly command: string;
}

export interface ReadmeParts {
  /** Shell commands of the install block, in order. */
  readonly install: readonly ShellLine[];
  /** The example: its language (`ts` or `sh`) and source. */
  readonly example: { readonly lang: string; readonly source: string };
}

const FENCE = /```(\w+)\n([\s\S]*?)```/g;

/** Strips a trailing `# comment` outside quotes from one shell line. */
export function stripShellComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i).trimEnd();
    }
  }
  return line.trimEnd();
}

/** Splits a shell block into commands (comments and blank lines dropped). */
export function shellLines(source: string): ShellLine[] {
  return source
    .split('\n')
    .map((l) => stripShellComment(l).trim())
    .filter((l) => l.length > 0)
    .map((command) => ({ command }));
}

/** Finds the install and example blocks; throws naming what is missing. */
export function readmeParts(readme: string, where: string): ReadmeParts {
  const blocks = [...readme.matchAll(FENCE)].map((m) => ({ lang: m[1]!, source: m[2]!, index: m.index! }));
  const installBlock = blocks.find((b) => b.lang === 'sh' && /^npm install /m.test(b.source));
  if (!installBlock) throw new Error(`${where}: no \`\`\`sh block with an "npm install" line`);
  const marker = readme.indexOf('<!-- readme-example -->');
  if (marker < 0) throw new Error(`${where}: no <!-- readme-example --> marker`);
  const example = blocks.find((b) => b.index > marker);
  if (!example || readme.slice(marker, example.index).trim() !== '<!-- readme-example -->') {
    throw new Error(`${where}: <!-- readme-example --> must be followed directly by a fenced block`);
  }
  return { install: shellLines(installBlock.source), example: { lang: example.lang, source: example.source } };
}

/** `npm install a b --flag` → the package specs (flags dropped). */
export function installedPackages(command: string): string[] {
  const words = command.split(/\s+/).slice(2);
  return words.filter((w) => !w.startsWith('-'));
}
