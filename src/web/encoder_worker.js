// tracksnap's Worker. Made from a Blob by src/web/worker.rs; it runs a second instance of the
// module's own wasm (the compiled WebAssembly.Module is its first message) without the JS glue:
// it calls only the plain `tracksnap_*` exports of src/web/encoder_abi.rs, which never call out
// to JavaScript. Its first answer is { ready, processor } or { fatal }.
//
// Encoding: a job { id, frame, spec } whose VideoFrame was transferred here; `spec` is
// { words, type }, words this script hands to wasm unread. The frame's pixels are copied once,
// by the browser, straight into wasm memory: its own I420 or NV12 planes, or its own RGBA or
// BGRA pixels, where it has them, RGBA otherwise. The answer is { id, blob, width, height,
// size, pixels, thumb }, { id, code, message } from wasm, or { id, message }. Every frame is
// closed, whatever happens. A job of a task with a ChangeThreshold also carries change:
// { threshold, reference } (the stream's last kept thumbnail, if any): wasm compares the
// copied pixels with it before encoding, and a picture that has not changed enough is
// answered { id, unchanged: true }, not encoded; otherwise `thumb` is the frame's thumbnail.
// A job with a watermark carries watermark: { pixels, width, height, corner, opacity }, the
// overlay the page drew for this image's size; wasm lays it after the fit and the mirror.
//
// Reading (Safari, whose MediaStreamTrackProcessor exists only in Workers): { open, track }
// starts a reader on a transferred track, { id, read } asks for its newest frame (answered
// { id, value } with a transferred copy, { id, done } once the track has ended, or { id,
// message }), { close } ends the reader and stops the track.
//
// No number of the protocol (src/core/protocol.rs) is written here: the frame is described to
// wasm by its WebCodecs names, and a failure of this script's own carries only a message.
'use strict';

// Frames whose own pixels are 4-byte RGB: copied as they are, in their byte order.
const RGB_ORDER = { RGBA: 'RGBA', RGBX: 'RGBA', BGRA: 'BGRA', BGRX: 'BGRA' };

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
      () => postMessage({ ready: true, processor: typeof MediaStreamTrackProcessor === 'function' }),
      (err) => postMessage({ fatal: String(err && err.message || err) }),
    );
  } else if (data && data.open !== undefined) {
    openReader(data.open, data.track);
  } else if (data && data.read !== undefined) {
    read(data.id, data.read);
  } else if (data && data.close !== undefined) {
    closeReader(data.close);
  } else {
    queue = queue.then(() => job(data));
  }
};

// ----- frame readers --------------------------------------------------------------------------

const readers = new Map();

function openReader(rid, track) {
  const reader = { track, stream: null, latest: null, asked: [], done: false, error: null };
  readers.set(rid, reader);
  try {
    reader.stream = new MediaStreamTrackProcessor({ track }).readable.getReader();
  } catch (err) {
    end(reader, `MediaStreamTrackProcessor: ${err && err.message || err}`);
    return;
  }
  pump(reader);
}

/**
 * Reads every frame as it comes and keeps only the newest: WebKit's processor, asked for a
 * one-frame buffer, keeps the oldest unread frame instead, which would be a stale picture.
 */
function pump(reader) {
  reader.stream.read().then(
    ({ value, done }) => {
      if (done || reader.done) {
        if (value) value.close();
        end(reader, null);
        return;
      }
      if (reader.latest) reader.latest.close();
      reader.latest = value;
      for (const id of reader.asked.splice(0)) give(id, reader.latest);
      pump(reader);
    },
    (err) => end(reader, `reading a frame: ${err && err.message || err}`),
  );
}

/** Answers `id` with a copy of `frame` (the reader keeps its own until a newer one comes). */
function give(id, frame) {
  const copy = frame.clone();
  postMessage({ id, value: copy }, [copy]);
}

function read(id, rid) {
  const reader = readers.get(rid);
  if (!reader || reader.done) {
    postMessage(reader && reader.error ? { id, message: reader.error } : { id, done: true });
  } else if (reader.latest) {
    give(id, reader.latest);
  } else {
    reader.asked.push(id);
  }
}

function end(reader, error) {
  if (reader.done) return;
  reader.done = true;
  reader.error = error;
  if (reader.latest) reader.latest.close();
  reader.latest = null;
  for (const id of reader.asked.splice(0)) {
    postMessage(error ? { id, message: error } : { id, done: true });
  }
}

function closeReader(rid) {
  const reader = readers.get(rid);
  if (!reader) return;
  readers.delete(rid);
  reader.track.stop();
  if (reader.stream) reader.stream.cancel().catch(() => {});
  end(reader, null);
}

// ----- encoding -------------------------------------------------------------------------------

async function job(data) {
  const frame = data && data.frame;
  let answer;
  try {
    if (!wasm) throw new Error('the encoder is not ready');
    answer = await encode(frame, data.spec, data.change, data.watermark);
  } catch (err) {
    // A trap leaves the instance in an unknown state: the next job gets a fresh one.
    if (err instanceof WebAssembly.RuntimeError) await instantiate().catch(() => {});
    answer = { message: `encoding failed: ${err && err.message || err}` };
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

/** Copies `values` (a typed array) into wasm memory at `ptr`, 0 when the module is busy. */
function write(ptr, values) {
  if (!ptr) throw new Error(`no room for ${values.length} values`);
  new values.constructor(wasm.memory.buffer, ptr, values.length).set(values);
}

/** sRGB, or no colour space said: RGB bytes that need no conversion. */
function isSrgb(cs) {
  return !cs || !cs.primaries || cs.primaries === 'bt709';
}

async function encode(frame, spec, change, watermark) {
  const rect = frame.visibleRect;
  const w = rect ? rect.width : 0;
  const h = rect ? rect.height : 0;
  const dw = frame.displayWidth;
  const dh = frame.displayHeight;
  // A frame without pixels is copied as nothing: wasm answers it.
  const { pixels, width, height } = w && h && dw && dh ? await copy(frame, rect, dw, dh) : {};
  write(wasm.tracksnap_encoder_spec(spec.words.length), spec.words);
  const color = frame.colorSpace || {};
  const names = new TextEncoder().encode(`${pixels} ${color.matrix} ${color.fullRange}`);
  write(wasm.tracksnap_encoder_names(names.length), names);
  let thumb;
  if (change) {
    const reference = change.reference || new Uint8Array(0);
    const at = wasm.tracksnap_change_reference(reference.length);
    if (reference.length) write(at, reference);
    if (wasm.tracksnap_change(width || 0, height || 0, change.threshold)) return { unchanged: true };
    thumb = new Uint8Array(wasm.memory.buffer, wasm.tracksnap_thumb(), wasm.tracksnap_thumb_len()).slice();
  }
  if (watermark) {
    // Drawn by the page for this image's size; laid by wasm on the next encode only.
    const { pixels: rgba, width: mw, height: mh, corner, opacity } = watermark;
    const at = rgba && rgba.length === mw * mh * 4 ? wasm.tracksnap_watermark(mw, mh, corner, opacity) : 0;
    if (!at) return { message: `a ${mw}×${mh} watermark cannot be laid` };
    write(at, rgba);
  }
  const code = wasm.tracksnap_encode(width, height, dw, dh);
  if (code !== 0) {
    const message = new TextDecoder().decode(
      new Uint8Array(wasm.memory.buffer, wasm.tracksnap_encoder_message(), wasm.tracksnap_encoder_message_len()),
    );
    return { code, message };
  }
  const bytes = new Uint8Array(wasm.memory.buffer, wasm.tracksnap_encoded(), wasm.tracksnap_encoded_len());
  // `new Blob` copies the bytes: the buffer is reused by the next job.
  const blob = new Blob([bytes], { type: spec.type });
  return {
    blob,
    width: wasm.tracksnap_encoded_width(),
    height: wasm.tracksnap_encoded_height(),
    size: bytes.length,
    pixels,
    thumb,
  };
}

/** Copies the frame's pixels into wasm memory; gives their layout's name and their size. */
async function copy(frame, rect, dw, dh) {
  const w = rect.width;
  const h = rect.height;
  const cw = (w + 1) >> 1;
  const ch = (h + 1) >> 1;
  const even = rect.x % 2 === 0 && rect.y % 2 === 0;
  if (frame.format === 'I420' && even) {
    const y = w * h;
    const c = cw * ch;
    const layout = [{ offset: 0, stride: w }, { offset: y, stride: cw }, { offset: y + c, stride: cw }];
    await frame.copyTo(input(y + 2 * c), { layout });
    return { pixels: 'I420', width: w, height: h };
  }
  if (frame.format === 'NV12' && even) {
    const y = w * h;
    const layout = [{ offset: 0, stride: w }, { offset: y, stride: cw * 2 }];
    await frame.copyTo(input(y + 2 * cw * ch), { layout });
    return { pixels: 'NV12', width: w, height: h };
  }
  if (frame.format in RGB_ORDER && isSrgb(frame.colorSpace) && frame.allocationSize() === w * h * 4) {
    await frame.copyTo(input(w * h * 4));
    return { pixels: RGB_ORDER[frame.format], width: w, height: h };
  }
  const options = { format: 'RGBA', colorSpace: 'srgb' };
  let converts = false;
  try {
    // WebKit ignores `format` and copies the frame's own pixels: a size that differs from
    // the frame's own is the sign the browser converts.
    const len = frame.allocationSize(options);
    converts = len === w * h * 4 && len !== frame.allocationSize();
  } catch (_) {
    // A browser without copyTo's conversion: draw the frame instead.
  }
  if (converts) {
    await frame.copyTo(input(w * h * 4), options);
    return { pixels: 'RGBA', width: w, height: h };
  }
  const canvas = new OffscreenCanvas(dw, dh);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(frame, 0, 0);
  const drawn = ctx.getImageData(0, 0, dw, dh).data;
  input(drawn.length).set(drawn);
  return { pixels: 'RGBA', width: dw, height: dh };
}
