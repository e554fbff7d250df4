// Browser scenarios for periodic snapshot tasks (startSnapshot / updateSnapshot / stopSnapshot),
// against the public JS API. Each takes the SnapshotEngine class and the dev server's origin
// (for CallbackUrl) and throws on the first wrong observation.

import {
  RED, GREEN, BLUE, YELLOW, sleep, solid, quadrants, canvasSource, loopback, decode, bytes, assert, eq,
  near, runScenario, poll, until, marked, quarter, opposite,
} from './media.js';

const APP = 'app-1';
const ROOM = 'room-1';
const ME = 'teacher';
const PEER = '7';
const ALREADY = 'The task has been started. Please do not call the startup task interface repeatedly';

/** A joined room: local main (red), local screen share (blue), remote user 7's main (green). */
async function room(engine) {
  const cam = canvasSource(320, 240, solid(RED));
  const screen = canvasSource(320, 180, solid(BLUE));
  const peerCam = canvasSource(320, 240, solid(GREEN));
  const remote = await loopback(peerCam.track);
  eq(engine.joinChannel(ROOM, ME), 0, 'join');
  eq(engine.enableLocalVideo('main', true, cam.track), 0, 'camera');
  eq(engine.startScreenCapture(screen.track), 0, 'screen');
  eq(engine.onUserVideoStart(PEER, remote.track), 0, 'remote user');
  return {
    remote,
    colours: { [`${ME}/0`]: RED, [`${ME}/1`]: BLUE, [`${PEER}/0`]: GREEN },
    close() {
      remote.close();
      cam.stop();
      screen.stop();
      peerCam.stop();
    },
  };
}

/** Every task event of `engine`, in arrival order. */
function recordTasks(engine) {
  const log = [];
  for (const type of ['periodicsnapshot', 'snapshottaskstop', 'snapshotstreamstate']) {
    engine.addEventListener(type, (e) => log.push({ type, at: Date.now(), ...e.detail }));
  }
  return {
    log,
    images: (taskId) => log.filter((e) => e.type === 'periodicsnapshot' && (!taskId || e.TaskId === taskId)),
    stops: (taskId) => log.filter((e) => e.type === 'snapshottaskstop' && (!taskId || e.TaskId === taskId)),
    states: () => log.filter((e) => e.type === 'snapshotstreamstate'),
    async waitFor(pred, ms, what) {
      await until(() => log.some(pred), ms, what, 20);
      return log.find(pred);
    },
  };
}

const task = (TaskId, extra = {}) => ({ AppId: APP, RoomId: ROOM, TaskId, ...extra });
const streamOf = (e) => `${e.UserId}/${e.StreamType}`;

function okResponse(r, what) {
  eq(r.ResponseMetadata.Error, undefined, `${what}: no error (${JSON.stringify(r.ResponseMetadata.Error)})`);
  eq(r.Result, 'ok', `${what}: Result`);
  eq(r.ResponseMetadata.Version, '2023-11-01', 'Version');
  assert(typeof r.ResponseMetadata.RequestId === 'string' && r.ResponseMetadata.RequestId.length > 0, 'RequestId');
  return r;
}

function errorResponse(r, code, mentions, what) {
  eq(r.Result, '', `${what}: Result`);
  const e = r.ResponseMetadata.Error;
  assert(e, `${what}: an Error`);
  eq(e.Code, code, `${what}: Error.Code (${e.Message})`);
  assert(e.Message.includes(mentions), `${what}: "${e.Message}" names ${mentions}`);
}

/** Images expected from a task at `intervalS` that ran `ms`: a tick at 0 and one per interval. */
const expected = (ms, intervalS = 1) => Math.floor(ms / (intervalS * 1000)) + 1;

function within(got, want, tol, what) {
  assert(Math.abs(got - want) <= tol, `${what}: ${got} images, expected ${want} ±${tol}`);
}

/**
 * A task with ChangeThreshold 5 over a static canvas keeps its first image and counts the
 * other ticks as unchanged; a new colour is a new image; a task without a threshold beside it
 * keeps every tick.
 */
async function changeThreshold(Engine, options) {
  const engine = new Engine(options);
  const cam = canvasSource(320, 240, solid(RED));
  const rec = recordTasks(engine);
  try {
    eq(engine.joinChannel(ROOM, ME), 0, 'join');
    eq(engine.enableLocalVideo('main', true, cam.track), 0, 'camera');
    const mine = { StreamList: [{ UserId: ME, StreamType: 0 }] };
    okResponse(await engine.startSnapshot(task('chg', { TargetStreams: mine, ImageConfig: { Interval: 1, ChangeThreshold: 5 } })), 'start');
    // The same stream without a threshold: every tick is an image.
    okResponse(await engine.startSnapshot(task('every', { TargetStreams: mine, ImageConfig: { Interval: 1 } })), 'start every');
    await sleep(4200);
    const info = engine.getSnapshotTask(task('chg'));
    const kept = rec.images('chg');
    eq(kept.length, 1, 'a static picture: the first image only');
    eq(info.ImageConfig.ChangeThreshold, 5, 'the threshold is reported');
    eq(`${info.images}/${info.failed}`, '1/0', 'images/failed');
    assert(info.unchanged >= 2, `unchanged ticks are counted: ${info.unchanged}`);
    eq(kept[0].code, 0, `code (${kept[0].message})`);
    near((await decode(kept[0].blob)).at(160, 120), RED, 16, 'the first image');
    const every = engine.getSnapshotTask(task('every'));
    eq(every.unchanged, 0, 'ChangeThreshold 0: no unchanged tick');
    assert(every.images >= 4, `ChangeThreshold 0: every tick is an image (${every.images})`);

    const unchangedBefore = engine.getSnapshotTask(task('chg')).unchanged;
    cam.set(solid(BLUE));
    const second = await rec.waitFor((e) => e.type === 'periodicsnapshot' && e.TaskId === 'chg' && e !== kept[0], 2500, 'an image of the new picture');
    eq(second.code, 0, `code (${second.message})`);
    near((await decode(second.blob)).at(160, 120), BLUE, 16, 'the new picture');
    await sleep(2200);
    const after = engine.getSnapshotTask(task('chg'));
    eq(after.images, 2, 'one more image, then none while it stays');
    assert(after.unchanged >= unchangedBefore + 1, `unchanged ${unchangedBefore} → ${after.unchanged}`);
    okResponse(await engine.stopSnapshot(task('chg')), 'stop');
    okResponse(await engine.stopSnapshot(task('every')), 'stop every');
    eq(rec.images('chg').length, 2, 'events: the two kept images only');
    return `${engine.encoderPlacement}: kept 2, unchanged ${after.unchanged}; without a threshold ${every.images} images`;
  } finally {
    cam.stop();
    engine.destroy();
  }
}

export const scenarios = {
  async task_over_three_streams(Engine) {
    const engine = new Engine();
    const r = await room(engine);
    const rec = recordTasks(engine);
    try {
      const t0 = performance.now();
      const started = okResponse(await engine.startSnapshot(task('t1', { ImageConfig: { Interval: 1 } })), 'start');
      eq(started.ResponseMetadata.Action, 'StartSnapshot', 'Action');
      await sleep(4500);
      const ran = performance.now() - t0;
      const stopped = okResponse(await engine.stopSnapshot(task('t1')), 'stop');
      eq(stopped.ResponseMetadata.Action, 'StopSnapshot', 'Action');
      assert(stopped.ResponseMetadata.RequestId !== started.ResponseMetadata.RequestId, 'RequestIds differ');

      const images = rec.images('t1');
      const byStream = {};
      for (const e of images) (byStream[streamOf(e)] ??= []).push(e);
      eq(Object.keys(byStream).sort().join(), Object.keys(r.colours).sort().join(), 'one series per stream');
      const want = expected(ran);
      const counts = {};
      for (const [stream, list] of Object.entries(byStream)) {
        counts[stream] = list.length;
        within(list.length, want, 1, stream);
        for (const e of list) {
          eq(e.code, 0, `${stream} code (${e.message})`);
          const img = await decode(e.blob);
          eq(`${img.width}x${img.height}`, `${e.width}x${e.height}`, 'decoded size');
          near(img.at(img.width >> 1, img.height >> 1), r.colours[stream], 16, `${stream} colour`);
        }
      }
      const main = byStream[`${ME}/0`][0];
      eq(main.event_type, 200, 'event_type');
      eq(main.stream_id, `${ROOM}_${ME}_main`, 'stream_id');
      eq(main.channel_id, main.stream_id, 'channel_id');
      eq(main.file_size, main.blob.size, 'file_size');
      eq(main.size, main.blob.size, 'size');
      eq(main.pic_url, `/${main.key}`, 'pic_url');
      eq(main.url, null, 'no upload: url');
      eq(main.pic_full_url, null, 'no upload: pic_full_url');
      eq(main.create_time, Math.floor(main.timestamp / 1000), 'create_time');
      eq(main.BusinessId, null, 'BusinessId');
      eq(main.Index, null, 'Index');
      eq(main.format, 'jpeg', 'format');
      eq(`${main.AppId}/${main.RoomId}/${main.TaskId}`, `${APP}/${ROOM}/t1`, 'task key');
      assert(/^t1_room-1__uid_s_teacher__uid_e_video_\d{17}\.jpg$/.test(main.key), main.key);
      const sub = byStream[`${ME}/1`][0];
      assert(/^t1_room-1__uid_s_teacher__uid_e_subvideo_\d{17}\.jpg$/.test(sub.key), sub.key);
      eq(new Set(images.map((e) => e.key)).size, images.length, 'every key differs');

      const info = engine.getSnapshotTask(task('t1'));
      eq(info.state, 'stopped', 'state');
      eq(info.stopReason, 'stopped', 'stopReason');
      eq(info.images, images.length, 'images counter');
      eq(info.failed, 0, 'failed');
      eq(JSON.stringify(info.ImageConfig), '{"Format":0,"Width":0,"Height":0,"Interval":1,"Rotate":0,"ChangeThreshold":0,"Watermark":null}', 'ImageConfig');
      eq(info.unchanged, 0, 'ChangeThreshold 0 keeps every tick');
      eq(info.MaxIdleTime, 180, 'MaxIdleTime default');
      eq(JSON.stringify(info.TargetStreams), '{"StreamList":[]}', 'everyone');
      const stops = rec.stops('t1');
      eq(stops.length, 1, 'one stop event');
      eq(stops[0].reason, 'stopped', 'reason');
      eq(rec.log.at(-1).type, 'snapshottaskstop', 'the stop event is the last');
      return `${Math.round(ran)} ms: ${JSON.stringify(counts)}, skipped ${info.skipped}`;
    } finally {
      r.close();
      engine.destroy();
    }
  },

  async change_threshold_keeps_only_changed_pictures(Engine) {
    return changeThreshold(Engine, {});
  },

  /** The same with the encoder on the page's thread: the comparison runs there. */
  async change_threshold_on_the_page(Engine) {
    return changeThreshold(Engine, { worker: false });
  },

  async stop_and_resume_one_stream(Engine) {
    const engine = new Engine();
    const r = await room(engine);
    const rec = recordTasks(engine);
    try {
      const t0 = performance.now();
      const targets = { StreamList: [{ UserId: ME, StreamType: 0, Index: 0 }, { UserId: PEER, Index: 1 }] };
      okResponse(await engine.startSnapshot(task('sr', { TargetStreams: targets, ImageConfig: { Interval: 1 } })), 'start');
      await sleep(2200);
      const stoppedAt = Date.now();
      eq(engine.onUserVideoStop(PEER), 0, 'remote stops');
      await sleep(2200);
      const resumedAt = Date.now();
      eq(engine.onUserVideoStart(PEER, r.remote.track), 0, 'remote resumes');
      await sleep(2200);
      const ran = performance.now() - t0;
      okResponse(await engine.stopSnapshot(task('sr')), 'stop');

      const states = rec.states().map((e) => `${e.TaskId}:${e.UserId}/${e.StreamType}:${e.state}`);
      eq(states.join(), `sr:${PEER}/0:stopped,sr:${PEER}/0:resumed`, 'stream state events');
      const local = rec.images('sr').filter((e) => e.UserId === ME);
      const remote = rec.images('sr').filter((e) => e.UserId === PEER);
      within(local.length, expected(ran), 1, 'the local stream is unaffected');
      assert(local.every((e) => e.Index === 0 && e.StreamType === 0), 'local Index 0');
      assert(remote.every((e) => e.Index === 1), 'remote Index 1');
      const during = remote.filter((e) => e.timestamp > stoppedAt + 300 && e.timestamp < resumedAt);
      eq(during.length, 0, 'no remote image while stopped');
      assert(remote.filter((e) => e.timestamp <= stoppedAt + 300).length >= 2, 'remote images before the stop');
      assert(remote.filter((e) => e.timestamp >= resumedAt).length >= 1, 'remote images after resuming');
      const info = engine.getSnapshotTask(task('sr'));
      assert(info.skipped >= 1, `ticks skipped while stopped: ${info.skipped}`);
      eq(info.TargetStreams.StreamList.map((s) => `${s.Index}:${s.UserId}/${s.StreamType}`).join(), `0:${ME}/0,1:${PEER}/0`, 'targets');
      return `local ${local.length}, remote ${remote.length}, skipped ${info.skipped}`;
    } finally {
      r.close();
      engine.destroy();
    }
  },

  async idle_auto_stop(Engine) {
    const engine = new Engine();
    const r = await room(engine);
    const rec = recordTasks(engine);
    try {
      const t0 = performance.now();
      const ghost = { StreamList: [{ UserId: 'nobody' }] };
      okResponse(await engine.startSnapshot(task('idle1', { TargetStreams: ghost, MaxIdleTime: 1 })), 'start');
      const stop = await rec.waitFor((e) => e.type === 'snapshottaskstop' && e.TaskId === 'idle1', 4000, 'the idle stop');
      const waited = performance.now() - t0;
      eq(stop.reason, 'idle', 'reason');
      assert(waited >= 1000 && waited < 3000, `stopped after ${Math.round(waited)} ms of idleness`);
      const info = engine.getSnapshotTask(task('idle1'));
      eq(`${info.state}/${info.stopReason}/${info.images}`, 'stopped/idle/0', 'task info');
      errorResponse(await engine.stopSnapshot(task('idle1')), 'TaskNotFound', 'idle1', 'stop after idle');

      // A task whose only stream stops goes idle too.
      const mine = { StreamList: [{ UserId: ME, StreamType: 0 }] };
      okResponse(await engine.startSnapshot(task('idle2', { TargetStreams: mine, MaxIdleTime: 1, ImageConfig: { Interval: 1 } })), 'start 2');
      await sleep(500);
      eq(engine.enableLocalVideo('main', false), 0, 'camera off');
      const t1 = performance.now();
      const stop2 = await rec.waitFor((e) => e.type === 'snapshottaskstop' && e.TaskId === 'idle2', 4000, 'the second idle stop');
      eq(stop2.reason, 'idle', 'reason 2');
      const after = performance.now() - t1;
      assert(after >= 900 && after < 3000, `idle stop ${Math.round(after)} ms after the stream stopped`);
      eq(rec.states().filter((e) => e.TaskId === 'idle2').map((e) => e.state).join(), 'stopped', 'state event');
      assert(rec.images('idle2').length >= 1, 'it captured while the camera was on');
      return `idle stop after ${Math.round(waited)} ms and ${Math.round(after)} ms`;
    } finally {
      r.close();
      engine.destroy();
    }
  },

  async repeated_start(Engine) {
    const engine = new Engine();
    const r = await room(engine);
    const rec = recordTasks(engine);
    try {
      const req = task('rep', { ImageConfig: { Interval: 1 }, TargetStreams: { StreamList: [{ UserId: ME }] } });
      const t0 = performance.now();
      okResponse(await engine.startSnapshot(req), 'first start');
      const again = await engine.startSnapshot(req);
      eq(again.Result, ALREADY, 'the repeated start says so');
      eq(again.ResponseMetadata.Error, undefined, 'and is no error');
      const otherApp = { ...req, AppId: 'app-2' };
      okResponse(await engine.startSnapshot(otherApp), 'the same TaskId in another AppId is another task');
      await sleep(2500);
      const ran = performance.now() - t0;
      okResponse(await engine.stopSnapshot(req), 'stop');
      okResponse(await engine.stopSnapshot(otherApp), 'stop other');
      const mine = rec.images('rep').filter((e) => e.AppId === APP);
      const theirs = rec.images('rep').filter((e) => e.AppId === 'app-2');
      within(mine.length, expected(ran), 1, 'one task despite two starts');
      within(theirs.length, expected(ran), 1, 'the other AppId');
    } finally {
      r.close();
      engine.destroy();
    }
  },

  async update_interval(Engine) {
    const engine = new Engine();
    const r = await room(engine);
    const rec = recordTasks(engine);
    try {
      const req = task('upd', { ImageConfig: { Interval: 1 }, TargetStreams: { StreamList: [{ UserId: ME }] } });
      okResponse(await engine.startSnapshot(req), 'start');
      await sleep(3100);
      const before = rec.images('upd').length;
      within(before, 4, 1, 'at 1 s');
      const updated = okResponse(await engine.updateSnapshot(task('upd', { ImageConfig: { Interval: 2 } })), 'update');
      eq(updated.ResponseMetadata.Action, 'UpdateSnapshot', 'Action');
      eq(engine.getSnapshotTask(task('upd')).ImageConfig.Interval, 2, 'the new interval');
      const updatedAt = Date.now();
      await sleep(4200);
      okResponse(await engine.stopSnapshot(task('upd')), 'stop');
      const after = rec.images('upd').filter((e) => e.timestamp > updatedAt);
      within(after.length, 2, 1, 'at 2 s');
      const gaps = after.slice(1).map((e, i) => e.timestamp - after[i].timestamp);
      assert(gaps.every((g) => g > 1700), `gaps after the update: ${gaps}`);

      errorResponse(await engine.updateSnapshot(task('nope', { ImageConfig: { Interval: 2 } })), 'TaskNotFound', 'nope', 'unknown task');
      okResponse(await engine.startSnapshot(req), 'start again');
      errorResponse(await engine.updateSnapshot(task('upd', { ImageConfig: { Interval: 0 } })), 'InvalidParameter', 'ImageConfig.Interval', 'interval 0');
      errorResponse(await engine.updateSnapshot(task('upd', { ImageConfig: { Format: 1 } })), 'InvalidParameter', 'ImageConfig.Format', 'format');
      errorResponse(await engine.updateSnapshot(task('upd', { ImageConfig: { ChangeThreshold: 5 } })), 'InvalidParameter', 'ImageConfig.ChangeThreshold', 'change threshold');
      okResponse(await engine.updateSnapshot(task('upd', { TargetStreams: { StreamList: [{ UserId: PEER }] }, MaxIdleTime: 30 })), 'new targets');
      const info = engine.getSnapshotTask(task('upd'));
      eq(`${info.MaxIdleTime}/${info.TargetStreams.StreamList[0].UserId}`, `30/${PEER}`, 'updated');
      const n = rec.images('upd').length;
      await sleep(1500);
      const fresh = rec.images('upd').slice(n);
      assert(fresh.length >= 1 && fresh.every((e) => e.UserId === PEER), `only the new target: ${fresh.map(streamOf)}`);
      return `${before} images at 1 s, ${after.length} at 2 s, gaps ${gaps}`;
    } finally {
      r.close();
      engine.destroy();
    }
  },

  async two_tasks_at_once(Engine) {
    const engine = new Engine();
    const r = await room(engine);
    const rec = recordTasks(engine);
    try {
      const a = task('A', { ImageConfig: { Interval: 1, Width: 160 }, TargetStreams: { StreamList: [{ UserId: ME }] } });
      const b = task('B', {
        BusinessId: 'moderation',
        ImageConfig: { Interval: 1, Format: 1, Height: 60 },
        TargetStreams: { StreamList: [{ UserId: PEER, Index: 5 }] },
        FileNameTemplate: 'tencent',
      });
      okResponse(await engine.startSnapshot(a), 'start A');
      okResponse(await engine.startSnapshot(b), 'start B');
      await sleep(2500);
      okResponse(await engine.stopSnapshot(a), 'stop A');
      okResponse(await engine.stopSnapshot(b), 'stop B');
      const ia = rec.images('A');
      const ib = rec.images('B');
      assert(ia.length >= 2 && ib.length >= 2, `both ran: ${ia.length}, ${ib.length}`);
      for (const e of ia) {
        eq(`${e.format} ${e.width}x${e.height} ${e.blob.type}`, 'jpeg 160x120 image/jpeg', 'task A images');
        near((await decode(e.blob)).at(80, 60), RED, 16, 'task A colour');
      }
      for (const e of ib) {
        eq(`${e.format} ${e.width}x${e.height} ${e.blob.type}`, 'png 80x60 image/png', 'task B images');
        eq([...(await bytes(e.blob, 4))].join(), '137,80,78,71', 'PNG');
        // Second-resolution names: a second image within the same second gets "_2".
        assert(/^\d{4}-\d{2}-\d{2}\/room-1_7_main-screenshot-\d{2}-\d{2}-\d{2}-80x60(_\d+)?\.png$/.test(e.key), e.key);
        eq(e.pic_url, `/${e.key}`, 'Tencent pic_url');
        eq(`${e.BusinessId}/${e.Index}`, 'moderation/5', 'BusinessId and Index');
        near((await decode(e.blob)).at(40, 30), GREEN, 16, 'task B colour');
      }
      eq(rec.stops().map((s) => s.TaskId).sort().join(), 'A,B', 'each task stopped once');
    } finally {
      r.close();
      engine.destroy();
    }
  },

  async no_events_after_stop(Engine) {
    const engine = new Engine();
    const r = await room(engine);
    const rec = recordTasks(engine);
    try {
      okResponse(await engine.startSnapshot(task('quiet', { ImageConfig: { Interval: 1 } })), 'start');
      await sleep(1500);
      okResponse(await engine.stopSnapshot(task('quiet')), 'stop');
      const n = rec.log.length;
      eq(rec.log.at(-1).type, 'snapshottaskstop', 'the stop event came before stopSnapshot resolved');
      await sleep(2500);
      eq(rec.log.length, n, 'nothing after stopSnapshot');
      errorResponse(await engine.stopSnapshot(task('quiet')), 'TaskNotFound', 'quiet', 'a second stop');

      okResponse(await engine.startSnapshot(task('left', { ImageConfig: { Interval: 1 } })), 'start before leaving');
      await sleep(1200);
      eq(engine.leaveChannel(), 0, 'leave');
      const left = await rec.waitFor((e) => e.type === 'snapshottaskstop' && e.TaskId === 'left', 4000, 'stop on leave');
      eq(left.reason, 'left', 'reason left');
      eq(rec.states().length, 0, 'leaving reports the task stop, not each stream');

      eq(engine.joinChannel(ROOM, ME), 0, 'rejoin');
      okResponse(await engine.startSnapshot(task('gone', { ImageConfig: { Interval: 1 } })), 'start before destroy');
      engine.destroy();
      const gone = await rec.waitFor((e) => e.type === 'snapshottaskstop' && e.TaskId === 'gone', 4000, 'stop on destroy');
      eq(gone.reason, 'destroyed', 'reason destroyed');
      errorResponse(await engine.startSnapshot(task('late')), 'InvalidOperation', 'destroyed', 'after destroy');
      const m = rec.log.length;
      await sleep(1500);
      eq(rec.log.length, m, 'nothing after destroy');
    } finally {
      r.close();
      engine.destroy();
    }
  },

  async rotated_task_images(Engine) {
    const engine = new Engine();
    const turning = new Engine({ rotate: 270 });
    const cam = canvasSource(320, 240, quadrants(RED, GREEN, BLUE, YELLOW));
    const recs = new Map([[engine, recordTasks(engine)], [turning, recordTasks(turning)]]);
    try {
      for (const e of [engine, turning]) {
        eq(e.joinChannel(ROOM, ME), 0, 'join');
        eq(e.enableLocalVideo('main', true, cam.track), 0, 'camera');
      }
      // [engine, TaskId, ImageConfig, image size, its quadrants, Rotate in getSnapshotTask]
      const cases = [
        [engine, 'rot90', { Rotate: 90 }, '240x320', [BLUE, RED, YELLOW, GREEN], 90],
        [engine, 'rot90w', { Rotate: 90, Width: 120 }, '120x160', [BLUE, RED, YELLOW, GREEN], 90],
        [engine, 'rot180', { Rotate: 180, Width: 160, Height: 120 }, '160x120', [YELLOW, BLUE, GREEN, RED], 180],
        // Without its own Rotate a task takes the engine's, as it takes its quality.
        [turning, 'inherited', {}, '240x320', [GREEN, YELLOW, RED, BLUE], 270],
        [turning, 'upright', { Rotate: 0 }, '320x240', [RED, GREEN, BLUE, YELLOW], 0],
      ];
      const notes = [];
      for (const [e, id, image, size, colours, rotate] of cases) {
        const req = task(id, { ImageConfig: { Interval: 1, Format: 1, ...image }, TargetStreams: { StreamList: [{ UserId: ME }] } });
        okResponse(await e.startSnapshot(req), `start ${id}`);
        eq(e.getSnapshotTask(task(id)).ImageConfig.Rotate, rotate, `${id}: ImageConfig.Rotate`);
        const shot = await recs.get(e).waitFor((ev) => ev.type === 'periodicsnapshot' && ev.TaskId === id, 5000, `${id}: an image`);
        okResponse(await e.stopSnapshot(task(id)), `stop ${id}`);
        eq(shot.code, 0, `${id}: code (${shot.message})`);
        eq(`${shot.width}x${shot.height}`, size, `${id}: size`);
        const img = await decode(shot.blob);
        eq(`${img.width}x${img.height}`, size, `${id}: decoded size`);
        [[1, 1], [3, 1], [1, 3], [3, 3]].forEach(([x, y], i) => {
          near(img.at((img.width * x) >> 2, (img.height * y) >> 2), colours[i], 4, `${id}: quadrant ${i}`);
        });
        notes.push(`${id} ${size}`);
      }
      return notes.join(', ');
    } finally {
      cam.stop();
      engine.destroy();
      turning.destroy();
    }
  },

  async watermarked_task_images(Engine) {
    const engine = new Engine({ watermark: { text: 'engine {uid}', position: 'top-right' } });
    const cam = canvasSource(320, 240, solid(RED));
    const rec = recordTasks(engine);
    try {
      eq(engine.joinChannel(ROOM, ME), 0, 'join');
      eq(engine.enableLocalVideo('main', true, cam.track), 0, 'camera');
      const own = { Text: '{TaskId} {RoomId} {UserId} {utc}', Position: 'bottom-left', Opacity: 0.8 };
      // [TaskId, ImageConfig, the watermark's corner, ImageConfig.Watermark in getSnapshotTask]
      const cases = [
        ['own', { Watermark: own }, 'bottom-left', own],
        // Without its own a task takes the engine's, as it takes its rotation.
        ['inherited', {}, 'top-right', { Text: 'engine {uid}', Position: 'top-right', Opacity: 1 }],
        ['none', { Watermark: null }, null, null],
      ];
      for (const [id, image, corner, reported] of cases) {
        const req = task(id, { ImageConfig: { Interval: 1, Format: 1, ...image }, TargetStreams: { StreamList: [{ UserId: ME }] } });
        okResponse(await engine.startSnapshot(req), `start ${id}`);
        eq(JSON.stringify(engine.getSnapshotTask(task(id)).ImageConfig.Watermark), JSON.stringify(reported), `${id}: ImageConfig.Watermark`);
        const shot = await rec.waitFor((ev) => ev.type === 'periodicsnapshot' && ev.TaskId === id, 5000, `${id}: an image`);
        okResponse(await engine.stopSnapshot(task(id)), `stop ${id}`);
        eq(shot.code, 0, `${id}: code (${shot.message})`);
        const img = await decode(shot.blob);
        if (corner) {
          const drawn = marked(img, quarter(img, corner), RED, 8);
          assert(drawn >= 100, `${id}: ${drawn} pixels of the watermark ${corner}`);
          eq(marked(img, quarter(img, opposite(corner)), RED, 8), 0, `${id}: pixels changed across from it`);
        } else {
          eq(marked(img, [0, 0, img.width, img.height], RED, 8), 0, `${id}: pixels changed without a watermark`);
        }
      }
      return 'own, inherited and no watermark';
    } finally {
      cam.stop();
      engine.destroy();
    }
  },

  async callback_url(Engine, devUrl) {
    assert(devUrl, 'the dev server URL is missing: run the tests with scripts/test.sh (it starts www/serve.mjs)');
    const engine = new Engine();
    const r = await room(engine);
    const rec = recordTasks(engine);
    const taskId = `cb-${Date.now().toString(36)}`;
    try {
      const req = task(taskId, {
        ImageConfig: { Interval: 1, Width: 64 },
        TargetStreams: { StreamList: [{ UserId: ME }, { UserId: PEER }] },
        // The dev server answers the first POST with 500: the engine must retry it.
        CallbackUrl: `${devUrl}/callback?fail=1`,
      });
      okResponse(await engine.startSnapshot(req), 'start');
      await sleep(2500);
      okResponse(await engine.stopSnapshot(task(taskId)), 'stop');
      const images = rec.images(taskId);
      assert(images.length >= 4, `${images.length} images`);
      let got;
      await poll(async () => {
        got = await (await fetch(`${devUrl}/callback/received?TaskId=${taskId}`)).json();
        return got.received.length >= images.length;
      }, 10000, 200);
      eq(got.failed, 1, 'one injected failure');
      eq(got.received.length, images.length, 'every image posted once, the failed one again');
      const byKey = new Map(got.received.map((m) => [m.key, m]));
      for (const e of images) {
        const m = byKey.get(e.key);
        assert(m, `metadata of ${e.key} arrived`);
        eq(`${m.event_type} ${m.file_size} ${m.width}x${m.height} ${m.pic_url} ${m.UserId}`, `200 ${e.size} ${e.width}x${e.height} ${e.pic_url} ${e.UserId}`, 'fields');
        assert(!('blob' in m), 'no image in the callback');
      }
      return `${images.length} callbacks received, 1 retried`;
    } finally {
      r.close();
      engine.destroy();
    }
  },
};

export function run(name, Engine, devUrl) {
  return runScenario(scenarios, name, Engine, devUrl);
}
