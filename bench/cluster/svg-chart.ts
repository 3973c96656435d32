/** Minimal horizontal bar charts as standalone SVG (no dependencies), for bench/results/*.svg. */

/** One bar (optionally with a second, lighter value such as p99 next to p50). */
export interface Bar {
  label: string;
  value: number;
  second?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A horizontal bar chart; `unit` is appended to values. */
export function barChart(title: string, bars: Bar[], unit: string, legend?: [string, string]): string {
  const rowH = 28;
  const left = 260;
  const width = 820;
  const plotW = width - left - 110;
  const top = 44 + (legend ? 18 : 0);
  const height = top + bars.length * rowH + 20;
  const max = Math.max(...bars.map((b) => Math.max(b.value, b.second ?? 0)), 1e-9);
  const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const rows = bars
    .map((b, i) => {
      const y = top + i * rowH;
      const w1 = (b.value / max) * plotW;
      const w2 = b.second !== undefined ? (b.second / max) * plotW : 0;
      return [
        `<text x="${left - 8}" y="${y + 17}" text-anchor="end" font-size="12">${esc(b.label)}</text>`,
        b.second !== undefined ? `<rect x="${left}" y="${y + 4}" width="${w2.toFixed(1)}" height="18" fill="#9ecae1"/>` : '',
        `<rect x="${left}" y="${y + 4}" width="${w1.toFixed(1)}" height="18" fill="#3182bd"/>`,
        `<text x="${left + Math.max(w1, w2) + 6}" y="${y + 17}" font-size="12">${fmt(b.value)}${b.second !== undefined ? ` / ${fmt(b.second)}` : ''} ${esc(unit)}</text>`,
      ].join('');
    })
    .join('\n');
  const legendSvg = legend
    ? `<rect x="${left}" y="34" width="12" height="12" fill="#3182bd"/><text x="${left + 16}" y="44" font-size="12">${esc(legend[0])}</text><rect x="${left + 120}" y="34" width="12" height="12" fill="#9ecae1"/><text x="${left + 136}" y="44" font-size="12">${esc(legend[1])}</text>`
    : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="12" y="22" font-size="15" font-weight="bold">${esc(title)}</text>
${legendSvg}
${rows}
</svg>
`;
}
