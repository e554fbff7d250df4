// Real media for browser tests: canvas tracks whose pixels the test controls, the fake camera,
// screen capture, WebRTC loopback for remote tracks, and an independent decoder (the browser's).
// Shared by the scenario files through `tests/browser/*.js` modules of the Rust test crates.

// The engine's result codes (README, "Codes").
export const OK = 0;
export const INVALID_PARAM = 30003;
export const INVALID_OPERATION = 30005;
export const TRACK_ENDED = 30101;
export const FRAME_TIMEOUT = 30102;
export const DESTROYED = 30105;
export const UPLOAD_FAILED = 30201;
export const PRESIGN_FAILED = 30202;
export const OUTBOX_FULL = 30203;

export const RED = [230, 40, 40];
export const GREEN = [40, 200, 70];
export const BLUE = [40, 60, 220];
export const BLACK = [0, 0, 0];
export const YELLOW = [230, 210, 40];

const css = ([r, g, b]) => `rgb(${r},${g},${b})`;

/** The engine under test: "chromium", "firefox" or "webkit" (WebKitGTK here; Safari's engine). */
export function browserName() {
  const ua = navigator.userAgent;
  if (/Chrome\//.test(ua)) return 'chromium';
  return /Firefox\//.test(ua) ? 'firefox' : 'webkit';
}

export const isChromium = () => browserName() === 'chromium';

// What this browser could not give the running scenario, and what stood in for it.
const standIns = new Set();

/** Records that `what` stood in for something this browser lacks: the scenario's note says so. */
export function standIn(what) {
  standIns.add(what);
}

/** Runs `scenarios[name](...args)`: its note, every stand-in it used, and how long it took. */
export async function runScenario(scenarios, name, ...args) {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`no scenario ${name}`);
  standIns.clear();
  const t0 = performance.now();
  const note = await scenario(...args);
  const said = [...standIns].map((s) => `[stand-in: ${s}]`);
  const took = `(${Math.round(performance.now() - t0)} ms)`;
  return [note === undefined ? '' : String(note), ...said, took].filter(Boolean).join(' ');
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `check` every `every` ms until it answers truthy or `ms` have passed; resolves with
 * whether it did. For waits whose own assertion follows and says what was missing.
 */
export async function poll(check, ms, every = 10) {
  const t0 = performance.now();
  for (;;) {
    if (await check()) return true;
    if (performance.now() - t0 > ms) return false;
    await sleep(every);
  }
}

/**
 * `poll` that throws "waited `ms` ms for `what`" when `check` stays falsy; `what` may be a
 * function, read when it throws (to say how far the wait got).
 */
export async function until(check, ms, what, every = 100) {
  if (!(await poll(check, ms, every))) {
    throw new Error(`waited ${ms} ms for ${typeof what === 'function' ? what() : what}`);
  }
}

// ----- painters: (ctx, w, h) => void -------------------------------------------------------

export const solid = (rgb) => (ctx, w, h) => {
  ctx.fillStyle = css(rgb);
  ctx.fillRect(0, 0, w, h);
};

export const halves = (left, right) => (ctx, w, h) => {
  ctx.fillStyle = css(left);
  ctx.fillRect(0, 0, w / 2, h);
  ctx.fillStyle = css(right);
  ctx.fillRect(w / 2, 0, w - w / 2, h);
};

/** Four colours, one per quadrant: top left, top right, bottom left, bottom right. */
export const quadrants = (tl, tr, bl, br) => (ctx, w, h) => {
  for (const [rgb, x, y] of [[tl, 0, 0], [tr, 1, 0], [bl, 0, 1], [br, 1, 1]]) {
    ctx.fillStyle = css(rgb);
    ctx.fillRect((x * w) / 2, (y * h) / 2, w / 2, h / 2);
  }
};

/** Fine detail that JPEG quality visibly changes: a checkerboard over a gradient. */
export const texture = () => (ctx, w, h) => {
  const g = ctx.createLinearGradient(0, 0, w, h);
  g.addColorStop(0, 'rgb(250,200,30)');
  g.addColorStop(1, 'rgb(20,60,200)');
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = 'rgba(0,0,0,0.6)';
  for (let y = 0; y < h; y += 4) for (let x = (y / 4) % 2 ? 4 : 0; x < w; x += 8) ctx.fillRect(x, y, 4, 4);
};

// ----- tracks -------------------------------------------------------------------------------

/**
 * A live canvas track: repainted every 40 ms like a 25 fps camera, so frames keep coming.
 * `set(painter)` changes the picture (and repaints at once). `win` is the window whose track
 * it is (an engine only takes its own realm's tracks): its canvas and timer, so both end with
 * that page.
 */
export function canvasSource(width, height, painter, win = window) {
  const canvas = win.document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  let paint = painter;
  const draw = () => paint(ctx, width, height);
  draw();
  const track = canvas.captureStream().getVideoTracks()[0];
  const timer = win.setInterval(draw, 40);
  return {
    track,
    canvas,
    set(p) {
      paint = p;
      draw();
    },
    stop() {
      win.clearInterval(timer);
      track.stop();
    },
  };
}

let workerGenerates = null;

/**
 * Whether this browser can make a track from VideoFrames we build: on the page (Chromium's
 * MediaStreamTrackGenerator) or in a Worker (WebKit's VideoTrackGenerator, with its
 * MediaStreamTrackProcessing switch on, as in Safari 18+).
 */
export async function canGenerateFrames() {
  if (typeof globalThis.MediaStreamTrackGenerator === 'function') return true;
  workerGenerates ??= new Promise((resolve) => {
    const worker = frameWorker();
    // The probe Worker is asked once and ends with its answer.
    const answer = (generates) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(generates);
    };
    const timer = setTimeout(() => answer(false), 5000);
    worker.onmessage = (e) => answer(e.data.generates === true);
    worker.onerror = () => answer(false);
    worker.postMessage({ ask: true });
  });
  return workerGenerates;
}

/** A Worker that turns the planes it is sent into a track (WebKit's VideoTrackGenerator). */
function frameWorker() {
  const source = `onmessage = (e) => {
    if (e.data.ask) return postMessage({ generates: typeof VideoTrackGenerator === 'function' });
    const { data, format, width, height, colorSpace } = e.data;
    const generator = new VideoTrackGenerator();
    const writer = generator.writable.getWriter();
    let timestamp = 0;
    setInterval(() => {
      const frame = new VideoFrame(data, { format, codedWidth: width, codedHeight: height, timestamp, colorSpace });
      timestamp += 40000;
      writer.write(frame).catch(() => frame.close());
    }, 40);
    postMessage({ track: generator.track }, [generator.track]);
  };`;
  return new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
}

/** (Y, Cb, Cr) of an sRGB colour in `matrix` ("bt709" or "smpte170m"), limited or full range. */
export function toYuv([r, g, b], matrix, fullRange) {
  const [kr, kb] = matrix === 'bt709' ? [0.2126, 0.0722] : [0.299, 0.114];
  const [R, G, B] = [r / 255, g / 255, b / 255];
  const y = kr * R + (1 - kr - kb) * G + kb * B;
  const cb = (B - y) / (2 * (1 - kb));
  const cr = (R - y) / (2 * (1 - kr));
  return fullRange
    ? [y * 255, 128 + cb * 255, 128 + cr * 255].map(Math.round)
    : [16 + y * 219, 128 + cb * 224, 128 + cr * 224].map(Math.round);
}

/**
 * A live track of VideoFrames built from YUV planes (see `repeatedFrame`):
 * `format` "I420" or "NV12", the left half `left` and the right half `right` (sRGB), in the
 * colour space { matrix, fullRange }. A frame every 40 ms. Resolves with { track, stop }.
 */
export function yuvSource(width, height, format, left, right, { matrix, fullRange }) {
  const cw = width >> 1;
  const ch = height >> 1;
  const data = new Uint8Array(width * height + 2 * cw * ch);
  const [yl, ul, vl] = toYuv(left, matrix, fullRange);
  const [yr, ur, vr] = toYuv(right, matrix, fullRange);
  for (let y = 0; y < height; y++) {
    data.fill(yl, y * width, y * width + width / 2);
    data.fill(yr, y * width + width / 2, (y + 1) * width);
  }
  const chroma = width * height;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const [u, v] = x < cw / 2 ? [ul, vl] : [ur, vr];
      if (format === 'NV12') {
        data[chroma + y * width + 2 * x] = u;
        data[chroma + y * width + 2 * x + 1] = v;
      } else {
        data[chroma + y * cw + x] = u;
        data[chroma + cw * ch + y * cw + x] = v;
      }
    }
  }
  const colorSpace = { matrix, fullRange, primaries: matrix === 'bt709' ? 'bt709' : 'smpte170m', transfer: 'bt709' };
  return repeatedFrame(data, format, width, height, colorSpace);
}

/**
 * `yuvSource` with four colours, one per quadrant (`[tl, tr, bl, br]`, sRGB); even sides.
 */
export function yuvQuadrants(width, height, format, colours, { matrix, fullRange }) {
  const [cw, ch] = [width >> 1, height >> 1];
  const data = new Uint8Array(width * height + 2 * cw * ch);
  const yuv = colours.map((c) => toYuv(c, matrix, fullRange));
  // The quadrant of a pixel (x, y) of a plane of `w × h` samples.
  const of = (x, y, w, h) => yuv[(x < w / 2 ? 0 : 1) + (y < h / 2 ? 0 : 2)];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = of(x, y, width, height)[0];
  }
  const chroma = width * height;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const [, u, v] = of(x, y, cw, ch);
      if (format === 'NV12') {
        data[chroma + 2 * (y * cw + x)] = u;
        data[chroma + 2 * (y * cw + x) + 1] = v;
      } else {
        data[chroma + y * cw + x] = u;
        data[chroma + cw * ch + y * cw + x] = v;
      }
    }
  }
  const colorSpace = { matrix, fullRange, primaries: matrix === 'bt709' ? 'bt709' : 'smpte170m', transfer: 'bt709' };
  return repeatedFrame(data, format, width, height, colorSpace);
}

/**
 * A track showing the frame whose planes are `data` (`format`, `colorSpace`) again and again,
 * every 40 ms: made on the page (MediaStreamTrackGenerator), or in a Worker and sent here.
 */
export async function repeatedFrame(data, format, width, height, colorSpace) {
  if (typeof globalThis.MediaStreamTrackGenerator !== 'function') {
    const worker = frameWorker();
    let timer;
    const track = await new Promise((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data.track);
      worker.onerror = () => reject(new Error('the frame Worker failed'));
      timer = setTimeout(() => reject(new Error('the frame Worker sent no track')), 5000);
      worker.postMessage({ data, format, width, height, colorSpace });
    }).catch((e) => {
      worker.terminate();
      throw e;
    }).finally(() => clearTimeout(timer));
    return {
      track,
      stop() {
        track.stop();
        worker.terminate();
      },
    };
  }
  const generator = new MediaStreamTrackGenerator({ kind: 'video' });
  const writer = generator.writable.getWriter();
  let timestamp = 0;
  const timer = setInterval(() => {
    const frame = new VideoFrame(data, { format, codedWidth: width, codedHeight: height, timestamp, colorSpace });
    timestamp += 40000;
    writer.write(frame).catch(() => frame.close());
  }, 40);
  return {
    track: generator,
    stop() {
      clearInterval(timer);
      generator.stop();
    },
  };
}

/** A live video track that never delivers a frame: a canvas nobody draws on. */
export function silentTrack() {
  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 48;
  return canvas.captureStream(0).getVideoTracks()[0];
}

/** What a `<video>` element shows of `track`: its size and its centre pixel. */
export async function shown(track) {
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = new MediaStream([track]);
  await video.play().catch(() => {});
  await poll(() => video.readyState >= 2, 5000);
  const canvas = new OffscreenCanvas(video.videoWidth, video.videoHeight);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(video, 0, 0);
  const centre = [...ctx.getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data.slice(0, 3)];
  video.srcObject = null;
  return { width: canvas.width, height: canvas.height, centre };
}

export function audioTrack() {
  const ctx = new AudioContext();
  return ctx.createMediaStreamDestination().stream.getAudioTracks()[0];
}

export async function fakeCamera(width, height) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width, height } });
  return stream.getVideoTracks()[0];
}

/** A real screen capture where the browser grants one without a gesture (headless Chromium). */
export async function screenTrack() {
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: true });
  return stream.getVideoTracks()[0];
}

/**
 * Sends `track` through two RTCPeerConnections in this page and returns the received
 * (remote) track once it carries frames.
 */
export async function loopback(track) {
  if (typeof RTCPeerConnection !== 'function') {
    // WebKitGTK here is built without WebRTC: a clone of the sent track is the nearest real
    // thing, and the scenario's note says so.
    standIn('no RTCPeerConnection here: a clone of the sent track is the remote track');
    const clone = track.clone();
    return {
      track: clone,
      close() {
        clone.stop();
      },
    };
  }
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const received = new Promise((resolve) => (b.ontrack = (e) => resolve(e.track)));
  a.addTrack(track, new MediaStream([track]));
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  const remote = await received;
  if (remote.muted) {
    await Promise.race([
      new Promise((resolve) => remote.addEventListener('unmute', resolve, { once: true })),
      sleep(5000),
    ]);
  }
  return {
    track: remote,
    close() {
      a.close();
      b.close();
    },
  };
}

// ----- decoding and checks ------------------------------------------------------------------

/** Decodes an image Blob with the browser's own decoder. */
export async function decode(blob) {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return {
    width: canvas.width,
    height: canvas.height,
    at(x, y) {
      const i = (y * canvas.width + x) * 4;
      return [data[i], data[i + 1], data[i + 2]];
    },
    data,
  };
}

/** A quarter of `img` by its watermark position's name: [x0, y0, x1, y1]. */
export function quarter(img, position) {
  const [w, h] = [img.width, img.height];
  const [right, bottom] = [position.endsWith('right'), position.startsWith('bottom')];
  return [right ? w >> 1 : 0, bottom ? h >> 1 : 0, right ? w : w >> 1, bottom ? h : h >> 1];
}

/** The watermark position across the picture from `position`. */
export const opposite = (position) =>
  ({ 'top-left': 'bottom-right', 'top-right': 'bottom-left', 'bottom-left': 'top-right', 'bottom-right': 'top-left' })[position];

/** How many pixels of `img` in `[x0, y0, x1, y1]` differ from `rgb` by more than `tol` in a channel. */
export function marked(img, [x0, y0, x1, y1], rgb, tol) {
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (img.at(x, y).some((v, i) => Math.abs(v - rgb[i]) > tol)) n++;
    }
  }
  return n;
}

export async function bytes(blob, n) {
  return new Uint8Array(await blob.slice(0, n).arrayBuffer());
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

export function eq(got, want, what) {
  if (!Object.is(got, want)) {
    throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}

export function near(px, want, tol, what) {
  const ok = px.every((v, i) => Math.abs(v - want[i]) <= tol);
  if (!ok) throw new Error(`${what}: pixel ${JSON.stringify(px)}, want ${JSON.stringify(want)} ±${tol}`);
}

/** Awaits a promise that must reject with an error carrying `code`. */
export async function rejects(promise, code, what) {
  try {
    await promise;
  } catch (e) {
    assert(e instanceof Error, `${what}: rejected with a non-Error ${e}`);
    eq(e.code, code, `${what}: code`);
    assert(typeof e.message === 'string' && e.message.length > 0, `${what}: no message`);
    return e;
  }
  throw new Error(`${what}: resolved, want a rejection with code ${code}`);
}

/** Throws if `f()` does not throw an error with `code`. */
export function throws(f, code, what) {
  try {
    f();
  } catch (e) {
    eq(e.code, code, `${what}: code`);
    assert(e.message.length > 0, `${what}: no message`);
    return e;
  }
  throw new Error(`${what}: did not throw`);
}

/** Records every handler call and event of `type` on `engine`; `wait(n)` resolves once n arrived. */
export function record(engine, type = 'takesnapshotresult') {
  const rec = { calls: [], events: [] };
  engine.setEventHandler({
    onTakeSnapshotResult(code, path, result) {
      rec.calls.push({ code, path, result });
    },
  });
  engine.addEventListener(type, (e) => rec.events.push(e.detail));
  rec.wait = async (n, ms = 10000) => {
    await until(() => rec.events.length >= n, ms, () => `${n} events, got ${rec.events.length}`, 10);
    return rec.events[n - 1];
  };
  return rec;
}

// ----- uploads: the outbox, the dev server's store and its fault switches ---------------------

/** A fresh outbox: the database every engine of this origin shares is deleted. */
export function clearOutbox() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase('tracksnap');
    const timer = setTimeout(() => reject(new Error('deleting the outbox database is blocked by an open connection')), 5000);
    req.onsuccess = () => {
      clearTimeout(timer);
      resolve();
    };
    req.onerror = () => reject(req.error);
  });
}

/** The outbox's records as IndexedDB holds them, each with its bytes (a Uint8Array). */
export async function outboxRecords() {
  const records = await new Promise((resolve, reject) => {
    const open = indexedDB.open('tracksnap');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('outbox')) {
        db.close();
        resolve([]);
        return;
      }
      // Version 1 kept the bytes in the record; version 2 beside it.
      const split = db.objectStoreNames.contains('outboxBytes');
      const tx = db.transaction(split ? ['outbox', 'outboxBytes'] : ['outbox']);
      const records = tx.objectStore('outbox').getAll();
      const bytes = split ? tx.objectStore('outboxBytes').getAll() : null;
      tx.oncomplete = () => {
        db.close();
        const byId = new Map((bytes ? bytes.result : []).map((b) => [b.id, b.bytes]));
        resolve(records.result.map((r) => ({ ...r, bytes: r.bytes ?? byId.get(r.id) ?? [] })));
      };
      tx.onerror = () => reject(tx.error);
    };
  });
  // Kept as a Blob where the engine keeps Blobs, else as bytes.
  const read = async (b) => new Uint8Array(b instanceof Blob ? await b.arrayBuffer() : b);
  return Promise.all(records.map(async (r) => ({ ...r, bytes: await read(r.bytes) })));
}

/**
 * A second page of this origin: a same-origin iframe that loads its own instance of the test
 * module. `win.Engine` is its SnapshotEngine class; `remove()` ends the page as closing a tab
 * does (its timers, fetches and locks go with it).
 */
export async function framePage() {
  const frame = document.createElement('iframe');
  frame.srcdoc = `<script type="module">
    const glue = await import(new URL('/wasm-bindgen-test.js', parent.location.href).href);
    await glue.default({ module_or_path: new URL('/wasm-bindgen-test_bg.wasm', parent.location.href) });
    window.Engine = glue.SnapshotEngine;
    parent.postMessage('tracksnap-frame-ready', '*');
  </script>`;
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the iframe page did not load the module in 20 s')), 20000);
    const on = (e) => {
      if (e.source !== frame.contentWindow || e.data !== 'tracksnap-frame-ready') return;
      clearTimeout(timer);
      window.removeEventListener('message', on);
      resolve();
    };
    window.addEventListener('message', on);
  });
  document.body.append(frame);
  await ready;
  const win = frame.contentWindow;
  return { win, Engine: win.Engine, remove: () => frame.remove() };
}

export async function faults(dev, body) {
  const r = await fetch(`${dev}/__faults`, { method: body ? 'POST' : 'GET', body: body && JSON.stringify(body) });
  assert(r.ok, 'the dev server runs with --faults');
  return r.json();
}

/** The object as the store holds it: content type and bytes. */
export async function stored(dev, key) {
  const r = await fetch(`${dev}/__object/${key}`);
  return { status: r.status, type: r.headers.get('content-type'), bytes: new Uint8Array(await r.arrayBuffer()) };
}

export async function sameBytes(blob, object, what) {
  const want = new Uint8Array(await blob.arrayBuffer());
  eq(object.bytes.length, want.length, `${what}: size in the store`);
  assert(object.bytes.every((b, i) => b === want[i]), `${what}: bytes in the store equal the Blob's`);
}

/** Where this scenario's objects go: unique per run and browser. */
export const folder = (name) => `${name}-${browserName()}-${Date.now().toString(36)}`;

/** An engine with a 160x120 preview of a solid colour (`src`); `close()` stops both. */
export async function engineWithPreview(Engine, options, colour = RED) {
  const engine = new Engine(options);
  const src = canvasSource(160, 120, solid(colour));
  eq(engine.startVideoPreview('main', src.track), OK, 'preview');
  return { engine, src, close() { src.stop(); engine.destroy(); } };
}

export function waitForEvent(engine, type, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} event within ${ms} ms`)), ms);
    engine.addEventListener(type, (e) => {
      clearTimeout(timer);
      resolve(e.detail);
    }, { once: true });
  });
}
