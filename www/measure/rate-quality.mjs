// Writes the rate–quality references to out/rq/ (read by `cargo run --release --example
// rate_quality`): for each picture <name> — the benchmark's test picture at 1920×1080 and
// 1280×720 (photo-…), a 1920×1080 frame of Chromium's fake camera (camera-…), and a
// 1920×1080 screenshot of www/measure/screen.html, a shared screen with text (screen-…) —
//   out/rq/<name>.rgba               the reference pixels (RGBA, row by row)
//   out/rq/<name>/jsquash-q<Q>.jpg   @jsquash/jpeg (MozJPEG in wasm), default options
//   out/rq/<name>/toblob-q<Q>.jpg    Chromium's canvas.toBlob('image/jpeg', Q/100)
//   out/rq/index.json                pictures, qualities, files, jsquash's q85 encode times
// for Q = 50, 55, …, 95. Headless Chromium, page www/measure/rate-quality.html.
//
// Usage: node www/measure/rate-quality.mjs [--runs N]   (N timed q85 encodes, default 7)

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { start } from '../serve.mjs';
import { CHROMIUM_ARGS } from '../e2e/browser.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = join(root, 'out/rq');
const runsAt = process.argv.indexOf('--runs');
const timingRuns = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 7;
if (!Number.isInteger(timingRuns) || timingRuns < 1) throw new Error('--runs needs a whole number ≥ 1');

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const server = await start(0);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error(`[page] ${m.text()}`); });
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  // The shared screen: a real page as Chromium renders it (fonts, anti-aliasing, subpixel
  // positions), which a canvas drawing would not give.
  const screen = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await screen.goto(new URL('measure/screen.html', server.url).href);
  const screenPng = (await screen.screenshot({ type: 'png' })).toString('base64');
  await screen.close();
  await page.goto(new URL('measure/rate-quality.html', server.url).href);
  await page.waitForFunction(() => window.rateQualityReady === true);
  const version = browser.version();
  const pictures = await page.evaluate(({ runs, png }) => window.rateQuality({ timingRuns: runs, screenPng: png }),
    { runs: timingRuns, png: screenPng });
  mkdirSync(outDir, { recursive: true });
  const index = { browser: `Chromium ${version}`, date: new Date().toISOString(), pictures: [] };
  for (const s of pictures) {
    const { name } = s;
    mkdirSync(join(outDir, name), { recursive: true });
    writeFileSync(join(outDir, `${name}.rgba`), Buffer.from(s.rgba, 'base64'));
    const entry = { name, width: s.width, height: s.height, rgba: `${name}.rgba`, jsquash: {}, toBlob: {},
      jsquashQ85Ms: s.jsquashQ85Ms, jsquashQ85MedianMs: median(s.jsquashQ85Ms) };
    for (const [kind, files] of [['jsquash', s.jsquash], ['toblob', s.toBlob]]) {
      for (const [q, b64] of Object.entries(files)) {
        const file = `${name}/${kind}-q${q}.jpg`;
        const bytes = Buffer.from(b64, 'base64');
        writeFileSync(join(outDir, file), bytes);
        entry[kind === 'jsquash' ? 'jsquash' : 'toBlob'][q] = { file, bytes: bytes.length };
      }
    }
    index.pictures.push(entry);
    console.log(`${name}: jsquash q85 ${entry.jsquash[85].bytes} B, median ${entry.jsquashQ85MedianMs.toFixed(1)} ms ` +
      `(${s.jsquashQ85Ms.map((t) => t.toFixed(0)).join(', ')}); toBlob q85 ${entry.toBlob[85].bytes} B`);
  }
  writeFileSync(join(outDir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  console.log(`wrote ${outDir}`);
} finally {
  await browser.close();
  await server.close();
}
