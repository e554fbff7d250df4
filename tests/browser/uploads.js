// Browser scenarios for uploads through presigned URLs, against the real S3-compatible store
// (s3s-fs) behind the dev server that scripts/test.sh starts with --faults. Each scenario takes
// the SnapshotEngine class and the dev server's origin, and throws on the first wrong observation.

import {
  OK, UPLOAD_FAILED, OUTBOX_FULL,
  RED, BLUE, GREEN, sleep, solid, canvasSource, bytes, assert, eq, rejects, record,
  clearOutbox, faults, stored, sameBytes, folder, engineWithPreview, waitForEvent, runScenario,
} from './media.js';

export const scenarios = {
  async bytes_reach_the_store(Engine, dev) {
    await clearOutbox();
    await faults(dev, { reset: true });
    const dir = folder('bytes');
    const { engine, close } = await engineWithPreview(Engine, { storage: { presignEndpoint: `${dev}/presign` } });
    const rec = record(engine);
    try {
      const r = await engine.snapshot({ streamType: 'main', path: `${dir}/a.jpg` });
      eq(r.code, OK, `code (${r.message})`);
      eq(r.url, `${dev}/snapshots/${dir}/a.jpg`, 'url without the query string');
      const a = await stored(dev, `${dir}/a.jpg`);
      eq(`${a.status} ${a.type}`, '200 image/jpeg', 'stored with its content type');
      await sameBytes(r.blob, a, 'JPEG');

      // A PNG under a key with a space and non-ASCII characters, through takeLocalSnapshot.
      const key = `${dir}/学生 板书.png`;
      eq(engine.takeLocalSnapshot('main', key), OK, 'take');
      const e = await rec.wait(2);
      eq(e.code, OK, `event code (${e.message})`);
      eq(e.url, `${dev}/snapshots/${dir}/${encodeURIComponent('学生 板书.png')}`, 'url of an encoded key');
      const b = await stored(dev, encodeURIComponent(key).replace(/%2F/g, '/'));
      eq(`${b.status} ${b.type}`, '200 image/jpeg', 'the engine format decides the type, not the name');
      await sameBytes(e.blob, b, 'second image');
      eq(engine.pendingUploads(), 0, 'nothing waits');
    } finally {
      close();
    }
  },

  async presign_callback_and_post_policy(Engine, dev) {
    await clearOutbox();
    await faults(dev, { reset: true });
    const dir = folder('post');
    const asked = [];
    const presign = async (req) => {
      asked.push(req);
      const r = await fetch(`${dev}/presign?method=post`, { method: 'POST', body: JSON.stringify(req) });
      return r.json();
    };
    const { engine, close } = await engineWithPreview(Engine, { format: 'png', storage: { presign } }, BLUE);
    try {
      const r = await engine.snapshot({ streamType: 'main', path: `${dir}/form.png` });
      eq(r.code, OK, `code (${r.message})`);
      eq(asked.length, 1, 'one presign');
      eq(JSON.stringify(asked[0]), JSON.stringify({ key: `${dir}/form.png`, contentType: 'image/png', size: r.size }), 'the presign request');
      eq(r.url, `${dev}/snapshots/${dir}/form.png`, 'object url');
      const o = await stored(dev, `${dir}/form.png`);
      eq(`${o.status} ${o.type}`, '200 image/png', 'stored through the POST form');
      await sameBytes(r.blob, o, 'PNG through POST');
      eq([...(await bytes(r.blob, 4))].join(), '137,80,78,71', 'PNG signature');
    } finally {
      close();
    }
  },

  async fresh_url_after_a_refused_signature(Engine, dev) {
    await clearOutbox();
    await faults(dev, { reset: true });
    const dir = folder('fresh');
    const notes = [];
    for (const broken of ['tamper', 'expired']) {
      const calls = [];
      const presign = async (req) => {
        calls.push(req.key);
        const query = calls.length === 1 ? `?${broken}=1` : '';
        return (await fetch(`${dev}/presign${query}`, { method: 'POST', body: JSON.stringify(req) })).json();
      };
      const { engine, close } = await engineWithPreview(Engine, { storage: { presign } });
      try {
        const t0 = performance.now();
        const r = await engine.snapshot({ streamType: 'main', path: `${dir}/${broken}.jpg` });
        eq(r.code, OK, `${broken}: code (${r.message})`);
        eq(calls.length, 2, `${broken}: a fresh URL was asked for once`);
        await sameBytes(r.blob, await stored(dev, `${dir}/${broken}.jpg`), broken);
        notes.push(`${broken}: ${Math.round(performance.now() - t0)} ms`);
      } finally {
        close();
      }
    }
    return notes.join(', ');
  },

  async retries_through_server_errors(Engine, dev) {
    await clearOutbox();
    const dir = folder('retry');
    const before = (await faults(dev, { reset: true, status500: 2 })).failed;
    const { engine, close } = await engineWithPreview(Engine, { storage: { presignEndpoint: `${dev}/presign` } });
    try {
      const t0 = performance.now();
      const r = await engine.snapshot({ streamType: 'main', path: `${dir}/x.jpg` });
      eq(r.code, OK, `code (${r.message})`);
      eq((await faults(dev)).failed - before, 2, 'two 500s were answered');
      await sameBytes(r.blob, await stored(dev, `${dir}/x.jpg`), 'after two 500s');
      return `uploaded after 2 × HTTP 500 in ${Math.round(performance.now() - t0)} ms`;
    } finally {
      close();
    }
  },

  async outbox_then_flush(Engine, dev) {
    await clearOutbox();
    const dir = folder('outbox');
    await faults(dev, { reset: true, refuseMs: 8000 });
    const { engine, close } = await engineWithPreview(Engine, { storage: { presignEndpoint: `${dev}/presign` } });
    const rec = record(engine);
    try {
      const err = await rejects(engine.snapshot({ streamType: 'main', path: `${dir}/late.jpg` }), UPLOAD_FAILED, 'store unreachable');
      const r = err.result;
      assert(r.blob instanceof Blob && r.blob.size === r.size && r.size > 0, 'the image is still in the result');
      eq(r.url, null, 'no url');
      assert(r.message.includes('outbox'), r.message);
      eq(rec.events.length, 1, 'its event fired');
      eq(rec.events[0].code, UPLOAD_FAILED, 'event code');
      eq(engine.pendingUploads(), 1, 'one image waits');
      eq((await stored(dev, `${dir}/late.jpg`)).status, 404, 'not in the store yet');

      // The browser comes back online: the outbox goes by itself.
      await faults(dev, { reset: true });
      const uploaded = waitForEvent(engine, 'outboxupload');
      window.dispatchEvent(new Event('online'));
      const u = await uploaded;
      eq(`${u.key} ${u.url}`, `${dir}/late.jpg ${dev}/snapshots/${dir}/late.jpg`, 'outboxupload');
      eq(u.meta.path, `${dir}/late.jpg`, 'the outbox kept the metadata');
      await sameBytes(r.blob, await stored(dev, `${dir}/late.jpg`), 'uploaded when online');
      eq(engine.pendingUploads(), 0, 'the outbox is empty');

      // Another image kept, then flushUploads().
      await faults(dev, { reset: true, refuseMs: 8000 });
      const again = await rejects(engine.snapshot({ streamType: 'main', path: `${dir}/later.jpg` }), UPLOAD_FAILED, 'unreachable again');
      eq(engine.pendingUploads(), 1, 'one waits again');
      await faults(dev, { reset: true });
      const second = waitForEvent(engine, 'outboxupload');
      eq(await engine.flushUploads(), 0, 'flushUploads resolves with what remains');
      eq((await second).key, `${dir}/later.jpg`, 'the flushed image');
      await sameBytes(again.result.blob, await stored(dev, `${dir}/later.jpg`), 'flushed');
      eq(await engine.flushUploads(), 0, 'a second flush has nothing to do');
    } finally {
      await faults(dev, { reset: true });
      close();
    }
  },

  async the_engine_retries_its_outbox(Engine, dev) {
    await clearOutbox();
    const dir = folder('retry');
    await faults(dev, { reset: true, refuseMs: 8000 });
    const { engine, close } = await engineWithPreview(Engine, { storage: { presignEndpoint: `${dev}/presign` } });
    try {
      const err = await rejects(engine.snapshot({ streamType: 'main', path: `${dir}/kept.jpg` }), UPLOAD_FAILED, 'store unreachable');
      eq(engine.pendingUploads(), 1, 'kept in the outbox');
      await faults(dev, { reset: true });
      // No flushUploads(), no online event: the engine tries its outbox again within 30 s.
      const t0 = performance.now();
      const u = await waitForEvent(engine, 'outboxupload', 40000);
      eq(u.key, `${dir}/kept.jpg`, 'the kept image');
      await sameBytes(err.result.blob, await stored(dev, u.key), 'uploaded by the engine itself');
      eq(engine.pendingUploads(), 0, 'the outbox is empty');
      return `uploaded ${Math.round((performance.now() - t0) / 1000)} s after the store came back`;
    } finally {
      await faults(dev, { reset: true });
      close();
    }
  },

  async next_engine_uploads_the_outbox(Engine, dev) {
    await clearOutbox();
    const dir = folder('reload');
    await faults(dev, { reset: true, refuseMs: 8000 });
    const storage = { presignEndpoint: `${dev}/presign` };
    const first = await engineWithPreview(Engine, { storage });
    let blob;
    try {
      const err = await rejects(first.engine.snapshot({ streamType: 'main', path: `${dir}/kept.jpg` }), UPLOAD_FAILED, 'first engine');
      blob = err.result.blob;
    } finally {
      first.close();
    }
    await faults(dev, { reset: true });
    // As after a page reload: a new engine with storage on the same origin.
    const second = new Engine({ storage });
    try {
      const u = await waitForEvent(second, 'outboxupload');
      eq(u.key, `${dir}/kept.jpg`, 'the kept image');
      await sameBytes(blob, await stored(dev, `${dir}/kept.jpg`), 'uploaded by the next engine');
      eq(await second.flushUploads(), 0, 'nothing remains');
    } finally {
      second.destroy();
    }
  },

  async a_full_outbox_says_so(Engine, dev) {
    await clearOutbox();
    const dir = folder('full');
    await faults(dev, { reset: true, refuseMs: 8000 });
    const { engine, close } = await engineWithPreview(Engine, { storage: { presignEndpoint: `${dev}/presign`, outboxMaxBytes: 100 } });
    try {
      const full = waitForEvent(engine, 'outboxfull');
      const err = await rejects(engine.snapshot({ streamType: 'main', path: `${dir}/big.jpg` }), OUTBOX_FULL, 'outbox full');
      const f = await full;
      eq(`${f.key} ${f.outboxMaxBytes}`, `${dir}/big.jpg 100`, 'outboxfull');
      assert(err.result.blob instanceof Blob && err.result.blob.size > 100, 'the Blob is still delivered');
      eq(engine.pendingUploads(), 0, 'nothing kept');
    } finally {
      await faults(dev, { reset: true });
      close();
    }
  },

  async a_task_uploads_every_image(Engine, dev) {
    await clearOutbox();
    await faults(dev, { reset: true });
    const engine = new Engine({ storage: { presignEndpoint: `${dev}/presign` } });
    const cam = canvasSource(320, 240, solid(RED));
    const screen = canvasSource(320, 180, solid(GREEN));
    const images = [];
    engine.addEventListener('periodicsnapshot', (e) => images.push(e.detail));
    const room = folder('room');
    try {
      eq(engine.joinChannel(room, 'teacher'), OK, 'join');
      eq(engine.enableLocalVideo('main', true, cam.track), OK, 'camera');
      eq(engine.startScreenCapture(screen.track), OK, 'screen');
      const task = { AppId: 'app', RoomId: room, TaskId: 'up' };
      const r = await engine.startSnapshot({ ...task, ImageConfig: { Interval: 1 }, StorageConfig: { Type: 'presigned' } });
      eq(r.Result, 'ok', 'start');
      await sleep(2500);
      eq((await engine.stopSnapshot(task)).Result, 'ok', 'stop');
      const streams = new Set(images.map((e) => `${e.UserId}/${e.StreamType}`));
      eq([...streams].sort().join(), 'teacher/0,teacher/1', 'two streams');
      assert(images.length >= 4, `${images.length} images`);
      for (const e of images) {
        eq(e.code, OK, `code (${e.message})`);
        eq(e.url, `${dev}/snapshots/${e.key}`, 'url');
        eq(e.pic_full_url, e.url, 'pic_full_url');
        await sameBytes(e.blob, await stored(dev, e.key), e.key);
      }

      // A task with its own PresignEndpoint (here: POST policies) on an engine without storage.
      const bare = new Engine();
      const own = [];
      bare.addEventListener('periodicsnapshot', (e) => own.push(e.detail));
      eq(bare.joinChannel(room, 'teacher'), OK, 'join 2');
      eq(bare.enableLocalVideo('main', true, cam.track), OK, 'camera 2');
      const t2 = { AppId: 'app', RoomId: room, TaskId: 'own' };
      eq((await bare.startSnapshot({ ...t2, ImageConfig: { Interval: 1, Format: 1 }, StorageConfig: { Type: 'presigned', PresignEndpoint: `${dev}/presign?method=post` } })).Result, 'ok', 'start 2');
      await sleep(1500);
      eq((await bare.stopSnapshot(t2)).Result, 'ok', 'stop 2');
      bare.destroy();
      assert(own.length >= 1, 'images of the second task');
      for (const e of own) {
        eq(e.code, OK, `code (${e.message})`);
        const o = await stored(dev, e.key);
        eq(o.type, 'image/png', 'stored as PNG');
        await sameBytes(e.blob, o, e.key);
      }
      return `${images.length} + ${own.length} images uploaded`;
    } finally {
      cam.stop();
      screen.stop();
      engine.destroy();
    }
  },

  async periodic_uploads_keep_pace(Engine, dev) {
    // A task's own PresignEndpoint (PUT) on an engine without storage, two streams at
    // Interval 1: an image per stream and tick reaches the store while the task runs.
    await clearOutbox();
    await faults(dev, { reset: true });
    const engine = new Engine();
    const cam = canvasSource(320, 240, solid(RED));
    const screen = canvasSource(320, 180, solid(GREEN));
    const images = [];
    engine.addEventListener('periodicsnapshot', (e) => images.push(e.detail));
    const room = folder('pace');
    try {
      eq(engine.joinChannel(room, 'teacher'), OK, 'join');
      eq(engine.enableLocalVideo('main', true, cam.track), OK, 'camera');
      eq(engine.startScreenCapture(screen.track), OK, 'screen');
      const task = { AppId: 'app', RoomId: room, TaskId: 'pace' };
      const storage = { Type: 'presigned', PresignEndpoint: `${dev}/presign` };
      eq((await engine.startSnapshot({ ...task, ImageConfig: { Interval: 1 }, StorageConfig: storage })).Result, 'ok', 'start');
      await sleep(3200);
      const during = images.length;
      eq((await engine.stopSnapshot(task)).Result, 'ok', 'stop');
      for (const stream of ['teacher/0', 'teacher/1']) {
        const n = images.filter((e) => `${e.UserId}/${e.StreamType}` === stream).length;
        assert(n >= 3, `${stream}: ${n} images in 3.2 s at Interval 1`);
      }
      assert(during >= 6, `${during} images had arrived 3.2 s after the start`);
      for (const e of images) {
        eq(e.code, OK, `code (${e.message})`);
        await sameBytes(e.blob, await stored(dev, e.key), e.key);
      }
      return `${during} images in 3.2 s, ${images.length} in all, every one in the store`;
    } finally {
      cam.stop();
      screen.stop();
      engine.destroy();
    }
  },

  async recovered_tasks_name_their_files_bak(Engine) {
    await clearOutbox();
    const cam = canvasSource(160, 120, solid(BLUE));
    const task = { AppId: 'app', RoomId: 'room-r', TaskId: `rec-${Date.now().toString(36)}` };
    /** Starts the task on a new engine and returns its first image. */
    async function run() {
      const engine = new Engine();
      const first = waitForEvent(engine, 'periodicsnapshot');
      eq(engine.joinChannel('room-r', 'me'), OK, 'join');
      eq(engine.enableLocalVideo('main', true, cam.track), OK, 'camera');
      eq((await engine.startSnapshot({ ...task, ImageConfig: { Interval: 1 } })).Result, 'ok', 'start');
      const image = await first;
      return { engine, image, info: engine.getSnapshotTask(task) };
    }
    try {
      const a = await run();
      eq(a.image.recovery, null, 'a first run');
      assert(!a.image.key.startsWith('bak'), a.image.key);
      await sleep(300);
      // The page dies while the task runs: nothing stops it cleanly.
      a.engine.free();
      const b = await run();
      eq(b.image.recovery, 0, 'the first recovery');
      assert(b.image.key.startsWith(`bak0_${task.TaskId}_room-r__uid_s_me__uid_e_video_`), b.image.key);
      eq(b.info.recovery, 0, 'getSnapshotTask says so');
      await sleep(300);
      b.engine.free();
      const c = await run();
      assert(c.image.key.startsWith('bak1_'), `a second recovery: ${c.image.key}`);
      eq((await c.engine.stopSnapshot(task)).Result, 'ok', 'a clean stop');
      c.engine.destroy();
      await sleep(300);
      const d = await run();
      eq(d.image.recovery, null, 'after a clean stop, no recovery');
      assert(!d.image.key.startsWith('bak'), d.image.key);
      d.engine.destroy();
      return `${a.image.key} → ${b.image.key.slice(0, 5)}… → ${c.image.key.slice(0, 5)}…`;
    } finally {
      cam.stop();
    }
  },
};

export async function run(name, Engine, devUrl) {
  assert(devUrl, 'the dev server URL is missing: run the tests with scripts/test.sh (it starts www/serve.mjs --faults)');
  return runScenario(scenarios, name, Engine, devUrl);
}
