import { describe, expect, it } from 'vitest';
import { formatOverheadTable, withOverheads, type BenchResult } from '../src/bench/harness.js';

describe('vwn bench overhead table', () => {
  it('puts step-time overhead beside FLOP overhead per VWN config, with the gap in points', () => {
    const ok = (config: string, ms: number, flops: number): BenchResult => ({
      config,
      backend: 'wasm+blas',
      status: 'ok',
      stepMsMedian: ms,
      flopsPerStep: flops,
    });
    const results = withOverheads([ok('bench-small', 500, 100), ok('bench-small-r2', 600, 110), ok('bench-small-r4', 700, 128)]);
    const lines = formatOverheadTable(results).split('\n');
    expect(lines[0]).toMatch(/VWN overhead/);
    expect(lines.find((l) => l.startsWith('bench-small-r2'))).toMatch(/\+20\.0%\s+\+10\.0%\s+10\.0$/);
    expect(lines.find((l) => l.startsWith('bench-small-r4'))).toMatch(/\+40\.0%\s+\+28\.0%\s+12\.0$/);
    expect(lines.some((l) => /^bench-small\s/.test(l))).toBe(false); // baselines have no overhead row
    expect(formatOverheadTable([ok('bench-small', 500, 100)])).toBe('');
  });
});
