import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteTokenizer, CharTokenizer, createTokenizer, tokenizerFromJSON } from '../src/data/tokenizer.js';
import { corpusFromText } from '../src/data/corpus.js';
import { corpusFromFile } from '@vwn/core/node';
import { BatchSampler, evaluationBatches, type Batch } from '../src/data/sampler.js';
import { hash32 } from '../src/rng.js';

const MULTI = 'héllo wörld — 你好 🎉 \u{1F600}!\n';

describe('ByteTokenizer', () => {
  const t = new ByteTokenizer();

  it('round-trips text including multi-byte UTF-8', () => {
    expect(t.vocabSize).toBe(256);
    expect(t.kind).toBe('bytes');
    const ids = t.encode(MULTI);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(ids.length).toBe(Buffer.byteLength(MULTI, 'utf8'));
    expect(Array.from(t.encode('é'))).toEqual([195, 169]);
    expect(Array.from(t.encode('🎉'))).toEqual([0xf0, 0x9f, 0x8e, 0x89]);
    expect(t.decode(ids)).toBe(MULTI);
    expect(t.decode(Array.from(ids))).toBe(MULTI);
    expect(t.decode(t.encode('\uFEFFbom'))).toBe('\uFEFFbom');
  });

  it('decodes broken UTF-8 with replacement characters', () => {
    const ids = t.encode('a€b');
    const cut = [ids[0]!, ids[1]!, ids[2]!, ids[4]!]; // drop the last byte of €
    expect(t.decode(cut)).toBe('a\uFFFDb');
    expect(t.decode([0xff, 0x41])).toBe('\uFFFDA');
  });

  it('refuses ids outside the byte range, naming the id and position', () => {
    expect(() => t.decode([65, 256])).toThrow(/id 256 at position 1.*\[0, 256\)/);
    expect(() => t.decode([-1])).toThrow(/id -1/);
    expect(() => t.decode([1.5])).toThrow(/id 1.5/);
  });
});

describe('CharTokenizer', () => {
  it('builds a sorted alphabet of unique code points and round-trips', () => {
    const t = CharTokenizer.fromText(MULTI);
    const points = Array.from(t.alphabet).map((c) => c.codePointAt(0)!);
    expect(points).toEqual([...points].sort((a, b) => a - b));
    expect(new Set(points).size).toBe(points.length);
    expect(t.vocabSize).toBe(new Set(Array.from(MULTI)).size);
    expect(t.decode(t.encode(MULTI))).toBe(MULTI);
    expect(CharTokenizer.fromText('banana').alphabet).toBe('abn');
    expect(Array.from(new CharTokenizer('ab').encode('abba'))).toEqual([0, 1, 1, 0]);
    // Astral characters are one token each.
    expect(CharTokenizer.fromText('🎉🎉a').encode('🎉a').length).toBe(2);
  });

  it('names an unknown character when encoding', () => {
    const t = CharTokenizer.fromText('hello');
    expect(() => t.encode('help')).toThrow(/character "p" \(U\+0070\) at position 3 is not in the alphabet/);
    expect(() => t.encode('h😀')).toThrow(/U\+1F600/);
  });

  it('refuses bad alphabets and ids', () => {
    expect(() => new CharTokenizer('')).toThrow(/alphabet is empty/);
    expect(() => new CharTokenizer('aba')).toThrow(/repeats character "a"/);
    expect(() => CharTokenizer.fromText('')).toThrow(/text is empty/);
    expect(() => new CharTokenizer('ab').decode([0, 2])).toThrow(/id 2 at position 1.*\[0, 2\)/);
  });
});

describe('tokenizer factories', () => {
  it('round-trips through JSON', () => {
    const c = CharTokenizer.fromText('hello world');
    const back = tokenizerFromJSON(JSON.parse(JSON.stringify(c.toJSON())));
    expect(back.kind).toBe('chars');
    expect(back.vocabSize).toBe(c.vocabSize);
    expect(back.decode(back.encode('low world'))).toBe('low world');
    expect(tokenizerFromJSON({ kind: 'bytes' })).toBeInstanceOf(ByteTokenizer);
    expect(JSON.stringify(new ByteTokenizer())).toBe('{"kind":"bytes"}');
  });

  it('createTokenizer checks kind and text, listing the allowed values', () => {
    expect(createTokenizer('bytes').vocabSize).toBe(256);
    expect(createTokenizer('chars', 'hello').vocabSize).toBe(4);
    expect(() => createTokenizer('bpe')).toThrow(/data\.tokenizer: got "bpe"; allowed: "bytes", "chars"/);
    expect(() => createTokenizer('chars')).toThrow(/data\.tokenizer: "chars" needs/);
    expect(() => tokenizerFromJSON({ kind: 'words' } as never)).toThrow(/allowed/);
  });
});

describe('corpus', () => {
  const tok = new ByteTokenizer();

  it('splits exactly: the last floor(n · fraction) tokens are validation, contiguous', () => {
    const text = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const c = corpusFromText(text, { name: 'x', tokenizer: tok });
    expect(c.train.length).toBe(900);
    expect(c.validation.length).toBe(100);
    const all = tok.encode(text);
    expect(Array.from(c.train)).toEqual(Array.from(all.subarray(0, 900)));
    expect(Array.from(c.validation)).toEqual(Array.from(all.subarray(900)));
    expect(c.name).toBe('x');
    expect(c.tokenizer).toBe(tok);

    const d = corpusFromText(text.slice(0, 100), { name: 'y', tokenizer: tok, validationFraction: 0.29 });
    expect(d.validation.length).toBe(29);
    expect(d.train.length).toBe(71);
    const e = corpusFromText(text.slice(0, 101), { name: 'z', tokenizer: tok, validationFraction: 0.5 });
    expect([e.train.length, e.validation.length]).toEqual([51, 50]);
  });

  it('validates validationFraction and part sizes', () => {
    const text = 'abcdefghij'.repeat(10);
    for (const bad of [0, -0.1, 0.51, 1, Number.NaN]) {
      expect(() => corpusFromText(text, { name: 'x', tokenizer: tok, validationFraction: bad })).toThrow(/validationFraction: must be a number in \(0, 0\.5\]/);
    }
    expect(() => corpusFromText('abcdefghij', { name: 'tiny', tokenizer: tok })).toThrow(/"tiny" has 10 tokens.*at least 2/);
    expect(() => corpusFromText('abc', { name: 'x', tokenizer: tok, validationFraction: 0.5 })).toThrow(/at least 2/);
    expect(corpusFromText('abcd', { name: 'x', tokenizer: tok, validationFraction: 0.5 }).validation.length).toBe(2);
  });

  it('reads a file, with clear errors for missing and empty files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-data-'));
    try {
      const path = join(dir, 'c.txt');
      await writeFile(path, MULTI.repeat(20));
      const c = await corpusFromFile(path, { tokenizer: 'chars', validationFraction: 0.2 });
      expect(c.tokenizer.kind).toBe('chars');
      expect(c.name).toBe(path);
      expect(c.tokenizer.decode(c.train) + c.tokenizer.decode(c.validation)).toBe(MULTI.repeat(20));
      const b = await corpusFromFile(path, {});
      expect(b.tokenizer.kind).toBe('bytes');

      const missing = join(dir, 'nope.txt');
      await expect(corpusFromFile(missing, {})).rejects.toThrow(new RegExp(`cannot read ${missing.replace(/[\\.]/g, '\\$&')} \\(file not found\\)`));
      const empty = join(dir, 'empty.txt');
      await writeFile(empty, '');
      await expect(corpusFromFile(empty, {})).rejects.toThrow(/empty\.txt is empty/);
      await expect(corpusFromFile(dir, {})).rejects.toThrow(/directory/);
      await expect(corpusFromFile(path, { tokenizer: 'bpe' as never })).rejects.toThrow(/allowed: "bytes", "chars"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Corpus whose every window is identifiable by its first token: tokens[i] = i. */
const ramp = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

function rows(b: Batch): Int32Array[] {
  return Array.from({ length: b.batchSize }, (_, r) => b.tokens.subarray(r * b.width, (r + 1) * b.width));
}

describe('BatchSampler', () => {
  const tokens = ramp(500);

  it('gives identical batches for the same seed and index, in any order and across instances', () => {
    const a = new BatchSampler(tokens, { batchSize: 4, seqLen: 8, seed: 1 });
    const b = new BatchSampler(tokens, { batchSize: 4, seqLen: 8, seed: 1 });
    const later = a.batch(5);
    expect(Array.from(b.batch(5).tokens)).toEqual(Array.from(later.tokens));
    expect(Array.from(a.batch(0).tokens)).toEqual(Array.from(b.batch(0).tokens));
    expect(Array.from(a.batch(5).tokens)).toEqual(Array.from(later.tokens));
  });

  it('differs across indices and seeds', () => {
    const a = new BatchSampler(tokens, { batchSize: 4, seqLen: 8, seed: 1 });
    const c = new BatchSampler(tokens, { batchSize: 4, seqLen: 8, seed: 2 });
    expect(Array.from(a.batch(0).tokens)).not.toEqual(Array.from(a.batch(1).tokens));
    expect(Array.from(a.batch(0).tokens)).not.toEqual(Array.from(c.batch(0).tokens));
  });

  it('every row is a real contiguous window at the documented offset', () => {
    const s = new BatchSampler(tokens, { batchSize: 8, seqLen: 16, seed: 3 });
    for (let index = 0; index < 20; index++) {
      const b = s.batch(index);
      expect(b.batchSize).toBe(8);
      expect(b.seqLen).toBe(16);
      expect(b.width).toBe(17);
      expect(b.tokens.length).toBe(8 * 17);
      rows(b).forEach((row, r) => {
        const start = row[0]!;
        expect(start).toBe(hash32(3, index, r) % (500 - 17 + 1));
        expect(Array.from(row)).toEqual(Array.from({ length: 17 }, (_, i) => start + i));
      });
    }
  });

  it('extra widens rows and covers the whole corpus when the row equals it', () => {
    const s = new BatchSampler(tokens, { batchSize: 2, seqLen: 8, seed: 0, extra: 3 });
    expect(s.width).toBe(12);
    const b = s.batch(0);
    expect(b.width).toBe(12);
    expect(b.tokens.length).toBe(24);
    for (const row of rows(b)) expect(Array.from(row)).toEqual(Array.from({ length: 12 }, (_, i) => row[0]! + i));
    // Exactly one row fits: always offset 0.
    const exact = new BatchSampler(ramp(10), { batchSize: 3, seqLen: 9, seed: 9 });
    expect(Array.from(exact.batch(4).tokens)).toEqual([...Array.from(ramp(10)), ...Array.from(ramp(10)), ...Array.from(ramp(10))]);
  });

  it('errors name the field', () => {
    expect(() => new BatchSampler(ramp(10), { batchSize: 1, seqLen: 10, seed: 0 })).toThrow(/10 training tokens are fewer than one row of 11/);
    expect(() => new BatchSampler(ramp(10), { batchSize: 0, seqLen: 4, seed: 0 })).toThrow(/batchSize: must be a positive integer, got 0/);
    expect(() => new BatchSampler(ramp(10), { batchSize: 1, seqLen: 2.5, seed: 0 })).toThrow(/seqLen: must be a positive integer/);
    expect(() => new BatchSampler(ramp(10), { batchSize: 1, seqLen: 2, seed: 0, extra: -1 })).toThrow(/extra: must be a non-negative integer/);
    expect(() => new BatchSampler(ramp(10), { batchSize: 1, seqLen: 2, seed: Number.NaN })).toThrow(/seed: must be a finite number/);
    expect(() => new BatchSampler([1, 2, 3] as unknown as Int32Array, { batchSize: 1, seqLen: 1, seed: 0 })).toThrow(/tokens: must be an Int32Array/);
    const s = new BatchSampler(ramp(10), { batchSize: 1, seqLen: 2, seed: 0 });
    expect(() => s.batch(-1)).toThrow(/batch index: must be a non-negative integer/);
    expect(() => s.batch(1.5)).toThrow(/batch index/);
  });
});

describe('evaluationBatches', () => {
  it('returns deterministic, evenly spaced, non-overlapping real windows', () => {
    const tokens = ramp(1000);
    const opts = { batchSize: 4, seqLen: 9, maxBatches: 3 };
    const a = evaluationBatches(tokens, opts);
    const b = evaluationBatches(tokens, opts);
    expect(a.map((x) => Array.from(x.tokens))).toEqual(b.map((x) => Array.from(x.tokens)));
    expect(a.length).toBe(3);
    expect(a.map((x) => x.batchSize)).toEqual([4, 4, 4]);
    const starts = a.flatMap(rows).map((row) => {
      expect(Array.from(row)).toEqual(Array.from({ length: 10 }, (_, i) => row[0]! + i));
      return row[0]!;
    });
    // 12 rows spread over 1000 tokens: stride floor(1000 / 12) = 83.
    expect(starts).toEqual(Array.from({ length: 12 }, (_, k) => k * 83));
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(10);
  });

  it('takes as many rows as fit; the last batch may be smaller', () => {
    const tokens = ramp(55);
    const batches = evaluationBatches(tokens, { batchSize: 2, seqLen: 9, maxBatches: 100 });
    // floor(55 / 10) = 5 rows -> batches of 2, 2, 1.
    expect(batches.map((b) => b.batchSize)).toEqual([2, 2, 1]);
    expect(batches[2]!.tokens.length).toBe(10);
    const starts = batches.flatMap(rows).map((r) => r[0]!);
    expect(starts).toEqual([0, 11, 22, 33, 44]);
    const last = batches[2]!.tokens;
    expect(last[last.length - 1]).toBeLessThan(55);
  });

  it('extra widens the windows, which still never overlap', () => {
    const batches = evaluationBatches(ramp(100), { batchSize: 3, seqLen: 4, maxBatches: 10, extra: 2 });
    const all = batches.flatMap(rows);
    expect(batches.every((b) => b.width === 7)).toBe(true);
    expect(all.length).toBe(14);
    const covered = new Set<number>();
    for (const row of all) {
      for (const t of row) {
        expect(covered.has(t)).toBe(false);
        covered.add(t);
      }
    }
  });

  it('errors name the field', () => {
    expect(() => evaluationBatches(ramp(5), { batchSize: 1, seqLen: 5, maxBatches: 1 })).toThrow(
      /validationFraction: the held-out part has 5 tokens, fewer than one row of 6/,
    );
    expect(() => evaluationBatches(ramp(50), { batchSize: 1, seqLen: 5, maxBatches: 0 })).toThrow(/maxBatches: must be a positive integer, got 0/);
    expect(() => evaluationBatches(ramp(50), { batchSize: -2, seqLen: 5, maxBatches: 1 })).toThrow(/batchSize: must be a positive integer/);
    expect(() => evaluationBatches(ramp(50), { batchSize: 1, seqLen: 0, maxBatches: 1 })).toThrow(/seqLen: must be a positive integer/);
  });
});
