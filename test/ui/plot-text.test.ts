import { describe, expect, it } from 'vitest';
import { fromPlotText, plotText } from '../../src/ui/plot/text.ts';

describe('text from a file, as Plotly draws it (issue 24, item 12)', () => {
  it('has no markup and no hover-template field left', () => {
    const name = '<a href="https://example.org/">x</a> %{y} & <b>bold</b>';
    const t = plotText(name);
    expect(t).not.toMatch(/[<>]|%\{/);
    expect(t).toBe('&lt;a href="https://example.org/"&gt;x&lt;/a&gt; &#37;{y} &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(fromPlotText(t)).toBe(name);
  });
});
