// The SHA-256 that checkpoints use: pure JS by default (browser-safe); the
// Node entry (`@vwn/core/node`) swaps in node:crypto's, which gives the same
// digests faster. Not exported from the package.
import { Sha256 } from './sha256.js';

/** An incremental SHA-256. */
export interface Sha256Like {
  update(data: Uint8Array | string): unknown;
  hex(): string;
}

let factory: () => Sha256Like = () => new Sha256();

/** A fresh hasher. */
export function newSha256(): Sha256Like {
  return factory();
}

/** Replaces the hasher (Node entry: node:crypto). */
export function setSha256Factory(f: () => Sha256Like): void {
  factory = f;
}
