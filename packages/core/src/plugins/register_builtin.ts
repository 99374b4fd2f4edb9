import { registerPlugin } from '../registry.js';
import { causalSelfAttention } from './attention.js';
import { lmHead } from './lm_head.js';
import { residualConnection } from './residual.js';
import { standardEmbedding } from './standard_embedding.js';
import { swigluFeedForward } from './swiglu.js';

// The baseline plugins are always available.
registerPlugin(standardEmbedding);
registerPlugin(residualConnection);
registerPlugin(causalSelfAttention);
registerPlugin(swigluFeedForward);
registerPlugin(lmHead);
