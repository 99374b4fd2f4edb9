import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStudy, rebuildReport, StudyReadError, summarize, TABLE_COLUMNS, writeReport } from '@vwn/report';
import { writeFakeStudy, type FakeVariant } from './fixtures.js';

/** Independent helpers: the hand computation reads metrics.jsonl itself. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped records, read without @vwn/report's types on purpose
type JsonRecord = Record<string, any>;
function readJsonl(text: string): JsonRecord[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as JsonRecord);
}
const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
function med(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** Parses the first markdown table of report.md (the summary) into rows keyed by column header. */
function parseTable(md: string): Array<Record<string, string>> {
  const all = md.split('\n');
  const start = all.findIndex((l) => l.startsWith('| '));
  const end = all.findIndex((l, i) => i > start && !l.startsWith('| '));
  const lines = all.slice(start, end);
  const cells = (l: string) => l.slice(2, -2).split(' | ');
  const head = cells(lines[0]!);
  return lines.slice(2).map((l) => Object.fromEntries(cells(l).map((c, i) => [head[i]!, c])));
}

async function byHand(dir: string, variant: string, seed: number) {
  const recs = readJsonl(await readFile(join(dir, 'runs', variant, `seed-${seed}`, 'metrics.jsonl'), 'utf8'));
  const train = recs.filter((r) => r.type === 'train');
  const evals = recs.filter((r) => r.type === 'eval');
  const k = Math.max(1, Math.ceil(train.length * 0.05));
  const steady = train.slice(3);
  return {
    finalTrain: avg(train.slice(-k).map((r) => r.loss)),
    heldOut: evals.at(-1)!.loss as number,
    next2: evals.at(-1)!.terms?.next2_loss as number | undefined,
    tokens: evals.at(-1)!.tokens as number,
    evals: evals.map((e) => ({ tokens: e.tokens as number, loss: e.loss as number })),
    tps: med(steady.map((r) => r.tokensPerSecond)),
    stepMs: med(steady.map((r) => r.stepMs)),
  };
}

const BASE: FakeVariant = { name: 'baseline', r: 1, params: 1_234_567, flopsPerToken: 6_000_000, lossScale: 1, stepMs: 40 };
const WIDE: FakeVariant = {
  name: 'vwn-r2-mtp',
  r: 2,
  m: 2,
  n: 4,
  params: 1_300_000,
  activeParams: 1_250_000,
  flopsPerToken: 6_480_000,
  lossScale: 0.9,
  stepMs: 46,
  mtp: true,
};

describe('writeReport on a synthetic two-variant study', () => {
  let dir: string;
  let result: Awaited<ReturnType<typeof writeReport>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vwn-report-'));
    await writeFakeStudy(dir, [BASE, WIDE], { seeds: [0], steps: 130, evalEvery: 10, tokensPerStep: 256 });
    result = await rebuildReport(dir, { machine: 'Test CPU × 2' });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes report.md, report.html, report.json and every plot as SVG and PNG', async () => {
    const stems = ['loss-vs-tokens', 'loss-vs-flops', 'loss-vs-seconds', 'delta-vs-log2r'];
    const expected = ['report.md', 'report.html', 'report.json', ...stems.flatMap((s) => [`plots/${s}.svg`, `plots/${s}.png`])];
    expect(result.files.sort()).toEqual(expected.map((f) => join(dir, f)).sort());
    expect(result.pngSkipped).toBeUndefined();
    for (const f of expected) expect((await stat(join(dir, f))).size).toBeGreaterThan(100);
    const png = await readFile(join(dir, 'plots/loss-vs-tokens.png'));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const svg = await readFile(join(dir, 'plots/delta-vs-log2r.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('vwn-r2-mtp');
  });

  it('report.md table numbers equal those recomputed from metrics.jsonl', async () => {
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    const rows = parseTable(md);
    expect(rows.map((r) => r['variant'])).toEqual(['baseline', 'vwn-r2-mtp']);
    expect(Object.keys(rows[0]!)).toEqual([...TABLE_COLUMNS]);
    const b = await byHand(dir, 'baseline', 0);
    const w = await byHand(dir, 'vwn-r2-mtp', 0);
    // 130 train records: the last ⌈6.5⌉ = 7 are averaged.
    const [rb, rw] = rows as [Record<string, string>, Record<string, string>];
    expect(rb['final train loss']).toBe(b.finalTrain.toFixed(4));
    expect(rw['final train loss']).toBe(w.finalTrain.toFixed(4));
    expect(rb['held-out loss']).toBe(b.heldOut.toFixed(4));
    expect(rw['held-out loss']).toBe(w.heldOut.toFixed(4));
    expect(rb['next-2 loss']).toBe('—');
    expect(rw['next-2 loss']).toBe(w.next2!.toFixed(4));
    expect(rb['Δ vs baseline [95 % CI]']).toBe('(baseline)');
    const delta = w.heldOut - b.heldOut;
    expect(delta).toBeLessThan(0);
    // one seed: the value, and plainly no interval
    expect(rw['Δ vs baseline [95 % CI]']).toBe(`${delta.toFixed(4)} (1 seed)`);
    expect(rw['verdict']).toBe('1 seed: no interval can be given');
    // The wider variant beats the baseline, so the baseline never reaches its loss;
    // the reverse reading interpolates the variant's curve at the baseline's final loss.
    const i = w.evals.findIndex((e) => e.loss <= b.heldOut);
    const p = w.evals[i - 1]!;
    const q = w.evals[i]!;
    const needed = p.tokens + ((p.loss - b.heldOut) / (p.loss - q.loss)) * (q.tokens - p.tokens);
    // † marks that reading; compute efficiency scales it by the FLOPs/token ratio.
    expect(rw['token efficiency']).toBe(`${(b.tokens / needed).toFixed(2)}× †`);
    expect(rw['compute efficiency']).toBe(`${((b.tokens / needed) * (6_000_000 / 6_480_000)).toFixed(2)}× †`);
    expect(rb['token efficiency']).toBe('(baseline)');
    expect(rb['tokens/s']).toBe(int(b.tps));
    expect(rw['tokens/s']).toBe(int(w.tps));
    expect(rw['step-time overhead']).toBe(pct(w.stepMs / b.stepMs - 1));
    expect(rb['params (total/active)']).toBe('1,234,567 / 1,234,567');
    expect(rw['params (total/active)']).toBe('1,300,000 / 1,250,000');
    expect(rb['FLOPs/token']).toBe('6.00M');
    expect(rw['FLOPs/token']).toBe('6.48M');
    expect(rw['FLOP overhead']).toBe('+8.0%');
  });

  it('report.md has the header, the fit note and the PNG plots', async () => {
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('**Tokens per variant:** 33,280');
    expect(md).toContain('**Seeds:** 1 (0)');
    expect(md).toContain('**Machine:** Test CPU × 2');
    expect(md).toContain(`**Node:** ${process.version}`);
    // one variant with r ≠ 1: no fit
    expect(md).toMatch(/fit needs ≥ 2 distinct r values/);
    expect(md).toContain('![Held-out loss vs tokens](plots/loss-vs-tokens.png)');
    expect(md).toContain('![Held-out loss vs training FLOPs](plots/loss-vs-flops.png)');
    expect(md).toContain('![Held-out loss vs wall-clock seconds](plots/loss-vs-seconds.png)');
    expect(md).toContain('![Δ held-out loss vs log2 r](plots/delta-vs-log2r.png)');
    expect(md).toContain('> **One seed:** no confidence interval or significance test can be given');
    // an old study.json (no groups, comparisons or run.json): no such sections, no backend warning
    expect(md).not.toMatch(/Best of each group|Requested comparisons|Mixed backends/);
    expect(md).toContain('**Runs made on:** not recorded (no run.json in the run directories)');
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(json.groups).toBeNull();
    expect(json.comparisons).toEqual([]);
    expect(json.summaries[1].vsBaseline.test).toMatchObject({ n: 1, verdict: 'single-seed', ci95: null, p: null });
  });

  it('report.html is self-contained with the SVG plots inlined', async () => {
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html.match(/<svg /g)?.length).toBe(4);
    expect(html).not.toMatch(/<img|<script|<link|src="http/);
    expect(html).toContain('<td>vwn-r2-mtp</td>');
    // ids are unique across the two inlined SVGs
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('seeds > 1', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vwn-report-seeds-'));
    await writeFakeStudy(
      dir,
      [
        BASE,
        { ...WIDE, name: 'vwn-r2', mtp: false },
        { name: 'vwn-r4-worse', r: 4, m: 2, n: 8, params: 1_400_000, flopsPerToken: 7e6, lossScale: 1.03, stepMs: 60 },
      ],
      { seeds: [0, 1, 2], steps: 60, evalEvery: 6, tokensPerStep: 128 },
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('summarize computes means and sample standard deviations over seeds', async () => {
    const s = summarize(await readStudy(dir));
    const sd = (xs: number[]) => {
      const m = avg(xs);
      return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
    };
    const hand = async (v: string) => Promise.all([0, 1, 2].map((seed) => byHand(dir, v, seed)));
    const b = await hand('baseline');
    for (const [i, name] of ['baseline', 'vwn-r2', 'vwn-r4-worse'].entries()) {
      const h = await hand(name);
      const row = s[i]!;
      expect(row.name).toBe(name);
      expect(row.seeds).toEqual([0, 1, 2]);
      expect(row.finalTrainLoss.mean).toBeCloseTo(avg(h.map((x) => x.finalTrain)), 12);
      expect(row.finalTrainLoss.std).toBeCloseTo(sd(h.map((x) => x.finalTrain)), 12);
      expect(row.heldOutLoss.mean).toBeCloseTo(avg(h.map((x) => x.heldOut)), 12);
      expect(row.heldOutLoss.std).toBeCloseTo(sd(h.map((x) => x.heldOut)), 12);
      const deltas = h.map((x, k) => x.heldOut - b[k]!.heldOut);
      expect(row.deltaVsBaseline.mean).toBeCloseTo(avg(deltas), 12);
      expect(row.deltaVsBaseline.std).toBeCloseTo(sd(deltas), 12);
      expect(row.tokensPerSecond!.mean).toBeCloseTo(avg(h.map((x) => x.tps)), 9);
      expect(row.tokensPerSecond!.std).toBeCloseTo(sd(h.map((x) => x.tps)), 9);
      const over = h.map((x, k) => x.stepMs / b[k]!.stepMs - 1);
      expect(row.stepTimeOverhead!.mean).toBeCloseTo(avg(over), 12);
      expect(row.stepTimeOverhead!.std).toBeCloseTo(sd(over), 12);
      expect(row.heldOutNext2Loss).toBeNull();
    }
    // The worse variant's loss is reached by the baseline: forward ratio on the seed-mean baseline curve.
    const worse = s[2]!;
    const target = worse.heldOutLoss.mean;
    const curve = b[0]!.evals.map((e, k) => ({ tokens: e.tokens, loss: avg(b.map((x) => x.evals[k]!.loss)) }));
    const k = curve.findIndex((p) => p.loss <= target);
    expect(k).toBeGreaterThan(0);
    const p = curve[k - 1]!;
    const q = curve[k]!;
    const tokensNeeded = p.tokens + ((p.loss - target) / (p.loss - q.loss)) * (q.tokens - p.tokens);
    expect(worse.tokenEfficiency).toBeCloseTo(tokensNeeded / 7680, 12);
    expect(worse.tokenEfficiency!).toBeLessThan(1);
    expect(worse.tokenEfficiencyAtBaselineLoss).toBeNull();
  });

  it('report.md shows mean ± std and the fit over 2 distinct r values', async () => {
    await writeReport(dir, { png: false });
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    const s = summarize(await readStudy(dir));
    const rows = parseTable(md);
    expect(rows[1]!['held-out loss']).toBe(`${s[1]!.heldOutLoss.mean.toFixed(4)} ± ${s[1]!.heldOutLoss.std!.toFixed(4)}`);
    expect(md).toContain('**Seeds:** 3 (0, 1, 2); every comparison is paired by seed');
    expect(md).not.toContain('**One seed:**');
    // 3 seeds at r = 2 and 3 at r = 4: every seed is a point; with equal counts per r the
    // least-squares line passes through the two per-r means.
    const d2 = s[1]!.deltaVsBaseline.mean;
    const d4 = s[2]!.deltaVsBaseline.mean;
    const a = d4 - d2;
    const b = d2 - a;
    expect(md).toContain(`Δ = ${a.toFixed(4)}·log2 r ${b < 0 ? '-' : '+'} ${Math.abs(b).toFixed(4)}; slope 95 % CI [`);
    expect(md).toMatch(/; 6 points \(least squares over every \(variant, seed\) point of 2 variants/);
    expect(md).toContain('![Held-out loss vs tokens](plots/loss-vs-tokens.svg)');
    const svg = await readFile(join(dir, 'plots/loss-vs-tokens.svg'), 'utf8');
    expect(svg).toContain('band = ± 1 std');
    expect(svg).toContain('y zoomed to');
    const delta = await readFile(join(dir, 'plots/delta-vs-log2r.svg'), 'utf8');
    expect(delta).toContain('bars: 95 % CI of the mean over 3 seeds');
  });
});

describe('readStudy errors', () => {
  it('names a missing study.json and a missing metrics.jsonl', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-report-err-'));
    try {
      await expect(readStudy(dir)).rejects.toThrow(join(dir, 'study.json'));
      await writeFakeStudy(dir, [BASE, WIDE], { seeds: [0], steps: 10, evalEvery: 5, tokensPerStep: 16 });
      await rm(join(dir, 'runs', 'vwn-r2-mtp', 'seed-0', 'metrics.jsonl'));
      const err = await readStudy(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StudyReadError);
      expect((err as StudyReadError).file).toBe(join(dir, 'runs', 'vwn-r2-mtp', 'seed-0', 'metrics.jsonl'));
      expect((err as Error).message).toMatch(/vwn-r2-mtp.*not found/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the last record of a step logged twice and ignores a truncated last line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-report-dup-'));
    try {
      await writeFakeStudy(dir, [BASE], { seeds: [0], steps: 10, evalEvery: 5, tokensPerStep: 16 });
      const f = join(dir, 'runs', 'baseline', 'seed-0', 'metrics.jsonl');
      const text = await readFile(f, 'utf8');
      await writeFile(f, `${text}{"type":"eval","step":10,"tokens":160,"loss":0.5,"terms":{}}\n{"type":"train","st`);
      const study = await readStudy(dir);
      expect(study.variants[0]!.runs[0]!.evals.at(-1)!.loss).toBe(0.5);
      expect(study.variants[0]!.runs[0]!.evals).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
