// tracksnap's encoder worker. Made from a Blob by src/web/encoder.rs; it runs a second
// instance of the module's own wasm (the compiled WebAssembly.Module is its first message)
// without the JS glue: it calls only the plain `tracksnap_*` exports of
// src/web/encoder_abi.rs, which never call out to JavaScript.
//
// Later messages:
// - { open, readable }: the ReadableStream of a MediaStreamTrackProcessor kept by the page for
//   a started stream, transferred here, so its frames reach this thread and never the page's;
//   { close } cancels it (the page stops its clone of the track too);
// - { id, stream, timeout, spec }: a job on the newest frame of stream `stream`, read here
//   (waiting at most `timeout` ms for one); { cancel: id } drops a job the page gave up on;
// - { id, frame, spec }: a job on a VideoFrame the page transferred here.
// A frame's pixels are copied once, by the browser, straight into wasm memory: its own I420
// or NV12 planes where it has them, RGBA otherwise. The answer is { id, blob, width, height,
// size, pixels, at } (`at`: when the frame was taken, ms since the epoch), { id, ended } when
// the stream closed, or { id, code, message }. Every frame is closed, whatever happens.
'use strict';

const RGBA = 0;
const I420 = 1;
const NV12 = 2;
const FRAME_TIMEOUT = 30102;
const CAPTURE_FAILED = 30103;
const ENCODE_FAILED = 30104;

// The instance needs every import of the glue; the exports used here never call one.
const absent = () => {
  throw new Error('tracksnap: a browser call reached the encoder worker');
};
const imports = new Proxy({}, { get: () => new Proxy({}, { get: () => absent }) });

let module = null;
let wasm = null;
// Jobs run one after another: a job's copy into wasm memory must not meet another's. Frames
// are read outside the queue, so a stream that waits for its frame holds up no other.
let queue = Promise.resolve();
const streams = new Map();
const cancelled = new Set();
// Reads asked for but not settled yet (each given at most READ_FIRST_MS): an encode waits for
// them, so that the frames of a periodic task's tick are all taken at the tick, not each
// after the encodes before it.
const reading = new Set();
const READ_FIRST_MS = 40;

async function instantiate() {
  wasm = null;
  wasm = (await WebAssembly.instantiate(module, imports)).exports;
}

onmessage = (event) => {
  const data = event.data;
  if (data instanceof WebAssembly.Module) {
    module = data;
    instantiate().then(
      () => postMessage({ ready: true }),
      (err) => postMessage({ fatal: String(err && err.message || err) }),
    );
    return;
  }
  if (data.open !== undefined) {
    streams.set(data.open, data.readable.getReader());
  } else if (data.close !== undefined) {
    const reader = streams.get(data.close);
    streams.delete(data.close);
    if (reader) reader.cancel().catch(() => {});
  } else if (data.cancel !== undefined) {
    cancelled.add(data.cancel);
  } else if (data.stream !== undefined) {
    read(data);
  } else {
    queue = queue.then(() => job(data));
  }
};

/** Reads the stream's newest frame for a job, then queues the job with it. */
async function read(data) {
  const reader = streams.get(data.stream);
  if (!reader) {
    postMessage({ id: data.id, code: CAPTURE_FAILED, message: 'the stream is not open in the encoder worker' });
    return;
  }
  let timer = 0;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve(null), data.timeout)));
  const pending = reader.read();
  const first = Promise.race([pending, new Promise((resolve) => setTimeout(resolve, READ_FIRST_MS))])
    .catch(() => {})
    .then(() => reading.delete(first));
  reading.add(first);
  let result;
  try {
    result = await Promise.race([pending, late]);
  } catch (err) {
    result = { failed: err };
  }
  clearTimeout(timer);
  if (result === null) {
    // The read goes on: close its frame when it comes.
    pending.then((r) => r.value && r.value.close(), () => {});
  }
  if (cancelled.delete(data.id)) {
    if (result && result.value) result.value.close();
  } else if (result === null) {
    postMessage({ id: data.id, code: FRAME_TIMEOUT, message: `no frame arrived within ${data.timeout} ms` });
  } else if (result.failed) {
    postMessage({ id: data.id, code: CAPTURE_FAILED, message: `reading a frame failed: ${result.failed && result.failed.message || result.failed}` });
  } else if (result.done) {
    postMessage({ id: data.id, ended: true });
  } else {
    const at = Date.now();
    queue = queue.then(() => job({ id: data.id, frame: result.value, spec: data.spec, at }));
  }
}

async function job(data) {
  const frame = data && data.frame;
  let answer;
  try {
    // A job the page gave up on while it waited here is not encoded.
    if (cancelled.delete(data && data.id)) return;
    if (!wasm) throw new Error('the encoder is not ready');
    while (reading.size) await Promise.all(reading);
    answer = await encode(frame, data.spec);
  } catch (err) {
    // A trap leaves the instance in an unknown state: the next job gets a fresh one.
    if (err instanceof WebAssembly.RuntimeError) await instantiate().catch(() => {});
    answer = { code: ENCODE_FAILED, message: `encoding failed: ${err && err.message || err}` };
  } finally {
    if (frame && typeof frame.close === 'function') frame.close();
  }
  if (!cancelled.delete(data && data.id)) postMessage({ id: data && data.id, at: data && data.at, ...answer });
}

/** Where the frame's pixels go: the input buffer of the wasm pipeline. */
function input(len) {
  const ptr = wasm.tracksnap_encoder_input(len);
  if (!ptr) throw new Error(`no memory for ${len} bytes of pixels`);
  // A fresh view: the call above may have grown (and so replaced) the memory's buffer.
  return new Uint8Array(wasm.memory.buffer, ptr, len);
}

async function encode(frame, spec) {
  const rect = frame.visibleRect;
  const w = rect ? rect.width : 0;
  const h = rect ? rect.height : 0;
  const dw = frame.displayWidth;
  const dh = frame.displayHeight;
  if (!w || !h || !dw || !dh) return { code: CAPTURE_FAILED, message: 'the frame has no pixels' };
  const cw = (w + 1) >> 1;
  const ch = (h + 1) >> 1;
  const even = rect.x % 2 === 0 && rect.y % 2 === 0;
  let kind = RGBA;
  let width = w;
  let height = h;
  if (frame.format === 'I420' && even) {
    const y = w * h;
    const c = cw * ch;
    const layout = [{ offset: 0, stride: w }, { offset: y, stride: cw }, { offset: y + c, stride: cw }];
    await frame.copyTo(input(y + 2 * c), { layout });
    kind = I420;
  } else if (frame.format === 'NV12' && even) {
    const y = w * h;
    const layout = [{ offset: 0, stride: w }, { offset: y, stride: cw * 2 }];
    await frame.copyTo(input(y + 2 * cw * ch), { layout });
    kind = NV12;
  } else {
    const options = { format: 'RGBA', colorSpace: 'srgb' };
    let converts = false;
    try {
      converts = frame.allocationSize(options) === w * h * 4;
    } catch (_) {
      // A browser without copyTo's conversion: draw the frame instead.
    }
    if (converts) {
      await frame.copyTo(input(w * h * 4), options);
    } else {
      const canvas = new OffscreenCanvas(dw, dh);
      const ctx = canvas.getContext('2d');
      ctx.drawImage(frame, 0, 0);
      const pixels = ctx.getImageData(0, 0, dw, dh).data;
      input(pixels.length).set(pixels);
      width = dw;
      height = dh;
    }
  }
  const color = frame.colorSpace || {};
  const code = wasm.tracksnap_encode(
    kind, width, height, dw, dh,
    color.matrix === 'bt709' ? 1 : 0, color.fullRange ? 1 : 0,
    spec.format, spec.quality, spec.width, spec.height, spec.fit, spec.mirror ? 1 : 0,
    spec.sizeFirst ? 1 : 0,
  );
  if (code !== 0) {
    const message = new TextDecoder().decode(
      new Uint8Array(wasm.memory.buffer, wasm.tracksnap_encoder_message(), wasm.tracksnap_encoder_message_len()),
    );
    return { code, message };
  }
  const bytes = new Uint8Array(wasm.memory.buffer, wasm.tracksnap_encoded(), wasm.tracksnap_encoded_len());
  // `new Blob` copies the bytes: the buffer is reused by the next job.
  const blob = new Blob([bytes], { type: spec.format === 1 ? 'image/png' : 'image/jpeg' });
  return {
    blob,
    width: wasm.tracksnap_encoded_width(),
    height: wasm.tracksnap_encoded_height(),
    size: bytes.length,
    pixels: ['RGBA', 'I420', 'NV12'][kind],
  };
}
