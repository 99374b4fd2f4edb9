/**
 * Redis connections for the queue path (`vwn ablate --queue`, `vwn worker`):
 * URL checking, a fast start-up probe that fails with a named error, and
 * long-lived connections that retry forever (a Redis restart or network blip
 * only pauses a study). `ioredis` and `bullmq` are imported lazily, so plain
 * local use never loads them.
 *
 * @module
 */
import { ConfigError } from '@vwn/core';
import type { Redis as RedisClient, RedisOptions } from 'ioredis';

/** The BullMQ queue every vwn study and worker uses. */
export const QUEUE_NAME = 'vwn-ablate';

/**
 * A checked `--queue` URL.
 *
 * @example
 * ```ts
 * const q: QueueUrl = parseQueueUrl('redis://:secret@10.0.0.5:6379/2');
 * q.redacted; // 'redis://:***@10.0.0.5:6379/2'
 * ```
 */
export interface QueueUrl {
  readonly url: string;
  /** The URL with its password replaced by `***` (for messages and logs). */
  readonly redacted: string;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly tls: boolean;
}

const USAGE = 'expected redis://[user:pass@]host:port[/db] or rediss://… (TLS)';

/**
 * Checks a `--queue` URL: scheme `redis:` or `rediss:`, a host, a port in
 * 1…65535 and an integer db; throws a {@link ConfigError} naming `--queue`.
 *
 * @example
 * ```ts
 * parseQueueUrl('redis://127.0.0.1:6379').port; // 6379
 * parseQueueUrl('http://x');                   // throws ConfigError('--queue', …)
 * ```
 */
export function parseQueueUrl(url: string): QueueUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('--queue', `"${url}" is not a URL; ${USAGE}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ConfigError('--queue', `unsupported scheme "${u.protocol}"; ${USAGE}`);
  if (!u.hostname) throw new ConfigError('--queue', `no host in "${url}"; ${USAGE}`);
  const port = u.port ? Number(u.port) : 6379;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError('--queue', `bad port "${u.port}"; ${USAGE}`);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new ConfigError('--queue', `bad database "${dbText}" (an integer ≥ 0); ${USAGE}`);
  const redacted = u.password ? url.replace(`:${u.password}@`, ':***@') : url;
  return { url, redacted, host: u.hostname, port, db, tls: u.protocol === 'rediss:' };
}

async function redisClass(): Promise<typeof RedisClient> {
  const mod = (await import('ioredis')) as unknown as { Redis?: typeof RedisClient; default: typeof RedisClient };
  return mod.Redis ?? mod.default;
}

/**
 * Checks that Redis answers PING within `probeMs`; a bad URL, refused
 * connection, wrong password or unreachable host gives a `ConfigError`
 * naming `--queue`.
 *
 * @example
 * ```ts
 * await probeQueue(parseQueueUrl('redis://127.0.0.1:6379')); // throws ConfigError('--queue', 'cannot reach Redis …')
 * ```
 */
export async function probeQueue(q: QueueUrl, probeMs = 3000): Promise<void> {
  const Redis = await redisClass();
  const probe = new Redis(q.url, { lazyConnect: true, connectTimeout: probeMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let lastError = '';
  probe.on('error', (e: Error) => (lastError = e.message));
  try {
    await Promise.race([
      probe.connect().then(() => probe.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${probeMs / 1000} s`)), probeMs)),
    ]);
  } catch (e) {
    const why = lastError || (e as Error).message;
    throw new ConfigError('--queue', `cannot reach Redis at ${q.redacted}: ${why}; check the URL, the password and that redis-server runs there`);
  } finally {
    probe.disconnect();
  }
}

/**
 * Opens a connection for BullMQ (retries forever, `maxRetriesPerRequest: null`)
 * after a probe that must answer PING within `probeMs`: a bad URL, refused
 * connection, wrong password or unreachable host gives a `ConfigError`
 * naming `--queue` within a few seconds.
 *
 * @example
 * ```ts
 * const redis = await connectQueue(parseQueueUrl('redis://127.0.0.1:6379'));
 * await redis.ping(); // 'PONG'
 * ```
 */
export async function connectQueue(q: QueueUrl, probeMs = 3000): Promise<RedisClient> {
  await probeQueue(q, probeMs);
  const Redis = await redisClass();
  const options: RedisOptions = {
    maxRetriesPerRequest: null,
    // Keep retrying (a Redis restart or network blip pauses the study, it does not end it).
    retryStrategy: (times) => Math.min(200 * times, 2000),
  };
  const redis = new Redis(q.url, options);
  redis.on('error', () => {
    /* reconnects by itself; errors are reported by the callers' timeouts */
  });
  return redis;
}

/** Redis key of a study corpus's bytes (stored once per sha256). */
export function corpusKey(sha256: string): string {
  return `vwn:corpus:${sha256}`;
}
