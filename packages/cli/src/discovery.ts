import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerBackendProvider, registerPluginSource, type BackendProvider, type PluginKind, type PluginSource } from '@vwn/core';

/**
 * The `"vwn"` manifest of an installed package, from its package.json:
 * `{"plugins": ["connection:dynamic-ghc", …]}` (`kind:id` the package registers
 * when imported) and/or `{"backends": {"native": "nativeBackend"}}` (backend
 * name → the export that is its `BackendProvider`).
 *
 * @example
 * ```ts
 * const m: PackageManifest = { name: '@vwn/moe', dir: '/app/node_modules/@vwn/moe', plugins: ['ffn:moe'], backends: {} };
 * ```
 */
export interface PackageManifest {
  /** Package name, what `import()` is given. */
  readonly name: string;
  /** Where it is installed. */
  readonly dir: string;
  /** `kind:id` of every plugin it registers on import. */
  readonly plugins: readonly string[];
  /** Backend name → name of the export that provides it. */
  readonly backends: Readonly<Record<string, string>>;
}

const cliDir = dirname(fileURLToPath(import.meta.url));

/** This package's own `"vwn"` section: packages it suggests installing, by `kind:id` or `backend:name`. */
function suggestions(): Record<string, string> {
  try {
    const pkg = JSON.parse(readFileSync(join(cliDir, '..', 'package.json'), 'utf8')) as { vwn?: { suggests?: Record<string, string> } };
    return pkg.vwn?.suggests ?? {};
  } catch {
    return {};
  }
}

/**
 * Reads the `"vwn"` manifests of the `@vwn/*` packages installed in the
 * `node_modules` folders above `from` (default: this CLI's folder, then the
 * working directory). The first folder that holds a package wins, as in Node's
 * own resolution.
 *
 * @param from folders to start from
 * @example
 * ```ts
 * readManifests().flatMap((m) => m.plugins); // ['embedding:over-width', 'connection:ghc', …, 'ffn:moe', 'objective:mtp']
 * ```
 */
export function readManifests(from: readonly string[] = [cliDir, process.cwd()]): PackageManifest[] {
  const found = new Map<string, PackageManifest>();
  for (const start of from) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      const scope = join(dir, 'node_modules', '@vwn');
      if (existsSync(scope)) {
        for (const entry of readdirSync(scope)) {
          const file = join(scope, entry, 'package.json');
          if (!existsSync(file)) continue;
          try {
            const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; vwn?: { plugins?: unknown; backends?: unknown } };
            if (!pkg.name || found.has(pkg.name) || !pkg.vwn) continue;
            const plugins = Array.isArray(pkg.vwn.plugins) ? pkg.vwn.plugins.filter((p): p is string => typeof p === 'string') : [];
            const backends = pkg.vwn.backends && typeof pkg.vwn.backends === 'object' ? (pkg.vwn.backends as Record<string, string>) : {};
            found.set(pkg.name, { name: pkg.name, dir: join(scope, entry), plugins, backends });
          } catch {
            // an unreadable package.json: not a plugin package we can use
          }
        }
      }
      if (dirname(dir) === dir) break;
    }
  }
  return [...found.values()];
}

/**
 * A `PluginSource` over manifests: imports the package that declares a
 * plugin or backend a config asks for, and names the package to install for
 * an id no loaded package provides (from the manifests, else from this CLI's
 * own `"vwn": {"suggests": …}` for optional packages that may be absent).
 *
 * @example
 * ```ts
 * registerPluginSource(manifestSource(readManifests()));
 * await loadPluginsFor({ ffn: { use: 'moe' } }); // imports @vwn/moe
 * ```
 */
export function manifestSource(manifests: readonly PackageManifest[], suggests: Readonly<Record<string, string>> = suggestions()): PluginSource {
  const failures = new Map<string, string>(); // package → why its import failed
  const tryImport = async (name: string): Promise<Record<string, unknown> | undefined> => {
    try {
      return (await import(name)) as Record<string, unknown>;
    } catch (e) {
      failures.set(name, (e as Error).message.split('\n')[0]!);
      return undefined;
    }
  };
  const byPlugin = (kind: PluginKind, id: string) => manifests.find((m) => m.plugins.includes(`${kind}:${id}`));
  const byBackend = (name: string) => manifests.find((m) => m.backends[name] !== undefined);
  const install = (pkg: string) => `install ${pkg} (npm install ${pkg})`;
  const hintFor = (key: string, pkg: string | undefined): string | undefined => {
    if (pkg) {
      const why = failures.get(pkg);
      return why
        ? `provided by ${pkg}, which failed to load (${why}); reinstall it: ${install(pkg)}`
        : `provided by ${pkg}, which is not loaded; import it (or ${install(pkg)})`;
    }
    const suggested = suggests[key];
    return suggested ? `provided by ${suggested}, which is not installed; ${install(suggested)}` : undefined;
  };
  return {
    async load(kind, id) {
      const m = byPlugin(kind, id);
      if (m) await tryImport(m.name);
    },
    hint: (kind, id) => hintFor(`${kind}:${id}`, byPlugin(kind, id)?.name),
    available: (kind) => manifests.flatMap((m) => m.plugins.filter((p) => p.startsWith(`${kind}:`)).map((p) => p.slice(kind.length + 1))),
    async loadBackend(name) {
      const m = byBackend(name);
      if (!m) return;
      const mod = await tryImport(m.name);
      const provider = mod?.[m.backends[name]!];
      if (typeof provider === 'function') registerBackendProvider(name, provider as BackendProvider);
      else if (mod) failures.set(m.name, `it has no export "${m.backends[name]}"`);
    },
    backendHint: (name) => hintFor(`backend:${name}`, byBackend(name)?.name),
  };
}

let installed = false;

/**
 * Registers the installed packages' manifests with @vwn/core (once per
 * process): configs then load their plugin packages by themselves, backends
 * `native` / `webgpu` find their providers, and missing ones get an
 * "install …" hint. Called by every entry point of the CLI.
 *
 * @example
 * ```ts
 * installDiscovery();
 * await useBackend('native'); // imports @vwn/blas and runs its provider
 * ```
 */
export function installDiscovery(): void {
  if (installed) return;
  installed = true;
  registerPluginSource(manifestSource(readManifests()));
}
