// The published documentation: `npm run docs` (typedoc, packages mode) must
// build without a warning, every public export must carry an example, and every
// package README must have the sections users look for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_DIRS, ROOT, run } from './support.js';

const packages = PACKAGE_DIRS;

interface Reflection {
  name: string;
  kind: number;
  comment?: { summary?: unknown[]; blockTags?: Array<{ tag: string }> };
  signatures?: Reflection[];
  children?: Reflection[];
}

let out = '';
let log = '';
let project: { children: Reflection[] } = { children: [] };

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'vwn-docs-'));
  const typedoc = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
  log = await run(process.execPath, [typedoc, '--out', join(out, 'site'), '--json', join(out, 'api.json'), '--treatWarningsAsErrors'], ROOT, 240_000);
  project = JSON.parse(await readFile(join(out, 'api.json'), 'utf8'));
}, 300_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

describe('API docs (typedoc)', () => {
  it('builds one site for every package with zero warnings', () => {
    expect(log).not.toMatch(/\[warning\]/);
    expect(project.children.map((m) => m.name).sort()).toEqual(packages.map((p) => `@vwn/${p}`).sort());
    for (const p of packages) expect(existsSync(join(out, 'site', 'modules', `_vwn_${p}.html`)), p).toBe(true);
  });

  it('documents every public export with a description and an @example', () => {
    const missing: string[] = [];
    // A package with several entry points (@vwn/core: main, /node, /metrics-schema) has one sub-module each;
    // an export of one that another declares is a reference (kind 4194304), documented where it is declared.
    const exportsOf = (m: Reflection, prefix: string): Array<[string, Reflection]> =>
      (m.children ?? []).flatMap((c): Array<[string, Reflection]> =>
        c.kind === 2 ? exportsOf(c, `${prefix}/${c.name}`) : c.kind === 4194304 ? [] : [[prefix, c]],
      );
    for (const mod of project.children) {
      for (const [where, c] of exportsOf(mod, mod.name)) {
        const comments = [c.comment, ...(c.signatures ?? []).map((s) => s.comment)].filter((x) => x !== undefined);
        const described = comments.some((cm) => (cm.summary?.length ?? 0) > 0);
        const example = comments.some((cm) => (cm.blockTags ?? []).some((t) => t.tag === '@example'));
        if (!described || !example) missing.push(`${where}: ${c.name}${described ? '' : ' (no description)'}${example ? '' : ' (no @example)'}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('examples/', () => {
  it('type-checks under the strict project settings (against the built packages)', async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', join(ROOT, 'examples', 'tsconfig.json')], ROOT, 120_000);
  });
});

describe.each(packages)('packages/%s/README.md', (dir) => {
  it('says what it is, how to install it, shows a runnable example and points to the API docs', () => {
    const readme = readFileSync(join(ROOT, 'packages', dir, 'README.md'), 'utf8');
    expect(readme).toMatch(new RegExp(`^# @vwn/${dir}\\n\\n\\S`)); // title, then a description paragraph
    expect(readme).toMatch(/^## Install\n\n```sh\nnpm install /m);
    expect(readme).toMatch(/^## Example\n\n<!-- readme-example -->\n```(ts|sh)\n/m);
    expect(readme).toContain(`docs/api/modules/_vwn_${dir}.html`);
    const example = /<!-- readme-example -->\n```\w+\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(example.trimEnd().split('\n').length, 'example length in lines').toBeLessThanOrEqual(10);
  });
});
