/**
 * @vwn/ghc: Generalized Hyper-Connections for Virtual Width Networks
 * (PAPER.md §4–6, §9, §11) as vwn plugins. Importing this module registers
 * `connection: ghc, dynamic-ghc, hyper-connections, frac-connections`,
 * `head: over-width, stream-sum` and `embedding: stream-copies`.
 *
 * @packageDocumentation
 */
import { registerPlugin } from '@vwn/core';
import { dynamicGhcConnection, ghcConnection } from './ghc.js';
import { fracConnectionsConnection, hyperConnectionsConnection, streamCopiesEmbedding, streamSumHead } from './hyper_connections.js';
import { overWidthHead } from './over_width_head.js';

for (const def of [
  ghcConnection,
  dynamicGhcConnection,
  hyperConnectionsConnection,
  fracConnectionsConnection,
  overWidthHead,
  streamSumHead,
  streamCopiesEmbedding,
]) {
  registerPlugin(def);
}

export { ghcConnection, dynamicGhcConnection, type GhcConfig } from './ghc.js';
export { createGeneralizedHyperConnection, checkLayout, type GhcOptions } from './generalized_hyper_connection.js';
export { dghcReadReference, ghcWriteReference, dghcReference, type DghcParams, type DghcReadResult, type DghcFusedOps } from './reference.js';
export {
  hyperConnectionsConnection,
  fracConnectionsConnection,
  streamCopiesEmbedding,
  streamSumHead,
  hyperConnections,
  fracConnections,
  virtualWidth,
  type VirtualWidthOptions,
  type HyperConnectionsConfig,
  type FracConnectionsConfig,
  type StreamCopiesConfig,
  type StreamSumHeadConfig,
  type ConnectionPreset,
} from './hyper_connections.js';
export { overWidthHead, type OverWidthHeadConfig } from './over_width_head.js';
