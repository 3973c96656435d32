/** Minimal multi-series line charts as standalone SVG (no dependencies), stacked in one file. */

/** One series of (x, y) points. */
export interface Series {
  label: string;
  points: { x: number; y: number }[];
}

/** One panel: a title, a unit and its series; `bands` shade x ranges (e.g. the load phase). */
export interface Panel {
  title: string;
  unit: string;
  series: Series[];
  bands?: { from: number; to: number; label: string }[];
}

const COLORS = ['#3182bd', '#e6550d', '#31a354', '#756bb1', '#636363', '#d6616b'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/** Panels stacked vertically, sharing the x axis (seconds). */
export function lineCharts(title: string, panels: Panel[], xLabel = 's'): string {
  const width = 900;
  const left = 70;
  const right = 170;
  const panelH = 150;
  const gap = 46;
  const top = 40;
  const plotW = width - left - right;
  const height = top + panels.length * (panelH + gap);
  const allX = panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q.x)));
  const x0 = Math.min(...allX, 0);
  const x1 = Math.max(...allX, 1);
  const sx = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, i) => {
    const y0 = top + i * (panelH + gap) + 20;
    const ys = panel.series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite);
    const ymax = Math.max(...ys, 1e-9) * 1.1;
    const sy = (y: number) => y0 + panelH - (y / ymax) * panelH;
    parts.push(`<text x="${left}" y="${y0 - 6}" font-size="12" font-weight="bold">${esc(panel.title)} (${esc(panel.unit)})</text>`);
    for (const b of panel.bands ?? []) {
      parts.push(`<rect x="${sx(b.from).toFixed(1)}" y="${y0}" width="${(sx(b.to) - sx(b.from)).toFixed(1)}" height="${panelH}" fill="#f0f0f0"/>`);
      parts.push(`<text x="${(sx(b.from) + 4).toFixed(1)}" y="${y0 + 12}" fill="#888">${esc(b.label)}</text>`);
    }
    parts.push(`<line x1="${left}" y1="${y0 + panelH}" x2="${left + plotW}" y2="${y0 + panelH}" stroke="#999"/>`);
    parts.push(`<line x1="${left}" y1="${y0}" x2="${left}" y2="${y0 + panelH}" stroke="#999"/>`);
    for (const f of [0, 0.5, 1]) {
      const v = (ymax / 1.1) * f;
      parts.push(`<text x="${left - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(v)}</text>`);
    }
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const x = x0 + (x1 - x0) * f;
      parts.push(`<text x="${sx(x).toFixed(1)}" y="${y0 + panelH + 14}" text-anchor="middle" fill="#555">${x.toFixed(0)} ${xLabel}</text>`);
    }
    panel.series.forEach((s, j) => {
      const pts = s.points.filter((p) => Number.isFinite(p.y));
      if (pts.length) {
        const d = pts.map((p, k) => `${k ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join('');
        parts.push(`<path d="${d}" fill="none" stroke="${COLORS[j % COLORS.length]}" stroke-width="1.4"/>`);
      }
      parts.push(`<rect x="${left + plotW + 12}" y="${y0 + j * 16}" width="10" height="10" fill="${COLORS[j % COLORS.length]}"/>`);
      parts.push(`<text x="${left + plotW + 26}" y="${y0 + j * 16 + 9}">${esc(s.label)}</text>`);
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
