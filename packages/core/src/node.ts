/**
 * @vwn/core/node: the Node-only part of @vwn/core, everything that touches
 * files or the process: checkpoint files, run directories (a
 * `RunStore` of files), corpus files, folder locks, atomic writes and
 * the machine's memory. The main entry (`@vwn/core`) imports no Node
 * built-in, so it bundles for a web page; this entry is for Node.
 *
 * Importing it also makes `availableMemory()` report the machine's memory
 * (or the cgroup limit) and lets checkpoints hash with node:crypto (same
 * digests as the main entry's pure-JS SHA-256, faster).
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { setSha256Factory } from './checkpoint/hash.js';
import { setMemoryProvider } from './memory.js';
import { nodeAvailableMemory } from './node/memory.js';

setMemoryProvider(nodeAvailableMemory);
setSha256Factory(() => {
  const h = createHash('sha256');
  return { update: (data: Uint8Array | string) => h.update(data), hex: () => h.digest('hex') };
});

export { saveCheckpoint, loadCheckpoint, loadModelFromCheckpoint } from './node/checkpoint_file.js';
export { runDirectory, RunDirectory } from './node/run_directory.js';
export { corpusFromFile, readCorpusFile } from './node/corpus_file.js';
export { writeFileAtomic, removeOrphanTempFiles } from './node/atomic.js';
export { lockFolder, LOCK_FILE, type LockOwner, type FolderLock } from './node/lock.js';
export { nodeAvailableMemory } from './node/memory.js';
