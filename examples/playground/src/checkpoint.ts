// Checkpoint download: the same safetensors bytes (weights, AdamW moments,
// config, tokenizer, trainer position, SHA-256) that `vwn train` writes, so
// `vwn eval --checkpoint FILE`, `vwn sample` and `loadModelFromCheckpoint` read it.
import type { PlaygroundRun } from './session.js';

/** File name of a run's checkpoint download, e.g. `vwn-r4-mtp-moe-small-step150.safetensors`. */
export function checkpointFileName(run: PlaygroundRun): string {
  const s = run.selection;
  return `${s.variant}${s.mtp ? '-mtp' : ''}${s.moe ? '-moe' : ''}-${s.size}-step${run.trainer?.step ?? 0}.safetensors`;
}

/** The run's checkpoint as bytes. */
export async function checkpointBytes(run: PlaygroundRun): Promise<Uint8Array> {
  if (!run.trainer) throw new Error(`run ${run.id} (${run.label}) has not been trained`);
  return run.trainer.checkpointBytes();
}
