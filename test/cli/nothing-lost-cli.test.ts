/**
 * Issue 24 on the command line: an imported split reopens (item 1), every output is checked before
 * training and written on its own (5), hostile PyTorch files are refused within bounded memory (6),
 * pipes and FIFOs are read like files and other paths refused by what they are (9), edited run files
 * are refused naming what disagrees (10), shards of other flags are refused (11), and merge names a
 * run file cut short. Small models (P = 7 or 23): the whole file takes ~40 s on a loaded 2-core machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectCommand } from '../../src/cli/inspect.ts';
import { UsageError, parseArgs } from '../../src/cli/node/args.ts';
import { readInput } from '../../src/cli/node/read-input.ts';
import { extractVary, mergeCommand, sweepCommand } from '../../src/cli/sweep.ts';
import { trainCommand } from '../../src/cli/train.ts';
import { decodeRun, encodeRun, type RunData } from '../../src/files/run-file.ts';
import { someIndices, tlDemoRun } from '../files/torch-forge.ts';
import { hostileFiles } from '../files/hostile-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokscope-lost-cli-'));
const BOOLEAN = new Set(['quiet']);
const SWEEP_BOOLEAN = new Set(['quiet', 'record']);
const SMALL = ['--p', '7', '--dm', '8', '--heads', '2', '--mlp', '16', '--frac', '0.5', '--lr', '0.01', '--backend', 'cpu', '--quiet'];
const args = (argv: string[]) => parseArgs(argv, BOOLEAN);
const inspect = (path: string) => inspectCommand(args(['inspect', path]));

/** `npm run cli -- …` in a shell (for <(…) and pipes), with its exit status and peak memory. */
function shell(command: string, timeout = 60_000): { code: number | null; stdout: string; stderr: string; peakKb: number; seconds: number } {
  const started = Date.now();
  const cli = `'${process.execPath}' --import tsx src/cli/main.ts`;
  const r = spawnSync('/bin/bash', ['-c', command.replaceAll('CLI', `/usr/bin/time -f 'PEAK_KB %M' ${cli}`)], { encoding: 'utf8', timeout });
  const peak = /PEAK_KB (\d+)/.exec(r.stderr);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.replace(/PEAK_KB \d+\n?|Command exited with non-zero status \d+\n?/g, ''), peakKb: peak ? Number(peak[1]) : NaN, seconds: (Date.now() - started) / 1000 };
}

let run: RunData;
let runPath: string;
beforeAll(async () => {
  runPath = join(dir, 'run.grokrun');
  await trainCommand(args(['train', ...SMALL, '--epochs', '60', '--every', '20', '--record', runPath, '--out', join(dir, 'run.json')]));
  run = decodeRun(new Uint8Array(readFileSync(runPath)));
}, 120_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(tmpdir(), `grokscope-${process.pid}-full`), { force: true });
});

describe('an imported split through the CLI (item 1)', () => {
  it('train --init a TransformerLens run of 162 pairs of P = 23, --record, then inspect: it opens, with those pairs', async () => {
    const indices = someIndices(23, 162);
    const pth = join(dir, 'tl162.pth');
    writeFileSync(pth, tlDemoRun({ p: 23, dModel: 8, nHeads: 2, dMlp: 16, trainIndices: indices, checkpointEpochs: [0, 10, 20], epochs: 30 }));
    const rec = join(dir, 'tl162.grokrun.gz');
    await trainCommand(args(['train', '--init', pth, '--epochs', '20', '--every', '10', '--backend', 'cpu', '--quiet', '--record', rec, '--out', join(dir, 'tl162.json')]));
    const r = await inspect(rec);
    expect(r.lines.join('\n')).toMatch(/kind: grokscope run file/);
    expect(r.code).toBe(0);
    expect(Array.from(decodeRun(gunzipSync(readFileSync(rec))).trainIndices)).toEqual(indices);
  }, 60_000);
});

describe('outputs (item 5)', () => {
  it('refuses an output that cannot be written before training starts', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    for (const [flag, path, message] of [
      ['out', join(dir, 'no-such-folder', 'r.json'), /--out .* the folder .*no-such-folder does not exist/],
      ['save', dir, /--save .* is a folder/],
      ['record', join(file, 'r.grokrun'), /--record .*its folder .*a-file cannot be made \(a file is in the way\)/],
      ['record-dtype', 'f8', /--record-dtype must be f32 or f16/],
    ] as const) {
      const started = Date.now();
      await expect(trainCommand(args(['train', ...SMALL, '--epochs', '3000', `--${flag}`, path]))).rejects.toThrow(message);
      // Refused at once, not after 3,000 epochs.
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });

  it('writes each output on its own: a failing --out (/dev/full) keeps --save and --record, and its JSON', async () => {
    const save = join(dir, 'kept.safetensors');
    const rec = join(dir, 'kept.grokrun');
    await expect(trainCommand(args(['train', ...SMALL, '--epochs', '20', '--every', '10', '--out', '/dev/full', '--save', save, '--record', rec]))).rejects.toThrow(
      /--out \/dev\/full could not be written \(ENOSPC.*\); written to .*grokscope-\d+-full instead/,
    );
    expect(existsSync(save) && existsSync(rec)).toBe(true);
    const rescued = join(tmpdir(), `grokscope-${process.pid}-full`);
    expect((JSON.parse(readFileSync(rescued, 'utf8')) as { history: unknown[] }).history).toHaveLength(3);
  }, 60_000);
});

describe('hostile PyTorch files through inspect (item 6)', () => {
  it('each is refused (or, epoch 5e7, opened) in seconds within 1.5 GB', () => {
    // The review's files at full size, but the floods shortened to just past their budgets.
    const files = hostileFiles({ small: true });
    for (const [name, bytes] of Object.entries(files)) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const r = shell(`CLI inspect ${path}`);
      console.log(`inspect ${name} (${bytes.length.toLocaleString('en-US')} bytes): exit ${r.code} in ${r.seconds.toFixed(1)} s, peak ${Math.round(r.peakKb / 1024)} MB: ${(r.stderr.trim() || r.stdout.split('\n')[0]).slice(0, 120)}`);
      expect(r.code, name).toBe(name === 'epoch_5e7.pth' ? 0 : 2);
      expect(r.peakKb, name).toBeLessThan(1.5 * 1024 * 1024);
      expect(r.seconds, name).toBeLessThan(30);
    }
  }, 240_000);
});

describe('pipes, FIFOs and what is neither (item 9)', () => {
  it('reads a run through <(cat run), a pipe into /dev/stdin and a FIFO written later, as from the file', () => {
    for (const command of [`CLI inspect <(cat ${runPath})`, `cat ${runPath} | CLI inspect /dev/stdin`, `CLI inspect /dev/stdin < ${runPath}`]) {
      const r = shell(command);
      expect(r.stderr, command).toBe('');
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toMatch(/history: 4 checkpoints, epochs 0 … 60/);
    }
    const fifo = join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    const r = shell(`(sleep 1; cat ${runPath} > ${fifo}) & CLI inspect ${fifo}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/history: 4 checkpoints/);
    const a = shell(`(sleep 1; cat ${runPath} > ${fifo}) & CLI analyze ${fifo} --backend cpu`);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout).epoch).toBe(60);
  }, 120_000);

  it('gives up on a FIFO nobody writes, and refuses devices and folders by what they are (exit 2)', async () => {
    const fifo = join(dir, 'silent');
    spawnSync('mkfifo', [fifo]);
    const started = Date.now();
    await expect(readInput(fifo, 1024, { pipeWaitMs: 300 })).rejects.toThrow(/nothing was written to the pipe .*silent within 0.3 s/);
    expect(Date.now() - started).toBeLessThan(3000);
    for (const [path, message] of [
      ['/dev/zero', /\/dev\/zero is a character device .* not a file or a pipe/],
      [dir, /is a folder, not a file or a pipe/],
      [join(dir, 'missing'), /cannot read .*missing: there is no such file/],
    ] as const) {
      const r = await inspect(path);
      expect(r.code, path).toBe(2);
      expect(r.lines.join(' ')).toMatch(message);
    }
    const big = shell(`head -c 600000000 /dev/zero | CLI inspect /dev/stdin`);
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/streams more than the 512 MB this page reads/);
  }, 60_000);
});

describe('edited run files (item 10)', () => {
  const refused = async (edited: RunData) => {
    const path = join(dir, `edited-${Math.random().toString(36).slice(2)}.grokrun`);
    writeFileSync(path, encodeRun(edited));
    const r = await inspect(path);
    expect(r.code).toBe(2);
    return r.lines.join(' ');
  };

  it('the original opens, its loss recomputed', async () => {
    const r = await inspect(runPath);
    expect(r.code).toBe(0);
    expect(r.lines.join('\n')).toMatch(/integrity: training loss at epoch 60: recorded .* recomputed/);
  });

  it('task edited and every recorded train loss NaN: refused, it cannot show its configuration fits', async () => {
    const nan = { ...run, config: { ...run.config, task: 'sub' as const }, history: run.history.map((c) => ({ ...c, trainLoss: NaN })) };
    expect(await refused(nan)).toMatch(/cannot show that its configuration fits its weights: the training loss it records at the epochs of its weights is NaN/);
  });

  it('resume state removed and snapshot epochs shifted by one: refused', async () => {
    const shifted = { ...run, config: { ...run.config, task: 'sub' as const }, resume: null, snapshots: run.snapshots.map((s) => ({ ...s, epoch: s.epoch + 1 })).filter((s) => s.epoch <= 60) };
    expect(shifted.snapshots.length).toBeGreaterThan(0);
    expect(await refused(shifted)).toMatch(/its history records no training loss at the epoch of any of its weights \(snapshots at epochs 1, 21, 41/);
  });

  it('optimizer_t of 100,000 on a 60-epoch history: refused, naming the bias correction', async () => {
    expect(await refused({ ...run, resume: { ...run.resume!, t: 100_000 } })).toMatch(/resume state says 100,000 updates were made \(optimizer_t\), but its history ends at epoch 60: a resume would use the wrong bias correction/);
  });
});

describe('sweep shards and merge (item 11, messages)', () => {
  const sweep = (argv: string[]) => {
    const { rest, vary } = extractVary(['sweep', ...argv]);
    return sweepCommand(parseArgs(rest, SWEEP_BOOLEAN), vary);
  };

  it('refuses a shard whose base differs from the directory, naming the flag', async () => {
    const out = join(dir, 'shards');
    const base = ['--p', '7', '--dm', '8', '--heads', '2', '--mlp', '16', '--frac', '0.5', '--epochs', '10', '--every', '5', '--vary', 'seed=0,1', '--out', out, '--quiet'];
    await sweep([...base, '--lr', '0.001', '--shard', '0/2']);
    await expect(sweep([...base, '--lr', '0.01', '--shard', '1/2'])).rejects.toThrow(/holds a sweep whose base has --lr 0.001 \(this shard's is --lr 0.01\)/);
    await expect(sweep([...base.map((a) => (a === '5' ? '2' : a)), '--lr', '0.001', '--shard', '1/2'])).rejects.toThrow(/checkpointed every 5 epochs \(this shard's is --every 2\)/);
    const index = await sweep([...base, '--lr', '0.001', '--shard', '1/2']);
    expect(index.runs.map((r) => r.config.lr)).toEqual([0.001, 0.001]);
  }, 60_000);

  it('merge names a run file cut short', async () => {
    const out = join(dir, 'shards');
    const file = join(out, 'runs', 'run-0001.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 100));
    expect(() => mergeCommand(parseArgs(['merge', out, '--out', join(dir, 'm.json'), '--quiet'], BOOLEAN))).toThrow(UsageError);
    expect(() => mergeCommand(parseArgs(['merge', out, '--out', join(dir, 'm.json'), '--quiet'], BOOLEAN))).toThrow(/cannot read .*runs\/run-0001\.json \(run 1, seed=1\): .*JSON/);
  });
});
