// Fault injection for the reliability tests (test/reliability.test.ts): a hook
// that makes the process SIGKILL itself, or fail a write with ENOSPC, at a
// chosen moment. Honoured only when NODE_ENV=test and VWN_TEST_FAULT is set;
// not exported from the package.
//
//   VWN_TEST_FAULT=<point>:<n>[:enospc|:throw]
//
// fires the n-th time (1-based) the process reaches <point>: SIGKILL by default,
// `enospc` fails the write as a full disk would, `throw` throws a plain Error
// (an internal error, exit 1). Points:
//   checkpoint-partial  half of a checkpoint's temp file written, before fsync/rename
//   checkpoint-renamed  checkpoint renamed into place, before the folder fsync
//   atomic-partial      half of another atomic write (config.json, metrics rewrite, done.json, study.json)
//   atomic-renamed      another atomic write renamed into place
//   metrics-partial     half of a metrics.jsonl line appended
//   step                a training step completed (before its metrics are written)

const spec = process.env['NODE_ENV'] === 'test' ? process.env['VWN_TEST_FAULT'] : undefined;
const parsed = spec ? /^([a-z-]+):(\d+)(?::(enospc|throw))?$/.exec(spec) : null;
const counts = new Map<string, number>();

/** True when the fault configured for `point` is due now (counts every call). */
export function faultDue(point: string): 'kill' | 'enospc' | 'throw' | null {
  if (!parsed || parsed[1] !== point) return null;
  const n = (counts.get(point) ?? 0) + 1;
  counts.set(point, n);
  if (n !== Number(parsed[2])) return null;
  return (parsed[3] as 'enospc' | 'throw' | undefined) ?? 'kill';
}

/** Kills the process at once (no handlers, no flush), as `kill -9` would. */
export function killSelf(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is delivered synchronously to ourselves on Linux; never reached.
  throw new Error('unreachable');
}

/** An ENOSPC error as fs would throw it. */
export function injectedEnospc(path: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`ENOSPC: no space left on device, write '${path}' (injected)`);
  e.code = 'ENOSPC';
  e.errno = -28;
  e.syscall = 'write';
  e.path = path;
  return e;
}

/** Runs the fault for `point` if due: kills, or throws ENOSPC for `path`. */
export function maybeFault(point: string, path: string): void {
  const due = faultDue(point);
  if (due === 'kill') killSelf();
  if (due === 'enospc') throw injectedEnospc(path);
  if (due === 'throw') throw new Error(`injected internal error at ${point}`);
}
