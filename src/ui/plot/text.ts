/**
 * Text from a file (a run's name) as Plotly draws it: Plotly reads legend names, titles and hover
 * text as a little HTML (`<a href>` becomes a live link, `<b>` bold) and fills `%{…}` in hover
 * templates, so such text goes in with `&`, `<`, `>` and `%` as entities: shown as typed, never
 * as markup. `fromPlotText` undoes it for exports (the CSV holds the name as typed).
 */
const TO: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '%': '&#37;' };
const FROM: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&#37;': '%' };

export function plotText(s: string): string {
  return s.replace(/[&<>%]/g, (c) => TO[c]);
}

export function fromPlotText(s: string): string {
  return s.replace(/&amp;|&lt;|&gt;|&#37;/g, (e) => FROM[e]);
}
