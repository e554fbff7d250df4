// The classroom demo: every call goes through the public API, and every answer is shown.
import init, { SnapshotEngine } from '../pkg/tracksnap.js';

await init();

const CODE_NAMES = {
  0: 'OK',
  30003: 'ERR_INVALID_PARAM',
  30004: 'ERR_NOT_SUPPORTED',
  30005: 'ERR_INVALID_OPERATION',
  30101: 'ERR_TRACK_ENDED',
  30102: 'ERR_FRAME_TIMEOUT',
  30103: 'ERR_CAPTURE_FAILED',
  30104: 'ERR_ENCODE_FAILED',
  30105: 'ERR_DESTROYED',
  30201: 'ERR_UPLOAD_FAILED',
  30202: 'ERR_PRESIGN_FAILED',
  30203: 'ERR_OUTBOX_FULL',
};
const REMOTE_UID = 2002;

const $ = (id) => document.getElementById(id);
// Every image is uploaded through presigned URLs from this page's server (www/serve.mjs),
// which keeps the store's keys; the page never sees them.
// ?frameTimeout=ms sets the engine's frame timeout: a page on a starved machine (the end-to-end
// test's software-rendered WebKit) may leave a canvas track without frames for seconds.
const frameTimeout = Number(new URLSearchParams(location.search).get('frameTimeout')) || undefined;
const engine = new SnapshotEngine({
  format: 'jpeg',
  quality: 85,
  frameTimeout,
  // The README's form: a relative endpoint resolves against this page.
  storage: { presignEndpoint: '/presign' },
});
// Settled once the engine's Worker has started (Safari reads frames there).
await engine.ready;
$('frame-reader').textContent = engine.frameReader;
$('encoder-placement').textContent = engine.encoderPlacement === 'worker' ? 'a Worker' : "the page's thread";
engine.outboxPersisted.then((kept) => log(`outboxPersisted → ${kept} (whether eviction spares the outbox)`, 0));

function showOutbox() {
  $('outbox').textContent = `${engine.pendingUploads()} in the outbox`;
}
$('flush').onclick = async () => {
  const left = await engine.flushUploads();
  log(`flushUploads() → ${left} remain`, 0);
  showOutbox();
};
// What did not upload, as an app offers it: download (readOutboxEntry) or drop (removeOutboxEntry).
$('list-outbox').onclick = async () => {
  const entries = await engine.outboxEntries();
  log(`outboxEntries() → ${entries.length}`, 0);
  $('outbox-entries').replaceChildren(...entries.map((entry) => {
    const li = document.createElement('li');
    li.textContent = `${entry.key} · ${(entry.size / 1024).toFixed(1)} KB · ${entry.attempts} attempts${entry.stuck ? ' · stuck' : ''} `;
    const save = Object.assign(document.createElement('button'), { textContent: 'download' });
    save.onclick = async () => {
      const blob = await engine.readOutboxEntry(entry.key);
      if (!blob) return;
      const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: entry.key.split('/').pop() });
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    };
    const drop = Object.assign(document.createElement('button'), { textContent: 'remove' });
    drop.onclick = async () => {
      log(`removeOutboxEntry("${entry.key}") → ${await engine.removeOutboxEntry(entry.key)}`, 0);
      li.remove();
      showOutbox();
    };
    li.append(save, ' ', drop);
    return li;
  }));
};
engine.addEventListener('outboxstuck', (e) =>
  log(`outboxstuck: ${e.detail.key} after ${e.detail.attempts} attempts (${e.detail.lastError})`, 30201, ''));
engine.addEventListener('outboxupload', (e) => {
  log(`outboxupload: ${e.detail.key} → ${e.detail.url}`, 0);
  showOutbox();
});
engine.addEventListener('outboxfull', (e) => log(`outboxfull: ${e.detail.key} (${e.detail.size} B) not kept`, 30203));

const tracks = {};
const counts = { ok: 0, failed: 0 };

// ----- the log: every call and the code it answered --------------------------------------

/** `why` defaults to `lastError`, which belongs to the call that just answered: pass it for
 * codes that arrive later, such as results. */
function log(call, code, why = code !== 0 ? engine.lastError?.message : undefined) {
  const li = document.createElement('li');
  li.className = code === 0 ? 'ok' : 'err';
  li.textContent = `${call} → ${code} ${CODE_NAMES[code] ?? ''}${why ? ` — ${why}` : ''}`;
  $('log').prepend(li);
  return code;
}

function show(id, track) {
  $(id).srcObject = track ? new MediaStream([track]) : null;
}

// ----- results --------------------------------------------------------------------------------

engine.setEventHandler({
  onTakeSnapshotResult(code, path) {
    // The reason comes with the takesnapshotresult event, on the gallery card.
    log(`onTakeSnapshotResult(${code}, "${path}")`, code, '');
  },
});

/** One gallery card: the image (when there is one) and lines of metadata. */
function addCard({ name, blob, code, message, lines, periodic, url }) {
  counts[code === 0 ? 'ok' : 'failed'] += 1;
  $('counts').textContent = `${counts.ok} images, ${counts.failed} failed`;
  const card = document.createElement('figure');
  card.className = ['card', periodic ? 'periodic' : '', code === 0 ? '' : 'failed'].join(' ').trim();
  card.dataset.path = name;
  if (blob) {
    card.append(Object.assign(document.createElement('img'), { src: URL.createObjectURL(blob), alt: name }));
  }
  const meta = document.createElement('figcaption');
  meta.append(Object.assign(document.createElement('b'), { textContent: name || '(no image)' }));
  for (const line of lines) meta.append(document.createElement('br'), line);
  if (url) {
    meta.append(document.createElement('br'), Object.assign(document.createElement('a'), {
      href: url, textContent: 'uploaded ↗', target: '_blank', className: 'uploaded',
    }));
  }
  showOutbox();
  if (code !== 0) {
    meta.append(document.createElement('br'), Object.assign(document.createElement('span'), {
      className: 'err',
      textContent: `${code} ${CODE_NAMES[code] ?? ''}: ${message}`,
    }));
  }
  card.append(meta);
  $('gallery').prepend(card);
}

const sizeAndTime = (size, timestamp) => `${(size / 1024).toFixed(1)} KB · ${new Date(timestamp).toLocaleTimeString()}`;

engine.addEventListener('takesnapshotresult', (event) => {
  const r = event.detail;
  addCard({
    name: r.path,
    blob: r.blob,
    code: r.code,
    message: r.message,
    url: r.url,
    lines: [
      `${r.uid === '' ? 'local' : `uid ${r.uid}`} · ${r.streamType} · ${r.width}×${r.height} ${r.format}`,
      sizeAndTime(r.size, r.timestamp),
    ],
  });
});

// ----- local streams ---------------------------------------------------------------------------

async function camera() {
  if (!tracks.camera || tracks.camera.readyState === 'ended') {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
    tracks.camera = stream.getVideoTracks()[0];
  }
  return tracks.camera;
}

$('preview-camera').onclick = async () => {
  const track = await camera();
  show('v-local-main', track);
  log('startVideoPreview("main", camera)', engine.startVideoPreview('main', track));
};
$('stop-preview').onclick = () => log('stopVideoPreview("main")', engine.stopVideoPreview('main'));
$('join').onclick = () => {
  const channel = $('channel').value;
  const uid = $('uid').value;
  log(`joinChannel("${channel}", "${uid}")`, engine.joinChannel(channel, uid));
};
$('leave').onclick = () => log('leaveChannel()', engine.leaveChannel());
$('enable-camera').onclick = async () => {
  const track = await camera();
  show('v-local-main', track);
  log('enableLocalVideo("main", true, camera)', engine.enableLocalVideo('main', true, track));
};
$('disable-camera').onclick = () => log('enableLocalVideo("main", false)', engine.enableLocalVideo('main', false));
$('share-screen').onclick = async () => {
  try {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true });
    tracks.screen = stream.getVideoTracks()[0];
  } catch (e) {
    log(`getDisplayMedia failed (${e.name}); sharing a drawn board instead`, 0);
    tracks.screen = board('local board').track;
  }
  show('v-local-sub', tracks.screen);
  log('startScreenCapture(screen)', engine.startScreenCapture(tracks.screen));
};
$('stop-screen').onclick = () => log('stopScreenCapture()', engine.stopScreenCapture());

// ----- the remote student: canvas video sent through a real RTCPeerConnection pair ------------

/** An animated "whiteboard" canvas track. */
function board(label, hue = 200) {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  const ctx = canvas.getContext('2d');
  const t0 = performance.now();
  const draw = () => {
    const t = (performance.now() - t0) / 1000;
    ctx.fillStyle = `hsl(${hue}, 45%, 92%)`;
    ctx.fillRect(0, 0, 640, 360);
    ctx.fillStyle = `hsl(${hue}, 70%, 35%)`;
    ctx.font = 'bold 34px system-ui, sans-serif';
    ctx.fillText(label, 24, 52);
    ctx.font = '22px system-ui, sans-serif';
    ctx.fillText(new Date().toLocaleTimeString(), 24, 90);
    ctx.beginPath();
    ctx.arc(320 + Math.cos(t) * 200, 220 + Math.sin(t * 1.3) * 90, 28, 0, Math.PI * 2);
    ctx.fill();
  };
  draw();
  const track = canvas.captureStream(25).getVideoTracks()[0];
  const timer = setInterval(draw, 40);
  track.addEventListener('ended', () => clearInterval(timer));
  return { track };
}

async function loopback(track) {
  if (typeof RTCPeerConnection !== 'function') {
    // Some WebKit builds (WebKitGTK without WebRTC) have no peer connection: the board's own
    // track stands in for the received one.
    log('no RTCPeerConnection in this browser: the board is handed over as the remote track', 0);
    return track;
  }
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const received = new Promise((resolve) => (b.ontrack = (e) => resolve(e.track)));
  a.addTrack(track, new MediaStream([track]));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  return received;
}

$('remote-join').onclick = async () => {
  const remote = await loopback(board('student 2002 camera', 20).track);
  show('v-remote-main', remote);
  log(`onUserVideoStart(${REMOTE_UID}, track)`, engine.onUserVideoStart(REMOTE_UID, remote));
};
$('remote-share').onclick = async () => {
  const remote = await loopback(board('student 2002 board', 140).track);
  show('v-remote-sub', remote);
  log(`onUserSubStreamVideoStart(${REMOTE_UID}, track)`, engine.onUserSubStreamVideoStart(REMOTE_UID, remote));
};
$('remote-leave').onclick = () => {
  show('v-remote-main', null);
  show('v-remote-sub', null);
  log(`onUserLeave(${REMOTE_UID})`, engine.onUserLeave(REMOTE_UID));
};

// ----- snapshots -------------------------------------------------------------------------------

$('take-local-main').onclick = () => log('takeLocalSnapshot("main")', engine.takeLocalSnapshot('main'));
$('take-local-sub').onclick = () => log('takeLocalSnapshot("sub")', engine.takeLocalSnapshot('sub'));
$('take-remote-main').onclick = () =>
  log(`takeRemoteSnapshot(${REMOTE_UID}, "main")`, engine.takeRemoteSnapshot(REMOTE_UID, 'main'));
$('take-remote-sub').onclick = () =>
  log(`takeRemoteSnapshot(${REMOTE_UID}, "sub")`, engine.takeRemoteSnapshot(REMOTE_UID, 'sub'));

$('snapshot').onclick = async () => {
  const [who, streamType] = $('opt-target').value.split(':');
  const request = {
    streamType,
    format: $('opt-format').value,
    quality: Number($('opt-quality').value),
    width: Number($('opt-width').value),
    height: Number($('opt-height').value),
    fit: $('opt-fit').value,
    rotate: Number($('opt-rotate').value),
    mirror: $('opt-mirror').checked,
  };
  // Empty: no watermark (null overrides an engine's own option).
  request.watermark = $('opt-watermark').value ? { text: $('opt-watermark').value, position: $('opt-watermark-position').value } : null;
  if (who !== 'local') request.uid = Number(who);
  const call = `snapshot(${JSON.stringify(request)})`;
  try {
    const r = await engine.snapshot(request);
    log(`${call} resolved: ${r.width}×${r.height}, ${r.size} B`, r.code, r.message);
  } catch (e) {
    log(`${call} rejected: ${e.message}`, e.code ?? -1, '');
  }
};

// ----- periodic task ------------------------------------------------------------------------

const taskKey = () => ({ AppId: 'demo', RoomId: $('channel').value, TaskId: $('task-id').value });

function logResponse(call, r) {
  const e = r.ResponseMetadata.Error;
  const li = document.createElement('li');
  li.className = e ? 'err' : 'ok';
  li.textContent = `${call} → Result "${r.Result}"${e ? ` — ${e.Code}: ${e.Message}` : ''}`;
  $('log').prepend(li);
}

$('task-start').onclick = async () => {
  const request = {
    ...taskKey(),
    ImageConfig: {
      Interval: Number($('task-interval').value),
      Width: Number($('task-width').value),
      Format: Number($('task-format').value),
      ChangeThreshold: Number($('task-change').value),
      Watermark: $('task-watermark').value ? { Text: $('task-watermark').value } : null,
    },
  };
  if ($('task-names').value) request.FileNameTemplate = $('task-names').value;
  if ($('task-callback').checked) request.CallbackUrl = new URL('/callback', location.href).href;
  if ($('task-upload').checked) request.StorageConfig = { Type: 'presigned' };
  if ($('task-upload').checked && $('task-latest').checked) request.StorageConfig.LatestKey = '{RoomId}/{UserId}_{video}/latest.{ext}';
  logResponse(`startSnapshot(${request.TaskId})`, await engine.startSnapshot(request));
};
$('task-update').onclick = async () => {
  const request = { ...taskKey(), ImageConfig: { Interval: Number($('task-interval').value) } };
  logResponse(`updateSnapshot(Interval ${request.ImageConfig.Interval})`, await engine.updateSnapshot(request));
};
$('task-stop').onclick = async () => logResponse('stopSnapshot', await engine.stopSnapshot(taskKey()));

setInterval(() => {
  let info = null;
  try {
    info = engine.getSnapshotTask(taskKey());
  } catch {
    // an id being typed: nothing to show
  }
  $('task-counters').textContent = info
    ? `${info.TaskId}: ${info.state}${info.stopReason ? ` (${info.stopReason})` : ''} · every ${info.ImageConfig.Interval} s · ` +
      `${info.images} images · ${info.unchanged} unchanged · ${info.skipped} skipped · ${info.failed} failed`
    : 'no task';
}, 500);

engine.addEventListener('periodicsnapshot', (event) => {
  const e = event.detail;
  addCard({
    name: e.key,
    blob: e.blob,
    code: e.code,
    message: e.message,
    url: e.url,
    periodic: true,
    lines: [
      `task ${e.TaskId} · ${e.UserId} · ${e.StreamType ? 'sub' : 'main'} · ${e.width}×${e.height} ${e.format}`,
      sizeAndTime(e.size, e.timestamp),
    ],
  });
});
// A dashboard's view: one fixed object per stream, read back from the store after each copy.
engine.addEventListener('latestupload', (e) => {
  const { key, url, code, message } = e.detail;
  if (!url) {
    log(`latestupload: ${key}`, code, message);
    return;
  }
  let img = [...$('task-latest-images').children].find((i) => i.dataset.key === key);
  if (!img) {
    img = document.createElement('img');
    img.dataset.key = key;
    img.title = key;
    img.height = 90;
    $('task-latest-images').append(img);
  }
  // Read back through the dev server (a real dashboard would GET it with a presigned URL).
  const path = key.split('/').map(encodeURIComponent).join('/');
  img.src = new URL(`/__object/${path}?v=${Date.now()}`, location.href).href;
});
engine.addEventListener('snapshotstreamstate', (e) =>
  log(`snapshotstreamstate: ${e.detail.TaskId} ${e.detail.UserId}/${e.detail.StreamType} ${e.detail.state}`, 0));
engine.addEventListener('snapshottaskstop', (e) =>
  log(`snapshottaskstop: ${e.detail.TaskId} (${e.detail.reason})`, 0));

// For the end-to-end tests and the curious: the engine is on the page.
window.tracksnap = { engine };
