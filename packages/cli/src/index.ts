/**
 * @vwn/cli: the `vwn` command line (train, eval, sample, inspect).
 *
 * @packageDocumentation
 */
export { main, COMMANDS, type Command } from './main.js';
export { PRESETS, PRESET_NAMES } from './presets.js';
export { Progress, formatDuration } from './progress.js';
export { groupLayers } from './commands/inspect.js';
export { installDiscovery, readManifests, manifestSource, type PackageManifest } from './discovery.js';
