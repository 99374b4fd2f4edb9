// Distributed and parallel studies: a real redis-server on a free 127.0.0.1
// port, real `vwn worker` and `vwn ablate --queue` processes (the built
// dist/), no mocks. Every study's losses are compared bit for bit with the
// local sequential run of the same grid.
//
// Needs /usr/bin/redis-server (Debian: apt-get install redis-server). When it
// is missing these tests fail, unless VWN_SKIP_REDIS_TESTS=1 says to skip them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { resolveDataConfig } from '@vwn/core';
import { Redis } from 'ioredis';
import { studyFromFile } from '../src/commands/ablate.js';
import { openStudy, runStudy, planStudy, type StudyManifest } from '../src/ablate/runner.js';
import { loadCorpus } from '../src/setup.js';
import { parseQueueUrl } from '../src/ablate/redis.js';
import { jobId } from '../src/ablate/queue.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VWN = join(ROOT, 'packages', 'cli', 'bin', 'vwn.js');
const redisServer =
  ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p)) ??
  (spawnSync('sh', ['-c', 'command -v redis-server']).stdout?.toString().trim() || null);
const skip = !redisServer && process.env['VWN_SKIP_REDIS_TESTS'] === '1';
if (!redisServer && !skip) {
  throw new Error(
    'redis-server not found: the distributed-study tests need it (Debian: apt-get install redis-server). Set VWN_SKIP_REDIS_TESTS=1 to skip them knowingly.',
  );
}
if (skip) process.stderr.write('distributed.test.ts: SKIPPED (VWN_SKIP_REDIS_TESTS=1 and no redis-server)\n');

const GRID = {
  name: 'micro-dist',
  base: {
    dModel: 16,
    layers: 1,
    heads: 2,
    seqLen: 16,
    train: { batchSize: 4, lr: 0.01, warmupSteps: 2, evalEvery: 4, evalBatches: 2, checkpointEvery: 4 },
  },
  variants: [
    { name: 'baseline', config: {} },
    { name: 'vwn', config: { embedding: { use: 'over-width', m: 2, n: 4 }, connection: { use: 'dynamic-ghc', m: 2, n: 4 } } },
  ],
};
const STEPS = 24;
const TOKENS = STEPS * 4 * 16;
const RUNS = ['baseline/seed-0', 'baseline/seed-1', 'vwn/seed-0', 'vwn/seed-1'];

let dir = '';
let grid = '';
let corpusFile = '';
let port = 0;
let redis: ChildProcess | null = null;
let reference = '';
const procs = new Set<ChildProcess>();

interface Proc {
  readonly child: ChildProcess;
  readonly events: Array<Record<string, unknown>>;
  readonly log: () => string;
  readonly exit: Promise<number | null>;
  waitFor(pred: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts `vwn …` (built dist) with stdout JSON lines parsed as they come. */
function vwn(args: string[]): Proc {
  const child = spawn(process.execPath, [VWN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(child);
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }> = [];
  let out = '';
  let err = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as Record<string, unknown>;
      events.push(e);
      for (const w of [...waiters]) {
        if (!w.pred(e)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => (procs.delete(child), r(code))));
  return {
    child,
    events,
    log: () => `${out}\n${err}`,
    exit,
    waitFor: (pred, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const hit = events.find(pred);
        if (hit) return resolve(hit);
        const t = setTimeout(() => reject(new Error(`timed out waiting for an event; output:\n${out}\n${err}`)), timeoutMs);
        waiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)) });
      }),
  };
}

const queueUrl = () => `redis://127.0.0.1:${port}`;
const worker = (name: string, extra: string[] = [], lockMs = 2000) =>
  vwn([
    'worker',
    '--queue',
    queueUrl(),
    '--cache',
    join(dir, `cache-${name}`),
    '--lock-ms',
    String(lockMs),
    '--stalled-ms',
    '1000',
    '--blas-threads',
    '1',
    ...extra,
  ]);
const ablate = (out: string, queue = queueUrl()) =>
  vwn([
    'ablate',
    '--config',
    grid,
    '--corpus',
    corpusFile,
    '--backend',
    'cpu',
    '--tokens',
    String(TOKENS),
    '--seeds',
    '2',
    '--out',
    join(dir, out),
    '--json',
    '--queue',
    queue,
  ]);

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await p.exit;
}

/** The losses of every train and eval record of every run, as text (bit-exact). */
async function losses(study: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of RUNS) {
    const lines = (await readFile(join(study, 'runs', r, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; step: number; loss: number });
    out[r] = lines.map((l) => `${l.type}@${l.step}=${l.loss}`).join(' ');
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'packages', 'cli', 'dist', 'ablate', 'worker.js'))) {
    throw new Error('packages/cli/dist is not built: run `npm run build` (npm test does) before this test');
  }
  dir = await mkdtemp(join(tmpdir(), 'vwn-dist-'));
  grid = join(dir, 'grid.json');
  corpusFile = join(dir, 'corpus.txt');
  await writeFile(grid, JSON.stringify(GRID));
  await writeFile(
    corpusFile,
    'to be, or not to be, that is the question: whether tis nobler in the mind to suffer the slings and arrows of outrageous fortune\n'.repeat(60),
  );
  if (!skip) await startRedis();
  // The reference: the local sequential run of the same grid, in this process.
  await tf.setBackend('cpu');
  reference = join(dir, 'reference');
  const spec = await studyFromFile(grid);
  const withCorpus = { ...spec, base: { ...spec.base, data: { ...spec.base.data, corpus: corpusFile } } };
  const corpus = await loadCorpus(resolveDataConfig(withCorpus.base.data ?? {}));
  const plan = await planStudy(withCorpus, { corpus, tokens: TOKENS, seeds: 2 });
  const { complete } = await runStudy(withCorpus, { outDir: reference, corpus, tokens: TOKENS, seeds: 2, plan, backend: 'cpu' });
  expect(complete).toBe(true);
});

async function startRedis(): Promise<void> {
  port = await freePort();
  redis = spawn(redisServer!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    const probe = new Redis(queueUrl(), { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    try {
      await probe.connect();
      expect(await probe.ping()).toBe('PONG');
      return;
    } catch (e) {
      if (i > 50) throw new Error(`redis-server on 127.0.0.1:${port} did not start: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      probe.disconnect();
    }
  }
}

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  redis?.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(skip)('distributed studies (BullMQ on a real redis-server)', () => {
  it("2 workers (one shares the study folder, one sends results back through Redis) give the local run's numbers bit for bit", async () => {
    const a = worker('a');
    const b = worker('b', ['--isolated']);
    const c = ablate('queued');
    expect(await c.exit, c.log()).toBe(0);
    await Promise.all([stop(a), stop(b)]);
    expect(await losses(join(dir, 'queued'))).toEqual(await losses(reference));
    const done = c.events.filter((e) => e['type'] === 'run' && e['kind'] === 'done');
    expect(done).toHaveLength(4);
    // Both paths were used: in place (shared folder) and through the job's return value.
    expect(new Set(done.map((e) => e['inPlace']))).toEqual(new Set([true, false]));
    for (const e of done.filter((x) => x['inPlace'] === false)) {
      // The checkpoint stayed on the isolated worker; run.json says where.
      const info = JSON.parse(await readFile(join(dir, 'queued', 'runs', String(e['variant']), `seed-${e['seed']}`, 'run.json'), 'utf8'));
      expect(info.checkpointAt).toMatch(/^[^:]+:.*cache-b\/runs\/vwn-.*\/checkpoint\.safetensors$/);
      expect(existsSync(info.checkpointAt.slice(info.checkpointAt.indexOf(':') + 1))).toBe(true);
    }
    for (const r of RUNS) {
      const info = JSON.parse(await readFile(join(dir, 'queued', 'runs', r, 'run.json'), 'utf8'));
      expect(info).toMatchObject({ backend: 'cpu', resumedFromStep: 0, vwnVersion: expect.any(String), host: expect.any(String) });
      expect(info.worker).toMatch(/:\d+$/);
      expect(Date.parse(info.finishedAt)).toBeGreaterThanOrEqual(Date.parse(info.startedAt));
      expect(existsSync(join(dir, 'queued', 'runs', r, 'done.json'))).toBe(true);
    }
    expect(existsSync(join(dir, 'queued', 'report.md'))).toBe(true);
    const overhead = c.events.find((e) => e['type'] === 'queue-overhead')!;
    expect(overhead['jobs']).toBe(4);
    process.stderr.write(`queue overhead (micro study, 2 workers): ${JSON.stringify(overhead)}\n`);
    // The coordinator removed the finished jobs.
    const r = new Redis(queueUrl());
    expect(await r.keys('bull:vwn-ablate:vwn-*')).toEqual([]);
    r.disconnect();
  });

  it('a worker killed with kill -9 mid-job: the job runs again on the other worker, resumed from its checkpoint, same numbers', async () => {
    const a = worker('a');
    const c = ablate('killed');
    const started = await c.waitFor((e) => e['kind'] === 'start' && String(e['where']).endsWith(`:${a.child.pid}`));
    const b = worker('b');
    // Kill A right after its run wrote its first checkpoint (step 4 of 24), watching the folder every 5 ms.
    const runDir = join(dir, 'killed', 'runs', String(started['variant']), `seed-${started['seed']}`);
    while (!existsSync(join(runDir, 'checkpoint.safetensors'))) await new Promise((r) => setTimeout(r, 5));
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect(existsSync(join(runDir, 'done.json')), 'the run finished before the kill').toBe(false);
    const child = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).pid as number;
    expect(await c.exit, c.log()).toBe(0);
    await stop(b);
    expect(await losses(join(dir, 'killed'))).toEqual(await losses(reference));
    const info = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8'));
    expect(info.resumedFromStep).toBeGreaterThanOrEqual(4);
    expect(info.resumedFromStep % 4).toBe(0);
    expect(info.worker).toBe(`${info.host}:${b.child.pid}`);
    expect(info.attempts).toHaveLength(1);
    expect(info.attempts[0].worker).toMatch(new RegExp(`:${a.child.pid}$`));
    // The killed worker's training process did not outlive it.
    expect(alive(child)).toBe(false);
    process.stderr.write(
      `kill -9: job taken again ${Date.parse(info.startedAt) - killedAt} ms after the kill (run process ready), resumed from step ${info.resumedFromStep}\n`,
    );
  });

  it('a coordinator killed and restarted re-attaches to its jobs and enqueues nothing twice; Redis unreachable for a while mid-study only pauses it', async () => {
    const first = ablate('restarted');
    await first.waitFor((e) => e['kind'] === 'queued' && e['index'] === 3);
    first.child.kill('SIGKILL');
    await first.exit;
    // A lock longer than the Redis pause below: the pause must not make the job look stalled.
    const a = worker('a', [], 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const restartedAt = Date.now();
    const second = ablate('restarted');
    // Redis stops answering for 1.5 s (SIGSTOP): worker and coordinator wait, reconnect and go on.
    await second.waitFor((e) => e['type'] === 'progress');
    redis!.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 1500));
    redis!.kill('SIGCONT');
    expect(await second.exit, second.log()).toBe(0);
    await stop(a);
    const queued = second.events.filter((e) => e['kind'] === 'queued' && 'enqueuedAt' in e);
    expect(queued).toHaveLength(4);
    // Every job the second coordinator tracked was enqueued by the first.
    for (const e of queued) expect(e['enqueuedAt'] as number).toBeLessThan(restartedAt);
    expect(await losses(join(dir, 'restarted'))).toEqual(await losses(reference));
    for (const r of RUNS) {
      const info = JSON.parse(await readFile(join(dir, 'restarted', 'runs', r, 'run.json'), 'utf8'));
      expect(info.attempts, r).toBeUndefined(); // trained once
    }
  });

  it('a bad URL or an unreachable Redis is a named error (exit 2) within a few seconds', async () => {
    for (const [url, message] of [
      ['http://127.0.0.1:6379', /--queue: unsupported scheme "http:"/],
      ['redis://127.0.0.1:99999', /--queue: /],
      [`redis://127.0.0.1:${await freePort()}`, /--queue: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/],
    ] as const) {
      // The coordinator for every case, the worker for the unreachable one (both share the check).
      const t0 = Date.now();
      const c = ablate('bad', url);
      const w = message.source.includes('ECONNREFUSED') ? vwn(['worker', '--queue', url]) : null;
      expect(await c.exit, c.log()).toBe(2);
      expect(c.log()).toMatch(message);
      expect(Date.now() - t0).toBeLessThan(15_000);
      if (w) {
        expect(await w.exit, w.log()).toBe(2);
        expect(w.log()).toMatch(message);
      }
    }
  });
});

describe('vwn ablate --parallel', () => {
  it("--parallel 2 gives the sequential run's numbers bit for bit", async () => {
    const c = vwn([
      'ablate',
      '--config',
      grid,
      '--corpus',
      corpusFile,
      '--backend',
      'cpu',
      '--tokens',
      String(TOKENS),
      '--seeds',
      '2',
      '--out',
      join(dir, 'parallel'),
      '--parallel',
      '2',
      '--json',
    ]);
    expect(await c.exit, c.log()).toBe(0);
    expect(await losses(join(dir, 'parallel'))).toEqual(await losses(reference));
    const info = JSON.parse(await readFile(join(dir, 'parallel', 'runs', 'vwn', 'seed-1', 'run.json'), 'utf8'));
    expect(info).toMatchObject({ worker: 'local', backend: 'cpu', resumedFromStep: 0 });
  });
});

describe('queue URLs and job ids', () => {
  it('checks --queue URLs, redacts passwords, and derives BullMQ-valid job ids', () => {
    expect(parseQueueUrl('redis://:s3cret@10.0.0.5:6380/2')).toMatchObject({
      host: '10.0.0.5',
      port: 6380,
      db: 2,
      tls: false,
      redacted: 'redis://:***@10.0.0.5:6380/2',
    });
    expect(parseQueueUrl('rediss://vwn:pw@redis.internal')).toMatchObject({ port: 6379, db: 0, tls: true, redacted: 'rediss://vwn:***@redis.internal' });
    expect(() => parseQueueUrl('redis://h:6379/x')).toThrow(/--queue: bad database "x"/);
    expect(() => parseQueueUrl('localhost:6379')).toThrow(/--queue: unsupported scheme "localhost:"/);
    const id = jobId('3f9a0c12d4e5b6a7', '/data/study', 'vwn-r4', 2);
    expect(id).toMatch(/^vwn-3f9a0c12d4e5b6a7-[0-9a-f]{8}-vwn-r4-s2$/);
    expect(id).not.toContain(':');
    expect(jobId('3f9a0c12d4e5b6a7', '/data/other', 'vwn-r4', 2)).not.toBe(id);
  });
});

describe('mixing runs in a study folder', () => {
  it('refuses another backend or token budget unless allowed, and records the mix', async () => {
    const saved = JSON.parse(await readFile(join(reference, 'study.json'), 'utf8')) as StudyManifest;
    expect(saved.backend).toBe('cpu');
    expect(saved.hash).toMatch(/^[0-9a-f]{16}$/);
    const copy = join(dir, 'mixed');
    await rm(copy, { recursive: true, force: true });
    await mkdir(copy);
    await writeFile(join(copy, 'study.json'), JSON.stringify(saved));
    const plan: StudyManifest = { ...saved, hash: undefined, backend: undefined, createdAt: 'now' } as unknown as StudyManifest;
    await expect(openStudy(copy, plan, { backend: 'native' })).rejects.toThrow(/--backend: .* made with backend "cpu", this run would use "native"/);
    const bigger = { ...plan, tokensPerVariant: plan.tokensPerVariant * 2 };
    await expect(openStudy(copy, bigger, { backend: 'cpu' })).rejects.toThrow(/holds a different study/);
    const mixed = await openStudy(copy, plan, { backend: 'native', allowMixed: true });
    expect(mixed).toMatchObject({ backend: 'cpu', mixed: true, hash: saved.hash });
    expect(JSON.parse(await readFile(join(copy, 'study.json'), 'utf8')).mixed).toBe(true);
  });
});
