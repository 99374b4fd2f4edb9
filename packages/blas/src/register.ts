/**
 * Side-effect module: `import '@vwn/blas/register'` turns on native BLAS
 * matMul for every registered cpu/wasm backend (no-op without the addon).
 *
 * @module
 */
import { enableNativeBlas } from './install.js';

enableNativeBlas();
