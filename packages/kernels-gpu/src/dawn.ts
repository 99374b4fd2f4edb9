// Node: adapters from Dawn (the `webgpu` npm package). Installed by the
// package's `node` entry (src/node.ts); browser bundles never load this file.
import { summarize, WebGpuUnavailableError, type FoundAdapter, type GpuLike, type WebGpuAdapterChoice, type WebGpuPlatform } from './runtime.js';

interface Dawn {
  create: (flags: string[]) => GpuLike;
  globals: Record<string, unknown>;
}

async function loadDawn(): Promise<Dawn> {
  try {
    return (await import('webgpu')) as unknown as Dawn;
  } catch (e) {
    throw new WebGpuUnavailableError(`the Dawn binding (npm package "webgpu") failed to load (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Makes a Dawn adapter usable by tfjs-backend-webgpu: the WebGPU globals (GPUBufferUsage, GPUMapMode, …) and navigator.gpu. */
function installer(dawn: Dawn, gpu: GpuLike): () => void {
  return () => {
    Object.assign(globalThis, dawn.globals);
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (g.navigator === undefined) g.navigator = { gpu };
    else if (g.navigator.gpu === undefined) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  };
}

async function findDawnAdapter(choice: WebGpuAdapterChoice): Promise<FoundAdapter> {
  const dawn = await loadDawn();
  const tried: string[] = [];
  if (choice !== 'compatibility') {
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter) return { adapter, summary: summarize(adapter, 'native'), install: installer(dawn, gpu) };
    tried.push('native (Vulkan/Metal/D3D12): none');
  }
  if (choice !== 'native') {
    // Mesa's EGL needs a platform without a display server; surfaceless renders off-screen.
    process.env['EGL_PLATFORM'] ??= 'surfaceless';
    const gpu = dawn.create(['backend=opengl']);
    const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
    if (adapter) return { adapter, summary: summarize(adapter, 'compatibility'), install: installer(dawn, gpu) };
    tried.push('OpenGL compatibility (EGL): none');
  }
  throw new WebGpuUnavailableError(tried.join(', '));
}

/** The Node platform: Dawn adapters, `VWN_WEBGPU_ADAPTER`, provider lines on stderr. */
export const dawnPlatform: WebGpuPlatform = {
  findAdapter: findDawnAdapter,
  defaultChoice: () => process.env['VWN_WEBGPU_ADAPTER'] as WebGpuAdapterChoice | undefined,
  log: (line) => process.stderr.write(line + '\n'),
  env: (name) => process.env[name],
};
