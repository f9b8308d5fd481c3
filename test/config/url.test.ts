import { describe, expect, it } from 'vitest';
import { PRESETS, PRESET_NAMES, matchPreset, presetConfig } from '../../src/config/presets.ts';
import { CONFIG_KEYS, DEFAULT_CONFIG, FIELDS, describeIssue, type TrainConfig } from '../../src/config/schema.ts';
import { decodeQuery, encodeQuery } from '../../src/config/url.ts';
import { LLC_SHARE, formatLlcSchedule, parseLlcSchedule } from '../../src/config/llc.ts';
import { withAppendix, withLlc } from '../../src/client/address.ts';

/** A valid value different from the default, for every field. */
const OTHER_VALUE: { [K in keyof TrainConfig]: TrainConfig[K] } = {
  p: 53,
  frac: 0.45,
  seed: 4294967295,
  split: 'python',
  task: 'poly',
  dModel: 96,
  nHeads: 8,
  dMlp: 256,
  nLayers: 2,
  act: 'gelu',
  vocabOut: 'p',
  lr: 3e-4,
  weightDecay: 0.3,
  beta1: 0.8,
  beta2: 0.999,
  warmup: 0,
  epochs: 20000,
  dropout: 0.2,
  l1: 1e-5,
  grokfastLambda: 2,
  grokfastAlpha: 0.9,
  orthoGrad: 1,
  loss: 'stablemax',
  weightNorm: 40,
  initScale: 2,
  attnRate: 0.5,
  lossPrecision: 'f32',
};

describe('URL codec', () => {
  it('encodes the defaults as an empty query', () => {
    expect(encodeQuery({ config: { ...DEFAULT_CONFIG }, preset: null, backend: null, keyFreqs: null })).toBe('');
    const decoded = decodeQuery('');
    expect(decoded.config).toEqual(DEFAULT_CONFIG);
    expect(decoded.issues).toEqual([]);
  });

  it.each(CONFIG_KEYS)('round-trips %s alone, with only its key in the URL', (name) => {
    const config = { ...DEFAULT_CONFIG, [name]: OTHER_VALUE[name] } as TrainConfig;
    const query = encodeQuery({ config, preset: null, backend: null, keyFreqs: null });
    expect(query).toBe(`${FIELDS[name].key}=${encodeURIComponent(String(OTHER_VALUE[name]))}`);
    const decoded = decodeQuery(`?${query}`);
    expect(decoded.issues).toEqual([]);
    expect(decoded.config).toEqual(config);
  });

  it('round-trips every field changed at once, a preset and a backend', () => {
    const config = { ...OTHER_VALUE };
    for (const preset of [null, ...PRESET_NAMES]) {
      const query = encodeQuery({ config, preset, backend: 'wasm', keyFreqs: [14, 25] });
      const decoded = decodeQuery(query);
      expect(decoded.issues).toEqual([]);
      expect(decoded.config).toEqual(config);
      expect(decoded.preset).toBe(preset);
      expect(decoded.backend).toBe('wasm');
      expect(decoded.keyFreqs).toEqual([14, 25]);
    }
  });

  it('writes only what differs from the preset', () => {
    const config = { ...presetConfig('p53'), seed: 3 };
    expect(encodeQuery({ config, preset: 'p53', backend: null, keyFreqs: null })).toBe('preset=p53&seed=3');
  });

  it('applies a preset, then explicit keys over it', () => {
    const decoded = decodeQuery('?preset=p53&wd=2');
    expect(decoded.config.p).toBe(53);
    expect(decoded.config.weightDecay).toBe(2);
    expect(decoded.preset).toBe('p53');
  });

  it('has the quick preset in the URL: the paper\'s model, a smaller modulus', () => {
    const decoded = decodeQuery('?preset=quick');
    expect(decoded.issues).toEqual([]);
    expect(decoded.preset).toBe('quick');
    expect(decoded.config).toEqual(presetConfig('quick'));
    expect(decoded.config).toMatchObject({ dModel: 128, nHeads: 4, dMlp: 512, nLayers: 1 });
    expect(decoded.config.p).toBeLessThan(113);
    expect(encodeQuery({ config: decoded.config, preset: 'quick', backend: null, keyFreqs: null })).toBe('preset=quick');
  });

  it('has the paper presets by name', () => {
    expect(presetConfig('mainline')).toEqual(DEFAULT_CONFIG);
    expect(presetConfig('no-wd').weightDecay).toBe(0);
    expect(presetConfig('p53')).toMatchObject({ p: 53, weightDecay: 5 });
    expect(presetConfig('frac60').frac).toBe(0.6);
    expect(presetConfig('two-layer').nLayers).toBe(2);
    expect(presetConfig('p401')).toMatchObject({ p: 401, frac: 0.3, weightDecay: 1 });
    expect(presetConfig('slingshots')).toMatchObject({ lossPrecision: 'f32', nLayers: 1 });
    expect(PRESETS.p401.expect).toMatch(/no grokking.*generalizes at once.*several λ.*Fig\. 25/);
    expect(Object.keys(PRESETS)).toContain('dropout');
  });
});

describe('URL codec, bad values', () => {
  const cases: [string, string, RegExp][] = [
    ['p=abc', 'p', /must be a number, got "abc"/],
    ['p=12', 'p', /12 is not prime/],
    ['p=2', 'p', /must be in \[3, 1021\]/],
    ['p=1031', 'p', /must be in \[3, 1021\]/],
    ['p=11.5', 'p', /whole number/],
    ['p=', 'p', /must be a number/],
    ['p=0x11', 'p', /must be a number/],
    ['frac=0', 'frac', /must be in \(0, 1\)/],
    ['frac=1', 'frac', /must be in \(0, 1\)/],
    ['frac=1.5', 'frac', /must be in \(0, 1\)/],
    ['frac=-0.3', 'frac', /must be in \(0, 1\)/],
    ['frac=NaN', 'frac', /must be a number/],
    ['frac=Infinity', 'frac', /must be a number/],
    ['seed=-1', 'seed', /must be in/],
    ['seed=4294967296', 'seed', /must be in/],
    ['task=mul', 'task', /must be one of add, sub, poly, rand/],
    ['lossprec=f16', 'lossprec', /must be one of high, f32/],
    ['loss=f32', 'loss', /must be one of softmax, stablemax/],
    ['dm=1e9', 'dm', /must be in/],
    ['heads=0', 'heads', /must be in/],
    ['layers=3', 'layers', /must be in \[1, 2\]/],
    ['act=tanh', 'act', /must be one of relu, gelu/],
    ['vout=q', 'vout', /must be one of p1, p/],
    ['lr=0', 'lr', /must be in \(0, 1\]/],
    ['lr=fast', 'lr', /must be a number/],
    ['wd=-1', 'wd', /must be in \[0, 100\]/],
    ['b2=1', 'b2', /must be in \[0, 1\)/],
    ['epochs=0', 'epochs', /must be in/],
    ['drop=1', 'drop', /must be in \[0, 1\)/],
    ['gf=-2', 'gf', /must be in/],
  ];

  it.each(cases)('%s names %s and keeps the default', (query, key, message) => {
    const decoded = decodeQuery(query);
    const issue = decoded.issues.find((i) => i.key === key);
    expect(issue, JSON.stringify(decoded.issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
    expect(decoded.config).toEqual(DEFAULT_CONFIG);
  });

  it('keeps the other, valid values when one is bad', () => {
    const decoded = decodeQuery('p=53&frac=2&wd=0.5');
    expect(decoded.config).toEqual({ ...DEFAULT_CONFIG, p: 53, weightDecay: 0.5 });
    expect(decoded.issues.map((i) => i.key)).toEqual(['frac']);
  });

  it('reads "-0" as zero, so the decoded config round-trips', () => {
    const decoded = decodeQuery('drop=-0&wd=-0');
    expect(decoded.issues).toEqual([]);
    expect(Object.is(decoded.config.dropout, 0)).toBe(true);
    expect(Object.is(decoded.config.weightDecay, 0)).toBe(true);
    expect(decodeQuery(encodeQuery(decoded)).config).toEqual(decoded.config);
  });

  it('falls back to the preset value, not the global default, under a preset', () => {
    const decoded = decodeQuery('preset=p53&p=54');
    expect(decoded.config.p).toBe(53);
    expect(decoded.issues[0].fallback).toBe('53');
  });

  it('reports unknown presets, keys, backends and repeated keys', () => {
    const decoded = decodeQuery('preset=nope&zz=1&backend=tpu&p=53&p=59');
    expect(decoded.issues.map((i) => i.key).sort()).toEqual(['backend', 'p', 'preset', 'zz']);
    expect(decoded.preset).toBeNull();
    expect(decoded.backend).toBeNull();
    expect(decoded.config).toEqual({ ...DEFAULT_CONFIG, p: 53 });
  });

  it('refuses d_model not divisible by heads, blaming heads', () => {
    const decoded = decodeQuery('dm=100&heads=8');
    expect(decoded.config.dModel).toBe(100);
    expect(decoded.config.nHeads).toBe(DEFAULT_CONFIG.nHeads);
    expect(decoded.issues[0]).toMatchObject({ key: 'heads' });
    expect(decoded.issues[0].message).toMatch(/d_model \(100\) must be divisible by heads \(8\)/);
  });

  it('resolves contradictions that survive a reset to defaults', () => {
    // 130 is not divisible by the default 4 heads either, so d_model must fall back too.
    const decoded = decodeQuery('dm=130&heads=3');
    expect(decoded.config.dModel % decoded.config.nHeads).toBe(0);
    expect(decoded.issues.length).toBeGreaterThan(0);
  });

  it('reads and checks pinned key frequencies (?k=)', () => {
    expect(decodeQuery('k=14,35,41').keyFreqs).toEqual([14, 35, 41]);
    expect(encodeQuery({ config: { ...DEFAULT_CONFIG }, preset: null, backend: null, keyFreqs: [14, 35, 41] })).toBe('k=14,35,41');
    for (const [q, msg] of [
      ['k=57', /not an integer in \[1, 56\]/],
      ['k=3,3', /repeated/],
      ['k=a,b', /whole numbers separated by commas/],
      ['k=', /whole numbers/],
      ['p=53&k=30', /\[1, 26\]/],
      // One sentence, not "key frequencies at most 20 key frequencies" (issue 24).
      [`k=${Array.from({ length: 25 }, (_, i) => i + 1).join(',')}`, /^at most 20 key frequencies can be pinned, got 25$/],
      ['k=a', /^key frequencies must be whole numbers/],
    ] as const) {
      const d = decodeQuery(q);
      expect(d.keyFreqs).toBeNull();
      expect(d.issues.find((i) => i.key === 'k')?.message).toMatch(msg);
    }
  });

  it('says what it uses instead', () => {
    expect(describeIssue(decodeQuery('p=12').issues[0])).toBe('P (modulus) 12 is not prime; using 113');
  });

  it('quotes long bad values shortened', () => {
    const decoded = decodeQuery(`p=${'9'.repeat(500)}x`);
    expect(decoded.issues[0].message.length).toBeLessThan(200);
  });
});

describe('the LLC over training (?llc=)', () => {
  it('is off without the key, on with the defaults for 1, off for 0, and reads settings', () => {
    expect(decodeQuery('').llc).toBeNull();
    expect(decodeQuery('llc=1').llc).toEqual({ settings: {}, share: LLC_SHARE });
    expect(decodeQuery('llc=0').llc).toBeNull();
    const d = decodeQuery('llc=eps:1e-4,gamma:300,nbeta:50,chains:2,draws:20,batch:64,seed:3,share:0.25');
    expect(d.issues).toEqual([]);
    expect(d.llc).toEqual({ settings: { eps: 1e-4, gamma: 300, nbeta: 50, chains: 2, draws: 20, batch: 64, seed: 3 }, share: 0.25 });
  });

  it('round-trips through the address', () => {
    for (const raw of ['1', 'chains:2,draws:20', 'eps:0.0002,share:0.5', 'seed:0']) {
      const s = decodeQuery(`llc=${raw}`).llc!;
      expect(decodeQuery(withLlc('p=59', s)).llc).toEqual(s);
      expect(parseLlcSchedule(formatLlcSchedule(s))).toEqual({ value: s });
    }
    expect(withLlc('p=59', null)).toBe('p=59');
    expect(withLlc('', { settings: {}, share: LLC_SHARE })).toBe('llc=1');
  });

  it('names a bad setting and stays off', () => {
    for (const [raw, words] of [
      ['chains:0', 'chains must be a whole number ≥ 1'],
      ['draws:2.5', 'draws must be a whole number'],
      ['eps:-1', 'eps must be > 0'],
      ['share:2', 'share must be in (0, 1]'],
      ['temperature:3', 'unknown setting "temperature"'],
      ['chains:2,chains:3', '"chains" is given twice'],
      ['draws', 'key:value'],
      ['eps:abc', 'eps must be a number'],
    ] as const) {
      const d = decodeQuery(`llc=${encodeURIComponent(raw)}`);
      expect(d.llc, raw).toBeNull();
      expect(d.issues.map((i) => `${i.key}: ${i.message}`).join(' '), raw).toContain(words);
    }
  });
});

describe('presets', () => {
  it('recognizes a configuration that equals a preset', () => {
    expect(matchPreset(DEFAULT_CONFIG)).toBe('mainline');
    expect(matchPreset(presetConfig('p53'))).toBe('p53');
    expect(matchPreset({ ...DEFAULT_CONFIG, seed: 1 })).toBeNull();
  });

  it('ignores the run length: the reference recording (mainline, 16,000 of 40,000 epochs) is the mainline (#21 item 6)', () => {
    expect(matchPreset({ ...DEFAULT_CONFIG, epochs: 16_000 })).toBe('mainline');
    expect(matchPreset({ ...presetConfig('quick'), epochs: 40_000 })).toBe('quick');
    // Every other field is a setting: the warm-up changes the lr schedule.
    expect(matchPreset({ ...DEFAULT_CONFIG, epochs: 16_000, warmup: 11 })).toBeNull();
    // The slingshot preset is the quick run with a different loss precision, not a longer quick run.
    expect(matchPreset({ ...presetConfig('slingshots'), epochs: 3_000 })).toBe('slingshots');
    // The link still carries the run length the preset does not have.
    expect(encodeQuery({ config: { ...DEFAULT_CONFIG, epochs: 16_000 }, preset: matchPreset({ ...DEFAULT_CONFIG, epochs: 16_000 }), backend: null, keyFreqs: null })).toBe('preset=mainline&epochs=16000');
  });
});

describe('URL codec, property-based', () => {
  it('never throws on random query strings, and every issue names a key with a message', async () => {
    const fc = (await import('fast-check')).default;
    const keys = fc.constantFrom(...CONFIG_KEYS.map((k) => FIELDS[k].key), 'preset', 'backend', 'k', 'run', 'zz', '');
    fc.assert(
      fc.property(fc.array(fc.tuple(keys, fc.string({ maxLength: 30 })), { maxLength: 8 }), fc.string({ maxLength: 60 }), (pairs, junk) => {
        const q = new URLSearchParams(pairs).toString() + (junk ? `&${junk}` : '');
        const decoded = decodeQuery(q);
        for (const issue of decoded.issues) {
          expect(typeof issue.key).toBe('string');
          expect(issue.message.length).toBeGreaterThan(0);
        }
        // Whatever came in, what comes out is a valid configuration that round-trips.
        expect(decodeQuery(encodeQuery(decoded)).config).toEqual(decoded.config);
      }),
      { numRuns: 500 },
    );
  });
});

describe('hostile links (issue 16, finding 9)', () => {
  it('names a 100,000-digit number by its length, not as "Infinity"', () => {
    const { config, issues } = decodeQuery(`p=${'9'.repeat(100_000)}`);
    expect(config.p).toBe(113);
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toMatch(/must be a number in range, got "9{40}…" \(100,000 characters\)/);
    expect(issues[0].message).not.toMatch(/Infinity/);
  });

  it('summarises 10,000 unknown keys after the first few', () => {
    const query = Array.from({ length: 10_000 }, (_, i) => `junk${i}=1`).join('&');
    const { issues } = decodeQuery(`${query}&p=53`);
    expect(issues).toHaveLength(6);
    expect(issues.slice(0, 5).map((i) => i.key)).toEqual(['junk0', 'junk1', 'junk2', 'junk3', 'junk4']);
    expect(issues[5].message).toBe('and 9,995 more unknown or repeated parameters, ignored');
    expect(decodeQuery(`${query}&p=53`).config.p).toBe(53);
  });
});

describe("the appendix tasks' run (?appendix=)", () => {
  it('names one of the six runs of Figs. 29–34; anything else is an issue that falls back to the first', () => {
    expect(decodeQuery('').appendix).toBeNull();
    expect(decodeQuery('appendix=repeat-512').appendix).toBe('repeat-512');
    const bad = decodeQuery('appendix=__proto__');
    expect(bad.appendix).toBeNull();
    expect(bad.issues.map((i) => i.key)).toEqual(['appendix']);
    expect(bad.issues[0].message).toMatch(/"__proto__" is not a run of the appendix's tasks; known: skip3-inf, skip3-512, digits5-inf, digits5-700, repeat-inf, repeat-512/);
    // The page writes it only once another run than the first is chosen.
    expect(withAppendix('p=7', 'skip3-inf')).toBe('p=7');
    expect(withAppendix('p=7', 'digits5-700')).toBe('p=7&appendix=digits5-700');
    expect(withAppendix('', 'repeat-inf')).toBe('appendix=repeat-inf');
  });
});
