// The benchmark's figures as one SVG picture: Part 1's call → Blob medians per source and
// method, Part 3's write-ahead against a bare IndexedDB put, and Part 4's encoder time against
// libjpeg-turbo's tjbench. No DOM, so the Node runner writes it beside bench.json
// (out/bench/bench.svg).

import { ENCODER_TARGETS, endToEndTarget } from './report.js';

/** The methods drawn, in order, with their colours; the others stay in the tables. */
const METHODS = [
  { id: 'tracksnap-jpeg', label: 'tracksnap JPEG q85', colour: '#1f6feb' },
  { id: 'tracksnap-jpeg-sizefirst', label: 'tracksnap JPEG sizeFirst', colour: '#8250df' },
  { id: 'video-tojpeg', label: '<video> + toBlob JPEG', colour: '#d1242f' },
  { id: 'jsquash-jpeg', label: '@jsquash/jpeg (MozJPEG)', colour: '#9a6700', scale: false },
];
const WIDTH = 760;
const LABEL_W = 190;
const BAR_H = 11;
const PLOT_W = WIDTH - LABEL_W - 80;

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** A "nice" axis maximum at or above `v`: 1, 2 or 5 times a power of ten. */
function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v);
}

/**
 * Horizontal bars in groups: `groups` is [{ title, bars: [{ label, value, colour, scale }],
 * marks: [{ label, value }] }]. The axis fits the bars with `scale` set and the marks; a longer
 * bar is cut at the edge and says so, so that a far slower reference does not flatten the rest.
 * A mark is a dashed line across its group's bars (a target), labelled on the group's title row.
 */
function barPanel(y0, title, unit, groups) {
  const scaled = groups.flatMap((g) => [...g.bars.filter((b) => b.scale !== false), ...(g.marks ?? [])].map((b) => b.value));
  const max = niceMax(Math.max(...scaled) * 1.15);
  const x = (v) => LABEL_W + (Math.min(v, max) / max) * PLOT_W;
  const out = [`<text x="0" y="${y0 + 14}" class="h">${esc(title)}</text>`];
  let y = y0 + 28;
  const top = y;
  for (const g of groups) {
    out.push(`<text x="0" y="${y + 10}" class="g">${esc(g.title)}</text>`);
    const marks = (g.marks ?? []).map((m) => ({ ...m, x: x(m.value).toFixed(1) }));
    // The label starts at its line, or past the group's title (about 6.5 px a character) if that is longer.
    for (const m of marks) out.push(`<text x="${Math.max(Number(m.x) + 3, g.title.length * 6.5 + 12).toFixed(1)}" y="${y + 10}" class="m">${esc(m.label)}</text>`);
    y += 14;
    const barsTop = y;
    // Bars, then the marks' lines over them, then the figures over the lines.
    const bars = [];
    const texts = [];
    for (const b of g.bars) {
      texts.push(`<text x="${LABEL_W - 6}" y="${y + 9}" class="l">${esc(b.label)}</text>`);
      bars.push(`<rect x="${LABEL_W}" y="${y}" width="${Math.max(0.5, x(b.value) - LABEL_W).toFixed(1)}" height="${BAR_H}" fill="${b.colour}"/>`);
      const cut = b.value > max;
      if (cut) bars.push(`<path d="M${x(max) - 9} ${y - 1}l4 ${BAR_H + 2}M${x(max) - 5} ${y - 1}l4 ${BAR_H + 2}" class="cut"/>`);
      texts.push(`<text x="${(x(b.value) + 4).toFixed(1)}" y="${y + 9}" class="v">${num(b.value)}${cut ? ' (cut)' : ''}</text>`);
      y += BAR_H + 3;
    }
    out.push(...bars, ...marks.map((m) => `<line x1="${m.x}" y1="${barsTop - 3}" x2="${m.x}" y2="${y}" class="mark"/>`), ...texts);
    y += 6;
  }
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    out.push(`<line x1="${x(v).toFixed(1)}" y1="${top}" x2="${x(v).toFixed(1)}" y2="${y}" class="grid"/>`);
    out.push(`<text x="${x(v).toFixed(1)}" y="${y + 12}" class="a">${Number(v.toPrecision(3))}${i === 4 ? ` ${unit}` : ''}</text>`);
  }
  return { svg: out.join('\n'), height: y + 20 - y0 };
}

/** The SVG text for a benchmark result (`bench.json`); `null` when it holds none of those parts. */
export function chartSvg(result) {
  const panels = [];
  let y = 0;
  const p1 = result.part1;
  if (p1?.sources?.length) {
    const groups = p1.sources
      .map((s) => {
        const toBlob = s.methods.find((x) => x.id === 'video-tojpeg');
        const target = endToEndTarget(s.id);
        return {
          title: s.label,
          bars: METHODS.map((m) => {
            const r = s.methods.find((x) => x.id === m.id);
            return r?.status === 'ok' ? { label: m.label, value: r.timeMs.median, colour: m.colour, scale: m.scale } : null;
          }).filter(Boolean),
          marks: toBlob?.status === 'ok' ? [{ label: `target: ${target}× toBlob's time`, value: target * toBlob.timeMs.median }] : [],
        };
      })
      .filter((g) => g.bars.length);
    if (groups.length) {
      const panel = barPanel(y, 'Call → Blob, median of the timed calls (ms; shorter is better)', 'ms', groups);
      panels.push(panel.svg);
      y += panel.height + 10;
    }
  }
  const p3 = result.part3;
  if (p3?.tracksnap && p3?.bare) {
    const bars = (field) => [
      { label: 'tracksnap write-ahead', value: p3.tracksnap[field].median, colour: '#1f6feb' },
      { label: 'bare IndexedDB put', value: p3.bare[field].median, colour: '#6e7781' },
    ];
    const panel = barPanel(y, `Keeping a ${Math.round(p3.bytesMedian / 1000)} KB 1080p JPEG in the outbox, median per image (ms)`, 'ms', [
      { title: "page's thread", bars: bars('pageMs') },
      { title: 'end to end', bars: bars('totalMs') },
    ]);
    panels.push(panel.svg);
    y += panel.height + 10;
  }
  const p4 = result.part4;
  if (p4?.methods?.length) {
    const tj = p4.tjbench ?? {};
    const groups = [
      { route: 'i420-full', title: 'I420, full range', tjMs: tj.yuvMs, tjFrom: 'YUV' },
      { route: 'i420-limited', title: "I420, limited range (a camera's)", tjMs: tj.yuvMs, tjFrom: 'YUV' },
      { route: 'rgba', title: 'RGBA', tjMs: tj.rgbMs, tjFrom: 'RGBX' },
    ].map((g) => {
      const ours = (sizeFirst) => p4.methods.find((m) => m.route === g.route && m.sizeFirst === sizeFirst);
      const webkit = result.webkit?.part4?.methods?.find((m) => m.route === g.route && !m.sizeFirst);
      const bars = [
        ours(false) && { label: 'tracksnap (wasm, Chromium)', value: ours(false).timeMs.median, colour: '#1f6feb' },
        webkit && { label: 'tracksnap (wasm, WebKit)', value: webkit.timeMs.median, colour: '#54aeff' },
        ours(true) && { label: 'tracksnap sizeFirst', value: ours(true).timeMs.median, colour: '#8250df' },
        Number.isFinite(g.tjMs) && { label: `libjpeg-turbo from ${g.tjFrom} (native)`, value: g.tjMs, colour: '#6e7781' },
      ].filter(Boolean);
      const marks = Number.isFinite(g.tjMs) ? [{ label: `target: ${ENCODER_TARGETS.time}× libjpeg-turbo's time`, value: ENCODER_TARGETS.time * g.tjMs }] : [];
      return { title: g.title, bars, marks };
    }).filter((g) => g.bars.length);
    const panel = barPanel(y, `JPEG encoder time against libjpeg-turbo: ${p4.width}×${p4.height} photo, q${p4.quality} ${p4.subsampling}, median per frame (ms)`, 'ms', groups);
    panels.push(panel.svg);
    y += panel.height + 10;
  }
  if (!panels.length) return null;
  const when = result.date?.slice(0, 16).replace('T', ' ') ?? '';
  const m = result.machine ?? {};
  const who = [m.chromium, m.cpuModel && `${m.cpuModel}, ${m.cores} cores`].filter(Boolean).join(', ');
  const foot = `${esc(who)}${when ? ` · ${esc(when)} UTC` : ''} · scripts/bench.sh`;
  const height = y + 22;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif">
<style>
.h { font-size: 13px; font-weight: 600; fill: #1f2328; }
.g { font-size: 11px; font-weight: 600; fill: #1f2328; }
.l { font-size: 10px; fill: #424a53; text-anchor: end; }
.v { font-size: 10px; fill: #1f2328; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; }
.a { font-size: 9px; fill: #6e7781; text-anchor: middle; }
.f { font-size: 9px; fill: #6e7781; }
.grid { stroke: #d0d7de; stroke-width: 0.5; }
.cut { stroke: #ffffff; stroke-width: 2; }
.m { font-size: 9px; fill: #cf222e; }
.mark { stroke: #cf222e; stroke-width: 1.2; stroke-dasharray: 3 2; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<g transform="translate(10 6)">
${panels.join('\n')}
<text x="0" y="${height - 10}" class="f">${foot}</text>
</g>
</svg>
`;
}
