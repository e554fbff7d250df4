// Part 4 of the benchmark page: tracksnap's JPEG encoder alone, in wasm on the page's thread,
// on the 1080p photo picture, for the runner (www/bench/run.mjs) to set beside libjpeg-turbo's
// `tjbench` on the same frame. The module is examples/encoder_wasm.rs: C exports over one input
// and one output buffer, no JS glue, so a call's time is the encoder's and nothing else's. The
// runner builds it and serves it at ./encoder_wasm.wasm (the dev server does not).
//
// Routes, each at q85 4:2:0 (the plain preset's subsampling below q90), plain and sizeFirst:
//   I420 full-range BT.601     the JFIF identity, what libjpeg-turbo compresses from YUV (-yuv)
//   I420 limited-range BT.601  a camera's frame: the encoder widens the range as it goes
//   RGBA                       a canvas's pixels, what libjpeg-turbo compresses from RGBX

import { drawPicture, i420FromRgba } from './picture.js';
import { decode, median, percentile, psnr, ssim, timerText } from './metrics.js';

export const PHOTO = { width: 1920, height: 1080, quality: 85, subsampling: '4:2:0' };
export const ENCODER_WASM = './encoder_wasm.wasm';
const WARM_UP = 3;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (v, d = 2) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : v);

let picture = null;
/** The 1080p photo picture (ImageData), drawn once per page load. */
export function photoPicture() {
  if (!picture) {
    const canvas = document.createElement('canvas');
    canvas.width = PHOTO.width;
    canvas.height = PHOTO.height;
    picture = drawPicture(canvas);
  }
  return picture;
}

export function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text) {
  const s = atob(text);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/**
 * The encoder module's exports. It imports the wasm-bindgen functions of the crate it links,
 * which the encoder never calls: each gets a stub that throws.
 */
async function encoderModule() {
  const url = new URL(ENCODER_WASM, import.meta.url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url.pathname}: HTTP ${response.status} (the runner serves it: node www/bench/run.mjs --parts 4)`);
  const module = await WebAssembly.compile(await response.arrayBuffer());
  const imports = {};
  for (const i of WebAssembly.Module.imports(module)) {
    if (i.kind !== 'function') throw new Error(`encoder_wasm imports a ${i.kind} (${i.module}.${i.name}): only functions are stubbed`);
    imports[i.module] ??= {};
    imports[i.module][i.name] = () => {
      throw new Error(`encoder_wasm called its import ${i.module}.${i.name}`);
    };
  }
  return (await WebAssembly.instantiate(module, imports)).exports;
}

/** Quality of a JPEG against the picture: PSNR over RGB, SSIM over luma (metrics.js). */
async function jpegQuality(bytes, reference) {
  const img = await decode(new Blob([bytes], { type: 'image/jpeg' }));
  if (img.width !== reference.width || img.height !== reference.height) {
    return { error: `decoded ${img.width}×${img.height}, picture ${reference.width}×${reference.height}` };
  }
  const p = psnr(img, reference);
  return { psnrDb: Number.isFinite(p) ? round(p, 3) : null, ssim: round(ssim(img, reference), 5) };
}

let bench = null;

/**
 * Part 4's first step: the picture, its three inputs, the module, and three untimed calls of
 * every route (V8 tiers the module up to its optimised code in the background meanwhile).
 */
export async function encoderStart({ iterations }, log) {
  const { width: w, height: h, quality: q } = PHOTO;
  log(`Part 4: the JPEG encoder alone, ${w}×${h} photo picture, q${q} ${PHOTO.subsampling}, ${iterations} calls per route`);
  const reference = photoPicture();
  const inputs = {
    i420Full: i420FromRgba(reference.data, w, h, { fullRange: true }),
    i420Limited: i420FromRgba(reference.data, w, h, { fullRange: false }),
    rgba: new Uint8Array(reference.data.buffer, reference.data.byteOffset, reference.data.byteLength),
  };
  const e = await encoderModule();
  const routes = [
    { route: 'i420-full', label: 'I420 full-range', input: inputs.i420Full, call: (sf) => e.encoder_i420(w, h, q, 1, sf) },
    { route: 'i420-limited', label: 'I420 limited-range', input: inputs.i420Limited, call: (sf) => e.encoder_i420(w, h, q, 0, sf) },
    { route: 'rgba', label: 'RGBA', input: inputs.rgba, call: (sf) => e.encoder_rgba(w, h, q, sf) },
  ];
  const methods = routes.flatMap((r) => [0, 1].map((sf) => ({
    id: `${r.route}${sf ? '-sizefirst' : ''}`, route: r.route, sizeFirst: sf === 1, label: `${r.label}${sf ? ' sizeFirst' : ''}`,
    input: r.input, run: () => r.call(sf), times: [], lengths: new Set(), jpeg: null,
  })));
  bench = { e, methods, reference, iterations, log };
  for (let i = 0; i < WARM_UP; i++) encoderRound({ timed: false });
}

/**
 * One timed call of every route in turn (the runner runs tjbench between rounds, so that a
 * slow minute of the machine hits both alike). The frame is written into the module's input
 * buffer before each call, outside the timing.
 */
export function encoderRound({ timed = true } = {}) {
  const { e, methods } = bench;
  for (const m of methods) {
    const ptr = e.encoder_input(m.input.length);
    // A view made after the call: the input may have grown the memory.
    new Uint8Array(e.memory.buffer, ptr, m.input.length).set(m.input);
    const t = performance.now();
    const len = m.run();
    const dt = performance.now() - t;
    if (len < 0) throw new Error(`${m.label}: the encoder returned an error`);
    m.lengths.add(len);
    m.jpeg ??= new Uint8Array(e.memory.buffer, e.encoder_output(), len).slice();
    if (timed) m.times.push(dt);
  }
}

/**
 * The figures: every route's times, bytes and quality, and its JPEG (base64, for the runner to
 * write out). `references` are libjpeg-turbo's JPEGs of the same picture ([{ quality, base64 }],
 * from the runner): their bytes and quality are measured here, with the same decoder as ours.
 */
export async function encoderFinish({ references = [] } = {}) {
  const { methods, reference, iterations, log } = bench;
  const results = {
    ...PHOTO, iterations, warmUp: WARM_UP, placement: "the page's main thread",
    timer: timerText(),
    methods: [], jpegs: {}, libjpegTurbo: [],
  };
  for (const m of methods) {
    if (m.lengths.size !== 1) throw new Error(`${m.label}: outputs of different lengths (${[...m.lengths].join(', ')}) from the same frame`);
    const quality = await jpegQuality(m.jpeg, reference);
    results.methods.push({
      id: m.id, route: m.route, sizeFirst: m.sizeFirst, label: m.label,
      timeMs: { median: round(median(m.times), 3), p95: round(percentile(m.times, 95), 3), samples: m.times.map((v) => round(v, 3)) },
      bytes: m.jpeg.length, quality,
    });
    results.jpegs[m.id] = toBase64(m.jpeg);
    log(`  ${m.label.padEnd(28)} ${round(median(m.times))} ms (p95 ${round(percentile(m.times, 95))}), ${m.jpeg.length} B, ${quality.psnrDb ?? '∞'} dB`);
  }
  for (const r of references) {
    const bytes = fromBase64(r.base64);
    results.libjpegTurbo.push({ quality: r.quality, bytes: bytes.length, ...(await jpegQuality(bytes, reference)) });
  }
  bench = null;
  return results;
}

/** Part 4 in the page alone (no tjbench: a run by hand); the runner drives the three steps itself. */
export async function part4(o, log) {
  await encoderStart(o, log);
  for (let i = 0; i < o.iterations; i++) {
    await sleep(20);
    encoderRound();
  }
  return encoderFinish(o);
}

/** The picture's RGBA for the runner, which writes it out as a PPM for tjbench. */
export function photoForRunner() {
  const p = photoPicture();
  return { width: p.width, height: p.height, rgbaBase64: toBase64(new Uint8Array(p.data.buffer)) };
}
