import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type NamedArray } from '../src/checkpoint/safetensors.js';
import { writeFileAtomic } from '../src/node/atomic.js';

/** Float32 values from raw bit patterns (keeps NaN payloads, -0, subnormals). */
function f32bits(bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}

const SPECIAL_BITS = [
  0x00000000, // +0
  0x80000000, // -0
  0x00000001, // smallest subnormal
  0x807fffff, // largest negative subnormal
  0x7f800000, // +inf
  0xff800000, // -inf
  0x7fc00000, // quiet NaN
  0x7fa00001, // signalling NaN with payload
  0xffc12345, // negative NaN with payload
  0x3f800000, // 1
  0x7f7fffff, // max float
];

function sample(): Record<string, NamedArray> {
  return {
    'layers.0.w': { dtype: 'F32', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5) },
    special: { dtype: 'F32', shape: [SPECIAL_BITS.length], data: f32bits(SPECIAL_BITS) },
    ids: { dtype: 'I32', shape: [2, 3], data: Int32Array.from([0, -1, 2 ** 31 - 1, -(2 ** 31), 42, 7]) },
    scalar: { dtype: 'F32', shape: [], data: Float32Array.from([Math.PI]) },
    empty: { dtype: 'I32', shape: [0, 5], data: new Int32Array(0) },
  };
}

function bitsOf(data: Float32Array | Int32Array): number[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
}

/** A minimal reader written straight from the specification, sharing no code with the decoder. */
function specRead(bytes: Uint8Array): { header: Record<string, unknown>; arrays: Record<string, Uint8Array> } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
  const arrays: Record<string, Uint8Array> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    arrays[name] = bytes.subarray(8 + n + info.data_offsets[0], 8 + n + info.data_offsets[1]);
  }
  return { header, arrays };
}

function expectSameTensors(a: Record<string, NamedArray>, b: Record<string, NamedArray>): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    expect(b[k]!.dtype).toBe(a[k]!.dtype);
    expect(b[k]!.shape).toEqual(a[k]!.shape);
    expect(bitsOf(b[k]!.data)).toEqual(bitsOf(a[k]!.data));
  }
}

describe('safetensors encode/decode', () => {
  it('round-trips bit-exactly (-0, subnormals, infinities, NaN payloads, int extremes)', () => {
    const tensors = sample();
    const meta = { format: 'vwn/1', note: 'héllo "quoted" \n 🎉' };
    const bytes = encodeSafetensors(tensors, meta);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual(meta);
    expectSameTensors(tensors, back.tensors);
    expect(back.tensors['ids']!.data).toBeInstanceOf(Int32Array);
    expect(back.tensors['special']!.data).toBeInstanceOf(Float32Array);
    expect(Object.is(back.tensors['special']!.data[1], -0)).toBe(true);
  });

  it('decodes into fresh aligned arrays, also from a Node Buffer at an odd offset', () => {
    const bytes = encodeSafetensors(sample());
    const pool = Buffer.alloc(bytes.length + 3);
    pool.set(bytes, 3);
    const view = pool.subarray(3);
    const back = decodeSafetensors(view);
    expectSameTensors(sample(), back.tensors);
    for (const t of Object.values(back.tensors)) {
      expect(t.data.byteOffset).toBe(0);
      expect(t.data.buffer).not.toBe(pool.buffer);
    }
    pool.fill(0);
    expectSameTensors(sample(), back.tensors);
  });

  it('writes an 8-aligned header that a minimal spec reader parses, tensors sorted and packed in header order', () => {
    const tensors = sample();
    const bytes = encodeSafetensors(tensors, { a: 'b' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect((8 + n) % 8).toBe(0);
    const headerText = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
    expect(headerText.startsWith('{')).toBe(true);
    expect(/^[^ ]*\} *$/.test(headerText.replace(/"[^"]*"/g, '""'))).toBe(true); // only trailing spaces as padding
    const { header, arrays } = specRead(bytes);
    expect(header['__metadata__']).toEqual({ a: 'b' });
    const names = Object.keys(tensors).sort();
    // Header key order (as text) is the sorted names, and the data follows that order contiguously.
    const positions = names.map((k) => headerText.indexOf(JSON.stringify(k) + ':'));
    expect(positions.every((p, i) => p > 0 && (i === 0 || p > positions[i - 1]!))).toBe(true);
    let cursor = 0;
    for (const name of names) {
      const info = header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
      expect(info.dtype).toBe(tensors[name]!.dtype);
      expect(info.shape).toEqual(tensors[name]!.shape);
      expect(info.data_offsets[0]).toBe(cursor);
      cursor = info.data_offsets[1];
      const d = tensors[name]!.data;
      expect(Array.from(arrays[name]!)).toEqual(Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
    }
    expect(8 + n + cursor).toBe(bytes.length);
  });

  it('keeps header order equal to data order for integer-like names', () => {
    const tensors: Record<string, NamedArray> = {
      '10': { dtype: 'F32', shape: [1], data: Float32Array.from([10]) },
      '9': { dtype: 'F32', shape: [2], data: Float32Array.from([9, 9]) },
      __proto__x: { dtype: 'I32', shape: [1], data: Int32Array.from([1]) },
    };
    const bytes = encodeSafetensors(tensors);
    expectSameTensors(tensors, decodeSafetensors(bytes).tensors);
    const { header } = specRead(bytes);
    expect((header['10'] as { data_offsets: number[] }).data_offsets).toEqual([0, 4]);
    expect((header['9'] as { data_offsets: number[] }).data_offsets).toEqual([4, 12]);
  });

  it('handles a tensor named __proto__ as an ordinary name', () => {
    const tensors: Record<string, NamedArray> = {};
    Object.defineProperty(tensors, '__proto__', {
      value: { dtype: 'F32', shape: [1], data: Float32Array.from([5]) },
      enumerable: true,
    });
    const back = decodeSafetensors(encodeSafetensors(tensors)).tensors;
    expect(Object.keys(back)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it('encodes an empty set of tensors', () => {
    const back = decodeSafetensors(encodeSafetensors({}));
    expect(back).toEqual({ tensors: {}, metadata: {} });
  });

  it('refuses bad tensors when encoding, naming the tensor', () => {
    const f = (t: Partial<NamedArray> & Record<string, unknown>) => () => encodeSafetensors({ w: t as NamedArray });
    expect(f({ dtype: 'F32', shape: [2, 2], data: new Float32Array(3) })).toThrow(/tensor "w": 3 values for shape \[2, 2\] \(needs 4\)/);
    expect(f({ dtype: 'F16' as 'F32', shape: [1], data: new Float32Array(1) })).toThrow(/unsupported dtype "F16"; supported: F32, I32/);
    expect(f({ dtype: 'F32', shape: [1], data: new Int32Array(1) })).toThrow(/must be a Float32Array/);
    expect(f({ dtype: 'F32', shape: [-1], data: new Float32Array(0) })).toThrow(/shape must be an array of non-negative integers/);
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [], data: new Float32Array(1) } })).toThrow(/reserved/);
    expect(() => encodeSafetensors({}, { a: 1 as unknown as string })).toThrow(/metadata "a": values must be strings/);
    for (const thrower of [f({ dtype: 'F32', shape: [3], data: new Float32Array(1) })]) expect(thrower).toThrow(SafetensorsError);
  });
});

/** Re-encodes a header by hand (for crafting corrupted files). */
function craft(header: unknown, data: Uint8Array, pad = true): Uint8Array {
  let json = JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const h = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors strict decoding', () => {
  const good = encodeSafetensors(
    {
      a: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) },
      b: { dtype: 'I32', shape: [3], data: Int32Array.from([3, 4, 5]) },
    },
    { k: 'v' },
  );

  it('refuses every truncation of a small file', () => {
    expect(good.length).toBeGreaterThan(60);
    for (let cut = 0; cut < good.length; cut++) {
      expect(() => decodeSafetensors(good.subarray(0, cut)), `cut at ${cut}`).toThrow(SafetensorsError);
    }
    expect(() => decodeSafetensors(good.subarray(0, 5))).toThrow(/shorter than the 8-byte header length/);
    expect(() => decodeSafetensors(good.subarray(0, 20))).toThrow(/header length \d+ exceeds/);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 1))).toThrow(/past the data region|truncated/);
  });

  it('refuses trailing bytes and gaps', () => {
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expect(() => decodeSafetensors(longer)).toThrow(/4 trailing bytes/);
    const gap = craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Uint8Array(12));
    expect(() => decodeSafetensors(gap)).toThrow(/tensor "b": starts at byte 8, leaving a gap after byte 4/);
  });

  it('refuses overlapping offsets', () => {
    const overlap = craft(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      new Uint8Array(12),
    );
    expect(() => decodeSafetensors(overlap)).toThrow(/overlap/);
    const same = craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
    expect(() => decodeSafetensors(same)).toThrow(/overlap/);
  });

  it('refuses bad JSON, dtypes, shapes and offsets with clear messages', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [craft('not an object', new Uint8Array(0)), /does not start with "\{"/],
      [craft([1, 2], new Uint8Array(0)), /does not start with "\{"/],
      [
        (() => {
          const b = craft({ a: 1 }, new Uint8Array(0));
          b[12] = 0x7d;
          return b;
        })(),
        /not valid UTF-8 JSON/,
      ],
      [craft({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, new Uint8Array(2)), /tensor "a": unsupported dtype "F16"; supported: F32, I32/],
      [craft({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor "a": shape must be/],
      [craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), /do not match shape \[2\] × F32 \(8 bytes\)/],
      [craft({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4)), /do not match/],
      [craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, new Uint8Array(4)), /data_offsets must be \[begin, end\]/],
      [craft({ a: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Uint8Array(4)), /past the data region/],
      [craft({ a: 'x' }, new Uint8Array(0)), /tensor "a": entry is not a JSON object/],
      [craft({ __metadata__: { k: 1 } }, new Uint8Array(0)), /__metadata__\.k is not a string/],
      [craft({ __metadata__: [] }, new Uint8Array(0)), /__metadata__ is not a JSON object/],
    ];
    for (const [bytes, re] of cases) {
      let err: unknown;
      try {
        decodeSafetensors(bytes);
      } catch (e) {
        err = e;
      }
      expect(err, String(re)).toBeInstanceOf(SafetensorsError);
      expect((err as Error).message).toMatch(re);
    }
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
    expect(() => decodeSafetensors(huge)).toThrow(/header length 18446744073709551615 exceeds/);
  });

  it('accepts an unpadded but otherwise valid header (other writers)', () => {
    const bytes = craft({ a: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, Uint8Array.from([7, 0, 0, 0]), false);
    expect(Array.from(decodeSafetensors(bytes).tensors['a']!.data)).toEqual([7]);
  });

  it('a flipped header bit is refused, or decodes to the same dtypes, shapes and data', () => {
    const n = Number(new DataView(good.buffer).getBigUint64(0, true));
    const original = decodeSafetensors(good);
    const payload = (d: ReturnType<typeof decodeSafetensors>) => Object.values(d.tensors).map((t) => JSON.stringify([t.dtype, t.shape, bitsOf(t.data)]));
    let refused = 0;
    let total = 0;
    for (let pos = 0; pos < 8 + n; pos++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = good.slice();
        bad[pos]! ^= 1 << bit;
        total++;
        let decoded: ReturnType<typeof decodeSafetensors> | undefined;
        try {
          decoded = decodeSafetensors(bad);
        } catch (e) {
          // Only ever the documented error type, never a RangeError/TypeError from half-parsing.
          expect(e, `byte ${pos} bit ${bit}`).toBeInstanceOf(SafetensorsError);
          refused++;
          continue;
        }
        // Without a checksum a flip inside a name or a metadata string cannot be
        // noticed; everything structural must be intact.
        expect(payload(decoded).sort(), `byte ${pos} bit ${bit}`).toEqual(payload(original).sort());
      }
    }
    expect(refused / total).toBeGreaterThan(0.8);
  });
});

describe('writeFileAtomic', () => {
  async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-atomic-'));
    try {
      await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('writes bytes and strings, creating the parent dir, leaving no temp files', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'sub', 'deeper', 'f.bin');
      await writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
      expect(Array.from(await readFile(path))).toEqual([1, 2, 3]);
      await writeFileAtomic(join(dir, 's.txt'), 'héllo\n');
      expect(await readFile(join(dir, 's.txt'), 'utf8')).toBe('héllo\n');
      expect((await readdir(join(dir, 'sub', 'deeper'))).sort()).toEqual(['f.bin']);
      expect((await readdir(dir)).sort()).toEqual(['s.txt', 'sub']);
    });
  });

  it('replaces a pre-existing (longer) file wholly', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'f.txt');
      await writeFile(path, 'x'.repeat(10_000));
      await writeFileAtomic(path, 'short');
      expect(await readFile(path, 'utf8')).toBe('short');
      await Promise.all(Array.from({ length: 8 }, (_, i) => writeFileAtomic(path, `v${i}`.repeat(100))));
      expect(await readFile(path, 'utf8')).toMatch(/^(v[0-7])\1{99}$/);
      expect(await readdir(dir)).toEqual(['f.txt']);
    });
  });

  it('leaves the old state intact and removes the temp file when writing fails', async () => {
    await withDir(async (dir) => {
      // The target is a directory: the rename fails.
      const target = join(dir, 'isdir');
      await mkdir(target);
      await writeFile(join(target, 'keep.txt'), 'old');
      await expect(writeFileAtomic(target, 'new')).rejects.toThrow();
      expect(await readFile(join(target, 'keep.txt'), 'utf8')).toBe('old');
      expect((await readdir(dir)).sort()).toEqual(['isdir']);

      // The parent "directory" is a file: nothing can be created, the file is untouched.
      const file = join(dir, 'plain.txt');
      await writeFile(file, 'old contents');
      await expect(writeFileAtomic(join(file, 'child.txt'), 'new')).rejects.toThrow();
      expect(await readFile(file, 'utf8')).toBe('old contents');
      expect((await readdir(dir)).sort()).toEqual(['isdir', 'plain.txt']);
    });
  });

  it('refuses bad arguments', async () => {
    await expect(writeFileAtomic('', 'x')).rejects.toThrow(/path must be a non-empty string/);
    await expect(writeFileAtomic(join(tmpdir(), 'never-written'), 42 as unknown as string)).rejects.toThrow(/data must be a string or a Uint8Array/);
  });
});
