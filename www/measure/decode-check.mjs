// Checks that Chromium decodes the size-first JPEGs that `cargo run --release --example
// rate_quality` writes (out/rq/<picture>/sizefirst-q<Q>.jpg), and prints their PSNR and SSIM
// against the reference pixels as Chromium decodes them (www/bench/metrics.js), beside
// jsquash's file at the same quality.
//
// Usage: node www/measure/decode-check.mjs

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { start } from '../serve.mjs';
import { CHROMIUM_ARGS } from '../e2e/browser.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = join(root, 'out/rq');
const server = await start(0);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
let failed = 0;
try {
  const page = await browser.newPage();
  await page.goto(new URL('measure/rate-quality.html', server.url).href);
  const { pictures } = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  for (const { name, width: w, height: h } of pictures) {
    const rgba = readFileSync(join(dir, `${name}.rgba`)).toString('base64');
    const files = readdirSync(join(dir, name)).filter((f) => /^(sizefirst|jsquash)-q(50|85|95)\.jpg$/.test(f)).sort();
    for (const f of files) {
      const jpeg = readFileSync(join(dir, name, f)).toString('base64');
      const r = await page.evaluate(async ({ w, h, rgba, jpeg }) => {
        const { decode, psnr, ssim } = await import('../bench/metrics.js');
        const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const ref = new ImageData(new Uint8ClampedArray(bytes(rgba).buffer), w, h);
        try {
          const img = await decode(new Blob([bytes(jpeg)], { type: 'image/jpeg' }));
          if (img.width !== w || img.height !== h) return { error: `decoded as ${img.width}×${img.height}` };
          return { psnr: psnr(ref, img), ssim: ssim(ref, img) };
        } catch (e) {
          return { error: String(e) };
        }
      }, { w, h, rgba, jpeg });
      if (r.error) failed++;
      const size = readFileSync(join(dir, name, f)).length;
      console.log(`${name} ${f.padEnd(20)} ${String(size).padStart(7)} B  ` +
        (r.error ? `NOT DECODED: ${r.error}` : `${r.psnr.toFixed(2)} dB  SSIM ${r.ssim.toFixed(4)}`));
    }
  }
} finally {
  await browser.close();
  await server.close();
}
process.exitCode = failed ? 1 : 0;
