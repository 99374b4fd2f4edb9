/**
 * Reading a study folder: `study.json` and every run's `metrics.jsonl`.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalRecord, RunData, RunInfo, Study, StudyComparisonSpec, StudyManifest, StudyVariantManifest, TrainRecord, VariantData } from './types.js';

/**
 * Name of the study manifest inside a study folder.
 *
 * @example
 * ```ts
 * existsSync(join(outDir, STUDY_FILE));
 * ```
 */
export const STUDY_FILE = 'study.json';
/**
 * Name of the metrics file inside a run directory.
 *
 * @example
 * ```ts
 * join(outDir, 'runs/baseline/seed-0', METRICS_FILE);
 * ```
 */
export const METRICS_FILE = 'metrics.jsonl';
/**
 * Name of the optional run-provenance file inside a run directory
 * (`{"host": …, "backend": …}`, written by the runner).
 *
 * @example
 * ```ts
 * join(outDir, 'runs/baseline/seed-0', RUN_INFO_FILE);
 * ```
 */
export const RUN_INFO_FILE = 'run.json';

/**
 * Thrown when a study folder is missing a file or holds malformed data; the
 * message names the file.
 *
 * @example
 * ```ts
 * try { await readStudy('nowhere'); } catch (e) { if (e instanceof StudyReadError) console.error(e.file); }
 * ```
 */
export class StudyReadError extends Error {
  override readonly name = 'StudyReadError';
  /** The file that could not be read or parsed. */
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.file = file;
  }
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : `could not be read (${code ?? String(e)})`;
    throw new StudyReadError(file, `${what} ${file} ${why}`, { cause: e });
  }
}

function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function checkManifest(file: string, raw: unknown): StudyManifest {
  const bad = (why: string): never => {
    throw new StudyReadError(file, `${file}: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null) bad('not a JSON object');
  const m = raw as Record<string, unknown>;
  if (!Array.isArray(m['variants']) || m['variants'].length === 0) bad('"variants" must be a non-empty array');
  if (typeof m['baseline'] !== 'string') bad('"baseline" must be a variant name');
  const variants = m['variants'] as Array<Record<string, unknown>>;
  variants.forEach((v, i) => {
    if (typeof v !== 'object' || v === null) bad(`variants[${i}] is not an object`);
    if (typeof v['name'] !== 'string') bad(`variants[${i}].name must be a string`);
    for (const k of ['r', 'params', 'activeParams', 'flopsPerToken']) {
      if (!isNum(v[k])) bad(`variant "${String(v['name'])}": "${k}" must be a number`);
    }
    if (!Array.isArray(v['runs']) || v['runs'].length === 0) bad(`variant "${String(v['name'])}": "runs" must be a non-empty array`);
    for (const r of v['runs'] as Array<Record<string, unknown>>) {
      if (typeof r?.['dir'] !== 'string' || !isNum(r['seed'])) bad(`variant "${String(v['name'])}": each run needs "seed" and "dir"`);
    }
  });
  if (!variants.some((v) => v['name'] === m['baseline'])) bad(`baseline "${String(m['baseline'])}" is not one of the variants`);
  const names = variants.map((v) => v['name'] as string);
  variants.forEach((v) => {
    if (v['group'] !== undefined && (typeof v['group'] !== 'string' || v['group'] === '')) {
      bad(`variant "${String(v['name'])}": "group" must be a non-empty string when given`);
    }
  });
  let comparisons: StudyComparisonSpec[] | undefined;
  if (m['comparisons'] !== undefined) {
    if (!Array.isArray(m['comparisons'])) bad('"comparisons" must be an array of {variant, reference, label?}');
    comparisons = (m['comparisons'] as Array<Record<string, unknown>>).map((c, i) => {
      if (typeof c !== 'object' || c === null) return bad(`comparisons[${i}] is not an object`);
      for (const k of ['variant', 'reference'] as const) {
        if (typeof c[k] !== 'string' || !names.includes(c[k])) {
          bad(`comparisons[${i}].${k} must be one of the variants (${names.join(', ')}), got ${JSON.stringify(c[k])}`);
        }
      }
      if (c['label'] !== undefined && typeof c['label'] !== 'string') bad(`comparisons[${i}].label must be a string`);
      const spec = { variant: c['variant'] as string, reference: c['reference'] as string };
      return typeof c['label'] === 'string' ? { ...spec, label: c['label'] } : spec;
    });
  }
  return {
    name: typeof m['name'] === 'string' ? m['name'] : 'study',
    createdAt: typeof m['createdAt'] === 'string' ? m['createdAt'] : '',
    tokensPerVariant: isNum(m['tokensPerVariant']) ? m['tokensPerVariant'] : NaN,
    seeds: Array.isArray(m['seeds']) ? (m['seeds'] as number[]) : [],
    baseline: m['baseline'] as string,
    variants: variants.map((v): StudyVariantManifest => ({
      name: v['name'] as string,
      description: typeof v['description'] === 'string' ? v['description'] : '',
      r: v['r'] as number,
      m: isNum(v['m']) ? v['m'] : 1,
      n: isNum(v['n']) ? v['n'] : 1,
      config: v['config'],
      params: v['params'] as number,
      activeParams: v['activeParams'] as number,
      flopsPerToken: v['flopsPerToken'] as number,
      runs: v['runs'] as StudyVariantManifest['runs'],
      ...(typeof v['group'] === 'string' ? { group: v['group'] } : {}),
    })),
    ...(comparisons ? { comparisons } : {}),
  };
}

/** Reads a run directory's optional `run.json`; `undefined` when absent. */
async function readRunInfo(file: string): Promise<RunInfo | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StudyReadError(file, `run info ${file} could not be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new StudyReadError(file, `${file}: not valid JSON`, { cause: e });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new StudyReadError(file, `${file}: not a JSON object`);
  const info = raw as Record<string, unknown>;
  for (const k of ['host', 'backend']) {
    if (info[k] !== undefined && typeof info[k] !== 'string') throw new StudyReadError(file, `${file}: "${k}" must be a string`);
  }
  return info as RunInfo;
}

/** Keeps the last record of each step (a resumed run may log a step twice) and sorts by step. */
function dedupe<T extends { step: number }>(records: T[]): T[] {
  const byStep = new Map<number, T>();
  for (const r of records) byStep.set(r.step, r);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/**
 * Parses the text of a `metrics.jsonl`. Blank lines are skipped, and so is an
 * unparsable last line (a run interrupted mid-write); any other malformed line
 * is an error naming `file` and the line number.
 *
 * @example
 * ```ts
 * const { train, evals } = parseMetrics('{"type":"eval","step":1,"tokens":64,"loss":3.2,"terms":{}}\n', 'm.jsonl');
 * ```
 */
export function parseMetrics(text: string, file: string): { train: TrainRecord[]; evals: EvalRecord[] } {
  const train: TrainRecord[] = [];
  const evals: EvalRecord[] = [];
  const lines = text.split('\n');
  const lastNonEmpty = lines.reduce((acc, l, i) => (l.trim() ? i : acc), -1);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      if (i === lastNonEmpty) return; // truncated tail of an interrupted run
      throw new StudyReadError(file, `${file}:${i + 1}: not valid JSON`, { cause: e });
    }
    if (rec['type'] !== 'train' && rec['type'] !== 'eval') return; // other record kinds are ignored
    // A diverged loss is written as null (JSON has no NaN): keep it as NaN.
    if (rec['loss'] === null) rec = { ...rec, loss: NaN };
    if (!isNum(rec['step']) || !isNum(rec['tokens']) || typeof rec['loss'] !== 'number') {
      throw new StudyReadError(file, `${file}:${i + 1}: a ${rec['type']} record needs numeric "step", "tokens" and "loss"`);
    }
    if (rec['type'] === 'train') train.push(rec as unknown as TrainRecord);
    else evals.push(rec as unknown as EvalRecord);
  });
  return { train: dedupe(train), evals: dedupe(evals) };
}

/**
 * Reads a study folder: `OUT/study.json` and the `metrics.jsonl` (and the
 * optional `run.json`) of every run it lists (run directories are relative to
 * `outDir`). The optional `study.json` fields `variants[i].group` and
 * `comparisons` are checked: a comparison must name two variants.
 *
 * @throws StudyReadError naming the missing or malformed file; also when a run
 *   has no eval record (its held-out loss would be unknown).
 * @example
 * ```ts
 * import { readStudy, summarize } from '@vwn/report';
 * const study = await readStudy('out/vwn-small');
 * console.table(summarize(study).map((s) => ({ name: s.name, loss: s.heldOutLoss.mean })));
 * ```
 */
export async function readStudy(outDir: string): Promise<Study> {
  const studyFile = join(outDir, STUDY_FILE);
  const text = await readText(studyFile, 'study manifest');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new StudyReadError(studyFile, `${studyFile}: not valid JSON`, { cause: e });
  }
  const manifest = checkManifest(studyFile, raw);
  const variants: VariantData[] = [];
  for (const v of manifest.variants) {
    const runs: RunData[] = [];
    for (const ref of v.runs) {
      const file = join(outDir, ref.dir, METRICS_FILE);
      const { train, evals } = parseMetrics(await readText(file, `metrics of variant "${v.name}" seed ${ref.seed}:`), file);
      if (train.length === 0) {
        throw new StudyReadError(file, `${file}: no train record (variant "${v.name}" seed ${ref.seed}; did the run start?)`);
      }
      if (evals.length === 0) {
        throw new StudyReadError(file, `${file}: no eval record (variant "${v.name}" seed ${ref.seed} has no held-out loss; did the run finish?)`);
      }
      const info = await readRunInfo(join(outDir, ref.dir, RUN_INFO_FILE));
      runs.push(info ? { seed: ref.seed, dir: ref.dir, train, evals, info } : { seed: ref.seed, dir: ref.dir, train, evals });
    }
    const { runs: _refs, ...rest } = v;
    variants.push({ ...rest, runs });
  }
  return { outDir, manifest, variants };
}
