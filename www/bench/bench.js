// The benchmark page. Part 1: one snapshot of the same live tracks by tracksnap, by a playing
// <video> + canvas.toBlob (what the RTC SDKs do) and by @jsquash/jpeg; time, main-thread time,
// bytes, and quality against the source picture. Part 2: one periodic task at Interval 1 over
// K streams for S seconds. Part 3: what keeping each image in the outbox before its upload
// costs, against a bare IndexedDB write. Part 4 (encoder.js): the JPEG encoder alone, for the
// runner to set beside libjpeg-turbo. Every figure comes from a measurement made in this run.
//
// window.runBench({ parts, iterations, seconds, streams, references }) runs it and resolves
// with the results (the runner, www/bench/run.mjs, calls it); the Run button does the same by
// hand for Parts 1–3 (Part 4 needs the module the runner serves). window.benchPhoto() hands
// the runner Part 4's picture, and window.benchEncoder lets it run Part 4 round by round.
// When the runner is there it provides window.benchMark(name): it records the CPU time of
// every Chromium process at that moment ("cpu:…"), or forces a garbage collection ("gc").

import init, { SnapshotEngine } from '/pkg/tracksnap.js';
import encodeJpeg, { init as initJpeg } from '/node_modules/@jsquash/jpeg/encode.js';
import { drawPicture, i420FromRgba } from './picture.js';
import { decode, median, medianWithInfinity, percentile, psnr, ssim, SSIM_PARAMS, timerText } from './metrics.js';
import { BusyProbe } from './probe.js';
import { encoderFinish, encoderRound, encoderStart, part4, photoForRunner } from './encoder.js';
import { derive, formatReport } from './report.js';
import { memory, startRoom } from './streams.js';

const out = document.getElementById('out');
const sourcesBox = document.getElementById('sources');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (v, d = 2) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : v);

function log(text) {
  out.textContent += `${text}\n`;
  console.log(`[bench] ${text}`);
}

/** Tells the runner (if any) about a moment of the run; resolves with its answer or null. */
async function mark(name) {
  return typeof window.benchMark === 'function' ? window.benchMark(name) : null;
}

/** CPU time (ns) of the page's main thread, read by the runner; null without it. */
async function threadNs() {
  const r = await mark('thread');
  return typeof r?.ns === 'number' ? r.ns : null;
}

/**
 * Lets the runner find this page's main thread: it compares every Chromium thread's CPU time
 * before and after 300 ms of busy work here.
 */
async function findThread() {
  if (!(await mark('thread:find-start'))) return null;
  const t = performance.now();
  while (performance.now() - t < 300);
  return mark('thread:find-end');
}

/**
 * tracksnap's own main-thread time per JPEG snapshot, in blocks. A reading per call carries
 * the page's own work during the call, which on a canvas source is large and lumpy: Chromium
 * spends several milliseconds of the page's thread on each frame of a 1080p canvas track,
 * and a call spans one frame or two. Here a block of BLOCK_CALLS tracksnap calls is read as
 * a whole, then a control block of as many calls that keep a Worker busy for exactly as long
 * as each of those tracksnap calls took while the page only waits (same pauses, same
 * readings). Their difference per call is tracksnap's share: the page's background, and how
 * much more it costs while the other core works, are in both. Blocks alternate, and the
 * figure is the median over BLOCKS pairs. Each block is also given raw, as the per-call
 * figures are (less the thread's idle share over the block's length, `idleRate` from the
 * per-call windows, and one reading's cost): a block holds a dozen canvas frames, not one or
 * two, so their lumps weigh far less than in a single call.
 */
async function blockMainThread(run, idleRate, readingMs) {
  const diffs = [];
  const raw = [];
  const rawControl = [];
  const block = async (call) => {
    await sleep(20);
    const t0 = performance.now();
    const c0 = await threadNs();
    for (let i = 0; i < BLOCK_CALLS; i++) {
      await sleep(20);
      await call(i);
    }
    const c1 = await threadNs();
    if (c0 === null || c1 === null) return null;
    const cpuMs = (c1 - c0) / 1e6;
    return { cpuMs, rawMs: (cpuMs - readingMs - idleRate * (performance.now() - t0)) / BLOCK_CALLS };
  };
  for (let b = 0; b < BLOCKS; b++) {
    const durations = [];
    const ts = await block(async () => {
      const t = performance.now();
      await run();
      durations.push(performance.now() - t);
    });
    const control = await block((i) => busyWorker(durations[i]));
    if (!ts || !control) return null;
    diffs.push((ts.cpuMs - control.cpuMs) / BLOCK_CALLS);
    raw.push(ts.rawMs);
    rawControl.push(control.rawMs);
  }
  return {
    median: round(median(diffs)), samples: diffs.map((v) => round(v)), callsPerBlock: BLOCK_CALLS, blocks: BLOCKS,
    raw: { median: round(median(raw)), samples: raw.map((v) => round(v)) },
    rawControl: { median: round(median(rawControl)), samples: rawControl.map((v) => round(v)) },
  };
}

/** The cost of two readings around nothing, and the thread's CPU share while idle. */
async function threadBaseline() {
  if ((await threadNs()) === null) return null;
  const overhead = [];
  for (let i = 0; i < 5; i++) {
    const c0 = await threadNs();
    await Promise.resolve();
    const c1 = await threadNs();
    if (c0 === null || c1 === null) return null;
    overhead.push((c1 - c0) / 1e6);
  }
  const c0 = await threadNs();
  const t = performance.now();
  await sleep(500);
  const c1 = await threadNs();
  if (c0 === null || c1 === null) return null;
  return { overheadMs: median(overhead), idleRate: (c1 - c0) / 1e6 / (performance.now() - t) };
}

let wasm;
const ready = (async () => {
  wasm = await init();
  initJpeg();
  // encode() awaits the MozJPEG module: this finishes its initialisation before any timing.
  await encodeJpeg(new ImageData(16, 16), { quality: 85 });
})();

// ----- sources ------------------------------------------------------------------------------

async function cameraSource(width, height) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: width }, height: { ideal: height } } });
  const track = stream.getVideoTracks()[0];
  return { id: `camera-${height}p`, kind: 'camera', label: `fake camera ${width}×${height}`, width, height, track, reference: null, stop: () => track.stop() };
}

/**
 * One I420 frame shown again and again (20 fps) as a track (a MediaStreamTrackGenerator): it
 * takes tracksnap's YUV path, as a camera does, but every method encodes the same frame, so
 * bytes compare one picture and quality can be measured. The reference is the frame as this
 * browser draws it (its own YUV → RGB).
 */
function heldFrameSource(id, label, frame) {
  const canvas = new OffscreenCanvas(frame.displayWidth, frame.displayHeight);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(frame, 0, 0);
  const reference = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const generator = new MediaStreamTrackGenerator({ kind: 'video' });
  const writer = generator.writable.getWriter();
  let timestamp = 0;
  const timer = setInterval(() => {
    timestamp += 50000;
    const copy = new VideoFrame(frame, { timestamp });
    writer.write(copy).catch(() => copy.close());
  }, 50);
  return {
    id, kind: 'held frame', label: `${label} ${frame.displayWidth}×${frame.displayHeight} (${frame.format})`,
    width: frame.displayWidth, height: frame.displayHeight, track: generator, reference,
    stop: () => {
      clearInterval(timer);
      writer.close().catch(() => {});
      frame.close();
      generator.stop();
    },
  };
}

/**
 * The photo-like picture as a camera would hand it over: I420, limited-range BT.601 (chroma
 * averaged over each 2×2 cell), every sample inside the RGB gamut.
 */
function photoI420Source(width, height) {
  const ref = document.createElement('canvas');
  ref.width = width;
  ref.height = height;
  const { data: rgba } = drawPicture(ref);
  const planes = i420FromRgba(rgba, width, height, { fullRange: false });
  const colorSpace = { matrix: 'smpte170m', primaries: 'smpte170m', transfer: 'smpte170m', fullRange: false };
  const frame = new VideoFrame(planes, { format: 'I420', codedWidth: width, codedHeight: height, timestamp: 0, colorSpace });
  return heldFrameSource(`photo-i420-${height}p`, 'photo picture as I420 frames', frame);
}

/**
 * One frame of the fake camera, held. Chromium's fake camera writes U = V = 0 (its picture is
 * green because of it): every pixel lies outside the RGB gamut, so `toBlob`'s path (the
 * browser's YUV → RGB clips it first) encodes a different, clipped picture than tracksnap's
 * YUV path, which stores the camera's values.
 */
async function heldCameraSource(width, height) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: width }, height: { ideal: height } } });
  const camera = stream.getVideoTracks()[0];
  const reader = new MediaStreamTrackProcessor({ track: camera }).readable.getReader();
  let frame = null;
  // Past the first frames, which are nearly empty.
  for (let i = 0; i < 15; i++) {
    const { value } = await reader.read();
    frame?.close();
    frame = value;
  }
  await reader.cancel();
  camera.stop();
  return heldFrameSource(`held-camera-${height}p`, 'fake camera frame, held', frame);
}

/**
 * A canvas showing the photo-like picture, drawn once. At every animation frame the page draws
 * a 2×2 corner of the reference over the same pixels: the canvas counts as changed, so its
 * track delivers frames at 30 fps, while the picture stays the reference and the page's
 * thread is spared copying 8 MB per frame (noise in every method's main-thread figure).
 */
function canvasSource(width, height) {
  const ref = document.createElement('canvas');
  ref.width = width;
  ref.height = height;
  const reference = drawPicture(ref);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.title = `photo canvas ${width}×${height}`;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(ref, 0, 0);
  sourcesBox.append(canvas);
  const track = canvas.captureStream(30).getVideoTracks()[0];
  let raf = 0;
  const loop = () => {
    ctx.drawImage(ref, 0, 0, 2, 2, 0, 0, 2, 2);
    raf = requestAnimationFrame(loop);
  };
  raf = requestAnimationFrame(loop);
  return {
    id: `canvas-${height}p`, kind: 'canvas', label: `photo canvas ${width}×${height}`, width, height, track, reference,
    stop: () => {
      cancelAnimationFrame(raf);
      track.stop();
      canvas.remove();
    },
  };
}

async function playingVideo(track) {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  sourcesBox.append(video);
  await video.play();
  await new Promise((r) => video.requestVideoFrameCallback(() => r()));
  return video;
}

// ----- the methods --------------------------------------------------------------------------

function videoCanvas(video, willReadFrequently) {
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const ctx = canvas.getContext('2d', { willReadFrequently });
  ctx.drawImage(video, 0, 0);
  return { canvas, ctx };
}

function videoToBlob(video, type, quality) {
  const { canvas } = videoCanvas(video, false);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('toBlob gave null'))), type, quality));
}

async function jsquash(video) {
  const { canvas, ctx } = videoCanvas(video, true);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const bytes = await encodeJpeg(data, { quality: 85 });
  return new Blob([bytes], { type: 'image/jpeg' });
}

// The control for the main-thread figures: the page asks a Worker to keep its core busy for
// as long as tracksnap's JPEG call took on the same source, and only waits for the answer. The
// page's thread does nothing of its own, so what the control's main CPU shows is the
// measurement's bias on that source (the page's background work, such as a canvas read back
// for its track, costs more CPU time while the other core is busy).
let spinner = null;
function busyWorker(ms) {
  spinner ??= new Worker(URL.createObjectURL(new Blob([
    'onmessage = (e) => { const t = performance.now(); while (performance.now() - t < e.data); postMessage(0); };',
  ], { type: 'text/javascript' })));
  return new Promise((resolve) => {
    spinner.onmessage = () => resolve(new Blob([]));
    spinner.postMessage(ms);
  });
}

function methods(engine, control) {
  // tracksnap also reports when its frame arrived (`timestamp`): the wait for the track's
  // next frame is part of its time, which the <video> methods do not have.
  const ts = (request) => {
    const run = async () => {
      const t0 = Date.now();
      const r = await engine.snapshot({ streamType: 'main', ...request });
      run.frameWaits.push(r.timestamp - t0);
      return r.blob;
    };
    run.frameWaits = [];
    return run;
  };
  return [
    { id: 'tracksnap-jpeg', label: 'tracksnap JPEG q85', run: ts({ format: 'jpeg', quality: 85 }) },
    { id: 'tracksnap-png', label: 'tracksnap PNG', run: ts({ format: 'png' }) },
    { id: 'tracksnap-jpeg-sizefirst', label: 'tracksnap JPEG q85 sizeFirst', run: ts({ format: 'jpeg', quality: 85, sizeFirst: true }) },
    // The cost of a watermark: drawn on the page, laid in the Worker (against the row above's plain JPEG).
    { id: 'tracksnap-jpeg-watermark', label: 'tracksnap JPEG q85 + watermark', run: ts({ format: 'jpeg', quality: 85, watermark: { text: 'Room 7b · 1001 · {utc}' } }) },
    { id: 'video-tojpeg', label: '<video>+toBlob JPEG 0.85', run: (v) => videoToBlob(v, 'image/jpeg', 0.85) },
    { id: 'video-topng', label: '<video>+toBlob PNG', run: (v) => videoToBlob(v, 'image/png') },
    { id: 'jsquash-jpeg', label: '@jsquash/jpeg q85', run: (v) => jsquash(v) },
    { id: 'control-busy-worker', label: 'control: Worker busy', control: true, run: () => busyWorker(control.ms) },
  ];
}

// ----- Part 1 -------------------------------------------------------------------------------

const KEEP_FOR_QUALITY = 3;
const WARM_UP = 3;
// The block measurement of tracksnap's main-thread time (see blockMainThread).
const BLOCK_CALLS = 12;
const BLOCKS = 9;

/**
 * Measures every method on one source, the methods' calls interleaved: round i makes call i of
 * each method in turn, so that a machine that speeds up or slows down during the run (this
 * one's speed drifts by a third between minutes) moves every method's figures alike and the
 * ratios between them hold. `control.ms` is set before each control call to the time of the
 * tracksnap JPEG call just before it.
 */
async function measureSource(methodList, source, video, iterations, probe, control) {
  const states = [];
  for (const method of methodList) {
    const row = { id: method.id, label: method.label, status: 'ok' };
    const run = () => method.run(video);
    try {
      // Warm-up, not timed: three calls, so that wasm (tracksnap's and @jsquash/jpeg's) runs
      // the optimised code V8 compiles in the background for hot functions, not its baseline.
      const first = await run();
      for (let i = 1; i < WARM_UP; i++) await run();
      if (!method.control) {
        const bitmap = await createImageBitmap(first);
        row.output = { width: bitmap.width, height: bitmap.height, type: first.type };
        bitmap.close();
      }
    } catch (e) {
      states.push({ method, row: { ...row, status: 'failed', reason: `${e?.code ?? ''} ${e?.message ?? e}`.trim() } });
      continue;
    }
    if (method.run.frameWaits) method.run.frameWaits.length = 0;
    states.push({ method, row, run, times: [], busyMs: [], idle: { cpuMs: 0, ms: 0 }, bytes: [], kept: [], busy: [], idleShares: [] });
  }
  const live = states.filter((st) => st.row.status === 'ok');
  let lastTracksnapMs = 0;
  const call = async (st) => {
    if (st.method.control) control.ms = lastTracksnapMs;
    const t = performance.now();
    const blob = await st.run();
    const dt = performance.now() - t;
    if (st.method.id === 'tracksnap-jpeg') lastTracksnapMs = dt;
    return { blob, t, dt };
  };

  // Time: call → Blob. With the runner, also the CPU time of the page's main thread between
  // two readings around each call, less the readings' own cost and the thread's idle CPU rate
  // times the call's length (the page's own work, such as Chromium reading a canvas source
  // back for its track at every frame, goes on during the call too). The idle rate is
  // measured in a window as long as the call right after each call, and pooled over all of a
  // method's windows: one window of 20–60 ms holds one or two of a canvas's frames, too few
  // for a rate.
  const thread = await threadBaseline();
  for (let i = 0; i < iterations; i++) {
    for (const st of live) {
      await sleep(20);
      const c0 = await threadNs();
      const { blob, dt } = await call(st);
      const c1 = await threadNs();
      st.times.push(dt);
      if (thread) {
        const ia = performance.now();
        await sleep(Math.min(1000, Math.max(20, dt)));
        const c2 = await threadNs();
        // A reading that failed (the thread is gone) gives no sample rather than a zero.
        if (c0 !== null && c1 !== null && c2 !== null) {
          st.idle.cpuMs += Math.max(0, (c2 - c1) / 1e6 - thread.overheadMs);
          st.idle.ms += performance.now() - ia;
          st.busyMs.push({ ms: (c1 - c0) / 1e6 - thread.overheadMs, dt });
        }
      }
      st.bytes.push(blob.size);
      if (st.kept.length < KEEP_FOR_QUALITY) st.kept.push(blob);
    }
  }

  // Main-thread time by the page's own probe: the same calls again with the probe running.
  // After each call, the probe watches the idle page for as long as the call took; the busy
  // share seen then (other page work, and the OS running other processes) is subtracted.
  probe.start();
  await sleep(100);
  for (let i = 0; i < iterations; i++) {
    for (const st of live) {
      await sleep(20);
      probe.reset();
      const { t: a, dt } = await call(st);
      const b = a + dt;
      const during = probe.busy(a, b);
      probe.reset();
      const ia = performance.now();
      await sleep(Math.min(1000, Math.max(20, dt)));
      const ib = performance.now();
      const idleShare = probe.busy(ia, ib) / (ib - ia);
      st.idleShares.push(idleShare);
      st.busy.push(during - idleShare * dt);
    }
  }
  probe.stop();

  const jpeg = live.find((st) => st.method.id === 'tracksnap-jpeg');
  const idleRate = (st) => (st.idle.ms > 0 ? st.idle.cpuMs / st.idle.ms : 0);
  const blocks = thread && jpeg ? await blockMainThread(jpeg.run, idleRate(jpeg), thread.overheadMs) : null;

  for (const st of live) {
    const { row, method, times } = st;
    row.timeMs = { median: round(median(times)), p95: round(percentile(times, 95)), samples: times.map((v) => round(v)) };
    row.bytes = { median: median(st.bytes), samples: st.bytes };
    if (method.run.frameWaits) {
      const waits = method.run.frameWaits.slice(0, iterations);
      row.frameWaitMs = { median: round(median(waits)), samples: waits };
    }
    const cpu = st.busyMs.map((b) => b.ms - idleRate(st) * b.dt);
    row.mainThreadCpuMs = thread && cpu.length > 0
      ? { median: round(median(cpu)), samples: cpu.map((v) => round(v)), idleCpuShare: round(idleRate(st), 4), readingOverheadMs: round(thread.overheadMs, 3) }
      : null;
    row.mainThreadMs = { median: round(median(st.busy)), samples: st.busy.map((v) => round(v)), idleBusyShare: round(median(st.idleShares), 4) };
    if (st === jpeg && blocks) row.mainThreadBlockMs = blocks;
    if (source.reference && !method.control) row.quality = await quality(st.kept, source.reference);
  }
  return states.map((st) => st.row);
}

/** Quality of the kept outputs against the reference picture. PSNR null = identical (∞). */
async function quality(kept, reference) {
  const p = [];
  const s = [];
  const mse = [];
  for (const blob of kept) {
    const img = await decode(blob);
    if (img.width !== reference.width || img.height !== reference.height) {
      return { error: `output ${img.width}×${img.height}, reference ${reference.width}×${reference.height}` };
    }
    const q = psnr(img, reference);
    p.push(q);
    mse.push(round(255 * 255 / 10 ** (q / 10), 4));
    s.push(ssim(img, reference));
  }
  const m = medianWithInfinity(p);
  return {
    psnrDb: { median: m === Infinity ? null : round(m, 3), identical: p.filter((v) => v === Infinity).length, samples: p.map((v) => (v === Infinity ? null : round(v, 3))) },
    mse,
    ssim: { median: round(median(s), 5), samples: s.map((v) => round(v, 5)) },
  };
}

async function part1({ iterations }) {
  log(`Part 1: one snapshot, ${iterations} iterations per method`);
  const engine = new SnapshotEngine({ format: 'jpeg', quality: 85 });
  // One source at a time: each is made, played and measured, then stopped before the next, so
  // the page's thread carries no other source's drawing or decoding while a method is timed.
  // The held-frame sources need a MediaStreamTrackGenerator (and the held camera frame a
  // processor on the page): Chromium's. Other browsers measure the rest and say so.
  const generator = typeof MediaStreamTrackGenerator === 'function';
  const pageProcessor = typeof MediaStreamTrackProcessor === 'function';
  const makers = [
    { id: 'canvas-1080p', make: () => canvasSource(1920, 1080) },
    { id: 'canvas-720p', make: () => canvasSource(1280, 720) },
    { id: 'camera-1080p', make: () => cameraSource(1920, 1080) },
    { id: 'camera-720p', make: () => cameraSource(1280, 720) },
    { id: 'photo-i420-1080p', make: () => photoI420Source(1920, 1080), missing: !generator && 'no MediaStreamTrackGenerator in this browser' },
    { id: 'held-camera-1080p', make: () => heldCameraSource(1920, 1080), missing: !(generator && pageProcessor) && 'no MediaStreamTrackGenerator and processor on the page in this browser' },
  ];
  await engine.ready;
  const results = {
    iterations, warmUp: WARM_UP, keptForQuality: KEEP_FOR_QUALITY, ssim: SSIM_PARAMS, frameReader: engine.frameReader, encoderPlacement: engine.encoderPlacement,
    sourcesLive: 'one at a time', sources: [],
    skipped: makers.filter((m) => m.missing).map((m) => ({ id: m.id, reason: m.missing })),
  };
  for (const m of results.skipped) log(`${m.id}: not measured (${m.reason})`);
  try {
    const probe = new BusyProbe(1);
    results.mainThread = await findThread();
    for (const { make } of makers.filter((m) => !m.missing)) {
      const source = await make();
      let video = null;
      try {
        video = await playingVideo(source.track);
        const settings = source.track.getSettings();
        const code = engine.startVideoPreview('main', source.track);
        if (code !== 0) throw new Error(`startVideoPreview: ${code} ${engine.lastError?.message}`);
        const entry = {
          id: source.id, kind: source.kind, label: source.label,
          track: { width: settings.width, height: settings.height, frameRate: round(settings.frameRate, 1) },
          video: { width: video.videoWidth, height: video.videoHeight },
          methods: [],
        };
        log(`${source.label} (track ${settings.width}×${settings.height} @ ${round(settings.frameRate, 1)} fps)`);
        const control = { ms: 0 };
        const rows = await measureSource(methods(engine, control), source, video, iterations, probe, control);
        for (const row of rows) {
          entry.methods.push(row);
          log(`  ${row.label.padEnd(30)} ${row.status === 'ok'
            ? `${row.timeMs.median} ms (p95 ${row.timeMs.p95}), main thread ${row.mainThreadMs.median} ms (probe)${row.mainThreadCpuMs ? ` ${row.mainThreadCpuMs.median} ms (CPU)` : ''}, ${row.bytes.median} B${row.quality?.psnrDb ? `, ${row.quality.psnrDb.median ?? '∞'} dB, SSIM ${row.quality.ssim.median}` : ''}`
            : `${row.status}: ${row.reason}`}`);
        }
        results.sources.push(entry);
      } finally {
        engine.stopVideoPreview('main');
        if (video) {
          video.srcObject = null;
          video.remove();
        }
        source.stop();
      }
    }
  } finally {
    engine.destroy();
  }
  results.derived = derive(results);
  return results;
}

// ----- Part 2 -------------------------------------------------------------------------------

async function part2({ seconds, streams }) {
  log(`Part 2: one periodic task, Interval 1, ${streams} streams, ${seconds} s`);
  const engine = new SnapshotEngine({ format: 'jpeg', quality: 85 });
  const room = 'bench';
  const me = 'host';
  const result = { seconds, streams, interval: 1 };
  let streamsRoom = null;
  try {
    streamsRoom = await startRoom(engine, { room, me, streams, box: sourcesBox });
    const { StreamList } = streamsRoom;
    result.sources = streamsRoom.sources;

    log('warm-up 5 s …');
    await sleep(5000);
    result.memoryStart = memory(wasm, await mark('gc'));

    const longtasks = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longtasks.push({ start: e.startTime, duration: e.duration });
    });
    observer.observe({ type: 'longtask' });

    const baselineS = seconds / 4;
    log(`baseline: the same streams, no task, ${baselineS} s …`);
    await mark('cpu:baseline-start');
    const b0 = performance.now();
    await sleep(baselineS * 1000);
    const b1 = performance.now();
    await mark('cpu:baseline-end');

    const key = { AppId: 'bench', RoomId: room, TaskId: `bench-${Date.now()}` };
    const events = [];
    const onImage = (e) => events.push({ code: e.detail.code, UserId: e.detail.UserId, timestamp: e.detail.timestamp, size: e.detail.size, at: Date.now() });
    engine.addEventListener('periodicsnapshot', onImage);
    const request = { ...key, ImageConfig: { Format: 0, Interval: 1 }, ...(streams <= 17 ? { TargetStreams: { StreamList } } : {}) };
    log(`task: ${seconds} s …`);
    await mark('cpu:task-start');
    const p0 = performance.now();
    const tCall = Date.now();
    const started = await engine.startSnapshot(request);
    const t0 = Date.now();
    if (started.Result !== 'ok') throw new Error(`startSnapshot: ${JSON.stringify(started)}`);
    await sleep(Math.max(0, t0 + seconds * 1000 - 500 - Date.now()));
    const tStop = Date.now();
    const stopped = await engine.stopSnapshot(key);
    const tStopped = Date.now();
    const p1 = performance.now();
    await mark('cpu:task-end');
    observer.disconnect();
    engine.removeEventListener('periodicsnapshot', onImage);
    const info = engine.getSnapshotTask(key);

    // Ticks on the grid t0 + k·1000 before the stop call; each image belongs to the latest grid
    // point at or before its frame's timestamp (50 ms of slack for t0 being read just after the
    // engine's start).
    const ticks = Math.ceil((tStop - t0) / 1000);
    const ok = events.filter((e) => e.code === 0);
    const late = ok.map((e) => e.timestamp - (t0 + Math.floor((e.timestamp - t0 + 50) / 1000) * 1000));
    const perStream = new Map(StreamList.map((s) => [s.UserId, 0]));
    for (const e of ok) perStream.set(e.UserId, (perStream.get(e.UserId) ?? 0) + 1);
    const counts = [...perStream.values()];
    const inWindow = (a, b) => longtasks.filter((t) => t.start >= a && t.start < b);
    const lt = (list) => ({ count: list.length, longestMs: list.length ? round(Math.max(...list.map((t) => t.duration)), 1) : 0, totalMs: round(list.reduce((s, t) => s + t.duration, 0), 1) });
    Object.assign(result, {
      taskId: key.TaskId,
      startResponse: started.Result,
      stopResponse: stopped.Result,
      startCallMs: t0 - tCall,
      stopCallMs: tStopped - tStop,
      windowMs: tStop - t0,
      ticks,
      expected: streams * ticks,
      images: ok.length,
      failedEvents: events.length - ok.length,
      bytesMedian: median(ok.map((e) => e.size)),
      perStream: { min: Math.min(...counts), max: Math.max(...counts) },
      task: info && { state: info.state, stopReason: info.stopReason, images: info.images, skipped: info.skipped, failed: info.failed },
      lateness: { medianMs: round(median(late), 1), p95Ms: round(percentile(late, 95), 1), maxMs: round(Math.max(...late), 1), minMs: round(Math.min(...late), 1) },
      longTasks: {
        observed: PerformanceObserver.supportedEntryTypes.includes('longtask'),
        task: lt(inWindow(p0, p1)),
        baseline: lt(inWindow(b0, b1)),
        baselineSeconds: round((b1 - b0) / 1000, 2),
      },
    });
    await sleep(200);
    result.memoryEnd = memory(wasm, await mark('gc'));
    log(`task: ${result.images} images of ${result.expected} expected, skipped ${info?.skipped}, failed ${info?.failed}`);
  } finally {
    engine.destroy();
    streamsRoom?.stop();
  }
  return result;
}

// ----- Part 3 -------------------------------------------------------------------------------

/**
 * The reference for the write-ahead: the least a page can do to keep an image in IndexedDB
 * (one put into one store, wait for the commit), timed as tracksnap times its own: the page's
 * thread is the sum of the synchronous stretches. Like the outbox, it puts the Blob itself
 * and reads the bytes only where the engine refuses Blobs (WebKit under automation).
 */
async function bareWrite(db, blob, key) {
  const t0 = performance.now();
  let pageMs = 0;
  if (bareBlobs !== false) {
    try {
      const { ms } = await bareCommit(db, key, { blob, size: blob.size, contentType: blob.type, createdAt: Date.now() });
      bareBlobs = true;
      return { pageMs: ms, totalMs: performance.now() - t0 };
    } catch (e) {
      if (bareBlobs) throw e;
      bareBlobs = false;
    }
  }
  const t1 = performance.now();
  const read = blob.arrayBuffer();
  pageMs += performance.now() - t1;
  const bytes = await read;
  const { ms } = await bareCommit(db, key, { bytes, size: blob.size, contentType: blob.type, createdAt: Date.now() });
  return { pageMs: pageMs + ms, totalMs: performance.now() - t0 };
}

/** Whether the reference's engine stores Blobs: unknown until the first put. */
let bareBlobs;

/** One put in one transaction; `ms` is the synchronous stretch that queued it. */
function bareCommit(db, key, record) {
  const t = performance.now();
  let tx;
  try {
    tx = db.transaction('images', 'readwrite');
    tx.objectStore('images').put(record, key);
  } catch (e) {
    return Promise.reject(e);
  }
  const ms = performance.now() - t;
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve({ ms });
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

function openScratchDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open('tracksnap-bench-reference', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('images');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * What the write-ahead costs per image: 1080p JPEG snapshots with storage (each kept in the
 * outbox before its upload), read back from `engine.writeAheadTimes`, beside the bare
 * IndexedDB write of the same Blobs, the two interleaved image by image.
 */
async function part3({ iterations }) {
  const count = Math.max(20, 2 * iterations);
  log(`Part 3: write-ahead, ${count} snapshots of a 1080p canvas, JPEG q85, uploaded to the dev server's store`);
  const engine = new SnapshotEngine({ format: 'jpeg', quality: 85, storage: { presignEndpoint: new URL('/presign', location.href).href } });
  const source = canvasSource(1920, 1080);
  const db = await openScratchDb();
  const result = { count, source: source.label };
  try {
    await engine.ready;
    const code = engine.startVideoPreview('main', source.track);
    if (code !== 0) throw new Error(`startVideoPreview: ${code} ${engine.lastError?.message}`);
    const snap = async () => {
      const r = await engine.snapshot({ streamType: 'main' });
      if (!r.url) throw new Error(`snapshot not uploaded: ${r.code} ${r.message}`);
      return r.blob;
    };
    for (let i = 0; i < WARM_UP; i++) await bareWrite(db, await snap(), `warm-${i}`);
    const before = engine.writeAheadTimes.length;
    const bare = [];
    for (let i = 0; i < count; i++) {
      await sleep(20);
      const blob = await snap();
      await sleep(20);
      bare.push(await bareWrite(db, blob, `image-${i}`));
    }
    const ours = engine.writeAheadTimes.slice(before);
    if (ours.length !== count) throw new Error(`writeAheadTimes has ${ours.length} new entries, ${count} expected`);
    const figures = (list, field) => ({ median: round(median(list.map((t) => t[field])), 3), p95: round(percentile(list.map((t) => t[field]), 95), 3) });
    Object.assign(result, {
      bytesMedian: median(ours.map((t) => t.size)),
      tracksnap: { pageMs: figures(ours, 'pageMs'), totalMs: figures(ours, 'totalMs') },
      bare: { pageMs: figures(bare, 'pageMs'), totalMs: figures(bare, 'totalMs') },
      samples: { tracksnap: ours.map((t) => [round(t.pageMs, 3), round(t.totalMs, 3)]), bare: bare.map((t) => [round(t.pageMs, 3), round(t.totalMs, 3)]) },
      timerResolution: timerText(),
    });
    log(`  tracksnap: page thread ${result.tracksnap.pageMs.median} ms, end to end ${result.tracksnap.totalMs.median} ms; bare IndexedDB put ${result.bare.pageMs.median} / ${result.bare.totalMs.median} ms`);
  } finally {
    engine.destroy();
    source.stop();
    const tx = db.transaction('images', 'readwrite');
    tx.objectStore('images').clear();
    db.close();
  }
  return result;
}

// ----- entry points -------------------------------------------------------------------------

window.benchPhoto = photoForRunner;
// Part 4 step by step, for the runner to run tjbench between the rounds (encoder.js).
window.benchEncoder = { start: (o) => encoderStart(o, log), round: () => encoderRound(), finish: (o) => encoderFinish(o) };

/** Runs the parts asked for and resolves with the results. */
window.runBench = async function runBench(options = {}) {
  const o = {
    parts: options.parts ?? ['part1', 'part2', 'part3'],
    iterations: options.iterations ?? 15,
    seconds: options.seconds ?? 60,
    streams: options.streams ?? 17,
    references: options.references ?? [],
  };
  await ready;
  const results = {
    userAgent: navigator.userAgent,
    url: location.href,
    started: new Date().toISOString(),
    options: o,
  };
  if (o.parts.includes('part1')) results.part1 = await part1(o);
  if (o.parts.includes('part2')) results.part2 = await part2(o);
  if (o.parts.includes('part3')) results.part3 = await part3(o);
  if (o.parts.includes('part4')) results.part4 = await part4(o, log);
  results.finished = new Date().toISOString();
  return results;
};

const button = document.getElementById('run');
button.addEventListener('click', async () => {
  button.disabled = true;
  out.textContent = '';
  const quick = document.getElementById('quick').checked;
  const num = (id) => Number(document.getElementById(id).value);
  try {
    const results = await window.runBench(quick
      ? { iterations: 3, seconds: 10, streams: num('streams') }
      : { iterations: num('iterations'), seconds: num('seconds'), streams: num('streams') });
    window.benchResults = results;
    log('');
    log(formatReport(results));
  } catch (e) {
    log(`failed: ${e?.stack ?? e}`);
  } finally {
    button.disabled = false;
  }
});

ready.then(() => {
  out.textContent = 'ready: press Run (CPU figures and unclosed-VideoFrame counts need the runner: scripts/bench.sh)\n';
  button.disabled = false;
  window.benchReady = true;
}, (e) => {
  out.textContent = `could not load: ${e?.stack ?? e}\n`;
});
