// The page side of the rate–quality references (see rate-quality.html).
//
// window.rateQuality({ pictures, screenPng, qualities, timingRuns }) resolves with, per
// picture: its name, the reference RGBA (base64), jsquash's and toBlob's JPEGs (base64) per
// quality, and jsquash's encode times at q85 (ms, one entry per run after a warm-up).
// Pictures: `photo-<w>x<h>` (www/bench/picture.js), `camera-<w>x<h>` (a frame of the fake
// camera, as the benchmark's camera source gives it), `screen-<w>x<h>` (the PNG the runner
// took of www/measure/screen.html, passed as base64 in `screenPng`).

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

function canvasOf(w, h) {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  return canvas;
}

/** A frame of the fake camera at `w`×`h`, drawn as this browser draws it (its YUV → RGB). */
async function cameraFrame(canvas) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { exact: canvas.width }, height: { exact: canvas.height } },
  });
  const [track] = stream.getVideoTracks();
  try {
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    // A few frames in, past the start-up frames.
    for (let i = 0; i < 10; i++) {
      const { value } = await reader.read();
      if (i < 9) value.close();
      else {
        canvas.getContext('2d').drawImage(value, 0, 0, canvas.width, canvas.height);
        value.close();
      }
    }
    reader.releaseLock();
  } finally {
    track.stop();
  }
}

async function drawPng(canvas, b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  if (bitmap.width !== canvas.width || bitmap.height !== canvas.height) {
    throw new Error(`screen PNG is ${bitmap.width}×${bitmap.height}, not ${canvas.width}×${canvas.height}`);
  }
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
}

/** The picture `name` (`kind-<w>x<h>`) on a canvas, and its pixels. */
async function picture(name, screenPng) {
  const m = /^(photo|camera|screen)-(\d+)x(\d+)$/.exec(name);
  if (!m) throw new Error(`unknown picture ${name}`);
  const [, kind, w, h] = m;
  const canvas = canvasOf(Number(w), Number(h));
  if (kind === 'photo') return { canvas, image: drawPicture(canvas) };
  if (kind === 'camera') await cameraFrame(canvas);
  else await drawPng(canvas, screenPng);
  const image = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  // toBlob encodes the canvas: put the pixels back so it encodes exactly the reference.
  const plain = canvasOf(canvas.width, canvas.height);
  plain.getContext('2d').putImageData(image, 0, 0);
  return { canvas: plain, image };
}

window.rateQuality = async function rateQuality({
  pictures = ['photo-1920x1080', 'photo-1280x720', 'camera-1920x1080', 'screen-1920x1080'],
  screenPng = null,
  qualities = [50, 55, 60, 65, 70, 75, 80, 85, 90, 95],
  timingRuns = 7,
} = {}) {
  await initJpeg();
  const result = [];
  for (const name of pictures) {
    const { canvas, image } = await picture(name, screenPng);
    const entry = {
      name, width: image.width, height: image.height, rgba: base64(image.data), jsquash: {}, toBlob: {}, jsquashQ85Ms: [],
    };
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
    log(`${name}: ${qualities.length} qualities, jsquash q85 ${entry.jsquashQ85Ms.map((t) => t.toFixed(0)).join(' ')} ms`);
    result.push(entry);
  }
  return result;
};
window.rateQualityReady = true;
