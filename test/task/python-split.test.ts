/**
 * The `python` split against CPython itself: python3 runs the authors' gen_train_test logic
 * (random.seed(seed); random.shuffle(pairs); first int(frac·P²) train) and prints the shuffled
 * pair order, which must match ours exactly, for several seeds and P.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { splitPairs } from '../../src/task/pairs.ts';
import { PythonRandom, pythonSplitOrder } from '../../src/random/python-random.ts';

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import random'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const PY_SHUFFLE = `
import json, random, sys
out = []
for p, seed in json.loads(sys.argv[1]):
    pairs = [(i, j, p) for i in range(p) for j in range(p)]
    random.seed(seed)
    random.shuffle(pairs)
    out.append([a * p + b for a, b, _ in pairs])
print(json.dumps(out))
`;

const CASES: [number, number][] = [
  [23, 0],
  [23, 1],
  [53, 42],
  [113, 0],
  [113, 598],
  [257, 4294967295],
];

// Under CI=true CPython is required (.ci/run installs it): a missing python3 fails, never skips.
describe.runIf(process.env.CI === 'true' || hasPython())('python split (CPython random.seed + random.shuffle)', () => {
  const expected = JSON.parse(execFileSync('python3', ['-c', PY_SHUFFLE, JSON.stringify(CASES)], { encoding: 'utf8' })) as number[][];

  it.each(CASES.map((c, i) => [...c, i]))('P = %i, seed %i: the same order as CPython', (p, seed, i) => {
    expect(Array.from(pythonSplitOrder(p, seed))).toEqual(expected[i]);
  });

  it('splitPairs(…, "python") trains on the first int(frac·P²) of that order', () => {
    const [p, seed] = CASES[3];
    const { train, test } = splitPairs(p, 0.3, seed, 'python');
    const n = Math.trunc(0.3 * p * p);
    expect(Array.from(train)).toEqual(expected[3].slice(0, n).sort((a, b) => a - b));
    expect(Array.from(test)).toEqual(expected[3].slice(n).sort((a, b) => a - b));
    expect(Array.from(train)).not.toEqual(Array.from(splitPairs(p, 0.3, seed, 'grokscope').train));
  });

  it('getrandbits matches CPython for a large seed (several key words are not needed: seeds are < 2^32)', () => {
    const py = execFileSync('python3', ['-c', 'import random; random.seed(123456789); print([random.getrandbits(32) for _ in range(700)][-3:], random.getrandbits(7))'], { encoding: 'utf8' });
    const r = new PythonRandom(123456789);
    const xs = Array.from({ length: 700 }, () => r.uint32());
    expect(`${JSON.stringify(xs.slice(-3)).replace(/,/g, ', ')} ${r.getrandbits(7)}`).toBe(py.trim());
  });
});
