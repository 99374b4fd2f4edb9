/**
 * A tensor as stored in a safetensors file: `data` holds `product(shape)`
 * values, row-major (`Float32Array` for `F32`, `Int32Array` for `I32`).
 *
 * @example
 * ```ts
 * const w: NamedArray = { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) };
 * ```
 */
export interface NamedArray {
  dtype: 'F32' | 'I32';
  shape: number[];
  data: Float32Array | Int32Array;
}

/**
 * A safetensors file that is truncated, corrupted or unsupported (or tensors
 * that cannot be encoded).
 *
 * @example
 * ```ts
 * try { decodeSafetensors(bytes); }
 * catch (e) { if (e instanceof SafetensorsError) console.error(`bad file: ${e.message}`); }
 * ```
 */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

const BYTES_PER: Record<NamedArray['dtype'], number> = { F32: 4, I32: 4 };
const SUPPORTED = 'supported: F32, I32';
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDtype(d: unknown): d is NamedArray['dtype'] {
  return typeof d === 'string' && Object.prototype.hasOwnProperty.call(BYTES_PER, d);
}

function isDim(d: unknown): d is number {
  return typeof d === 'number' && Number.isSafeInteger(d) && d >= 0;
}

/** Sets an own enumerable property (safe for a key such as `__proto__`). */
function put<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Encodes tensors in the safetensors format: an 8-byte little-endian header
 * length `N`, `N` bytes of JSON header (padded with spaces to a multiple of 8;
 * `__metadata__` first when there is any metadata), then the data of every
 * tensor, little-endian, packed contiguously in header order (tensors sorted by
 * name). Loadable by `safetensors.torch.load_file` and friends.
 *
 * Throws a {@link SafetensorsError} on an unsupported dtype, a shape that is not
 * a list of non-negative integers, data of the wrong array type or length, a
 * tensor named `__metadata__`, or a metadata value that is not a string.
 *
 * @example
 * ```ts
 * const bytes = encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }, { note: 'hi' });
 * ```
 */
export function encodeSafetensors(tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') throw new SafetensorsError('tensors: must be an object of name → NamedArray');
  if (metadata === null || typeof metadata !== 'object') throw new SafetensorsError('metadata: must be an object of string → string');
  const names = Object.keys(tensors).sort();
  const parts: string[] = [];
  const metaKeys = Object.keys(metadata);
  if (metaKeys.length > 0) {
    const entries = metaKeys.map((k) => {
      const v = metadata[k];
      if (typeof v !== 'string') throw new SafetensorsError(`metadata "${k}": values must be strings, got ${typeof v}`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${entries.join(',')}}`);
  }
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) throw new SafetensorsError(`tensor name "${METADATA_KEY}" is reserved for metadata; rename the tensor`);
    const t = tensors[name];
    if (t === null || typeof t !== 'object') throw new SafetensorsError(`tensor "${name}": must be { dtype, shape, data }`);
    if (!isDtype(t.dtype)) throw new SafetensorsError(`tensor "${name}": unsupported dtype ${JSON.stringify(t.dtype)}; ${SUPPORTED}`);
    if (!Array.isArray(t.shape) || !t.shape.every(isDim)) {
      throw new SafetensorsError(`tensor "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
    }
    const expectedType = t.dtype === 'F32' ? Float32Array : Int32Array;
    if (!(t.data instanceof expectedType)) {
      throw new SafetensorsError(`tensor "${name}": data for dtype ${t.dtype} must be a ${expectedType.name}, got ${Object.prototype.toString.call(t.data)}`);
    }
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== size) throw new SafetensorsError(`tensor "${name}": ${t.data.length} values for shape [${t.shape.join(', ')}] (needs ${size})`);
    const bytes = size * BYTES_PER[t.dtype];
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] })}`);
    offset += bytes;
  }
  const json = `{${parts.join(',')}}`;
  const raw = new TextEncoder().encode(json);
  const headerLen = Math.ceil(raw.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLen), true);
  out.set(raw, 8);
  out.fill(0x20, 8 + raw.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const name of names) {
    const t = tensors[name]!;
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (LITTLE_ENDIAN_HOST) {
      out.set(src, pos);
    } else {
      const words = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      for (let i = 0; i < t.data.length; i++) view.setUint32(pos + 4 * i, words.getUint32(4 * i, false), true);
    }
    pos += src.length;
  }
  return out;
}

/**
 * Decodes a safetensors file strictly, or throws a {@link SafetensorsError}:
 * a file shorter than 8 bytes, a header length past the end of the file, a
 * header that is not a UTF-8 JSON object, an unsupported dtype, a bad shape,
 * `data_offsets` out of range or not matching shape × dtype size, and a data
 * region that the tensors do not tile exactly (overlaps, gaps or trailing
 * bytes) are all refused. Nothing is half-decoded: every tensor's data is
 * copied into a fresh, aligned typed array only after the whole file checks.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = decodeSafetensors(await readFile('model.safetensors'));
 * tensors['w']!.data; // Float32Array
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Record<string, NamedArray>; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) throw new SafetensorsError('bytes: must be a Uint8Array (or Buffer) with the file contents');
  if (bytes.length < 8) throw new SafetensorsError(`file has ${bytes.length} bytes, shorter than the 8-byte header length: truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLenBig = view.getBigUint64(0, true);
  if (headerLenBig > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(`header length ${headerLenBig} exceeds the ${bytes.length - 8} bytes after the length field: truncated or corrupted`);
  }
  const headerLen = Number(headerLenBig);
  if (headerLen < 2 || bytes[8] !== 0x7b) throw new SafetensorsError('header does not start with "{": not a safetensors file or corrupted');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Array<{ name: string; dtype: NamedArray['dtype']; shape: number[]; begin: number; end: number }> = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SafetensorsError(`${METADATA_KEY} is not a JSON object`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError(`${METADATA_KEY}.${k} is not a string`);
        put(metadata, k, v);
      }
      continue;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SafetensorsError(`tensor "${name}": entry is not a JSON object`);
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDtype(info.dtype)) throw new SafetensorsError(`tensor "${name}": unsupported dtype ${JSON.stringify(info.dtype)}; ${SUPPORTED}`);
    const dtype = info.dtype;
    const shape = info.shape;
    const offs = info.data_offsets;
    if (!Array.isArray(shape) || !shape.every(isDim))
      throw new SafetensorsError(`tensor "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isDim)) {
      throw new SafetensorsError(`tensor "${name}": data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end - begin !== size * BYTES_PER[dtype]) {
      throw new SafetensorsError(
        `tensor "${name}": data_offsets [${begin}, ${end}] do not match shape [${shape.join(', ')}] × ${dtype} (${size * BYTES_PER[dtype]} bytes)`,
      );
    }
    if (end > dataLen) throw new SafetensorsError(`tensor "${name}": data_offsets end ${end} is past the data region (${dataLen} bytes): truncated`);
    entries.push({ name, dtype, shape: [...(shape as number[])], begin, end });
  }
  // The tensors must tile the data region exactly: no overlaps, gaps or trailing bytes.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) throw new SafetensorsError(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap another tensor (ends at ${cursor})`);
    if (e.begin > cursor) throw new SafetensorsError(`tensor "${e.name}": starts at byte ${e.begin}, leaving a gap after byte ${cursor}`);
    cursor = e.end;
  }
  if (cursor !== dataLen) throw new SafetensorsError(`data region has ${dataLen} bytes but the tensors cover ${cursor}: ${dataLen - cursor} trailing bytes`);
  const tensors: Record<string, NamedArray> = {};
  for (const { name, dtype, shape, begin, end } of entries) {
    // A fresh, aligned copy (Uint8Array.prototype.slice copies even for a Node Buffer, whose own slice is a view).
    const copy = Uint8Array.prototype.slice.call(bytes, dataStart + begin, dataStart + end);
    const n = (end - begin) / 4;
    if (!LITTLE_ENDIAN_HOST) {
      const dv = new DataView(copy.buffer);
      for (let i = 0; i < n; i++) dv.setUint32(4 * i, dv.getUint32(4 * i, true), false);
    }
    const data = dtype === 'F32' ? new Float32Array(copy.buffer, 0, n) : new Int32Array(copy.buffer, 0, n);
    put(tensors, name, { dtype, shape, data });
  }
  return { tensors, metadata };
}
