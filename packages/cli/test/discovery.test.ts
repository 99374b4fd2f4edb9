import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getPlugin, listPlugins, loadPluginsFor, registerPluginSource, useBackend } from '@vwn/core';
import { installDiscovery, manifestSource, readManifests } from '@vwn/cli';

let tmp = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await mkdtemp(join(tmpdir(), 'vwn-discovery-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('plugin discovery from package.json manifests (the CLI is the composition root)', () => {
  it("reads the installed packages' manifests, and each plugin package registers exactly what its manifest declares", async () => {
    const manifests = readManifests();
    const byName = Object.fromEntries(manifests.map((m) => [m.name, m]));
    expect(byName['@vwn/blas']?.backends).toEqual({ native: 'nativeBackend' });
    expect(byName['@vwn/kernels-gpu']?.backends).toEqual({ webgpu: 'webgpuBackend' });
    const core = ['embedding:standard', 'connection:residual', 'mixer:attention', 'ffn:swiglu', 'head:lm'];
    installDiscovery();
    // One config naming a plugin of every plugin package: discovery imports them all.
    await loadPluginsFor({
      dModel: 8,
      embedding: { use: 'over-width', m: 2, n: 4 },
      connection: { use: 'dynamic-ghc' },
      ffn: { use: 'moe' },
      objectives: [{ use: 'mtp' }],
    });
    const added = listPlugins()
      .map((d) => `${d.kind}:${d.id}`)
      .filter((k) => !core.includes(k))
      .sort();
    expect(added).toEqual(manifests.flatMap((m) => m.plugins).sort()); // no drift between manifests and registrations
    expect(added).toEqual(expect.arrayContaining(['connection:dynamic-ghc', 'head:over-width', 'ffn:moe', 'objective:mtp']));
  });

  it('names the package to install for an id whose package is missing or broken', async () => {
    const pkg = join(tmp, 'node_modules', '@vwn', 'broken-plugins');
    await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: '@vwn/broken-plugins', main: './missing.js', vwn: { plugins: ['ffn:broken-ffn'] } }));
    const manifests = readManifests([tmp]);
    expect(manifests.find((m) => m.name === '@vwn/broken-plugins')?.plugins).toEqual(['ffn:broken-ffn']);
    registerPluginSource(
      manifestSource(
        manifests.filter((m) => m.name === '@vwn/broken-plugins'),
        { 'ffn:absent-ffn': '@vwn/absent' },
      ),
    );
    await loadPluginsFor({ ffn: { use: 'broken-ffn' } });
    expect(() => getPlugin('ffn', 'broken-ffn')).toThrow(
      /ffn\.use: ffn plugin "broken-ffn" is not registered: provided by @vwn\/broken-plugins, which failed to load \(.+\); reinstall it: install @vwn\/broken-plugins \(npm install @vwn\/broken-plugins\)/,
    );
    expect(() => getPlugin('ffn', 'absent-ffn')).toThrow(/provided by @vwn\/absent, which is not installed; install @vwn\/absent \(npm install @vwn\/absent\)/);
    expect(() => getPlugin('ffn', 'nope')).toThrow(/unknown ffn plugin "nope"; allowed: .*"broken-ffn".*"moe".*"swiglu"/);
  });

  it("backends: the CLI's suggestions name the package for a backend nobody provides; native comes from @vwn/blas's manifest", async () => {
    const source = manifestSource([], { 'backend:webgpu': '@vwn/kernels-gpu' });
    expect(source.backendHint?.('webgpu')).toBe(
      'provided by @vwn/kernels-gpu, which is not installed; install @vwn/kernels-gpu (npm install @vwn/kernels-gpu)',
    );
    expect(source.backendHint?.('native')).toBeUndefined();
    installDiscovery();
    try {
      const { backend, note } = await useBackend('native');
      expect(backend).toBe('wasm');
      expect(note).toMatch(/^native: wasm \+ native BLAS matMul \(/);
    } catch (e) {
      // No addon on this machine: the provider says so, and how to get one.
      expect((e as Error).message).toMatch(/^backend: "native" is not available: needs @vwn\/blas's addon/);
    }
    await tf.setBackend('cpu');
  });
});
