import { ConfigError, PluginSpecificationError } from './errors.js';
import { PLUGIN_KINDS, SPECIFICATION_VERSION, type AnyPluginDefinition, type ModelDims, type PluginDefinition, type PluginKind } from './plugin.js';

const registry = new Map<string, AnyPluginDefinition>();

const key = (kind: PluginKind, id: string) => `${kind}:${id}`;

/**
 * Where plugins (and backends) come from, as the composition root knows it.
 * @vwn/core knows no plugin package by name: an application (the `vwn` CLI
 * reads the `"vwn"` manifests in installed packages' package.json) registers a
 * source, and the registry asks it to import what a config names and for a
 * hint when an id is not registered.
 *
 * @example
 * ```ts
 * registerPluginSource({
 *   load: async (kind, id) => { if (`${kind}:${id}` === 'ffn:my-ffn') await import('my-ffn-package'); },
 *   hint: (kind, id) => (`${kind}:${id}` === 'ffn:my-ffn' ? 'install my-ffn-package' : undefined),
 * });
 * ```
 */
export interface PluginSource {
  /** Imports whatever provides `kind:id` (no-op when this source does not know it). */
  load?(kind: PluginKind, id: string): Promise<void>;
  /** What to tell a user whose config names `kind:id` while it is not registered (e.g. which package to install). */
  hint?(kind: PluginKind, id: string): string | undefined;
  /** Ids of `kind` this source could provide, listed with the registered ones in "unknown id" errors. */
  available?(kind: PluginKind): readonly string[];
  /** Imports whatever registers the provider of backend `name` (see `registerBackendProvider`). */
  loadBackend?(name: string): Promise<void>;
  /** What to tell a user who asks for backend `name` while no provider is registered. */
  backendHint?(name: string): string | undefined;
}

const sources: PluginSource[] = [];

/**
 * Adds a {@link PluginSource}; sources are asked in registration order.
 *
 * @example
 * ```ts
 * registerPluginSource({ hint: (kind, id) => `no package provides ${kind} "${id}"; see the plugin list` });
 * ```
 */
export function registerPluginSource(source: PluginSource): void {
  if (!sources.includes(source)) sources.push(source);
}

/**
 * The registered {@link PluginSource}s (for `useBackend` and tools).
 *
 * @example
 * ```ts
 * pluginSources().map((s) => s.backendHint?.('webgpu')).find(Boolean); // e.g. 'install …'
 * ```
 */
export function pluginSources(): readonly PluginSource[] {
  return sources;
}

/**
 * Adds a plugin to the registry. Registering the same definition twice is a
 * no-op; a different definition under a taken id is an error; a definition
 * written for another specification version is a {@link PluginSpecificationError}
 * that says what to change.
 *
 * @example
 * ```ts
 * registerPlugin(myFfnDefinition);
 * assembleModel({ ...dims, ffn: { use: myFfnDefinition.id } });
 * ```
 */
export function registerPlugin(def: AnyPluginDefinition): void {
  const version = (def as { specificationVersion?: unknown }).specificationVersion;
  if (version !== SPECIFICATION_VERSION) {
    const fix =
      version === 'v1'
        ? "set specificationVersion to 'v2' and type create's context as BuildContextOf<kind> (ctx.site, ctx.embedding and ctx.parts are now always present where they apply); " +
          'parseConfig gets (raw, path, dims, ctx) with the embedding\'s layout in ctx; see "Migrating from specification v1" in docs/architecture.md'
        : `set specificationVersion to '${SPECIFICATION_VERSION}'`;
    throw new PluginSpecificationError(key(def.kind, def.id), `implements specification ${String(version)}, @vwn/core speaks ${SPECIFICATION_VERSION}: ${fix}`);
  }
  const k = key(def.kind, def.id);
  const existing = registry.get(k);
  if (existing && existing !== def) {
    // Same package loaded twice (e.g. source and dist): keep the first one.
    if (existing.description === def.description) return;
    throw new Error(`plugin id "${def.id}" is already registered for kind "${def.kind}"`);
  }
  registry.set(k, def);
}

/**
 * Looks up a plugin; `field` is the config path used in the error message
 * (which lists the registered ids, the ones registered sources could provide,
 * and a source's hint for this id, e.g. the package to install).
 *
 * @example
 * ```ts
 * const def = getPlugin('connection', 'residual', 'connection.use');
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the config type is the definition's own (see AnyPluginDefinition)
export function getPlugin<K extends PluginKind>(kind: K, id: string, field = `${kind}.use`): PluginDefinition<K, any> {
  const def = registry.get(key(kind, id));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  if (def) return def as unknown as PluginDefinition<K, any>;
  const hint = sources.map((s) => s.hint?.(kind, id)).find((h) => h !== undefined);
  if (hint !== undefined) throw new ConfigError(field, `${kind} plugin "${id}" is not registered: ${hint}`);
  const allowed = new Set(listPlugins(kind).map((d) => d.id));
  for (const s of sources) for (const a of s.available?.(kind) ?? []) allowed.add(a);
  const list = [...allowed].sort().map((a) => `"${a}"`);
  throw new ConfigError(field, `unknown ${kind} plugin "${id}"; allowed: ${list.join(', ') || '(none registered)'}`);
}

/**
 * Registered plugins, optionally of one kind, sorted by id.
 *
 * @example
 * ```ts
 * listPlugins('connection').map((d) => d.id); // ['residual', …]
 * ```
 */
export function listPlugins(kind?: PluginKind): AnyPluginDefinition[] {
  return [...registry.values()].filter((d) => !kind || d.kind === kind).sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The `[kind, id]` pairs a model config names: one section per kind of
 * {@link PLUGIN_KINDS} (`objectives` for the objective kind).
 *
 * @example
 * ```ts
 * pluginIdsOf({ ffn: { use: 'swiglu' }, objectives: [{ use: 'my-objective' }] });
 * // [['ffn', 'swiglu'], ['objective', 'my-objective']]
 * ```
 */
export function pluginIdsOf(config: Record<string, unknown>): Array<[PluginKind, string]> {
  const wanted: Array<[PluginKind, string]> = [];
  for (const kind of PLUGIN_KINDS) {
    const secs = kind === 'objective' ? config['objectives'] : [config[kind]];
    if (!Array.isArray(secs)) continue;
    for (const s of secs) {
      const use = s !== null && typeof s === 'object' ? (s as { use?: unknown }).use : undefined;
      if (typeof use === 'string') wanted.push([kind, use]);
    }
  }
  return wanted;
}

/**
 * Asks the registered {@link PluginSource}s to import the plugins a config
 * names but that are not registered yet (for configs that are plain JSON:
 * command lines, checkpoints). With a wide embedding and no `head` section it
 * also loads the embedding's `defaultHead`. Ids no source knows are left for
 * {@link getPlugin} to report.
 *
 * @example
 * ```ts
 * await loadPluginsFor({ connection: { use: 'my-connection' } }); // imports what a source maps it to
 * ```
 */
export async function loadPluginsFor(config: Record<string, unknown>): Promise<void> {
  const load = async (kind: PluginKind, id: string) => {
    if (registry.has(key(kind, id))) return;
    for (const s of sources) {
      try {
        await s.load?.(kind, id);
      } catch {
        // getPlugin reports it (with the source's hint).
      }
      if (registry.has(key(kind, id))) return;
    }
  };
  for (const [kind, id] of pluginIdsOf(config)) await load(kind, id);
  // A wide embedding without a head section gets its default head: load that too.
  const emb = config['embedding'] as { use?: unknown } | undefined;
  if (config['head'] !== undefined || !emb || typeof emb.use !== 'string') return;
  const def = registry.get(key('embedding', emb.use)) as PluginDefinition<'embedding', unknown> | undefined;
  const dModel = config['dModel'];
  if (!def?.defaultHead || typeof dModel !== 'number') return;
  try {
    const dims = { dModel } as ModelDims;
    const width = def.stateLayout?.(def.parseConfig(emb as Record<string, unknown>, 'embedding', dims, {}), dims).width;
    if (width !== undefined && width !== dModel) await load('head', def.defaultHead);
  } catch {
    // an invalid section is reported by assembleModel
  }
}
