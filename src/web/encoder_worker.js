// tracksnap's encoder worker. Made from a Blob by src/web/encoder.rs; it runs a second
// instance of the module's own wasm (the compiled WebAssembly.Module is its first message)
// without the JS glue: it calls only the plain `tracksnap_*` exports of
// src/web/encoder_abi.rs, which never call out to JavaScript.
//
// Each later message is a job { id, frame, spec } whose VideoFrame was transferred here. The
// frame's pixels are copied once, by the browser, straight into wasm memory: its own I420 or
// NV12 planes where it has them, RGBA otherwise. The answer is { id, blob, width, height,
// size, pixels } or { id, code, message }. Every frame is closed, whatever happens.
'use strict';

const RGBA = 0;
const I420 = 1;
const NV12 = 2;
const CAPTURE_FAILED = 30103;
const ENCODE_FAILED = 30104;

// The instance needs every import of the glue; the exports used here never call one.
const absent = () => {
  throw new Error('tracksnap: a browser call reached the encoder worker');
};
const imports = new Proxy({}, { get: () => new Proxy({}, { get: () => absent }) });

let module = null;
let wasm = null;
// Jobs run one after another: a job's copy into wasm memory must not meet another's.
let queue = Promise.resolve();

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
  queue = queue.then(() => job(data));
};

async function job(data) {
  const frame = data && data.frame;
  let answer;
  try {
    if (!wasm) throw new Error('the encoder is not ready');
    answer = await encode(frame, data.spec);
  } catch (err) {
    // A trap leaves the instance in an unknown state: the next job gets a fresh one.
    if (err instanceof WebAssembly.RuntimeError) await instantiate().catch(() => {});
    answer = { code: ENCODE_FAILED, message: `encoding failed: ${err && err.message || err}` };
  } finally {
    if (frame && typeof frame.close === 'function') frame.close();
  }
  postMessage({ id: data && data.id, ...answer });
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
