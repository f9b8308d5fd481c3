import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readSequenceTorch } from '../src/files/torch/sequence-import.ts';
for (const f of process.argv.slice(2)) {
  const r = readSequenceTorch(new Uint8Array(readFileSync(f)), basename(f))!;
  const first = (xs: number[] | null, thr: number) => xs ? xs.findIndex((x) => x < thr) : null;
  console.log(basename(f), 'train n', r.trainLosses?.length, 'test n', r.testLosses?.length);
  for (const thr of [1, 0.1, 0.01, 1e-3]) console.log('  first <', thr, 'train', first(r.trainLosses, thr), 'test', first(r.testLosses, thr));
  const pick = (xs: number[] | null) => xs ? [0, 0.1, 0.25, 0.5, 0.75, 1].map((q) => { const i = Math.min(xs.length - 1, Math.floor(q * xs.length)); return `${i}:${xs[i].toExponential(2)}`; }).join(' ') : '';
  console.log('  train', pick(r.trainLosses)); console.log('  test ', pick(r.testLosses));
}
