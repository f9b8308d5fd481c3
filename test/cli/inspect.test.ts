/**
 * `npm run cli -- inspect FILE` as a person runs it: a real process, exit 0 with what the file is,
 * or exit 2 with one line saying why; a gzip bomb is stopped at the limit with bounded memory.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'grokscope-inspect-'));

function inspect(file: string): { code: number | null; stdout: string; stderr: string; peakKb: number } {
  // /usr/bin/time reports the peak resident memory of the whole command (tsx included).
  const r = spawnSync('/usr/bin/time', ['-f', 'PEAK_KB %M', process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'inspect', file], { encoding: 'utf8', timeout: 120_000 });
  const peak = /PEAK_KB (\d+)/.exec(r.stderr);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.replace(/PEAK_KB \d+\n?/, '').replace(/Command exited with non-zero status \d+\n?/, ''), peakKb: peak ? Number(peak[1]) : NaN };
}

describe('inspect', () => {
  it('describes the recorded reference run and exits 0', () => {
    const r = inspect('public/runs/no-wd.grokrun.gz');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/kind: grokscope run file/);
    expect(r.stdout).toMatch(/history: 121 checkpoints, epochs 0 … 6,000/);
    expect(r.stdout).toMatch(/snapshots: 16 /);
    expect(r.stdout).toMatch(/integrity: training loss at epoch 6,000: recorded/);
  }, 120_000);

  it('refuses with one line and exit 2: random bytes, and a 1 GiB gzip bomb with bounded memory', async () => {
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)));
    const r = inspect(junk);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^refused: this is not a file the page reads/);

    // 1 GiB of zeros is no file the page reads: refused at its first inflated chunk. The same
    // behind a zip's magic (a PyTorch file states no size up front) is read up to the limit.
    const bomb = async (name: string, head: Uint8Array) => {
      const path = join(dir, name);
      const zeros = new Uint8Array(1024 * 1024);
      await pipeline(Readable.from((function* () { yield head; for (let i = 0; i < 1024; i++) yield zeros; })()), createGzip(), createWriteStream(path));
      const b = inspect(path);
      console.log(`inspect of a 1 GiB gzip bomb (${name}): exit ${b.code}, peak ${Math.round(b.peakKb / 1024)} MB: ${b.stderr.trim()}`);
      expect(b.code).toBe(2);
      return b;
    };
    const zeros = await bomb('bomb.grokrun.gz', new Uint8Array(0));
    expect(zeros.stderr).toMatch(/neither a safetensors header .* a zip archive nor JSON; it was not decompressed further/);
    expect(zeros.peakKb).toBeLessThan(400 * 1024);
    const zip = await bomb('bomb.pth.gz', Uint8Array.of(0x50, 0x4b, 0x03, 0x04));
    expect(zip.stderr).toMatch(/inflates to more than 512 MB/);
    expect(zip.peakKb).toBeLessThan(1.2 * 1024 * 1024);
  }, 180_000);
});
