import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A tensor as stored in a safetensors file. */
export interface NamedArray {
  dtype: 'F32' | 'I32';
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A safetensors file that is truncated, corrupted or unsupported. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

const DTYPES = { F32: 4, I32: 4 } as const;

/**
 * Encodes tensors in the safetensors format (8-byte little-endian header
 * length, JSON header padded to 8 bytes, packed little-endian data), tensors
 * sorted by name. Loadable by `safetensors.torch.load_file`.
 *
 * @example
 * ```ts
 * const bytes = encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }, { note: 'hi' });
 * ```
 */
export function encodeSafetensors(tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== size) throw new SafetensorsError(`tensor "${name}": ${t.data.length} values for shape [${t.shape}] (needs ${size})`);
    if (!(t.dtype in DTYPES)) throw new SafetensorsError(`tensor "${name}": unsupported dtype ${t.dtype}; supported: F32, I32`);
    const bytes = size * DTYPES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((new TextEncoder().encode(json).length) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (const name of names) {
    const t = tensors[name]!;
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (little) out.set(src, pos);
    else for (let i = 0; i < t.data.length; i++) view.setUint32(pos + 4 * i, new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)[i]!, true);
    pos += src.length;
  }
  return out;
}

/**
 * Decodes a safetensors file strictly: any truncation, out-of-range or
 * overlapping offsets, gaps, trailing bytes, bad JSON or unsupported dtype
 * throws {@link SafetensorsError}; nothing is half-decoded.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = decodeSafetensors(await readFile('model.safetensors'));
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Record<string, NamedArray>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SafetensorsError(`file has ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) throw new SafetensorsError(`header length ${headerLen} exceeds the file (${bytes.length} bytes): truncated`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Array<[string, NamedArray['dtype'], number[], number, number]> = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object') throw new SafetensorsError('__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError(`__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info?.dtype !== 'string' || !(info.dtype in DTYPES)) {
      throw new SafetensorsError(`tensor "${name}": unsupported dtype ${JSON.stringify(info?.dtype)}; supported: F32, I32`);
    }
    const shape = info.shape;
    const offs = info.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsError(`tensor "${name}": bad shape`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(`tensor "${name}": bad data_offsets`);
    }
    const [begin, end] = offs as [number, number];
    const dtype = info.dtype as NamedArray['dtype'];
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end - begin !== size * DTYPES[dtype]) {
      throw new SafetensorsError(`tensor "${name}": data_offsets [${begin}, ${end}] do not match shape [${shape}] × ${dtype}`);
    }
    if (end > dataLen) throw new SafetensorsError(`tensor "${name}": data ends at ${end}, past the data region (${dataLen} bytes): truncated`);
    entries.push([name, dtype, shape as number[], begin, end]);
  }
  // The tensors must tile the data region exactly: no overlaps, gaps or trailing bytes.
  const sorted = [...entries].sort((a, b) => a[3] - b[3]);
  let cursor = 0;
  for (const [name, , , begin, end] of sorted) {
    if (begin !== cursor) throw new SafetensorsError(`tensor "${name}": starts at ${begin}, expected ${cursor} (overlap or gap)`);
    cursor = end;
  }
  if (cursor !== dataLen) throw new SafetensorsError(`data region has ${dataLen} bytes but tensors cover ${cursor}`);
  const tensors: Record<string, NamedArray> = {};
  for (const [name, dtype, shape, begin, end] of entries) {
    // An aligned, owned copy (Uint8Array.prototype.slice copies even for a Node Buffer, whose own slice is a view).
    const copy = Uint8Array.prototype.slice.call(bytes, dataStart + begin, dataStart + end);
    const data = dtype === 'F32' ? new Float32Array(copy.buffer, 0, (end - begin) / 4) : new Int32Array(copy.buffer, 0, (end - begin) / 4);
    tensors[name] = { dtype, shape, data };
  }
  return { tensors, metadata };
}

/**
 * Writes a file atomically: a temp file in the same folder, fsync, rename over
 * the target, fsync the folder. Readers see the old file or the new one, never
 * a mix; a failed write leaves the old file intact.
 *
 * @example
 * ```ts
 * await writeFileAtomic('runs/a/config.json', JSON.stringify(cfg));
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  }
}
