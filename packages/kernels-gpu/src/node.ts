// The package's `node` export condition: the same API as the browser entry
// (src/index.ts), with adapters from Dawn (the `webgpu` npm package) instead
// of navigator.gpu. Node resolves `@vwn/kernels-gpu` here; bundlers for the
// browser resolve src/index.ts and never see Dawn.
import { dawnPlatform } from './dawn.js';
import { setWebGpuPlatform } from './runtime.js';

setWebGpuPlatform(dawnPlatform);

export * from './index.js';
