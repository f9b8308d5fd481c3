/**
 * A packed sweep (`sweep` then `merge --out`, written by the CLI here) opens in the page's sweep
 * views: every run's curve and summary in its place; a file that is not one is named and changes
 * nothing.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/node/args.ts';
import { extractVary, mergeCommand, sweepCommand } from '../../src/cli/sweep.ts';
import { openPackedSweep } from '../../src/client/sweep/sweep-file.ts';
import { useSweepStore } from '../../src/store/sweep.ts';

const SMALL = ['--p', '7', '--dm', '8', '--heads', '2', '--mlp', '16', '--frac', '0.5', '--lr', '0.01', '--epochs', '20', '--every', '10'];

describe('openPackedSweep', () => {
  beforeEach(() => useSweepStore.setState({ status: 'idle', runs: [], spec: null, text: '' }));

  it('shows every run of a packed sweep with its curve and summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grokscope-packed-'));
    const { rest, vary } = extractVary(['sweep', ...SMALL, '--vary', 'wd=0,1', '--vary', 'seed=0,1', '--out', dir, '--quiet']);
    await sweepCommand(parseArgs(rest, new Set(['quiet', 'record'])), vary);
    const out = join(dir, 'packed.json');
    mergeCommand(parseArgs(['merge', dir, '--out', out, '--quiet'], new Set(['quiet'])));
    const text = readFileSync(out, 'utf8');
    const packed = JSON.parse(text) as { runs: { index: number; result: { history: { epoch: number; testLoss: number }[] } }[] };
    openPackedSweep(text, 'packed.json');
    const s = useSweepStore.getState();
    expect(s.status).toBe('done');
    expect(s.text).toBe('wd:0,1;seed:0,1');
    expect(s.runs.map((r) => r.label)).toEqual(['wd=0, seed=0', 'wd=0, seed=1', 'wd=1, seed=0', 'wd=1, seed=1']);
    for (const p of packed.runs) {
      expect(s.runs[p.index].rows.map((r) => [r.epoch, r.testLoss])).toEqual(p.result.history.map((h) => [h.epoch, h.testLoss]));
      expect(s.runs[p.index].summary?.finalTestLoss).toBe(p.result.history.at(-1)!.testLoss);
    }
    expect(s.epochs).toBe(20);
    expect(s.done).toBe(s.total);
  });

  it('names what is wrong with a file that is not a packed sweep, and changes nothing', () => {
    const bad: [string, RegExp][] = [
      ['{not json', /not JSON/],
      ['{"format":"grokscope-run/1"}', /not a packed sweep/],
      ['{"format":"grokscope-sweep/1","sweep":"zz:1,2","base":{},"runs":[]}', /unknown key "zz"/],
      ['{"format":"grokscope-sweep/1","sweep":"wd:0,1","base":{"p":4},"runs":[]}', /base configuration: p: .*prime/],
      ['{"format":"grokscope-sweep/1","sweep":"wd:0,1","base":{"dModel":130},"runs":[]}', /divisible/],
      ['{"format":"grokscope-sweep/1","sweep":"wd:0,1","base":{},"runs":[{"index":7,"result":{"history":[]}}]}', /index 7/],
    ];
    for (const [text, message] of bad) {
      expect(() => openPackedSweep(text)).toThrow(message);
      expect(useSweepStore.getState().status).toBe('idle');
    }
  });
});
