// Browser scenarios for uploads through presigned URLs, against the real S3-compatible store
// (s3s-fs) behind the dev server that scripts/test.sh starts with --faults. Each scenario takes
// the SnapshotEngine class and the dev server's origin, and throws on the first wrong observation.

import {
  OK, UPLOAD_FAILED, OUTBOX_FULL, INVALID_PARAM,
  RED, BLUE, GREEN, sleep, solid, canvasSource, bytes, assert, eq, rejects, record,
  clearOutbox, faults, stored, sameBytes, folder, engineWithPreview, waitForEvent, runScenario,
  outboxRecords, framePage, until,
} from './media.js';

/** Flushes `engines` together (every 500 ms) until `done()`; throws after `ms`. */
async function flushUntil(engines, done, ms, what) {
  await until(async () => {
    await Promise.all(engines.map((e) => e.flushUploads()));
    return done();
  }, ms, what);
}

/**
 * This page's engine and another page's (an iframe), both with `storage` and a preview; `take(n,
 * dir)` takes n snapshots in each at once and resolves with their outcomes; `close()` ends both.
 */
async function twoPages(Engine, storage) {
  const page = await framePage();
  const here = await engineWithPreview(Engine, { storage });
  const there = new page.Engine({ storage });
  eq(there.startVideoPreview('main', canvasSource(160, 120, solid(RED), page.win).track), OK, 'preview in the other page');
  const take = (n, dir) => Promise.all([
    ...[...Array(n).keys()].map((i) => settle(here.engine.snapshot({ streamType: 'main', path: `${dir}/here-${i}.jpg` }))),
    ...[...Array(n).keys()].map((i) => settle(there.snapshot({ streamType: 'main', path: `${dir}/there-${i}.jpg` }))),
  ]);
  return { engines: [here.engine, there], take, close() { there.destroy(); page.remove(); here.close(); } };
}

/**
 * The outbox's records (`kept`), and how many of them no event has handed back (`held`): those
 * the engine holds for upload. A record is written before its event is sent, so the events of
 * the records read get a moment to arrive first (a busy machine stretches that gap to tens of
 * ms; a held image gets none).
 */
async function heldForUpload(events) {
  const kept = await outboxRecords();
  await sleep(1500);
  const handedBack = new Set(events.map((e) => e.key));
  return { kept, held: kept.filter((r) => !handedBack.has(r.key)).length };
}

/** The outcome of a snapshot of another realm: its code, and its Blob's bytes. */
const settle = (promise) => promise.then(
  (r) => ({ code: r.code, blob: r.blob }),
  (e) => ({ code: e.code, message: e.message, blob: e.result && e.result.blob }),
);

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
      // What keeping each image cost, the writer's shared transaction included.
      const times = engine.writeAheadTimes;
      eq(times.map((t) => t.size).join(), `${r.size},${e.size}`, 'one write-ahead figure per image, in order');
      for (const t of times) assert(t.pageMs >= 0 && t.totalMs >= t.pageMs, `page ${t.pageMs} ms within ${t.totalMs} ms`);

      // storage.persist (the default) asked the browser to keep the outbox; the answer is its own.
      const persisted = await engine.outboxPersisted;
      assert(persisted === null || typeof persisted === 'boolean', `outboxPersisted: ${persisted}`);
      if (persisted !== null) eq(await navigator.storage.persisted(), persisted, 'what the browser says now');
      const unasked = new Engine({ storage: { presignEndpoint: `${dev}/presign`, persist: false } });
      eq(await unasked.outboxPersisted, null, 'persist: false asks nothing');
      unasked.destroy();
      return `outboxPersisted: ${persisted}`;
    } finally {
      close();
    }
  },

  async a_relative_presign_endpoint(Engine, dev) {
    // The README's `presignEndpoint: "/presign"` resolves against the page's base URL. This page
    // is the test runner's, so a <base href> stands for the dev server's page, as the demo is.
    await clearOutbox();
    await faults(dev, { reset: true });
    const dir = folder('relative');
    const withBase = async (href, make) => {
      const base = document.createElement('base');
      base.href = href;
      document.head.prepend(base);
      try {
        return await make();
      } finally {
        base.remove();
      }
    };
    const { engine, src, close } = await withBase(`${dev}/www/`, () => engineWithPreview(Engine, { storage: { presignEndpoint: '/presign' } }));
    const images = [];
    engine.addEventListener('periodicsnapshot', (e) => images.push(e.detail));
    try {
      const r = await engine.snapshot({ streamType: 'main', path: `${dir}/a.jpg` });
      eq(r.code, OK, `code (${r.message})`);
      eq(r.url, `${dev}/snapshots/${dir}/a.jpg`, 'uploaded through the dev server\'s /presign');
      await sameBytes(r.blob, await stored(dev, `${dir}/a.jpg`), 'JPEG');

      // A task's PresignEndpoint, relative to the page's folder (POST policies).
      eq(engine.joinChannel(dir, 'teacher'), OK, 'join');
      eq(engine.enableLocalVideo('main', true, src.track), OK, 'camera');
      const task = { AppId: 'app', RoomId: dir, TaskId: 'rel' };
      const started = await withBase(`${dev}/www/`, () => engine.startSnapshot({
        ...task, ImageConfig: { Interval: 1, Format: 1 }, StorageConfig: { Type: 'presigned', PresignEndpoint: '../presign?method=post' },
      }));
      eq(started.Result, 'ok', `start: ${JSON.stringify(started)}`);
      await until(async () => images.length > 0, 10000, 'an image of the task');
      eq((await engine.stopSnapshot(task)).Result, 'ok', 'stop');
      const e = images[0];
      eq(e.code, OK, `task image (${e.message})`);
      eq((await stored(dev, e.key)).type, 'image/png', 'stored through the POST policy');
    } finally {
      close();
    }

    // The rule applies to the resolved URL: plain http off this machine is refused, https is not.
    const refusal = await withBase('http://example.com/app/', () => {
      try {
        new Engine({ storage: { presignEndpoint: '/presign' } }).destroy();
        return null;
      } catch (err) {
        return err;
      }
    });
    assert(refusal, 'a relative endpoint on a plain-http page off loopback is refused');
    eq(refusal.code, INVALID_PARAM, `code (${refusal.message})`);
    assert(refusal.message.includes('"http://example.com/presign"'), `names the resolved URL: ${refusal.message}`);
    await withBase('https://app.example.com/rooms/', () => new Engine({ storage: { presignEndpoint: 'presign' } }).destroy());
    const started = await withBase('http://example.com/', () => {
      const bare = new Engine();
      bare.joinChannel(dir, 'u');
      return bare.startSnapshot({ AppId: 'app', RoomId: dir, TaskId: 'x', StorageConfig: { Type: 'presigned', PresignEndpoint: '/p' } })
        .finally(() => bare.destroy());
    });
    const error = started.ResponseMetadata?.Error;
    eq(error?.Code, 'InvalidParameter', `a task's endpoint too: ${JSON.stringify(started)}`);
    assert(error.Message.includes('"http://example.com/p"'), `names the resolved URL: ${error.Message}`);
    return 'relative endpoints resolve against the page and pass the https-or-loopback rule';
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

  async a_closed_page_loses_nothing(Engine, dev) {
    await clearOutbox();
    await faults(dev, { reset: true, hang: true });
    const dir = folder('closed');
    const storage = { presignEndpoint: `${dev}/presign` };
    const page = await framePage();
    let next;
    try {
      const engine = new page.Engine({ storage });
      eq(engine.startVideoPreview('main', canvasSource(160, 120, solid(RED), page.win).track), OK, 'preview in the other page');
      const keys = [`${dir}/a.jpg`, `${dir}/b.jpg`];
      for (const key of keys) engine.snapshot({ streamType: 'main', path: key }).catch(() => {});
      await until(async () => (await faults(dev)).held >= 2, 15000, 'both uploads hanging at the store');
      const kept = await outboxRecords();
      eq(kept.map((r) => r.key).sort().join(), keys.join(), 'both images are in the outbox while they upload');
      page.remove(); // closed mid-upload: no retry, no catch, no unload handler of ours runs
      await faults(dev, { reset: true });
      next = new Engine({ storage });
      const uploaded = [];
      next.addEventListener('outboxupload', (e) => uploaded.push(e.detail.key));
      await flushUntil([next], () => uploaded.length >= 2, 20000, 'the next page to upload both');
      eq(uploaded.sort().join(), keys.join(), 'each image uploaded once');
      for (const r of kept) {
        const o = await stored(dev, r.key);
        eq(o.status, 200, `${r.key} in the store`);
        eq(o.bytes.length, r.bytes.length, `${r.key}: size`);
        assert(o.bytes.every((b, i) => b === r.bytes[i]), `${r.key}: the bytes the closed page captured`);
      }
      eq(await next.flushUploads(), 0, 'the outbox is empty');
      return `${keys.length} images of a closed page uploaded by the next`;
    } finally {
      page.remove();
      next?.destroy();
      await faults(dev, { reset: true });
    }
  },

  async a_flush_leaves_a_live_pages_upload_alone(Engine, dev) {
    // The first upload takes no lock per key: the record names its engine, whose Web Lock
    // other pages see. Alive, its image is not sent again; gone, anyone sends it.
    await clearOutbox();
    await faults(dev, { reset: true, hang: true });
    const key = `${folder('owned')}/a.jpg`;
    const storage = { presignEndpoint: `${dev}/presign` };
    const page = await framePage();
    let here;
    try {
      const there = new page.Engine({ storage });
      eq(there.startVideoPreview('main', canvasSource(160, 120, solid(RED), page.win).track), OK, 'preview in the other page');
      there.snapshot({ streamType: 'main', path: key }).catch(() => {});
      await until(async () => (await faults(dev)).held >= 1, 15000, 'its upload hanging at the store');
      here = new Engine({ storage });
      eq(await here.flushUploads(), 1, 'the image waits in the outbox');
      eq(await here.flushUploads(), 1, 'still');
      await sleep(300);
      eq((await faults(dev)).held, 1, 'one request at the store: this page left the other\'s upload alone');
      const uploaded = [];
      here.addEventListener('outboxupload', (e) => uploaded.push(e.detail.key));
      page.remove();
      await faults(dev, { reset: true });
      await flushUntil([here], () => uploaded.length >= 1, 20000, 'this page to send it once the other is gone');
      eq(uploaded.join(), key, 'sent once, by this page');
      eq((await stored(dev, key)).status, 200, 'in the store');
      return 'left alone while its page lived, sent once it was gone';
    } finally {
      page.remove();
      here?.destroy();
      await faults(dev, { reset: true });
    }
  },

  async two_pages_send_each_image_once(Engine, dev) {
    await clearOutbox();
    await faults(dev, { reset: true, refuseMs: 8000 });
    const dir = folder('twice');
    const pages = await twoPages(Engine, { presignEndpoint: `${dev}/presign` });
    try {
      const taken = await pages.take(3, dir);
      for (const t of taken) eq(t.code, UPLOAD_FAILED, `kept during the outage (${t.message})`);
      eq((await outboxRecords()).length, 6, 'six images in the shared outbox');
      await faults(dev, { reset: true });
      const before = (await faults(dev)).stored;
      const events = [];
      for (const e of pages.engines) e.addEventListener('outboxupload', (ev) => events.push(ev.detail.key));
      // Both pages flush the same six records at once, again and again.
      await flushUntil(pages.engines, async () => (await outboxRecords()).length === 0, 20000, 'an empty outbox');
      await sleep(500);
      const puts = (await faults(dev)).stored - before;
      eq(puts, 6, 'one successful upload per image');
      eq(events.length, 6, 'one outboxupload per image, in either page');
      eq(new Set(events).size, 6, 'no image reported twice');
      return `6 images, ${puts} uploads, ${events.length} events`;
    } finally {
      pages.close();
      await faults(dev, { reset: true });
    }
  },

  async the_byte_limit_holds_across_pages(Engine, dev) {
    await clearOutbox();
    await faults(dev, { reset: true });
    const dir = folder('limit');
    // The size of one image, to set the limit at three and a half of them.
    const probe = await engineWithPreview(Engine, {});
    const size = (await probe.engine.snapshot({ streamType: 'main' })).size;
    probe.close();
    const limit = Math.floor(size * 3.5);
    await faults(dev, { refuseMs: 8000 });
    const pages = await twoPages(Engine, { presignEndpoint: `${dev}/presign`, outboxMaxBytes: limit });
    try {
      const taken = await pages.take(4, dir);
      const kept = await outboxRecords();
      const bytes = kept.reduce((n, r) => n + r.size, 0);
      assert(bytes <= limit, `${bytes} bytes kept under a limit of ${limit}`);
      const full = taken.filter((t) => t.code === OUTBOX_FULL);
      eq(kept.length + full.length, 8, `every image kept or handed back (${taken.map((t) => t.code).join()})`);
      assert(kept.length >= 2, `${kept.length} kept`);
      for (const t of full) assert(t.blob && t.blob.size > 0, 'a Blob with every image not kept');
      return `${kept.length} kept (${bytes} of ${limit} bytes), ${full.length} handed back`;
    } finally {
      pages.close();
      await faults(dev, { reset: true });
    }
  },

  async uploads_go_on_without_web_locks(Engine, dev) {
    // A page whose Web Locks are refused (an opaque origin, say) uploads at once all the same.
    await clearOutbox();
    await faults(dev, { reset: true });
    const dir = folder('nolocks');
    const request = navigator.locks.request;
    navigator.locks.request = () => Promise.reject(new DOMException('refused here', 'SecurityError'));
    const { engine, close } = await engineWithPreview(Engine, { storage: { presignEndpoint: `${dev}/presign` } });
    try {
      const t0 = performance.now();
      const r = await engine.snapshot({ streamType: 'main', path: `${dir}/a.jpg` });
      const ms = performance.now() - t0;
      eq(r.code, OK, `code (${r.message})`);
      assert(ms < 3000, `uploaded in ${Math.round(ms)} ms without Web Locks`);
      await sameBytes(r.blob, await stored(dev, `${dir}/a.jpg`), 'in the store');
      return `uploaded in ${Math.round(ms)} ms`;
    } finally {
      navigator.locks.request = request;
      close();
    }
  },

  async a_hung_store_holds_little_and_loses_nothing(Engine, dev) {
    await clearOutbox();
    await faults(dev, { reset: true, hang: true });
    const room = folder('hung');
    const queue = 6000; // bytes held for upload: about three of these images
    const engine = new Engine({ storage: { presignEndpoint: `${dev}/presign`, uploadQueueBytes: queue } });
    const sources = [canvasSource(160, 120, solid(RED)), canvasSource(160, 120, solid(GREEN)), canvasSource(160, 120, solid(BLUE))];
    const events = [];
    engine.addEventListener('periodicsnapshot', (e) => events.push(e.detail));
    const task = { AppId: 'app', RoomId: room, TaskId: 'hung' };
    try {
      eq(engine.joinChannel(room, 'teacher'), OK, 'join');
      eq(engine.enableLocalVideo('main', true, sources[0].track), OK, 'camera');
      eq(engine.startScreenCapture(sources[1].track), OK, 'screen');
      eq(engine.onUserVideoStart('student', sources[2].track), OK, 'a remote stream');
      eq((await engine.startSnapshot({ ...task, ImageConfig: { Interval: 1 } , StorageConfig: { Type: 'presigned' } })).Result, 'ok', 'start');
      await sleep(4500);
      const during = events.length;
      const heldBack = (await heldForUpload(events)).held;
      const t0 = performance.now();
      const stop = await engine.stopSnapshot(task);
      const stopMs = performance.now() - t0;
      eq(stop.Result, 'ok', 'stop');
      assert(stopMs < 3000, `stopSnapshot took ${Math.round(stopMs)} ms with the store hung (at most 2 s of waiting for uploads)`);
      const kept = await outboxRecords();
      assert(kept.length >= 9, `${kept.length} images kept from 3 streams in 4.5 s`);
      eq(stop.ImagesInOutbox, kept.length, 'the stop counts the task\'s images in the outbox');
      const held = (await faults(dev)).held;
      assert(held <= 4, `${held} uploads hanging at the store (at most 4 at once)`);
      // Past the queue's bytes an image's event comes at once: the engine does not hold it.
      const room4 = Math.ceil(queue / kept[0].size) + 1;
      assert(heldBack <= room4, `${heldBack} images without an event during the hang; the queue holds ${room4}`);
      for (const e of events.slice(0, during)) eq(e.code, UPLOAD_FAILED, `an image of the hang waits in the outbox (${e.message})`);

      await faults(dev, { reset: true });
      await flushUntil([engine], async () => (await outboxRecords()).length === 0, 30000, 'an empty outbox');
      for (const r of kept) {
        const o = await stored(dev, r.key);
        eq(o.status, 200, `${r.key} in the store`);
        assert(o.bytes.length === r.bytes.length && o.bytes.every((b, i) => b === r.bytes[i]), `${r.key}: its bytes`);
      }
      return `${kept.length} images kept during the hang, ${during} events at once, stop in ${Math.round(stopMs)} ms, all stored after`;
    } finally {
      for (const src of sources) src.stop();
      engine.destroy();
      await faults(dev, { reset: true });
    }
  },

  async a_hung_store_holds_at_most_64_images(Engine, dev) {
    await clearOutbox();
    await faults(dev, { reset: true, hang: true });
    const room = folder('hung64');
    const engine = new Engine({ storage: { presignEndpoint: `${dev}/presign` } }); // 16 MiB: the bytes never bind
    const sources = Array.from({ length: 17 }, (_, i) => canvasSource(32, 24, solid([i * 15, 255 - i * 15, 90])));
    const events = [];
    engine.addEventListener('periodicsnapshot', (e) => events.push(e.detail));
    const task = { AppId: 'app', RoomId: room, TaskId: 'hung64' };
    let next;
    try {
      eq(engine.joinChannel(room, 'teacher'), OK, 'join');
      eq(engine.enableLocalVideo('main', true, sources[0].track), OK, 'camera');
      eq(engine.startScreenCapture(sources[1].track), OK, 'screen');
      for (let i = 2; i < 17; i++) eq(engine.onUserVideoStart(`student${i}`, sources[i].track), OK, `remote ${i}`);
      eq((await engine.startSnapshot({ ...task, ImageConfig: { Interval: 1 }, StorageConfig: { Type: 'presigned' } })).Result, 'ok', 'start');
      // Each waiting image costs wasm memory whatever its size: past 64 its event comes at once.
      await until(async () => events.length >= 17, 20000, 'events of images past the queue');
      const { kept, held: heldBack } = await heldForUpload(events);
      assert(kept.length >= 64 + 17, `${kept.length} images kept from 17 streams`);
      assert(heldBack <= 64, `${heldBack} images without an event while the store hangs (at most 64 held)`);
      assert(events.every((e) => e.code === UPLOAD_FAILED && /at most 64/.test(e.message)), `every event so far says why: ${events[0]?.message}`);
      eq((await engine.stopSnapshot(task)).Result, 'ok', 'stop');
      // The next engine flushes the backlog into the store that still hangs: one image per
      // upload slot at a time, each under its Web Lock, not every image at once.
      engine.destroy();
      next = new Engine({ storage: { presignEndpoint: `${dev}/presign` } });
      await next.ready;
      await sleep(1500);
      const backlog = (await outboxRecords()).length;
      const locked = (await navigator.locks.query()).held.filter((l) => l.name.startsWith('tracksnap-outbox:')).length;
      assert(locked >= 1 && locked <= 4, `${locked} images of ${backlog} locked by a flush into a hung store (at most 4 slots)`);
      await faults(dev, { reset: true });
      await flushUntil([next], async () => (await outboxRecords()).length === 0, 60000, 'an empty outbox');
      const all = await outboxRecords();
      eq(all.length, 0, 'every image stored once the store is back');
      return `${kept.length} kept, ${heldBack} held for upload, ${events.length} events at once; a flush of ${backlog} locks ${locked}`;
    } finally {
      for (const src of sources) src.stop();
      engine.destroy();
      next?.destroy();
      await faults(dev, { reset: true });
    }
  },

  async a_permanent_refusal_is_reported_and_kept(Engine, dev) {
    await clearOutbox();
    const dir = folder('refused');
    await faults(dev, { reset: true, refuseKey: dir });
    const { engine, close } = await engineWithPreview(Engine, { storage: { presignEndpoint: `${dev}/presign` } });
    const stuck = [];
    engine.addEventListener('outboxstuck', (e) => stuck.push(e.detail));
    const uploaded = [];
    engine.addEventListener('outboxupload', (e) => uploaded.push(e.detail));
    try {
      const key = `${dir}/refused.jpg`;
      const err = await rejects(engine.snapshot({ streamType: 'main', path: key }), UPLOAD_FAILED, 'HTTP 413');
      assert(/413/.test(err.message), err.message);
      eq(stuck.length, 0, 'one refusal is not stuck yet');
      await engine.flushUploads();
      await engine.flushUploads();
      eq(stuck.length, 1, 'stuck after three refused rounds');
      eq(JSON.stringify([stuck[0].key, stuck[0].attempts, stuck[0].lastStatus]), JSON.stringify([key, 3, 413]), 'outboxstuck');
      assert(/413/.test(stuck[0].lastError), stuck[0].lastError);
      let [entry] = await engine.outboxEntries();
      eq(JSON.stringify([entry.key, entry.stuck, entry.attempts, entry.contentType, entry.size]), JSON.stringify([key, true, 3, 'image/jpeg', err.result.size]), 'outboxEntries');
      assert(entry.createdAt <= Date.now() && entry.createdAt > Date.now() - 60000, 'createdAt');
      eq(entry.meta.path, key, 'the metadata of its event');
      await sameBytes(err.result.blob, { bytes: new Uint8Array(await (await engine.readOutboxEntry(key)).arrayBuffer()) }, 'readOutboxEntry');
      eq(await engine.readOutboxEntry('no/such.jpg'), null, 'an unknown key reads null');
      await engine.flushUploads();
      eq(stuck.length, 1, 'reported once');
      [entry] = await engine.outboxEntries();
      eq(entry.attempts, 4, 'flushUploads() tries a stuck image too');

      await faults(dev, { reset: true });
      eq(await engine.flushUploads(), 0, 'sent once the store accepts it');
      eq(uploaded.map((u) => u.key).join(), key, 'one outboxupload');
      await sameBytes(err.result.blob, await stored(dev, key), 'in the store');

      await faults(dev, { refuseKey: dir });
      const other = `${dir}/removed.jpg`;
      await rejects(engine.snapshot({ streamType: 'main', path: other }), UPLOAD_FAILED, 'refused again');
      eq(await engine.removeOutboxEntry(other), true, 'removed');
      eq(await engine.removeOutboxEntry(other), false, 'removed once');
      eq((await engine.outboxEntries()).length, 0, 'the outbox is empty');
      await rejects(engine.readOutboxEntry(''), INVALID_PARAM, 'an empty key');
      return 'stuck after 3 refusals, read, sent, removed';
    } finally {
      await faults(dev, { reset: true });
      close();
    }
  },

  async callbacks_time_out_and_destroy_aborts_them(Engine, dev) {
    await clearOutbox();
    const hung = async () => (await fetch(`${dev}/callback/hang`)).json();
    const before = await hung();
    const engine = new Engine();
    const cam = canvasSource(160, 120, solid(RED));
    const room = folder('cbhang');
    const task = { AppId: 'app', RoomId: room, TaskId: 'cb' };
    try {
      eq(engine.joinChannel(room, 'teacher'), OK, 'join');
      eq(engine.enableLocalVideo('main', true, cam.track), OK, 'camera');
      eq((await engine.startSnapshot({ ...task, ImageConfig: { Interval: 1 }, CallbackUrl: `${dev}/callback/hang` })).Result, 'ok', 'start');
      await until(async () => (await hung()).held > before.held, 5000, 'a callback POST held by the server');
      const t0 = performance.now();
      await until(async () => (await hung()).closed > before.closed, 14000, 'a held POST given up');
      const gaveUp = performance.now() - t0;
      eq((await engine.stopSnapshot(task)).Result, 'ok', 'stop');
      assert((await hung()).held > before.held, 'POSTs still waiting before destroy()');
      engine.destroy();
      await until(async () => (await hung()).held === before.held, 3000, 'destroy() to abort every POST');
      return `a POST given up ${Math.round(gaveUp / 1000)} s after it was seen held; destroy() aborted the rest`;
    } finally {
      cam.stop();
      engine.destroy();
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

  async a_task_keeps_each_streams_latest(Engine, dev) {
    // StorageConfig.LatestKey: each uploaded image is written again to one key per stream,
    // which ends up holding the newest image; a refused copy is reported and not kept.
    await clearOutbox();
    await faults(dev, { reset: true });
    const engine = new Engine({ storage: { presignEndpoint: `${dev}/presign` } });
    // A new shade every 200 ms: no two ticks' images have the same bytes.
    const cam = canvasSource(320, 240, (ctx, w, h) => {
      ctx.fillStyle = `rgb(${Math.floor(Date.now() / 200) % 256}, 80, 160)`;
      ctx.fillRect(0, 0, w, h);
    });
    const images = [];
    const copies = [];
    engine.addEventListener('periodicsnapshot', (e) => images.push(e.detail));
    engine.addEventListener('latestupload', (e) => copies.push(e.detail));
    const room = folder('latest');
    const key = `${room}/teacher_video/latest.jpg`;
    const storage = { Type: 'presigned', LatestKey: '{RoomId}/{UserId}_{video}/latest.jpg' };
    try {
      eq(engine.joinChannel(room, 'teacher'), OK, 'join');
      eq(engine.enableLocalVideo('main', true, cam.track), OK, 'camera');
      const task = { AppId: 'app', RoomId: room, TaskId: 'latest' };
      eq((await engine.startSnapshot({ ...task, ImageConfig: { Interval: 1 }, StorageConfig: storage })).Result, 'ok', 'start');
      await until(() => images.length >= 3, 10000, () => `3 images (${images.length})`);
      eq((await engine.stopSnapshot(task)).Result, 'ok', 'stop');
      for (const e of images) {
        eq(e.code, OK, `code (${e.message})`);
        eq(e.latestKey, key, 'the rendered LatestKey');
      }
      const newest = images.at(-1);
      await until(() => copies.at(-1)?.imageKey === newest.key, 10000, () => `the newest image's copy (${JSON.stringify(copies.at(-1))})`);
      for (const c of copies) eq(`${c.key} ${c.url}`, `${key} ${dev}/snapshots/${key}`, 'copy written');
      assert(copies.length <= images.length, `${copies.length} copies of ${images.length} images`);
      await sameBytes(newest.blob, await stored(dev, key), 'the latest object is the newest image');
      const older = await bytes(images[0].blob, images[0].size);
      const now = await bytes(newest.blob, newest.size);
      assert(older.length !== now.length || older.some((b, i) => b !== now[i]), 'the images differ, so the bytes tell which one was kept');

      // Copies the store refuses: reported with a code, never in the outbox; images unharmed.
      await faults(dev, { refuseKey: 'latest.jpg' });
      const refused = { AppId: 'app', RoomId: room, TaskId: 'refused' };
      const before = { images: images.length, copies: copies.length };
      eq((await engine.startSnapshot({ ...refused, ImageConfig: { Interval: 1 }, StorageConfig: storage })).Result, 'ok', 'start 2');
      await until(() => images.length >= before.images + 2, 10000, 'two more images');
      eq((await engine.stopSnapshot(refused)).Result, 'ok', 'stop 2');
      await until(() => copies.length > before.copies, 10000, 'a refused copy reported');
      const failed = copies.slice(before.copies);
      for (const c of failed) eq(`${c.key} ${c.code} ${c.url}`, `${key} ${UPLOAD_FAILED} undefined`, `refused copy (${c.message})`);
      for (const e of images.slice(before.images)) eq(e.code, OK, `image code (${e.message})`);
      eq(engine.pendingUploads(), 0, 'no copy waits in the outbox');
      eq((await outboxRecords()).length, 0, 'the outbox is empty');
      return `${images.length} images, ${copies.length} copies (${failed.length} refused)`;
    } finally {
      await faults(dev, { reset: true });
      cam.stop();
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

  async an_outbox_that_never_answers_loses_nothing(Engine, dev) {
    // IndexedDB gives no answer (another connection's transaction holds the outbox): each image
    // waits for the outbox at most 10 s, then uploads without being kept; the writes that got
    // no answer are aborted, not committed once IndexedDB answers again.
    return withUnansweringOutbox(Engine, dev, 'idbhung', async ({ engine, dir, kept, release }) => {
      const t0 = performance.now();
      const keys = [0, 1, 2].map((i) => `${dir}/${i}.jpg`);
      const results = await Promise.all(keys.map((path) => engine.snapshot({ streamType: 'main', path })));
      const ms = performance.now() - t0;
      release();
      for (const [i, r] of results.entries()) {
        eq(r.code, OK, `uploaded though the outbox did not answer (${r.message})`);
        await sameBytes(r.blob, await stored(dev, keys[i]), keys[i]);
      }
      // One wait of 10 s for all three: the writes queued behind the first get its answer.
      assert(ms > 9000 && ms < 15000, `the images waited ${Math.round(ms)} ms for the outbox (10 s, then uploaded)`);
      eq(engine.writeAheadTimes.length, kept, 'none of them kept');
      await sleep(1000);
      eq((await outboxRecords()).length, 0, 'no write committed after IndexedDB answered again');
      const after = await engine.snapshot({ streamType: 'main', path: `${dir}/after.jpg` });
      eq(after.code, OK, `the next image (${after.message})`);
      eq(engine.writeAheadTimes.length, kept + 1, 'kept again once IndexedDB answers');
      return `3 images uploaded after ${Math.round(ms)} ms without the outbox; the next kept`;
    });
  },

  async an_outbox_that_never_answers_holds_at_most_64_images(Engine, dev) {
    // While IndexedDB gives no answer, at most one batch (32) and 32 waiting images are held for
    // the outbox; the rest upload at once without being kept, so memory stays bounded, and those
    // held fit the uploader's queue when IndexedDB's 10 s are up.
    return withUnansweringOutbox(Engine, dev, 'idbbound', async ({ engine, dir, release }) => {
      const n = 120;
      const done = [];
      const calls = [];
      for (let i = 0; i < n; i++) {
        // Each snapshot waits for a fresh frame of the 30 fps canvas: one call per 50 ms.
        const called = performance.now();
        const ended = (r) => {
          done.push(performance.now() - called);
          return r;
        };
        calls.push(engine.snapshot({ streamType: 'main', path: `${dir}/${i}.jpg` }).then(ended, (e) => ended(e.result ?? e)));
        await sleep(50);
      }
      const results = await Promise.all(calls);
      release();
      const codes = results.filter((r) => r?.code !== OK).map((r) => `${r?.code} ${r?.message}`);
      eq(codes.length, 0, `every image uploaded (${codes.slice(0, 3).join('; ')})`);
      // An image held for the outbox waits until the first batch's 10 s are up (the last held
      // one arrives ~3 s in); one refused by the writer is uploaded at once.
      const early = done.filter((ms) => ms < 5000).length;
      assert(n - early <= 64, `${n - early} of ${n} images waited for the outbox (at most 32 + 32)`);
      const { stored: puts } = await faults(dev);
      assert(puts >= n + 1, `${puts} uploads stored`);
      return `${n - early} of ${n} images waited for the outbox; ${early} uploaded at once`;
    });
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

/**
 * An engine with storage that has kept one image (`kept`: its writeAheadTimes then), with the
 * outbox no longer answering (see holdOutbox) while `body({ engine, dir, kept, release })` runs.
 */
async function withUnansweringOutbox(Engine, dev, name, body) {
  await clearOutbox();
  await faults(dev, { reset: true });
  const dir = folder(name);
  const { engine, close } = await engineWithPreview(Engine, { storage: { presignEndpoint: `${dev}/presign` } });
  let release = null;
  try {
    eq((await engine.snapshot({ streamType: 'main', path: `${dir}/first.jpg` })).code, OK, 'a first image, kept then uploaded');
    const kept = engine.writeAheadTimes.length;
    release = await holdOutbox();
    return await body({ engine, dir, kept, release });
  } finally {
    release?.();
    close();
  }
}

/**
 * Holds every store of the outbox's database in a read-write transaction of another connection
 * until the returned function is called: the engine's IndexedDB requests get no answer meanwhile.
 * The hold runs in a Worker (it keeps a request pending at all times, which would load the
 * page's thread). Resolves once the hold is active.
 */
function holdOutbox() {
  const source = `
    const open = indexedDB.open('tracksnap');
    open.onerror = () => postMessage('error: ' + open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction([...db.objectStoreNames], 'readwrite');
      const store = tx.objectStore(db.objectStoreNames[0]);
      let held = true;
      onmessage = () => { held = false; };
      // A transaction commits once no request is pending: one stays pending until released.
      const spin = () => { if (held) store.count().onsuccess = spin; };
      store.count().onsuccess = () => { spin(); postMessage('held'); };
      tx.oncomplete = tx.onabort = () => { db.close(); postMessage('released'); };
    };`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the outbox could not be held in 5 s')), 5000);
    worker.onmessage = (e) => {
      if (e.data !== 'held') return reject(new Error(String(e.data)));
      clearTimeout(timer);
      resolve(() => {
        worker.postMessage('release');
        // Terminated a moment later: its transaction ends and its connection closes.
        setTimeout(() => { worker.terminate(); URL.revokeObjectURL(url); }, 500);
      });
    };
  });
}

export async function run(name, Engine, devUrl) {
  assert(devUrl, 'the dev server URL is missing: run the tests with scripts/test.sh (it starts www/serve.mjs --faults)');
  return runScenario(scenarios, name, Engine, devUrl);
}
