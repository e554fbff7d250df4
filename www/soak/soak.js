// The soak page: one periodic task (Interval 1, K streams) uploading through the dev server's
// presigner, watched for as long as the runner (www/soak/run.mjs) keeps it going. The runner
// calls, in order:
//
//   window.soakStart({ streams, key, outboxMaxBytes })
//                                                the room, the engine, the task (`key`: the same task
//                                                again after a reload, so its names say bak<n>_)
//   window.soakOutbox()                          the keys in the outbox now (outboxEntries())
//   window.soakDrain()                           what happened since the last drain (then forgotten
//                                                here, so that the page's own records do not grow
//                                                the JS heap being measured)
//   window.soakMemory()                          JS heap and wasm memory (the runner forces a GC first)
//   window.soakFinish({ settleS, releaseStore }) stops the task (then, with releaseStore, ends the
//                                                dev server's hung store), flushes the outbox until it is empty
//                                                or settleS have passed; resolves with the counters
//                                                and the keys left in the outbox (outboxEntries())
//   window.soakClose()                           destroys the engine, stops the streams
//
// The page never calls flushUploads() while the task runs: the engine retries its outbox by
// itself (every 30 s while it holds images), and the runner checks that it did.

import init, { SnapshotEngine } from '/pkg/tracksnap.js';
import { memory, startRoom } from '../bench/streams.js';

const out = document.getElementById('out');
const sourcesBox = document.getElementById('sources');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function log(text) {
  out.textContent += `${text}\n`;
  console.log(`[soak] ${text}`);
}

let wasm;
let engine = null;
let room = null;
let key = null;
let observer = null;
// Drained by the runner every few seconds.
let pending = { images: [], outboxFull: [], streamStates: [], engineErrors: [], flushes: [] };
// `outboxupload`s wait in sessionStorage instead: one fired between the runner's last drain and
// a reload would die with the page, and the runner would see a kept image never retried.
const CARRIED = 'soak-outbox-uploads';
function carry(upload) {
  const list = JSON.parse(sessionStorage.getItem(CARRIED) ?? '[]');
  list.push(upload);
  sessionStorage.setItem(CARRIED, JSON.stringify(list));
}
const longTasks = { count: 0, longestMs: 0, totalMs: 0 };

function listen(type, fn) {
  engine.addEventListener(type, (e) => fn(e.detail));
}

/** The outbox's keys and sizes, every page's, as the engine lists them. */
async function outboxKeys() {
  return (await engine.outboxEntries()).map((e) => ({ key: e.key, size: e.size }));
}

async function flush(reason) {
  const t = performance.now();
  const remaining = await engine.flushUploads();
  pending.flushes.push({ at: Date.now(), reason, remaining, ms: Math.round(performance.now() - t) });
  return remaining;
}

window.soakStart = async function soakStart({ streams = 17, key: again = null, outboxMaxBytes } = {}) {
  const storage = { presignEndpoint: `${location.origin}/presign`, ...(outboxMaxBytes ? { outboxMaxBytes } : {}) };
  engine = new SnapshotEngine({ format: 'jpeg', quality: 85, storage });
  listen('periodicsnapshot', (d) => pending.images.push({
    key: d.key, code: d.code, url: d.url, size: d.size, UserId: d.UserId, timestamp: d.timestamp, at: Date.now(),
  }));
  listen('outboxupload', (d) => carry({ key: d.key, url: d.url, size: d.size, at: Date.now() }));
  listen('outboxfull', (d) => pending.outboxFull.push({ key: d.key, size: d.size, outboxBytes: d.outboxBytes, at: Date.now() }));
  listen('snapshotstreamstate', (d) => pending.streamStates.push({ UserId: d.UserId, state: d.state, at: Date.now() }));
  listen('error', (d) => pending.engineErrors.push({ code: d.code, message: d.message, at: Date.now() }));
  room = await startRoom(engine, { room: 'soak', me: 'host', streams, box: sourcesBox });
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      longTasks.count += 1;
      longTasks.totalMs += e.duration;
      longTasks.longestMs = Math.max(longTasks.longestMs, e.duration);
    }
  });
  observer.observe({ type: 'longtask' });
  key = again ?? { AppId: 'soak', RoomId: 'soak', TaskId: `soak-${Date.now()}` };
  const started = await engine.startSnapshot({
    ...key,
    ImageConfig: { Format: 0, Interval: 1 },
    // A task names at most 17 streams; more: every stream in the room.
    ...(streams <= 17 ? { TargetStreams: { StreamList: room.StreamList } } : {}),
    StorageConfig: { Type: 'presigned' },
  });
  if (started.Result !== 'ok') throw new Error(`startSnapshot: ${JSON.stringify(started)}`);
  log(`task ${key.TaskId}: ${streams} streams (camera ${room.sources.camera}; ${room.sources.remotes}), Interval 1`);
  return { key, sources: room.sources, frameReader: engine.frameReader, encoderPlacement: engine.encoderPlacement };
};

window.soakDrain = function soakDrain() {
  const drained = pending;
  pending = { images: [], outboxFull: [], streamStates: [], engineErrors: [], flushes: [] };
  drained.outboxUploads = JSON.parse(sessionStorage.getItem(CARRIED) ?? '[]');
  sessionStorage.removeItem(CARRIED);
  const info = engine?.getSnapshotTask(key);
  return {
    ...drained,
    pendingUploads: engine?.pendingUploads() ?? null,
    task: info && { state: info.state, images: info.images, skipped: info.skipped, failed: info.failed },
    longTasks: { ...longTasks },
  };
};

window.soakMemory = () => memory(wasm, { gc: true });

window.soakOutbox = () => outboxKeys();

window.soakFinish = async function soakFinish({ settleS = 120, releaseStore = false } = {}) {
  const t0 = performance.now();
  const stopped = await engine.stopSnapshot(key);
  const stopMs = Math.round(performance.now() - t0);
  // The dev server's fault switch: a hung store answers again.
  if (releaseStore) await fetch('/__faults', { method: 'POST', body: JSON.stringify({ reset: true }) });
  const info = engine.getSnapshotTask(key);
  log(`stopped (${stopMs} ms): ${info.images} images, ${info.skipped} skipped, ${info.failed} failed; ${engine.pendingUploads()} in the outbox`);
  const t1 = performance.now();
  let remaining = await flush('end');
  while (remaining > 0 && performance.now() - t1 < settleS * 1000) {
    await sleep(2000);
    remaining = await flush('end');
  }
  const settleMs = Math.round(performance.now() - t1);
  log(`outbox settled in ${settleMs} ms: ${remaining} remain`);
  observer?.disconnect();
  return {
    stopResult: stopped.Result,
    stopMs,
    imagesInOutbox: stopped.ImagesInOutbox,
    task: { state: info.state, stopReason: info.stopReason, images: info.images, skipped: info.skipped, failed: info.failed },
    settleMs,
    pendingUploads: engine.pendingUploads(),
    outbox: await outboxKeys(),
  };
};

window.soakClose = function soakClose() {
  engine?.destroy();
  room?.stop();
  engine = null;
  room = null;
};

(async () => {
  wasm = await init();
})().then(() => {
  out.textContent = 'ready (the runner, www/soak/run.mjs, drives this page)\n';
  window.soakReady = true;
}, (e) => {
  out.textContent = `could not load: ${e?.stack ?? e}\n`;
});
