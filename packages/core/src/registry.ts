import { ConfigError } from './errors.js';
import { SPECIFICATION_VERSION, type AnyPluginDefinition, type PluginDefinition, type PluginKind } from './plugin.js';

const registry = new Map<string, AnyPluginDefinition>();

/**
 * Plugin ids provided by the project's own packages, so a config that names
 * one whose package is not installed gets an install hint instead of "unknown".
 *
 * @example
 * ```ts
 * KNOWN_PLUGIN_PACKAGES['connection:dynamic-ghc']; // '@vwn/ghc'
 * KNOWN_PLUGIN_PACKAGES['ffn:moe'];                // '@vwn/moe'
 * KNOWN_PLUGIN_PACKAGES['objective:mtp'];          // '@vwn/mtp'
 * ```
 */
export const KNOWN_PLUGIN_PACKAGES: Readonly<Record<string, string>> = {
  'embedding:over-width': '@vwn/embedding',
  'embedding:stream-copies': '@vwn/ghc',
  'connection:ghc': '@vwn/ghc',
  'connection:dynamic-ghc': '@vwn/ghc',
  'connection:hyper-connections': '@vwn/ghc',
  'connection:frac-connections': '@vwn/ghc',
  'head:over-width': '@vwn/ghc',
  'head:stream-sum': '@vwn/ghc',
  'ffn:moe': '@vwn/moe',
  'objective:mtp': '@vwn/mtp',
};

const key = (kind: PluginKind, id: string) => `${kind}:${id}`;

/**
 * Adds a plugin to the registry. Registering the same definition twice is a
 * no-op; a different definition under a taken id is an error.
 *
 * @example
 * ```ts
 * registerPlugin(myFfnDefinition);
 * assembleModel({ ...dims, ffn: { use: myFfnDefinition.id } });
 * ```
 */
export function registerPlugin(def: AnyPluginDefinition): void {
  if (def.specificationVersion !== SPECIFICATION_VERSION) {
    throw new Error(
      `plugin ${def.kind}:${def.id} implements specification ${String(def.specificationVersion)}; @vwn/core speaks ${SPECIFICATION_VERSION}`,
    );
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
 * (which lists the registered ids and, for a known id, the package to install).
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
  const pkg = KNOWN_PLUGIN_PACKAGES[key(kind, id)];
  if (pkg) {
    throw new ConfigError(field, `"${id}" is provided by ${pkg}, which is not loaded; install it (npm install ${pkg}) and import it`);
  }
  const allowed = listPlugins(kind).map((d) => `"${d.id}"`);
  const more = Object.keys(KNOWN_PLUGIN_PACKAGES)
    .filter((k) => k.startsWith(`${kind}:`) && !registry.has(k))
    .map((k) => `"${k.slice(kind.length + 1)}" (${KNOWN_PLUGIN_PACKAGES[k]})`);
  throw new ConfigError(field, `unknown ${kind} plugin "${id}"; allowed: ${[...allowed, ...more].join(', ') || '(none registered)'}`);
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
 * Imports the packages that provide plugin ids named in a config but not yet
 * registered (for command-line use, where configs are plain JSON). Unknown
 * packages are left for {@link getPlugin} to report.
 *
 * @example
 * ```ts
 * await loadPluginsFor({ connection: { use: 'dynamic-ghc', m: 4, n: 8 } });
 * ```
 */
export async function loadPluginsFor(config: Record<string, unknown>): Promise<void> {
  const wanted: Array<[PluginKind, string]> = [];
  for (const kind of ['embedding', 'connection', 'mixer', 'ffn', 'head'] as const) {
    const sec = config[kind] as { use?: unknown } | undefined;
    if (sec && typeof sec.use === 'string') wanted.push([kind, sec.use]);
  }
  const objectives = config['objectives'];
  if (Array.isArray(objectives)) {
    for (const o of objectives) if (o && typeof o.use === 'string') wanted.push(['objective', o.use]);
  }
  const pkgs = new Set<string>();
  for (const [kind, id] of wanted) {
    const pkg = KNOWN_PLUGIN_PACKAGES[key(kind, id)];
    if (!registry.has(key(kind, id)) && pkg) pkgs.add(pkg);
  }
  const load = async (pkg: string) => {
    try {
      await import(pkg);
    } catch {
      // getPlugin reports the missing package with an install hint.
    }
  };
  for (const pkg of pkgs) await load(pkg);
  // A wide embedding without a head section gets the over-width head by default: load its package too.
  const emb = config['embedding'] as { use?: unknown } | undefined;
  if (config['head'] === undefined && emb && typeof emb.use === 'string' && !registry.has(key('head', 'over-width'))) {
    const def = registry.get(key('embedding', emb.use)) as PluginDefinition<'embedding', unknown> | undefined;
    const dModel = config['dModel'];
    try {
      const width = typeof dModel === 'number' ? def?.stateLayout?.(def.parseConfig(emb as Record<string, unknown>, 'embedding', { dModel } as never), { dModel } as never)?.width : undefined;
      if (width !== undefined && width !== dModel) await load(KNOWN_PLUGIN_PACKAGES[key('head', 'over-width')]!);
    } catch {
      // an invalid section is reported by assembleModel
    }
  }
}
