// Bad input to every exported method and option: one scenario per row of the "Bad input"
// table in docs/api.md (tests/readme_table.rs checks that the two lists match). Each scenario
// gives the engine the row's inputs, checks the code and that the message names the
// argument, and then checks that the same engine still takes a correct picture.

import {
  OK, INVALID_PARAM, INVALID_OPERATION, TRACK_ENDED, PRESIGN_FAILED,
  GREEN, BLUE, sleep, solid, canvasSource, audioTrack, decode, assert, eq, near, rejects, throws,
  record, clearOutbox, faults, stored, sameBytes, folder, runScenario, engineWithPreview, poll,
} from './media.js';

const ROOM = 'room-b';
const ME = 'teacher';
const task = (TaskId, extra = {}) => ({ AppId: 'app-b', RoomId: ROOM, TaskId, ...extra });

/** An engine previewing a green canvas (the colour `stillWorks` expects) as its main stream. */
const previewing = (Engine, options) => engineWithPreview(Engine, options, GREEN);

/** An engine in a channel, publishing a green canvas as its main stream. */
function joined(Engine, options) {
  const engine = new Engine(options);
  const src = canvasSource(160, 120, solid(GREEN));
  eq(engine.joinChannel(ROOM, ME), OK, 'join');
  eq(engine.enableLocalVideo('main', true, src.track), OK, 'publish');
  return { engine, src, close() { src.stop(); engine.destroy(); } };
}

/** The engine still answers: a snapshot of its main stream decodes to `colour`. */
async function stillWorks(engine, what, colour = GREEN) {
  const r = await engine.snapshot({ streamType: 'main' });
  const img = await decode(r.blob);
  near(img.at(img.width >> 1, img.height >> 1), colour, 14, `${what}: the engine still works`);
}

/**
 * Runs `call` and checks what it answered — a code (its message from `engine.lastError`), a
 * thrown or rejected TrackSnapError, or a task response's `ResponseMetadata.Error` — against
 * `want`, and that the message contains `mentions`.
 */
async function refused(engine, what, call, want, mentions) {
  let code;
  let message;
  try {
    const out = await call();
    if (typeof out === 'number') {
      code = out;
      message = engine.lastError?.message;
      if (code !== OK) eq(engine.lastError.code, code, `${what}: lastError.code`);
    } else if (out && out.ResponseMetadata) {
      code = out.ResponseMetadata.Error?.Code;
      message = out.ResponseMetadata.Error?.Message;
    } else {
      throw new Error(`${what}: answered ${JSON.stringify(out)}, want ${want}`);
    }
  } catch (e) {
    if (e?.name !== 'TrackSnapError') throw e;
    code = e.code;
    message = e.message;
  }
  eq(code, want, `${what}: code (${message})`);
  assert(typeof message === 'string' && message.length > 0, `${what}: no message`);
  if (mentions) assert(message.includes(mentions), `${what}: "${message}" should name ${mentions}`);
  return message;
}

/** `refused` for a list of [what, call, mentions] with one expected code. */
async function allRefused(engine, want, cases) {
  for (const [what, call, mentions] of cases) await refused(engine, what, call, want, mentions);
}

/** Uploads the outbox through the dev server's presigner and checks that `key` is in the store with `blob`'s bytes. */
async function recovered(Engine, dev, key, blob) {
  const good = new Engine({ storage: { presignEndpoint: `${dev}/presign` } });
  try {
    const left = await good.flushUploads();
    eq(left, 0, 'the outbox is empty after a flush with a good presigner');
    await sameBytes(blob, await stored(dev, key), `${key} from the outbox`);
  } finally {
    good.destroy();
  }
}

/** One snapshot through an engine whose presigner is `presign`: 30202, its Blob, kept in the outbox. */
async function badPresigner(Engine, dev, name, presign, mentions) {
  await clearOutbox();
  const { engine, close } = await previewing(Engine, { storage: { presign, presignTimeout: 200 } });
  const key = `${folder('presigner')}/${name}.jpg`;
  try {
    const e = await rejects(engine.snapshot({ streamType: 'main', path: key }), PRESIGN_FAILED, name);
    assert(e.message.includes(mentions), `${name}: "${e.message}" should say ${mentions}`);
    const img = await decode(e.result.blob);
    near(img.at(80, 60), GREEN, 14, `${name}: the event's Blob is the picture`);
    eq(engine.pendingUploads(), 1, `${name}: kept in the outbox`);
    // The engine still captures (and still cannot upload).
    const again = await rejects(engine.snapshot({ streamType: 'main', path: `${key}.2.jpg` }), PRESIGN_FAILED, `${name} again`);
    assert(again.result.blob.size > 0, `${name}: the second Blob`);
    engine.destroy();
    await recovered(Engine, dev, key, e.result.blob);
    return `${name}: ${e.message.split(';')[0]}`;
  } finally {
    close();
  }
}

export const scenarios = {
  async wrong_types(Engine) {
    throws(() => new Engine({ frameTimeout: '3000' }), INVALID_PARAM, 'frameTimeout as a string');
    throws(() => new Engine({ quality: '85' }), INVALID_PARAM, 'quality as a string');
    throws(() => new Engine({ worker: 'no' }), INVALID_PARAM, 'worker as a string');
    throws(() => new Engine({ storage: { presign: () => ({}), outboxMaxBytes: '1e6' } }), INVALID_PARAM, 'outboxMaxBytes as a string');
    const { engine, close } = await previewing(Engine);
    try {
      await allRefused(engine, INVALID_PARAM, [
        ['width as a string', () => engine.snapshot({ streamType: 'main', width: '640' }), 'request.width'],
        ['quality as a string', () => engine.snapshot({ streamType: 'main', quality: '85' }), 'request.quality'],
        ['mirror as a string', () => engine.snapshot({ streamType: 'main', mirror: 'yes' }), 'request.mirror'],
        ['format as a number', () => engine.snapshot({ streamType: 'main', format: 1 }), 'request.format'],
        ['an unknown format', () => engine.snapshot({ streamType: 'main', format: 'webp' }), 'request.format'],
        ['an unknown fit', () => engine.snapshot({ streamType: 'main', fit: 'stretch' }), 'request.fit'],
        ['path as a number', () => engine.takeLocalSnapshot('main', 5), 'path'],
        ['path as an object', () => engine.takeLocalSnapshot('main', {}), 'path'],
        ['channel as a number', () => engine.joinChannel(5, ME), 'channelName'],
        ['uid as a boolean', () => engine.joinChannel(ROOM, true), 'uid'],
      ]);
      eq(engine.joinChannel(ROOM, ME), OK, 'join');
      eq(engine.enableLocalVideo('main', true), OK, 'publish the previewed track');
      await allRefused(engine, INVALID_PARAM, [
        ['enabled as a string', () => engine.enableLocalVideo('main', 'yes'), 'enabled'],
        ['enabled as a number', () => engine.enableLocalVideo('main', 1), 'enabled'],
      ]);
      await allRefused(engine, 'InvalidParameter', [
        ['Interval as a string', () => engine.startSnapshot(task('t', { ImageConfig: { Interval: '1' } })), 'ImageConfig.Interval'],
        ['Width as a string', () => engine.startSnapshot(task('t', { ImageConfig: { Width: '640' } })), 'ImageConfig.Width'],
        ['ChangeThreshold as a string', () => engine.startSnapshot(task('t', { ImageConfig: { ChangeThreshold: '5' } })), 'ImageConfig.ChangeThreshold'],
        ['ChangeThreshold as a boolean', () => engine.startSnapshot(task('t', { ImageConfig: { ChangeThreshold: true } })), 'ImageConfig.ChangeThreshold'],
        ['AppId as a number', () => engine.startSnapshot({ AppId: 5, RoomId: ROOM, TaskId: 't' }), 'AppId'],
        ['StreamList as a string', () => engine.startSnapshot(task('t', { TargetStreams: { StreamList: 'all' } })), 'StreamList'],
        ['StreamType as a string', () => engine.startSnapshot(task('t', { TargetStreams: { StreamList: [{ UserId: ME, StreamType: 'main' }] } })), 'StreamType'],
      ]);
      await stillWorks(engine, 'after wrong types');
    } finally {
      close();
    }
  },

  async objects_that_are_not_tracks(Engine) {
    const { engine, src, close } = await previewing(Engine);
    const canvas = document.createElement('canvas');
    const fakes = [
      ['a plain object', {}],
      ['a look-alike object', { kind: 'video', readyState: 'live', id: 'x', getSettings: () => ({}) }],
      ['a string', 'track'],
      ['a number', 42],
      ['a canvas', canvas],
      ['a MediaStream', src.canvas.captureStream().clone()],
    ];
    try {
      for (const [what, fake] of fakes) {
        await refused(engine, `preview with ${what}`, () => engine.startVideoPreview('sub', fake), INVALID_PARAM, 'MediaStreamTrack');
      }
      eq(engine.stopVideoPreview('main'), OK, 'stop the preview');
      eq(engine.joinChannel(ROOM, ME), OK, 'join');
      for (const [what, fake] of fakes) {
        await allRefused(engine, INVALID_PARAM, [
          [`enableLocalVideo with ${what}`, () => engine.enableLocalVideo('main', true, fake), 'MediaStreamTrack'],
          [`startScreenCapture with ${what}`, () => engine.startScreenCapture(fake), 'MediaStreamTrack'],
          [`onUserVideoStart with ${what}`, () => engine.onUserVideoStart('u1', fake), 'MediaStreamTrack'],
          [`onUserSubStreamVideoStart with ${what}`, () => engine.onUserSubStreamVideoStart('u1', fake), 'MediaStreamTrack'],
        ]);
      }
      eq(engine.enableLocalVideo('main', true, src.track), OK, 'publish the real track');
      await stillWorks(engine, 'after fake tracks');
    } finally {
      close();
    }
  },

  async null_and_undefined(Engine) {
    // Optional arguments may be null or undefined: the defaults apply.
    for (const options of [undefined, null]) new Engine(options).destroy();
    const { engine, src, close } = await previewing(Engine);
    try {
      await allRefused(engine, INVALID_PARAM, [
        ['stream type null', () => engine.startVideoPreview(null, src.track), 'streamType'],
        ['stream type undefined', () => engine.takeLocalSnapshot(undefined), 'streamType'],
        ['track null', () => engine.startVideoPreview('sub', null), 'MediaStreamTrack'],
        ['track undefined', () => engine.startVideoPreview('sub', undefined), 'MediaStreamTrack'],
        ['request null', () => engine.snapshot(null), 'request'],
        ['request undefined', () => engine.snapshot(undefined), 'request'],
        ['streamType missing', () => engine.snapshot({}), 'request.streamType'],
        ['channel null', () => engine.joinChannel(null, ME), 'channelName'],
        ['uid undefined', () => engine.joinChannel(ROOM, undefined), 'uid'],
        ['handler a function', () => engine.setEventHandler(() => {}), 'setEventHandler'],
        ['listener type null', () => engine.addEventListener(null, () => {}), 'event type'],
        ['task key null', () => engine.getSnapshotTask(null), 'request'],
      ]);
      eq(engine.joinChannel(ROOM, ME), OK, 'join');
      await refused(engine, 'enableLocalVideo without any track', () => engine.enableLocalVideo('sub', true), INVALID_PARAM, 'track');
      await refused(engine, 'enableLocalVideo(main, undefined)', () => engine.enableLocalVideo('main', undefined), INVALID_PARAM, 'enabled');
      eq(engine.enableLocalVideo('main', true), OK, 'publish the previewed track');
      await allRefused(engine, 'InvalidParameter', [
        ['startSnapshot(null)', () => engine.startSnapshot(null), 'request'],
        ['startSnapshot()', () => engine.startSnapshot(), 'request'],
        ['updateSnapshot(undefined)', () => engine.updateSnapshot(undefined), 'request'],
        ['stopSnapshot(null)', () => engine.stopSnapshot(null), 'request'],
      ]);
      const rec = record(engine);
      eq(engine.takeLocalSnapshot('main', undefined), OK, 'path undefined: a default name');
      eq(engine.takeLocalSnapshot('main', null), OK, 'path null: a default name');
      await rec.wait(2);
      assert(rec.events.every((e) => e.code === OK && /^teacher_main_\d{17}(_\d+)?\.jpg$/.test(e.path)), `default names: ${rec.events.map((e) => e.path)}`);
      engine.setEventHandler(null);
      engine.setEventHandler(undefined);
      await stillWorks(engine, 'after null and undefined');
    } finally {
      close();
    }
  },

  async nan_and_infinity(Engine) {
    for (const [what, options] of [
      ['quality NaN', { quality: NaN }],
      ['frameTimeout Infinity', { frameTimeout: Infinity }],
      ['outboxMaxBytes Infinity', { storage: { presign: () => ({}), outboxMaxBytes: Infinity } }],
      ['presignTimeout NaN', { storage: { presign: () => ({}), presignTimeout: NaN } }],
    ]) throws(() => new Engine(options), INVALID_PARAM, what);
    const { engine, close } = await previewing(Engine);
    try {
      await allRefused(engine, INVALID_PARAM, [
        ['width NaN', () => engine.snapshot({ streamType: 'main', width: NaN }), 'request.width'],
        ['height Infinity', () => engine.snapshot({ streamType: 'main', height: Infinity }), 'request.height'],
        ['quality -Infinity', () => engine.snapshot({ streamType: 'main', quality: -Infinity }), 'request.quality'],
        ['stream type NaN', () => engine.takeLocalSnapshot(NaN), 'streamType'],
        ['uid NaN', () => engine.joinChannel(ROOM, NaN), 'uid'],
        ['uid Infinity', () => engine.joinChannel(ROOM, Infinity), 'uid'],
      ]);
      eq(engine.joinChannel(ROOM, ME), OK, 'join');
      eq(engine.enableLocalVideo('main', true), OK, 'publish the previewed track');
      await allRefused(engine, 'InvalidParameter', [
        ['Interval NaN', () => engine.startSnapshot(task('t', { ImageConfig: { Interval: NaN } })), 'ImageConfig.Interval'],
        ['Height Infinity', () => engine.startSnapshot(task('t', { ImageConfig: { Height: Infinity } })), 'ImageConfig.Height'],
        ['ChangeThreshold NaN', () => engine.startSnapshot(task('t', { ImageConfig: { ChangeThreshold: NaN } })), 'ImageConfig.ChangeThreshold'],
        ['Index NaN', () => engine.startSnapshot(task('t', { TargetStreams: { StreamList: [{ UserId: ME, Index: NaN }] } })), 'Index'],
      ]);
      // MaxIdleTime out of range means the default, as in the cloud contract.
      const r = await engine.startSnapshot(task('idle', { MaxIdleTime: NaN }));
      eq(r.Result, 'ok', 'MaxIdleTime NaN starts');
      eq(engine.getSnapshotTask(task('idle')).MaxIdleTime, 180, 'and becomes the default 180');
      eq((await engine.stopSnapshot(task('idle'))).Result, 'ok', 'stop');
      await stillWorks(engine, 'after NaN and Infinity');
    } finally {
      close();
    }
  },

  async bad_watermarks(Engine) {
    // [value, what the message says]: the same rules for the engine's option and a request's.
    const bad = [
      [5, 'must be an object'],
      ['(c) ACME', 'must be an object'],
      [{}, 'needs a text or an image'],
      [{ text: '' }, '.text must be a non-empty string'],
      [{ text: 42 }, '.text must be a non-empty string'],
      [{ text: 'x'.repeat(201) }, '.text is 201 characters long; at most 200'],
      [{ text: 'room {room}' }, 'unknown placeholder {room}'],
      [{ text: 'task {TaskId}' }, 'unknown placeholder {TaskId}'],
      [{ text: 'two\nlines' }, 'control character'],
      [{ text: 'x', position: 'middle' }, '.position must be "top-left"'],
      [{ text: 'x', opacity: 2 }, '.opacity must be a number from 0 to 1'],
      [{ text: 'x', opacity: NaN }, '.opacity must be a number from 0 to 1; got NaN'],
      [{ text: 'x', opacity: '1' }, '.opacity must be a number from 0 to 1'],
      [{ image: 'logo.png' }, '.image must be a Blob or an ImageBitmap; got "logo.png"'],
      [{ image: {} }, '.image must be a Blob or an ImageBitmap'],
    ];
    for (const [watermark, says] of bad) {
      const e = throws(() => new Engine({ watermark }), INVALID_PARAM, `options.watermark ${JSON.stringify(watermark)}`);
      assert(e.message.includes('options.watermark') && e.message.includes(says), `options.watermark ${JSON.stringify(watermark)}: "${e.message}"`);
    }
    const { engine, close } = joined(Engine);
    const rec = record(engine);
    try {
      for (const [watermark, says] of bad) {
        const message = await refused(engine, `request.watermark ${JSON.stringify(watermark)}`, () => engine.snapshot({ streamType: 'main', watermark }), INVALID_PARAM, 'request.watermark');
        assert(message.includes(says), `request.watermark ${JSON.stringify(watermark)}: "${message}"`);
      }
      const taskBad = [
        [{ Text: 'x', Opacity: -0.1 }, 'ImageConfig.Watermark.Opacity must be a number from 0 to 1'],
        [{ Text: '{Nope}' }, 'ImageConfig.Watermark.Text has an unknown placeholder {Nope}'],
        [{ Text: 'x', Image: new Blob(['x']) }, 'ImageConfig.Watermark.Image is not a task'],
        [{ Position: 'top-left' }, 'ImageConfig.Watermark needs a Text'],
        ['x', 'ImageConfig.Watermark must be an object'],
      ];
      for (const [Watermark, says] of taskBad) {
        await refused(engine, `ImageConfig.Watermark ${JSON.stringify(Watermark)}`, () => engine.startSnapshot(task('w', { ImageConfig: { Watermark } })), 'InvalidParameter', says);
      }
      eq(engine.getSnapshotTask(task('w')), null, 'no task started');
      await sleep(100);
      eq(rec.events.length, 0, 'a refused snapshot fires no event');
      // A running task keeps its watermark: only Interval may change.
      eq((await engine.startSnapshot(task('w', { ImageConfig: { Watermark: { Text: '{TaskId}' } } }))).Result, 'ok', 'a good Watermark starts');
      await refused(engine, 'Watermark in an update', () => engine.updateSnapshot(task('w', { ImageConfig: { Watermark: { Text: 'other' } } })), 'InvalidParameter', 'ImageConfig.Watermark cannot be changed by UpdateSnapshot');
      eq(engine.getSnapshotTask(task('w')).ImageConfig.Watermark.Text, '{TaskId}', 'the task keeps its Watermark');
      eq((await engine.stopSnapshot(task('w'))).Result, 'ok', 'stop');
      await stillWorks(engine, 'after bad watermarks');
    } finally {
      close();
    }
  },

  async bad_rotations(Engine) {
    // Only the numbers 0, 90, 180 and 270 (degrees clockwise).
    const bad = [[45, '45'], ['90', '"90"'], [-90, '-90'], [true, 'true'], [NaN, 'NaN'], [360, '360'], [Infinity, 'Infinity']];
    for (const [rotate, shown] of bad) {
      const e = throws(() => new Engine({ rotate }), INVALID_PARAM, `options.rotate ${shown}`);
      assert(e.message.includes('options.rotate must be 0, 90, 180 or 270'), `options.rotate ${shown}: "${e.message}"`);
      assert(e.message.includes(shown), `options.rotate ${shown}: "${e.message}" says what was given`);
    }
    const { engine, close } = joined(Engine);
    const rec = record(engine);
    try {
      for (const [rotate, shown] of bad) {
        await refused(engine, `request.rotate ${shown}`, () => engine.snapshot({ streamType: 'main', rotate }), INVALID_PARAM, 'request.rotate must be 0, 90, 180 or 270');
        await refused(engine, `ImageConfig.Rotate ${shown}`, () => engine.startSnapshot(task('r', { ImageConfig: { Rotate: rotate } })), 'InvalidParameter', 'ImageConfig.Rotate must be 0, 90, 180 or 270');
      }
      eq(engine.getSnapshotTask(task('r')), null, 'no task started');
      await sleep(100);
      eq(rec.events.length, 0, 'a refused snapshot fires no event');
      // A running task keeps its rotation: only Interval may change.
      eq((await engine.startSnapshot(task('r', { ImageConfig: { Rotate: 90 } }))).Result, 'ok', 'a good Rotate starts');
      await refused(engine, 'Rotate in an update', () => engine.updateSnapshot(task('r', { ImageConfig: { Rotate: 180 } })), 'InvalidParameter', 'ImageConfig.Rotate cannot be changed by UpdateSnapshot');
      eq(engine.getSnapshotTask(task('r')).ImageConfig.Rotate, 90, 'the task keeps its Rotate');
      eq((await engine.stopSnapshot(task('r'))).Result, 'ok', 'stop');
      // The 160×120 stream, turned.
      const r = await engine.snapshot({ streamType: 'main', rotate: 270 });
      eq(`${r.width}x${r.height}`, '120x160', 'a good rotation still turns');
      await stillWorks(engine, 'after bad rotations');
    } finally {
      close();
    }
  },

  async negative_and_huge_sizes(Engine) {
    for (const [what, options] of [
      ['quality 0', { quality: 0 }],
      ['quality 101', { quality: 101 }],
      ['frameTimeout 99', { frameTimeout: 99 }],
      ['frameTimeout 10^9', { frameTimeout: 1e9 }],
      ['outboxMaxBytes -1', { storage: { presign: () => ({}), outboxMaxBytes: -1 } }],
      ['outboxMaxBytes 2^41', { storage: { presign: () => ({}), outboxMaxBytes: 2 ** 41 } }],
      ['presignTimeout 0', { storage: { presign: () => ({}), presignTimeout: 0 } }],
    ]) throws(() => new Engine(options), INVALID_PARAM, what);
    const { engine, close } = await previewing(Engine);
    try {
      for (const width of [-1, 7681, 2 ** 31, 1e300, 640.5, -Number.MAX_VALUE]) {
        await refused(engine, `width ${width}`, () => engine.snapshot({ streamType: 'main', width }), INVALID_PARAM, 'request.width');
      }
      for (const uid of [-1, 1.5, 2 ** 60]) {
        await refused(engine, `uid ${uid}`, () => engine.snapshot({ uid, streamType: 'main' }), INVALID_PARAM, 'uid');
      }
      // Legal alone, too big once the stream's 4:3 shape is applied: refused after capture.
      const e = await rejects(engine.snapshot({ streamType: 'main', height: 7680 }), INVALID_PARAM, 'height 7680 at 4:3');
      assert(e.message.includes('7680'), e.message);
      eq(e.result.code, INVALID_PARAM, 'its result');
      eq(engine.joinChannel(ROOM, ME), OK, 'join');
      eq(engine.enableLocalVideo('main', true), OK, 'publish the previewed track');
      await allRefused(engine, 'InvalidParameter', [
        ['Width -1', () => engine.startSnapshot(task('t', { ImageConfig: { Width: -1 } })), 'ImageConfig.Width'],
        ['Width 1921', () => engine.startSnapshot(task('t', { ImageConfig: { Width: 1921 } })), 'ImageConfig.Width'],
        ['Height 10^9', () => engine.startSnapshot(task('t', { ImageConfig: { Height: 1e9 } })), 'ImageConfig.Height'],
        ['Interval 0', () => engine.startSnapshot(task('t', { ImageConfig: { Interval: 0 } })), 'ImageConfig.Interval'],
        ['Interval 601', () => engine.startSnapshot(task('t', { ImageConfig: { Interval: 601 } })), 'ImageConfig.Interval'],
        ['ChangeThreshold -1', () => engine.startSnapshot(task('t', { ImageConfig: { ChangeThreshold: -1 } })), 'ImageConfig.ChangeThreshold'],
        ['ChangeThreshold 101', () => engine.startSnapshot(task('t', { ImageConfig: { ChangeThreshold: 101 } })), 'ImageConfig.ChangeThreshold'],
        ['18 streams', () => engine.startSnapshot(task('t', { TargetStreams: { StreamList: Array.from({ length: 18 }, (_, i) => ({ UserId: `u${i}` })) } })), 'at most 17'],
      ]);
      const tiny = await engine.snapshot({ streamType: 'main', width: 1, height: 1 });
      eq(`${tiny.width}x${tiny.height}`, '1x1', 'the smallest size is fine');
      await stillWorks(engine, 'after bad sizes');
    } finally {
      close();
    }
  },

  async audio_tracks(Engine) {
    const audio = audioTrack();
    const { engine, close } = await previewing(Engine);
    try {
      await refused(engine, 'preview an audio track', () => engine.startVideoPreview('sub', audio), INVALID_PARAM, 'video');
      eq(engine.stopVideoPreview('main'), OK, 'stop the preview');
      eq(engine.joinChannel(ROOM, ME), OK, 'join');
      await allRefused(engine, INVALID_PARAM, [
        ['enableLocalVideo', () => engine.enableLocalVideo('main', true, audio), 'video'],
        ['startScreenCapture', () => engine.startScreenCapture(audio), 'video'],
        ['onUserVideoStart', () => engine.onUserVideoStart('u1', audio), 'video'],
        ['onUserSubStreamVideoStart', () => engine.onUserSubStreamVideoStart('u1', audio), 'video'],
      ]);
      eq(engine.enableLocalVideo('main', true), OK, 'publish the previewed track');
      await stillWorks(engine, 'after audio tracks');
    } finally {
      audio.stop();
      close();
    }
  },

  async stopped_tracks(Engine) {
    const ended = canvasSource(32, 32, solid(BLUE));
    ended.stop();
    const { engine, close } = await previewing(Engine);
    const rec = record(engine);
    try {
      await refused(engine, 'preview an ended track', () => engine.startVideoPreview('sub', ended.track), INVALID_PARAM, 'ended');
      // A track that ends while the engine holds it: the snapshot says so, nothing hangs.
      const later = canvasSource(64, 48, solid(BLUE));
      eq(engine.startVideoPreview('sub', later.track), OK, 'preview the sub stream');
      later.stop();
      const e = await rejects(engine.snapshot({ streamType: 'sub' }), TRACK_ENDED, 'the sub track ended');
      eq(e.codeName, 'ERR_TRACK_ENDED', 'codeName');
      eq(engine.takeLocalSnapshot('sub'), OK, 'take on an ended stream is accepted');
      const r = await rec.wait(2);
      eq(r.code, TRACK_ENDED, 'and its event says the track ended');
      eq(engine.stopVideoPreview('sub'), OK, 'stop the ended stream');
      const fresh = canvasSource(64, 48, solid(BLUE));
      eq(engine.startVideoPreview('sub', fresh.track), OK, 'a new track for the sub stream');
      const img = await decode((await engine.snapshot({ streamType: 'sub' })).blob);
      near(img.at(32, 24), BLUE, 14, 'the new sub stream');
      fresh.stop();
      await stillWorks(engine, 'after stopped tracks');
    } finally {
      close();
    }
  },

  async unknown_users_stream_types_and_tasks(Engine) {
    const { engine, src, close } = joined(Engine);
    try {
      for (const st of ['x', 'MAIN', 'Main', 2, -1, '0', true, {}, []]) {
        await allRefused(engine, INVALID_PARAM, [
          [`takeLocalSnapshot(${JSON.stringify(st)})`, () => engine.takeLocalSnapshot(st), 'streamType'],
          [`enableLocalVideo(${JSON.stringify(st)})`, () => engine.enableLocalVideo(st, true, src.track), 'streamType'],
          [`takeRemoteSnapshot(u1, ${JSON.stringify(st)})`, () => engine.takeRemoteSnapshot('u1', st), 'streamType'],
        ]);
      }
      await allRefused(engine, INVALID_OPERATION, [
        ['takeRemoteSnapshot of an unknown user', () => engine.takeRemoteSnapshot('nobody', 'main'), 'nobody'],
        ['snapshot of an unknown user', () => engine.snapshot({ uid: 'nobody', streamType: 'main' }), 'nobody'],
        ['takeRemoteSnapshot of a sub stream never started', () => engine.takeRemoteSnapshot('nobody', 'sub'), 'nobody'],
      ]);
      eq(engine.onUserVideoStop('nobody'), OK, 'a stop for an unknown user changes nothing');
      eq(engine.onUserLeave('nobody'), OK, 'a leave for an unknown user changes nothing');
      await allRefused(engine, 'TaskNotFound', [
        ['updateSnapshot of an unknown task', () => engine.updateSnapshot(task('missing', { ImageConfig: { Interval: 2 } })), 'missing'],
        ['stopSnapshot of an unknown task', () => engine.stopSnapshot(task('missing')), 'missing'],
      ]);
      eq(engine.getSnapshotTask(task('missing')), null, 'no info for an unknown task');
      // A task may name a user who has not arrived: those ticks are skipped, the rest go on.
      const images = [];
      engine.addEventListener('periodicsnapshot', (e) => images.push(e.detail));
      const started = await engine.startSnapshot(task('later', { TargetStreams: { StreamList: [{ UserId: ME }, { UserId: 'later-user' }] } }));
      eq(started.Result, 'ok', 'a task naming an absent user starts');
      await sleep(2300);
      const info = engine.getSnapshotTask(task('later'));
      eq((await engine.stopSnapshot(task('later'))).Result, 'ok', 'stop');
      assert(images.length >= 2 && images.every((e) => e.UserId === ME && e.code === OK), `images only of ${ME}: ${images.map((e) => `${e.UserId}:${e.code}`)}`);
      assert(info.skipped >= 1, `the absent user's ticks are skipped (${info.skipped})`);
      await stillWorks(engine, 'after unknown users');
    } finally {
      close();
    }
  },

  async long_and_non_ascii_ids(Engine) {
    const { engine, close } = await previewing(Engine);
    try {
      await allRefused(engine, INVALID_PARAM, [
        ['uid of 129 characters', () => engine.joinChannel(ROOM, 'u'.repeat(129)), 'uid'],
        ['channel of 129 characters', () => engine.joinChannel('c'.repeat(129), ME), 'channelName'],
        ['uid with CJK characters', () => engine.joinChannel(ROOM, '学生'), 'A-Z'],
        ['channel with an accent', () => engine.joinChannel('élève', ME), 'A-Z'],
        ['uid with a space', () => engine.joinChannel(ROOM, 'a b'), 'uid'],
        ['uid with an emoji', () => engine.snapshot({ uid: '🙂', streamType: 'main' }), 'uid'],
        ['path over 1024 bytes', () => engine.takeLocalSnapshot('main', `${'p'.repeat(1021)}.jpg`), '1024'],
      ]);
      eq(engine.joinChannel('c'.repeat(128), 'u'.repeat(128)), OK, '128 characters are fine');
      eq(engine.enableLocalVideo('main', true), OK, 'publish the previewed track');
      await allRefused(engine, 'InvalidParameter', [
        ['TaskId of 129 characters', () => engine.startSnapshot({ AppId: 'a', RoomId: 'c'.repeat(128), TaskId: 't'.repeat(129) }), 'TaskId'],
        ['TaskId in Chinese', () => engine.startSnapshot({ AppId: 'a', RoomId: 'c'.repeat(128), TaskId: '任务' }), 'TaskId'],
        ['AppId with a slash', () => engine.startSnapshot({ AppId: 'a/b', RoomId: 'c'.repeat(128), TaskId: 't' }), 'AppId'],
        ['UserId with a space', () => engine.startSnapshot({ AppId: 'a', RoomId: 'c'.repeat(128), TaskId: 't', TargetStreams: { StreamList: [{ UserId: 'a b' }] } }), 'UserId'],
      ]);
      // Paths are names, not ids: any Unicode without control characters is kept as given.
      const rec = record(engine);
      eq(engine.takeLocalSnapshot('main', '板书/第 1 课.jpg'), OK, 'a CJK path');
      eq((await rec.wait(1)).path, '板书/第 1 课.jpg', 'reported back unchanged');
      await stillWorks(engine, 'after long and non-ASCII ids');
    } finally {
      close();
    }
  },

  async unsafe_paths(Engine) {
    const { engine, close } = await previewing(Engine);
    const rec = record(engine);
    try {
      for (const path of ['../a.jpg', 'a/../../b.jpg', 'a\\..\\b.jpg', './a.jpg', 'a/./b.jpg', '..', '',
        'a\u0000b.jpg', 'line\nbreak.jpg', 'tab\there.jpg', 'del\u007f.jpg', 'dir/', 'dir\\']) {
        await refused(engine, `take ${JSON.stringify(path)}`, () => engine.takeLocalSnapshot('main', path), INVALID_PARAM, 'path');
        await refused(engine, `snapshot ${JSON.stringify(path)}`, () => engine.snapshot({ streamType: 'main', path }), INVALID_PARAM, 'path');
      }
      await sleep(100);
      eq(rec.events.length, 0, 'refused calls fire no event');
      await stillWorks(engine, 'after unsafe paths');
    } finally {
      close();
    }
  },

  async unsafe_templates(Engine) {
    const { engine, close } = joined(Engine);
    try {
      for (const t of ['../{utc}.jpg', 'a/../../{utc}', 'x/./{utc}', '{utc}\n.jpg', 'a\u0000{utc}', `${'x'.repeat(1100)}{utc}`]) {
        await refused(engine, `template ${JSON.stringify(t.slice(0, 20))}`, () => engine.startSnapshot(task('t', { FileNameTemplate: t })), 'InvalidParameter', 'FileNameTemplate');
      }
      // Templates that parse but cannot name this task's images are refused at start too.
      await refused(engine, 'an empty {BusinessId} segment', () => engine.startSnapshot(task('t', { FileNameTemplate: 'a/{BusinessId}/{utc}' })), 'InvalidParameter', 'FileNameTemplate');
      await refused(engine, 'a UserId of ".." as a segment', () => engine.startSnapshot(task('t', { FileNameTemplate: 'x/{UserId}/{utc}', TargetStreams: { StreamList: [{ UserId: '..' }] } })), 'InvalidParameter', 'FileNameTemplate');
      eq((await engine.startSnapshot(task('t', { FileNameTemplate: 'x/{UserId}/{utc}', TargetStreams: { StreamList: [{ UserId: ME }] } }))).Result, 'ok', 'a good one starts');
      await refused(engine, 'an update adding a UserId of "."', () => engine.updateSnapshot(task('t', { TargetStreams: { StreamList: [{ UserId: '.' }] } })), 'InvalidParameter', 'FileNameTemplate');
      eq((await engine.stopSnapshot(task('t'))).Result, 'ok', 'stop');
      // A UserId that would be dangerous in a name cannot reach one: ids are checked first.
      await refused(engine, 'UserId "..\u002f"', () => engine.startSnapshot(task('t', { FileNameTemplate: '{UserId}_{utc}', TargetStreams: { StreamList: [{ UserId: '../x' }] } })), 'InvalidParameter', 'UserId');
      // StorageConfig.LatestKey: the same rules but the per-image one.
      const storage = (LatestKey) => ({ StorageConfig: { Type: 'presigned', PresignEndpoint: 'https://example.com/p', LatestKey } });
      for (const k of ['../latest.jpg', 'a/{BusinessId}/latest.jpg', '{nope}/latest.jpg', 'x\u0000', 7]) {
        await refused(engine, `LatestKey ${JSON.stringify(k)}`, () => engine.startSnapshot(task('t', storage(k))), 'InvalidParameter', 'LatestKey');
      }
      await stillWorks(engine, 'after unsafe templates');
    } finally {
      close();
    }
  },

  async unknown_template_placeholders(Engine) {
    const { engine, close } = joined(Engine);
    try {
      for (const [t, mentions] of [['{nope}{utc}', '{nope}'], ['{UTC}', '{UTC}'], ['{utc', '{utc'], ['{}{utc}', '{}'], ['plain.jpg', 'FileNameTemplate'], ['{date}.jpg', 'FileNameTemplate']]) {
        await refused(engine, `template ${t}`, () => engine.startSnapshot(task('t', { FileNameTemplate: t })), 'InvalidParameter', mentions);
      }
      const ok = await engine.startSnapshot(task('t', { FileNameTemplate: 'notes/{UserId}_{date}_{time}' }));
      eq(ok.Result, 'ok', 'a good template');
      eq((await engine.stopSnapshot(task('t'))).Result, 'ok', 'stop');
      await stillWorks(engine, 'after unknown placeholders');
    } finally {
      close();
    }
  },

  async bad_task_requests(Engine) {
    const engine = new Engine();
    const src = canvasSource(160, 120, solid(GREEN));
    try {
      await refused(engine, 'a task before joining', () => engine.startSnapshot(task('v')), 'InvalidParameter', 'joinChannel');
      eq(engine.joinChannel(ROOM, ME), OK, 'join');
      eq(engine.enableLocalVideo('main', true, src.track), OK, 'publish');
      await allRefused(engine, 'InvalidParameter', [
        ['another room', () => engine.startSnapshot({ ...task('v'), RoomId: 'room-2' }), 'RoomId'],
        ['no TaskId', () => engine.startSnapshot({ AppId: 'a', RoomId: ROOM }), 'TaskId'],
        ['two streams with one Index', () => engine.startSnapshot(task('v', { TargetStreams: { StreamList: [{ UserId: 'a', Index: 1 }, { UserId: 'b', Index: 1 }] } })), 'Index'],
        ['Format 2', () => engine.startSnapshot(task('v', { ImageConfig: { Format: 2 } })), 'ImageConfig.Format'],
        ['ImageConfig a string', () => engine.startSnapshot(task('v', { ImageConfig: 'big' })), 'ImageConfig'],
        ['TargetStreams an array', () => engine.startSnapshot(task('v', { TargetStreams: [] })), 'TargetStreams'],
        ['a request that is a string', () => engine.startSnapshot('task'), 'request'],
        ['a request that is a number', () => engine.updateSnapshot(5), 'request'],
      ]);
      await refused(engine, 'getSnapshotTask({})', () => engine.getSnapshotTask({}), INVALID_PARAM, 'AppId');
      await stillWorks(engine, 'after bad task requests');
      eq((await engine.startSnapshot(task('v'))).Result, 'ok', 'a good task starts');
      eq((await engine.stopSnapshot(task('v'))).Result, 'ok', 'and stops');
    } finally {
      src.stop();
      engine.destroy();
    }
  },

  async presigner_throws(Engine, dev) {
    return badPresigner(Engine, dev, 'throws', () => { throw new Error('backend down'); }, 'backend down');
  },

  async presigner_never_answers(Engine, dev) {
    return badPresigner(Engine, dev, 'never-answers', () => new Promise(() => {}), 'no answer within 200 ms');
  },

  async presigner_returns_garbage(Engine, dev) {
    const notes = [];
    for (const [name, reply, mentions] of [
      ['a-number', 5, 'url'],
      ['no-url', { method: 'PUT' }, 'url'],
      ['url-a-number', { url: 5 }, 'url'],
      ['not-a-url', { url: 'not a url' }, 'url'],
      ['bad-method', { url: `${dev}/snapshots/x.jpg`, method: 'DELETE' }, 'method'],
      ['bad-headers', { url: `${dev}/snapshots/x.jpg`, headers: { 'x-a': 'b\r\nc' } }, 'header'],
    ]) {
      notes.push(await badPresigner(Engine, dev, name, () => reply, mentions));
    }
    notes.push(await badPresigner(Engine, dev, 'rejects', () => Promise.reject(new Error('no such bucket')), 'no such bucket'));
    return notes.join(' | ');
  },

  async presigner_returns_plain_http(Engine, dev) {
    const notes = [];
    for (const [name, url] of [['plain-http', 'http://example.com/bucket/x.jpg'], ['ftp', 'ftp://127.0.0.1/x.jpg'], ['javascript', 'javascript:alert(1)']]) {
      notes.push(await badPresigner(Engine, dev, name, () => ({ url }), 'https'));
    }
    return notes.join(' | ');
  },

  async secrets_in_storage_options(Engine, dev) {
    const endpoint = `${dev}/presign`;
    for (const storage of [
      { presignEndpoint: endpoint, accessKey: 'AKIA' },
      { presignEndpoint: endpoint, secretAccessKey: 'x' },
      { presign: () => ({}), credentials: { sessionToken: 't' } },
      { presignEndpoint: 'http://example.com/presign' },
      { presignEndpoint: 'ftp://127.0.0.1/x' },
      { presign: 'https://example.com' },
      { presign: () => ({}), presignEndpoint: endpoint },
      {},
    ]) {
      const e = throws(() => new Engine({ storage }), INVALID_PARAM, `storage ${JSON.stringify(storage)}`);
      assert(/presign/.test(e.message), `names the presigner: ${e.message}`);
    }
    const { engine, close } = joined(Engine);
    try {
      await allRefused(engine, 'InvalidParameter', [
        ['StorageConfig with a SecretKey', () => engine.startSnapshot(task('t', { StorageConfig: { Type: 'presigned', SecretKey: 'x' } })), 'presign'],
        ['StorageConfig with cloud credentials', () => engine.startSnapshot(task('t', { StorageConfig: { Type: 2, CustomConfig: { AccessKey: 'x', SecretKey: 'y' } } })), 'StorageConfig'],
        ['a plain-http PresignEndpoint', () => engine.startSnapshot(task('t', { StorageConfig: { Type: 'presigned', PresignEndpoint: 'http://example.com/p' } })), 'PresignEndpoint'],
        ['a plain-http CallbackUrl', () => engine.startSnapshot(task('t', { CallbackUrl: 'http://example.com/cb' })), 'CallbackUrl'],
      ]);
      await stillWorks(engine, 'after refused storage');
    } finally {
      close();
    }
  },

  async secrets_in_names_depths_and_queries(Engine, dev) {
    const endpoint = `${dev}/presign`;
    // Names from the cloud SDKs' docs, in any case and with any separators.
    const names = ['aws_secret_access_key', 'AWSAccessKeyId', 'accessKeySecret', 'tmpSecretKey', 'accountKey',
      'x-amz-security-token', 'X_AMZ_SECURITY_TOKEN', 'x-amz-credential'];
    for (const name of names) {
      const e = throws(() => new Engine({ storage: { presignEndpoint: endpoint, [name]: 'x' } }), INVALID_PARAM, name);
      assert(e.message.includes(`options.storage.${name} looks like a storage credential`), e.message);
    }
    // Deeper than the engine reads (a cyclic object too): refused as unreadable, not waved through.
    let deep = { secretAccessKey: 'x' };
    for (let i = 0; i < 20; i++) deep = { a: deep };
    const cyclic = { presignEndpoint: endpoint };
    cyclic.self = cyclic;
    for (const storage of [{ presignEndpoint: endpoint, deep }, cyclic]) {
      const e = throws(() => new Engine({ storage }), INVALID_PARAM, 'deep');
      assert(/is nested too deeply to be checked for storage credentials/.test(e.message), e.message);
    }
    // Credentials in a URL option's query.
    for (const url of [`${endpoint}?secret=x`, `${endpoint}?X-Amz-Credential=AKIA%2F20260101%2Fus-east-1%2Fs3%2Faws4_request`, `/presign?password=p`]) {
      const e = throws(() => new Engine({ storage: { presignEndpoint: url } }), INVALID_PARAM, url);
      assert(e.message.includes('options.storage.presignEndpoint carries a credential in its query'), e.message);
    }
    const { engine, close } = joined(Engine);
    try {
      await allRefused(engine, 'InvalidParameter', [
        ['StorageConfig with an accountKey', () => engine.startSnapshot(task('t', { StorageConfig: { Type: 'presigned', Azure: { accountKey: 'k' } } })), 'StorageConfig.Azure.accountKey'],
        ['a PresignEndpoint with ?secret=', () => engine.startSnapshot(task('t', { StorageConfig: { Type: 'presigned', PresignEndpoint: `${endpoint}?secret=x` } })), 'PresignEndpoint carries a credential'],
        ['a CallbackUrl with a security token', () => engine.startSnapshot(task('t', { CallbackUrl: `${dev}/callback?X-Amz-Security-Token=t` })), 'CallbackUrl carries a credential'],
      ]);
      await stillWorks(engine, 'after refused credentials');
    } finally {
      close();
    }
  },

  async bad_options_and_listeners(Engine) {
    for (const opts of ['x', 5, true, [], { format: 'gif' }, { format: 'JPEG' }, { sizeFirst: 1 }]) {
      const e = throws(() => new Engine(opts), INVALID_PARAM, `options ${JSON.stringify(opts)}`);
      eq(e.name, 'TrackSnapError', 'a TrackSnapError');
      eq(e.codeName, 'ERR_INVALID_PARAM', 'its codeName');
      assert(e instanceof Error, 'an Error');
    }
    const { engine, close } = await previewing(Engine);
    try {
      await allRefused(engine, INVALID_PARAM, [
        ['handler 5', () => engine.setEventHandler(5), 'setEventHandler'],
        ['handler "x"', () => engine.setEventHandler('x'), 'setEventHandler'],
        ['event type 5', () => engine.addEventListener(5, () => {}), 'event type'],
        ['event type ""', () => engine.addEventListener('', () => {}), 'event type'],
        ['listener 5', () => engine.addEventListener('takesnapshotresult', 5), 'addEventListener'],
        ['listener "f"', () => engine.addEventListener('takesnapshotresult', 'f'), 'addEventListener'],
        ['remove with type 5', () => engine.removeEventListener(5, () => {}), 'event type'],
      ]);
      await stillWorks(engine, 'after bad options and listeners');
    } finally {
      close();
    }
  },

  async throwing_listeners(Engine) {
    const { engine, close } = await previewing(Engine);
    const reported = [];
    const onError = (e) => {
      if (String(e.message).includes('listener bug')) {
        reported.push(e.message);
        e.preventDefault();
      }
    };
    window.addEventListener('error', onError);
    try {
      let handlerCalls = 0;
      engine.setEventHandler({
        onTakeSnapshotResult() {
          handlerCalls += 1;
          throw new Error('handler bug');
        },
      });
      engine.addEventListener('takesnapshotresult', () => { throw new Error('listener bug'); });
      const seen = [];
      engine.addEventListener('takesnapshotresult', (e) => seen.push(e.detail.code));
      eq(engine.takeLocalSnapshot('main'), OK, 'first');
      eq(engine.takeLocalSnapshot('main'), OK, 'second');
      await poll(() => seen.length >= 2, 5000);
      eq(seen.join(), '0,0', 'the listener after the throwing one got both events');
      eq(handlerCalls, 2, 'the throwing handler was called for both');
      eq(reported.length, 2, "the listener's exceptions reached the page's error event");
      const r = await engine.snapshot({ streamType: 'main' });
      eq(r.code, OK, 'snapshot() resolves although its listeners throw');
      await stillWorks(engine, 'after throwing listeners');
    } finally {
      window.removeEventListener('error', onError);
      close();
    }
  },

  async calls_after_destroy(Engine, dev) {
    const { engine, src, close } = await previewing(Engine, { storage: { presignEndpoint: `${dev}/presign` } });
    engine.destroy();
    engine.destroy(); // twice is fine
    try {
      await allRefused(engine, INVALID_OPERATION, [
        ['startVideoPreview', () => engine.startVideoPreview('sub', src.track), 'destroy'],
        ['stopVideoPreview', () => engine.stopVideoPreview('main'), 'destroy'],
        ['joinChannel', () => engine.joinChannel(ROOM, ME), 'destroy'],
        ['leaveChannel', () => engine.leaveChannel(), 'destroy'],
        ['enableLocalVideo', () => engine.enableLocalVideo('main', true, src.track), 'destroy'],
        ['startScreenCapture', () => engine.startScreenCapture(src.track), 'destroy'],
        ['stopScreenCapture', () => engine.stopScreenCapture(), 'destroy'],
        ['onUserVideoStart', () => engine.onUserVideoStart('u1', src.track), 'destroy'],
        ['onUserVideoStop', () => engine.onUserVideoStop('u1'), 'destroy'],
        ['onUserSubStreamVideoStart', () => engine.onUserSubStreamVideoStart('u1', src.track), 'destroy'],
        ['onUserSubStreamVideoStop', () => engine.onUserSubStreamVideoStop('u1'), 'destroy'],
        ['onUserLeave', () => engine.onUserLeave('u1'), 'destroy'],
        ['takeLocalSnapshot', () => engine.takeLocalSnapshot('main'), 'destroy'],
        ['takeRemoteSnapshot', () => engine.takeRemoteSnapshot('u1', 'main'), 'destroy'],
        ['snapshot()', () => engine.snapshot({ streamType: 'main' }), 'destroy'],
        ['flushUploads()', () => engine.flushUploads(), 'destroy'],
      ]);
      await allRefused(engine, 'InvalidOperation', [
        ['startSnapshot', () => engine.startSnapshot(task('t')), 'destroy'],
        ['updateSnapshot', () => engine.updateSnapshot(task('t', { ImageConfig: { Interval: 2 } })), 'destroy'],
        ['stopSnapshot', () => engine.stopSnapshot(task('t')), 'destroy'],
      ]);
      // Reading and listening stay harmless.
      eq(engine.getSnapshotTask(task('t')), null, 'getSnapshotTask');
      eq(typeof engine.pendingUploads(), 'number', 'pendingUploads');
      eq(engine.lastError.code, INVALID_OPERATION, 'lastError');
      engine.setEventHandler(null);
      engine.addEventListener('takesnapshotresult', () => {});
      // Another engine on the same page works.
      const next = await previewing(Engine);
      try {
        await stillWorks(next.engine, 'a new engine after destroy()');
      } finally {
        next.close();
      }
    } finally {
      close();
    }
  },

  async reentrant_calls(Engine) {
    const { engine, close } = joined(Engine);
    try {
      // From the NERTC handler: one more snapshot, once.
      const codes = [];
      let again = true;
      engine.setEventHandler({
        onTakeSnapshotResult(code) {
          codes.push(code);
          if (again) {
            again = false;
            codes.push(`inner ${engine.takeLocalSnapshot('main', 'inner.jpg')}`);
          }
        },
      });
      eq(engine.takeLocalSnapshot('main', 'outer.jpg'), OK, 'outer');
      await poll(() => codes.length >= 3, 5000);
      eq(codes.join(), '0,inner 0,0', 'the inner call was accepted and delivered');
      engine.setEventHandler(null);

      // From a task's image event: update the task, then stop it (awaiting inside the listener).
      const seen = [];
      let stopped = null;
      engine.addEventListener('periodicsnapshot', async (e) => {
        seen.push(e.detail.Index ?? 0);
        if (seen.length === 1) {
          const u = await engine.updateSnapshot(task('re', { ImageConfig: { Interval: 2 } }));
          seen.push(`update ${u.Result}`);
        } else if (!stopped) {
          stopped = engine.stopSnapshot(task('re'));
        }
      });
      eq((await engine.startSnapshot(task('re'))).Result, 'ok', 'start');
      await poll(() => stopped, 6000, 20);
      assert(stopped, `the task did not reach its second image: ${seen}`);
      eq((await stopped).Result, 'ok', 'stopSnapshot from inside the listener');
      assert(seen.includes('update ok'), `updateSnapshot from inside the listener: ${seen}`);
      eq(engine.getSnapshotTask(task('re')).state, 'stopped', 'the task is stopped');

      // destroy() from inside a listener ends the engine quietly.
      const after = [];
      engine.addEventListener('takesnapshotresult', () => {
        after.push('event');
        engine.destroy();
      });
      eq(engine.takeLocalSnapshot('main'), OK, 'one more');
      eq(engine.takeLocalSnapshot('main'), OK, 'and another');
      await sleep(500);
      assert(after.length >= 1 && after.length <= 2, `events around destroy(): ${after.length}`);
      eq(engine.takeLocalSnapshot('main'), INVALID_OPERATION, 'destroyed from inside its listener');
      const next = await previewing(Engine);
      try {
        await stillWorks(next.engine, 'a new engine after a re-entrant destroy()');
      } finally {
        next.close();
      }
    } finally {
      close();
    }
  },
};

export async function run(name, Engine, devUrl) {
  assert(devUrl, 'the dev server URL is missing: run the tests with scripts/test.sh (it starts www/serve.mjs --faults)');
  await faults(devUrl, { reset: true });
  return runScenario(scenarios, name, Engine, devUrl);
}
