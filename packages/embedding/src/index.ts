/**
 * @vwn/embedding: the over-width embedding of Virtual Width Networks
 * (PAPER.md §3) as a vwn embedding plugin. Importing this module registers
 * `embedding: over-width`.
 *
 * @packageDocumentation
 */
import { registerPlugin } from '@vwn/core';
import { overWidthEmbedding } from './over_width_embedding.js';

registerPlugin(overWidthEmbedding);

export { overWidthEmbedding, type OverWidthEmbeddingConfig } from './over_width_embedding.js';
