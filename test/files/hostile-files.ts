/**
 * Writes the second adversarial review's PyTorch files at full size (issue 24, item 6), for
 * measuring what reading them costs; they are not fixtures (the tests build small ones):
 *
 *   npx tsx test/files/hostile-files.ts /tmp/hostile
 *   for f in /tmp/hostile/*.pth; do /usr/bin/time -v npm run -s cli -- inspect $f; done
 *
 * bcast_1gib.pth: a state dict whose W_E is a stride-0 expand(16384, 16384) of one float;
 * bcast_losses.pth: loss curves of 6e7 entries, stride 0; epoch_5e7.pth: a checkpoint at epoch 5e7;
 * empty_dict.pth (20 M EMPTY_DICT), dup.pth (100 M DUP), empty_list.pth (40 M EMPTY_LIST).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OP, PickleWriter, tlModelFile, torchArchive } from './torch-forge.ts';

const SMALL = { p: 23, dModel: 8, nHeads: 2, dMlp: 16 };

/** `small`: the floods only just past their budgets (a few MB each), for tests. */
export function hostileFiles(opts: { small?: boolean } = {}): Record<string, Uint8Array> {
  const n = (full: number, small: number) => (opts.small ? small : full);
  const bcast = (shape: number[]) => (w: PickleWriter) => w.tensor({ type: 'FloatStorage', key: 'one', numel: 1, shape, stride: shape.map(() => 0) });
  const flood = (code: number, n: number, keep: boolean) => {
    const w = new PickleWriter().proto().op(OP.EMPTY_LIST);
    if (!keep) return torchArchive(w.repeat(code, n).stop());
    // Each value appended to one list (APPEND after it: two bytes an object, the stack stays flat).
    const pairs = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) (pairs[2 * i] = code), (pairs[2 * i + 1] = 0x61);
    const head = w.stop().subarray(0, -1); // without its STOP
    return torchArchive(concat(head, pairs, Uint8Array.of(OP.STOP)));
  };
  return {
    'bcast_1gib.pth': tlModelFile(SMALL, [], { storages: { one: new Uint8Array(4) }, replace: { 'embed.W_E': bcast([16384, 16384]) } }),
    'bcast_losses.pth': tlModelFile(SMALL, [['train_losses', bcast([60_000_000])], ['test_losses', bcast([60_000_000])]], { storages: { one: new Uint8Array(4) } }),
    'epoch_5e7.pth': tlModelFile(SMALL, [['epoch', (w) => w.int(50_000_000)], ['train_loss', (w) => w.float(0.25)], ['test_loss', (w) => w.float(0.5)]]),
    'empty_dict.pth': flood(OP.EMPTY_DICT, n(20_000_000, 1_100_000), false),
    'empty_dict_kept.pth': flood(OP.EMPTY_DICT, n(20_000_000, 2_100_000), true),
    'dup.pth': flood(OP.DUP, n(100_000_000, 1_100_000), false),
    'empty_list.pth': flood(OP.EMPTY_LIST, n(40_000_000, 1_100_000), false),
  };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

if (process.argv[2]) {
  const dir = process.argv[2];
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(hostileFiles())) {
    writeFileSync(join(dir, name), bytes);
    process.stdout.write(`${name}: ${bytes.length.toLocaleString('en-US')} bytes\n`);
  }
}
