// Every package import in a workspace package is declared in that package's
// package.json. Vitest's aliases (vitest.config.ts) and npm's hoisting make an
// undeclared @vwn/* or third-party import work inside the repo, and then fail
// for whoever installs the package, or runs its tests, alone:
//   - src/ (and bin/, scripts/): dependencies, peerDependencies or optionalDependencies;
//   - test/ and bench/: those, devDependencies, or a root devDependency that is
//     repo tooling (vitest, tsx, …), never a workspace package (@vwn/*).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { PACKAGE_DIRS, ROOT } from './support.js';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const readJson = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;
const root = readJson(join(ROOT, 'package.json'));
const builtins = new Set(builtinModules);

/** Package names a source file imports (static, re-export, side-effect, dynamic and type-only imports). */
export function importedPackages(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, ''); // not the examples in comments
  const specifiers = [
    ...code.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g),
    ...code.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g),
    ...code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return [
    ...new Set(
      specifiers
        .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !s.startsWith('/'))
        .map((s) =>
          s
            .split('/')
            .slice(0, s.startsWith('@') ? 2 : 1)
            .join('/'),
        )
        .filter((name) => !builtins.has(name)),
    ),
  ];
}

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e);
    if (e === 'node_modules' || e === 'dist' || e === 'build') return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(c|m)?(t|j)sx?$/.test(e) && !e.endsWith('.d.ts') ? [path] : [];
  });
}

/** `file: package` for every import `dir`'s package.json does not allow. */
function undeclared(pkgDir: string): string[] {
  const manifest = readJson(join(pkgDir, 'package.json'));
  const runtime = new Set([manifest.name, ...Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies })]);
  const dev = new Set([...runtime, ...Object.keys(manifest.devDependencies ?? {})]);
  const tooling = Object.keys(root.devDependencies ?? {}).filter((n) => !n.startsWith('@vwn/'));
  const problems: string[] = [];
  for (const [sub, allowed] of [
    ['src', runtime],
    ['bin', runtime],
    ['scripts', runtime],
    ['test', new Set([...dev, ...tooling])],
    ['bench', new Set([...dev, ...tooling])],
  ] as const) {
    for (const file of sourceFiles(join(pkgDir, sub))) {
      for (const name of importedPackages(readFileSync(file, 'utf8'))) {
        if (!allowed.has(name)) problems.push(`${relative(ROOT, file)}: ${name}`);
      }
    }
  }
  return problems;
}

describe('every import is declared in its package.json', () => {
  it('finds the imports the check relies on (and none in comments)', () => {
    const source = [
      "import * as tf from '@tensorflow/tfjs';",
      "import type { X } from '@vwn/core/extra';",
      "import '@vwn/embedding';",
      "export { y } from 'ws';",
      "const q = await import('bullmq');",
      "import { a,\n  b } from 'left-pad';",
      "import { join } from 'node:path';",
      "import { readFileSync } from 'fs';",
      "import { z } from './local.js';",
      "/** ```ts\n * import { nope } from 'in-a-comment';\n * ``` */",
      "// import 'also-a-comment';",
    ].join('\n');
    expect(importedPackages(source).sort()).toEqual(['@tensorflow/tfjs', '@vwn/core', '@vwn/embedding', 'bullmq', 'left-pad', 'ws']);
  });

  it.each(PACKAGE_DIRS)('%s', (dir) => {
    expect(undeclared(join(ROOT, 'packages', dir))).toEqual([]);
  });
});
