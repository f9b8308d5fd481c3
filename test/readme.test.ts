import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRESET_NAMES } from '../src/config/presets.ts';
import { CONFIG_KEYS, FIELDS } from '../src/config/schema.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };

describe('README', () => {
  it('documents every URL key and preset', () => {
    for (const k of CONFIG_KEYS) expect(readme, FIELDS[k].key).toContain(`\`${FIELDS[k].key}\``);
    for (const name of PRESET_NAMES) expect(readme, name).toContain(`\`${name}\``);
  });

  it('gives commands that exist', () => {
    for (const cmd of readme.matchAll(/npm run (\w+)/g)) expect(pkg.scripts, cmd[0]).toHaveProperty(cmd[1]);
    expect(readme).toContain('npm install && npm run dev');
    expect(readme).toContain('npm test');
  });
});

describe('404 page', () => {
  it('allows its redirect script by hash in its Content-Security-Policy', () => {
    const html = readFileSync(new URL('../public/404.html', import.meta.url), 'utf8');
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    const hash = createHash('sha256').update(script).digest('base64');
    expect(html).toContain(`'sha256-${hash}'`);
  });
});

describe('social preview', () => {
  it('has the 1200×630 PNG that index.html names as og:image', () => {
    const html = readFileSync(new URL('../index.html', import.meta.url), 'utf8');
    const name = /<meta property="og:image" content="([^"]+)"/.exec(html)![1];
    const png = readFileSync(new URL(`../public/${name}`, import.meta.url));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // IHDR: width and height, big-endian, at bytes 16 and 20.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1200, 630]);
    expect(html).toContain('<meta property="og:image:width" content="1200" />');
    expect(html).toContain('<meta property="og:image:height" content="630" />');
  });
});
