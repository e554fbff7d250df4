// The page side of the rate–quality references (see rate-quality.html).
//
// window.rateQuality({ sizes, qualities, timingRuns }) resolves with, per size: the reference
// RGBA (base64), jsquash's and toBlob's JPEGs (base64) per quality, and jsquash's encode times
// at q85 (ms, one entry per run after a warm-up).

import encodeJpeg, { init as initJpeg } from '/node_modules/@jsquash/jpeg/encode.js';
import { drawPicture } from '../bench/picture.js';

const out = document.getElementById('out');
const log = (text) => {
  out.textContent += `${text}\n`;
  console.log(`[rq] ${text}`);
};

function base64(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}

function toBlob(canvas, quality) {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('toBlob gave null'))), 'image/jpeg', quality));
}

window.rateQuality = async function rateQuality({
  sizes = [[1920, 1080], [1280, 720]],
  qualities = [50, 55, 60, 65, 70, 75, 80, 85, 90, 95],
  timingRuns = 7,
} = {}) {
  await initJpeg();
  const result = [];
  for (const [w, h] of sizes) {
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const image = drawPicture(canvas);
    const entry = { width: w, height: h, rgba: base64(image.data), jsquash: {}, toBlob: {}, jsquashQ85Ms: [] };
    for (const q of qualities) {
      entry.jsquash[q] = base64(await encodeJpeg(image, { quality: q }));
      entry.toBlob[q] = base64(await (await toBlob(canvas, q / 100)).arrayBuffer());
    }
    await encodeJpeg(image, { quality: 85 });
    for (let i = 0; i < timingRuns; i++) {
      const t0 = performance.now();
      await encodeJpeg(image, { quality: 85 });
      entry.jsquashQ85Ms.push(performance.now() - t0);
    }
    log(`${w}×${h}: ${qualities.length} qualities, jsquash q85 ${entry.jsquashQ85Ms.map((t) => t.toFixed(0)).join(' ')} ms`);
    result.push(entry);
  }
  return result;
};
window.rateQualityReady = true;
