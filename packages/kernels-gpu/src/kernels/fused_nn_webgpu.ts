/**
 * Fused `webgpu` kernels for the Transformer's small ops (issue #17): each
 * replaces a chain of tfjs element-wise / reduction kernels (one dispatch
 * each) by one dispatch. Row kernels run one workgroup per row of a 2-D view
 * and reduce in workgroup memory; the rest are flat element-wise programs.
 *
 * | kernel | replaces |
 * | --- | --- |
 * | `VwnRmsNorm` y = x·rsqrt(mean(x²)+ε)·g | Square, Mean, Add, Rsqrt, Mul, Mul |
 * | `VwnRmsNormStats` per row [r, Σ g·dy·x] | (backward) |
 * | `VwnRmsNormGradX`, `VwnRmsNormGradGain` | ≈ 14 backward kernels |
 * | `VwnCausalSoftmax` softmax(scale·s + causal mask) | Mul, Add (mask), Softmax (Max, Sub, Exp, Sum, Div) |
 * | `VwnCausalSoftmaxGrad` scale·p·(dp − Σ p·dp) | Mul, Sum, Sub, Mul, Mul |
 * | `VwnCrossEntropy` per-row NLL | LogSoftmax, OneHot, Mul, Sum, Neg |
 * | `VwnCrossEntropyGrad` (softmax − onehot)·dy/N | ≈ 10 backward kernels |
 * | `VwnSwiGlu` silu(a)·b, `VwnSwiGluGradA`, `VwnSwiGluGradB` | Sigmoid, Mul, Mul and ≈ 8 backward kernels |
 * | `VwnRopeHeads` RoPE of `[B,T,H,hd]` written as `[B,H,T,hd]` | MatMul (rotate-half), Mul, Mul, Add, Transpose |
 * | `VwnRopeHeadsGrad` | Transpose, Mul, Mul, MatMul, Add |
 * | `VwnTokenColumnSum` Σ over tokens of a column block (DGHC parameter gradients) | Slice, Sum |
 *
 * Sizes and constants are baked into the WGSL and the `shaderKey`. The
 * adapter's subgroup operations are not used yet: the reductions use
 * workgroup memory, which every adapter (llvmpipe included) has.
 *
 * @module
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

import { f32Literal, flatProgram, float32Inputs, FLAT_WORKGROUP_INDEX, type WebGPUProgram, type WebGpuBackendLike } from './webgpu_program.js';

/** Kernel names of this module. */
export const VWN_RMS_NORM = 'VwnRmsNorm';
/** See the module table. */
export const VWN_RMS_NORM_STATS = 'VwnRmsNormStats';
/** See the module table. */
export const VWN_RMS_NORM_GRAD_X = 'VwnRmsNormGradX';
/** See the module table. */
export const VWN_RMS_NORM_GRAD_GAIN = 'VwnRmsNormGradGain';
/** See the module table. */
export const VWN_CAUSAL_SOFTMAX = 'VwnCausalSoftmax';
/** See the module table. */
export const VWN_CAUSAL_SOFTMAX_GRAD = 'VwnCausalSoftmaxGrad';
/** See the module table. */
export const VWN_CROSS_ENTROPY = 'VwnCrossEntropy';
/** See the module table. */
export const VWN_CROSS_ENTROPY_GRAD = 'VwnCrossEntropyGrad';
/** See the module table. */
export const VWN_SWIGLU = 'VwnSwiGlu';
/** See the module table. */
export const VWN_SWIGLU_GRAD_A = 'VwnSwiGluGradA';
/** See the module table. */
export const VWN_SWIGLU_GRAD_B = 'VwnSwiGluGradB';
/** See the module table. */
export const VWN_TOKEN_COLUMN_SUM = 'VwnTokenColumnSum';
/** See the module table. */
export const VWN_ROPE_HEADS = 'VwnRopeHeads';
/** See the module table. */
export const VWN_ROPE_HEADS_GRAD = 'VwnRopeHeadsGrad';

const WG = 64;

/** WGSL: workgroup-memory reduction of `v` (op `+` or `max`) into `let name`; all threads get the result. */
function reduce(v: string, name: string, op: 'sum' | 'max'): string {
  const combine = op === 'sum' ? 'red[lid] + red[lid + w]' : 'max(red[lid], red[lid + w])';
  return `
        red[lid] = ${v};
        workgroupBarrier();
        for (var w = ${WG / 2}; w > 0; w = w / 2) {
          if (lid < w) { red[lid] = ${combine}; }
          workgroupBarrier();
        }
        let ${name} = red[0];
        workgroupBarrier();`;
}

/** One workgroup per row of `[rows, cols]`; `body` sees `r` (row), `valid`, `lid`, `base = r·cols`. */
function rowProgram(key: string, outputShape: number[], rows: number, cols: number, variableNames: string[], body: string): WebGPUProgram {
  return {
    outputShape,
    variableNames,
    uniforms: 'numRows : i32,',
    workgroupSize: [WG, 1, 1],
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [rows, 1, 1],
    shaderKey: `${key}_c${cols}_wg${WG}`,
    getUserCode: () => `
      var<workgroup> red : array<f32, ${WG}>;
      fn main(index : i32) {
        let row = ${FLAT_WORKGROUP_INDEX};
        let valid = row < uniforms.numRows;
        let r = select(0, row, valid); // barriers stay in uniform control flow
        let lid = i32(localIndex);
        let base = r * ${cols};
        ${body}
      }`,
  };
}

function run(backend: unknown, program: WebGPUProgram, inputs: TensorInfo[], rows?: number): TensorInfo {
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, inputs, 'float32', rows === undefined ? undefined : [{ type: 'int32', data: [rows] }]);
}

function rowsCols(x: TensorInfo): [number, number] {
  const cols = x.shape[x.shape.length - 1] as number;
  return [x.shape.reduce((a, b) => a * b, 1) / cols, cols];
}

const rmsNorm: KernelFunc = ({ inputs, backend, attrs }) => {
  const [x, gain] = float32Inputs(VWN_RMS_NORM, inputs, ['x', 'gain']) as [TensorInfo, TensorInfo];
  const [rows, D] = rowsCols(x);
  const eps = f32Literal(attrs?.['eps'] as number);
  const program = rowProgram(
    `vwnRmsNorm_eps${eps}`,
    [...x.shape],
    rows,
    D,
    ['x', 'gain'],
    `
        var s = 0.0;
        for (var d = lid; d < ${D}; d += ${WG}) { let v = x[base + d]; s += v * v; }
        ${reduce('s', 'ss', 'sum')}
        let inv = inverseSqrt(ss / ${f32Literal(D)} + ${eps});
        if (valid) {
          for (var d = lid; d < ${D}; d += ${WG}) { result[base + d] = (x[base + d] * inv) * gain[d]; }
        }`,
  );
  return run(backend, program, [x, gain], rows);
};

const rmsNormStats: KernelFunc = ({ inputs, backend, attrs }) => {
  const [x, gain, dy] = float32Inputs(VWN_RMS_NORM_STATS, inputs, ['x', 'gain', 'dy']) as [TensorInfo, TensorInfo, TensorInfo];
  const [rows, D] = rowsCols(x);
  const eps = f32Literal(attrs?.['eps'] as number);
  const program = rowProgram(
    `vwnRmsNormStats_eps${eps}`,
    [rows, 2],
    rows,
    D,
    ['x', 'gain', 'dy'],
    `
        var s = 0.0;
        var p = 0.0;
        for (var d = lid; d < ${D}; d += ${WG}) { let v = x[base + d]; s += v * v; p += gain[d] * dy[base + d] * v; }
        ${reduce('s', 'ss', 'sum')}
        ${reduce('p', 'dot', 'sum')}
        if (valid && lid == 0) {
          result[r * 2] = inverseSqrt(ss / ${f32Literal(D)} + ${eps});
          result[r * 2 + 1] = dot;
        }`,
  );
  return run(backend, program, [x, gain, dy], rows);
};

const rmsNormGradX: KernelFunc = ({ inputs, backend }) => {
  const [x, gain, dy, stats] = float32Inputs(VWN_RMS_NORM_GRAD_X, inputs, ['x', 'gain', 'dy', 'stats']) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo];
  const [, D] = rowsCols(x);
  // dx = r·g·dy − (r³/D)·x·Σ_k g_k·dy_k·x_k
  const program = flatProgram(
    `vwnRmsNormGradX_D${D}`,
    [...x.shape],
    ['x', 'gain', 'dy', 'stats'],
    `
      let row = index / ${D};
      let d = index % ${D};
      let r = stats[row * 2];
      let dot = stats[row * 2 + 1];
      result[index] = r * gain[d] * dy[index] - (r * r * r / ${f32Literal(D)}) * x[index] * dot;`,
  );
  return run(backend, program, [x, gain, dy, stats]);
};

const rmsNormGradGain: KernelFunc = ({ inputs, backend }) => {
  const [x, dy, stats] = float32Inputs(VWN_RMS_NORM_GRAD_GAIN, inputs, ['x', 'dy', 'stats']) as [TensorInfo, TensorInfo, TensorInfo];
  const [rows, D] = rowsCols(x);
  // One workgroup per column d: Σ_rows dy·x·r.
  const program = rowProgram(
    `vwnRmsNormGradGain_rows${rows}`,
    [D],
    D,
    rows,
    ['x', 'dy', 'stats'],
    `
        let d = r;
        var s = 0.0;
        for (var i = lid; i < ${rows}; i += ${WG}) { s += dy[i * ${D} + d] * (x[i * ${D} + d] * stats[i * 2]); }
        ${reduce('s', 'total', 'sum')}
        if (valid && lid == 0) { result[d] = total; }`,
  );
  return run(backend, program, [x, dy, stats], D);
};

const causalSoftmax: KernelFunc = ({ inputs, backend, attrs }) => {
  const [scores] = float32Inputs(VWN_CAUSAL_SOFTMAX, inputs, ['scores']) as [TensorInfo];
  const [rows, T] = rowsCols(scores);
  const scale = f32Literal(attrs?.['scale'] as number);
  const program = rowProgram(
    `vwnCausalSoftmax_s${scale}`,
    [...scores.shape],
    rows,
    T,
    ['scores'],
    `
        let i = r % ${T}; // query position: keys j ≤ i are visible
        var m = -3.0e38;
        for (var j = lid; j <= i; j += ${WG}) { m = max(m, scores[base + j] * ${scale}); }
        ${reduce('m', 'mx', 'max')}
        var s = 0.0;
        for (var j = lid; j <= i; j += ${WG}) { s += exp(scores[base + j] * ${scale} - mx); }
        ${reduce('s', 'total', 'sum')}
        if (valid) {
          for (var j = lid; j < ${T}; j += ${WG}) {
            result[base + j] = select(0.0, exp(scores[base + j] * ${scale} - mx) / total, j <= i);
          }
        }`,
  );
  return run(backend, program, [scores], rows);
};

const causalSoftmaxGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const [p, dp] = float32Inputs(VWN_CAUSAL_SOFTMAX_GRAD, inputs, ['p', 'dp']) as [TensorInfo, TensorInfo];
  const [rows, T] = rowsCols(p);
  const scale = f32Literal(attrs?.['scale'] as number);
  const program = rowProgram(
    `vwnCausalSoftmaxGrad_s${scale}`,
    [...p.shape],
    rows,
    T,
    ['p', 'dp'],
    `
        var s = 0.0;
        for (var j = lid; j < ${T}; j += ${WG}) { s += p[base + j] * dp[base + j]; }
        ${reduce('s', 'dot', 'sum')}
        if (valid) {
          for (var j = lid; j < ${T}; j += ${WG}) { result[base + j] = ${scale} * (p[base + j] * (dp[base + j] - dot)); }
        }`,
  );
  return run(backend, program, [p, dp], rows);
};

function targetsInput(kernel: string, inputs: Record<string, TensorInfo | undefined>): TensorInfo {
  const t = inputs['targets'];
  if (t === undefined || t.dtype !== 'int32') throw new Error(`${kernel}: targets must be an int32 tensor`);
  return t;
}

const LSE = (V: number) => `
        var m = -3.0e38;
        for (var v = lid; v < ${V}; v += ${WG}) { m = max(m, logits[base + v]); }
        ${reduce('m', 'mx', 'max')}
        var s = 0.0;
        for (var v = lid; v < ${V}; v += ${WG}) { s += exp(logits[base + v] - mx); }
        ${reduce('s', 'total', 'sum')}
        let lse = mx + log(total);`;

const crossEntropy: KernelFunc = ({ inputs, backend }) => {
  const [logits] = float32Inputs(VWN_CROSS_ENTROPY, inputs, ['logits']) as [TensorInfo];
  const targets = targetsInput(VWN_CROSS_ENTROPY, inputs);
  const [rows, V] = rowsCols(logits);
  const program = rowProgram(
    'vwnCrossEntropy',
    [rows],
    rows,
    V,
    ['logits', 'targets'],
    `
        ${LSE(V)}
        if (valid && lid == 0) { result[r] = lse - logits[base + targets[r]]; }`,
  );
  return run(backend, program, [logits, targets], rows);
};

const crossEntropyGrad: KernelFunc = ({ inputs, backend }) => {
  const [logits, dy] = float32Inputs(VWN_CROSS_ENTROPY_GRAD, inputs, ['logits', 'dy']) as [TensorInfo, TensorInfo];
  const targets = targetsInput(VWN_CROSS_ENTROPY_GRAD, inputs);
  const [rows, V] = rowsCols(logits);
  // d mean(nll) / d logits = (softmax − onehot(target)) · dy / rows
  const program = rowProgram(
    `vwnCrossEntropyGrad_rows${rows}`,
    [rows, V],
    rows,
    V,
    ['logits', 'targets', 'dy'],
    `
        ${LSE(V)}
        let g = dy[0] / ${f32Literal(rows)};
        let t = targets[r];
        if (valid) {
          for (var v = lid; v < ${V}; v += ${WG}) { result[base + v] = (exp(logits[base + v] - lse) - select(0.0, 1.0, v == t)) * g; }
        }`,
  );
  return run(backend, program, [logits, targets, dy], rows);
};

const SIG = 'let sg = 1.0 / (1.0 + exp(-av));';

const swiglu: KernelFunc = ({ inputs, backend }) => {
  const [a, b] = float32Inputs(VWN_SWIGLU, inputs, ['a', 'b']) as [TensorInfo, TensorInfo];
  const program = flatProgram('vwnSwiGlu', [...a.shape], ['a', 'b'], `let av = a[index]; ${SIG} result[index] = (av * sg) * b[index];`);
  return run(backend, program, [a, b]);
};

const swigluGradA: KernelFunc = ({ inputs, backend }) => {
  const [a, b, dh] = float32Inputs(VWN_SWIGLU_GRAD_A, inputs, ['a', 'b', 'dh']) as [TensorInfo, TensorInfo, TensorInfo];
  const program = flatProgram(
    'vwnSwiGluGradA',
    [...a.shape],
    ['a', 'b', 'dh'],
    `let av = a[index]; ${SIG} result[index] = dh[index] * b[index] * (sg + av * sg * (1.0 - sg));`,
  );
  return run(backend, program, [a, b, dh]);
};

const swigluGradB: KernelFunc = ({ inputs, backend }) => {
  const [a, dh] = float32Inputs(VWN_SWIGLU_GRAD_B, inputs, ['a', 'dh']) as [TensorInfo, TensorInfo];
  const program = flatProgram('vwnSwiGluGradB', [...a.shape], ['a', 'dh'], `let av = a[index]; ${SIG} result[index] = dh[index] * (av * sg);`);
  return run(backend, program, [a, dh]);
};

/** `[B, T, H, hd]` (attr) of a RoPE kernel. */
function ropeDims(attrs: Record<string, unknown> | undefined): [number, number, number, number] {
  return attrs?.['dims'] as [number, number, number, number];
}

const ropeHeads: KernelFunc = ({ inputs, backend, attrs }) => {
  const [x, cos, sin] = float32Inputs(VWN_ROPE_HEADS, inputs, ['x', 'cos', 'sin']) as [TensorInfo, TensorInfo, TensorInfo];
  const [B, T, H, hd] = ropeDims(attrs);
  const half = hd / 2;
  // Output [B, H, T, hd]: y_j = x_j·cos_j + rot(x)_j·sin_j, rot(x)_j = −x_{j+half} (j < half), x_{j−half} (j ≥ half).
  const program = flatProgram(
    `vwnRopeHeads_${B}_${T}_${H}_${hd}`,
    [B, H, T, hd],
    ['x', 'cos', 'sin'],
    `
      let j = index % ${hd};
      let t = (index / ${hd}) % ${T};
      let h = (index / ${hd * T}) % ${H};
      let b = index / ${hd * T * H};
      let src = ((b * ${T} + t) * ${H} + h) * ${hd};
      let partner = select(x[src + j - ${half}], -x[src + j + ${half}], j < ${half});
      result[index] = x[src + j] * cos[t * ${hd} + j] + partner * sin[t * ${hd} + j];`,
  );
  return run(backend, program, [x, cos, sin]);
};

const ropeHeadsGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const [dy, cos, sin] = float32Inputs(VWN_ROPE_HEADS_GRAD, inputs, ['dy', 'cos', 'sin']) as [TensorInfo, TensorInfo, TensorInfo];
  const [B, T, H, hd] = ropeDims(attrs);
  const half = hd / 2;
  // dx [B, T, H, hd]: dx_j = dy_j·cos_j + (j < half ? dy_{j+half}·sin_{j+half} : −dy_{j−half}·sin_{j−half}).
  const program = flatProgram(
    `vwnRopeHeadsGrad_${B}_${T}_${H}_${hd}`,
    [B, T, H, hd],
    ['dy', 'cos', 'sin'],
    `
      let j = index % ${hd};
      let h = (index / ${hd}) % ${H};
      let t = (index / ${hd * H}) % ${T};
      let b = index / ${hd * H * T};
      let src = ((b * ${H} + h) * ${T} + t) * ${hd};
      let c = t * ${hd};
      let other = select(-dy[src + j - ${half}] * sin[c + j - ${half}], dy[src + j + ${half}] * sin[c + j + ${half}], j < ${half});
      result[index] = dy[src + j] * cos[c + j] + other;`,
  );
  return run(backend, program, [dy, cos, sin]);
};

/**
 * `g [N, W]` → `[fold]`: `out[d] = Σ_t Σ_{k < len, k ≡ d (mod fold)} g[t, offset + k]`
 * (attrs `offset`, `len`, `fold`; `fold = len` sums each column over tokens).
 * One workgroup per output.
 */
const tokenColumnSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const [g] = float32Inputs(VWN_TOKEN_COLUMN_SUM, inputs, ['g']) as [TensorInfo];
  const [N, W] = g.shape as [number, number];
  const offset = attrs?.['offset'] as number;
  const len = attrs?.['len'] as number;
  const fold = attrs?.['fold'] as number;
  if (len % fold !== 0 || offset + len > W) throw new Error(`${VWN_TOKEN_COLUMN_SUM}: bad block offset ${offset}, len ${len}, fold ${fold} of width ${W}`);
  const per = len / fold;
  const program = rowProgram(
    `vwnTokenColumnSum_N${N}_W${W}_o${offset}_l${len}_f${fold}`,
    [fold],
    fold,
    0,
    ['g'],
    `
        let d = r;
        var s = 0.0;
        for (var q = lid; q < ${N * per}; q += ${WG}) { s += g[(q / ${per}) * ${W} + ${offset} + (q % ${per}) * ${fold} + d]; }
        ${reduce('s', 'total', 'sum')}
        if (valid && lid == 0) { result[d] = total; }`,
  );
  return run(backend, program, [g], fold);
};

/**
 * Kernel configs of this module (all for `webgpu`; their gradients are wired
 * by the ops in `../ops/fused_nn.ts` with `tf.customGrad`).
 *
 * @example
 * ```ts
 * FUSED_NN_KERNEL_CONFIGS.map((k) => k.kernelName); // ['VwnRmsNorm', 'VwnRmsNormStats', …]
 * ```
 */
export const FUSED_NN_KERNEL_CONFIGS: readonly KernelConfig[] = (
  [
    [VWN_RMS_NORM, rmsNorm],
    [VWN_RMS_NORM_STATS, rmsNormStats],
    [VWN_RMS_NORM_GRAD_X, rmsNormGradX],
    [VWN_RMS_NORM_GRAD_GAIN, rmsNormGradGain],
    [VWN_CAUSAL_SOFTMAX, causalSoftmax],
    [VWN_CAUSAL_SOFTMAX_GRAD, causalSoftmaxGrad],
    [VWN_CROSS_ENTROPY, crossEntropy],
    [VWN_CROSS_ENTROPY_GRAD, crossEntropyGrad],
    [VWN_SWIGLU, swiglu],
    [VWN_SWIGLU_GRAD_A, swigluGradA],
    [VWN_SWIGLU_GRAD_B, swigluGradB],
    [VWN_TOKEN_COLUMN_SUM, tokenColumnSum],
    [VWN_ROPE_HEADS, ropeHeads],
    [VWN_ROPE_HEADS_GRAD, ropeHeadsGrad],
  ] as const
).map(([kernelName, kernelFunc]) => ({ kernelName, backendName: 'webgpu', kernelFunc }));
