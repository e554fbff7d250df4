// Browser scenarios for the on-demand engine, written against the public JS API exactly as a
// page uses it. Each takes the SnapshotEngine class and throws on the first wrong observation.

import {
  OK, INVALID_PARAM, INVALID_OPERATION, TRACK_ENDED, FRAME_TIMEOUT, DESTROYED,
  RED, GREEN, BLUE, BLACK, YELLOW, isChromium, sleep, solid, halves, quadrants, texture, canvasSource,
  silentTrack, fakeCamera, screenTrack, shown, loopback, decode, bytes, assert, eq, near, rejects,
  throws, record, canGenerateFrames, yuvSource, yuvQuadrants, repeatedFrame, runScenario, standIn, poll,
  marked, quarter, opposite,
} from './media.js';

/** Checks the fields every successful result has, decodes it, and returns the decoded image. */
async function decodeOk(r, what) {
  eq(r.code, OK, `${what}: code (${r.message})`);
  eq(r.message, '', `${what}: message`);
  assert(r.blob instanceof Blob, `${what}: blob`);
  eq(r.size, r.blob.size, `${what}: size`);
  eq(r.blob.type, r.mimeType, `${what}: blob type`);
  eq(r.mimeType, r.format === 'png' ? 'image/png' : 'image/jpeg', `${what}: mimeType`);
  const img = await decode(r.blob);
  eq(img.width, r.width, `${what}: decoded width`);
  eq(img.height, r.height, `${what}: decoded height`);
  return img;
}

const center = (img) => img.at(img.width >> 1, img.height >> 1);

/** The colours at the centres of an image's quadrants: top left, top right, bottom left, bottom right. */
const quadrantColours = (img) => [[1, 1], [3, 1], [1, 3], [3, 3]].map(([x, y]) => img.at((img.width * x) >> 2, (img.height * y) >> 2));
const CORNERS = ['top left', 'top right', 'bottom left', 'bottom right'];

/** Checks `pixels` (one per quadrant, as `quadrantColours`) against `colours` within `tol`. */
function nearEach(pixels, colours, tol, what) {
  pixels.forEach((px, i) => near(px, colours[i], tol, `${what}: ${CORNERS[i]}`));
}

/** The quadrants of `quadrants(RED, GREEN, BLUE, YELLOW)` once turned clockwise. */
const TURNED = {
  0: [RED, GREEN, BLUE, YELLOW],
  90: [BLUE, RED, YELLOW, GREEN],
  180: [YELLOW, BLUE, GREEN, RED],
  270: [GREEN, YELLOW, RED, BLUE],
};
const mirrored = ([tl, tr, bl, br]) => [tr, tl, br, bl];

/**
 * Snapshots of a 320×240 four-colour stream turned with fit, sizes and mirror, against where
 * the turn puts each quadrant; `tol` for PNG and `jpegTol` for JPEG. The borders are checked
 * a few pixels either side of the middle lines.
 */
async function checkTurns(engine, what, tol, jpegTol) {
  const shot = async (request, label) => decodeOk(await engine.snapshot({ streamType: 'main', format: 'png', ...request }), `${what} ${label}`);
  for (const rotate of [0, 90, 180, 270]) {
    const label = `rotate ${rotate}`;
    const size = rotate % 180 ? '240x320' : '320x240';
    const png = await shot({ rotate }, label);
    eq(`${png.width}x${png.height}`, size, `${what} ${label}: size`);
    const [tl, tr, bl, br] = TURNED[rotate];
    nearEach(quadrantColours(png), [tl, tr, bl, br], tol, `${what} ${label}`);
    const [w, h] = [png.width, png.height];
    nearEach([png.at(w / 2 - 3, h / 4), png.at(w / 2 + 2, h / 4), png.at(w / 4, h / 2 - 3), png.at(w / 4, h / 2 + 2)], [tl, tr, tl, bl], tol + 6, `${what} ${label}: by the middle lines`);
    nearEach([png.at(1, 1), png.at(w - 2, 1), png.at(1, h - 2), png.at(w - 2, h - 2)], [tl, tr, bl, br], tol + 6, `${what} ${label}: corners`);
    const jpeg = await shot({ rotate, format: 'jpeg' }, `${label} jpeg`);
    eq(`${jpeg.width}x${jpeg.height}`, size, `${what} ${label} jpeg: size`);
    nearEach(quadrantColours(jpeg), [tl, tr, bl, br], jpegTol, `${what} ${label} jpeg`);
    // The mirror flips the turned picture.
    nearEach(quadrantColours(await shot({ rotate, mirror: true }, `${label} mirror`)), mirrored(TURNED[rotate]), tol, `${what} ${label} mirror`);
  }
  // The size rules see the turned 240×320 stream: a width alone keeps its shape, and a
  // landscape ask of the portrait stream is swapped, as for any portrait stream.
  for (const [request, size] of [[{ width: 120 }, '120x160'], [{ width: 120, height: 160 }, '120x160'], [{ width: 160, height: 120 }, '120x160']]) {
    const img = await shot({ rotate: 90, ...request }, JSON.stringify(request));
    eq(`${img.width}x${img.height}`, size, `${what} rotate 90 ${JSON.stringify(request)}: size`);
    nearEach(quadrantColours(img), TURNED[90], tol, `${what} rotate 90 ${JSON.stringify(request)}`);
  }
  // Contain in a square: the turned picture is 180 wide, with bars of 30 on either side.
  const inner = (img) => [[75, 60], [165, 60], [75, 180], [165, 180]].map(([x, y]) => img.at(x, y));
  let img = await shot({ rotate: 90, width: 240, height: 240, fit: 'contain' }, 'contain');
  eq(`${img.width}x${img.height}`, '240x240', `${what} contain: size`);
  near(img.at(10, 120), BLACK, tol, `${what} contain: bar on the left`);
  near(img.at(229, 120), BLACK, tol, `${what} contain: bar on the right`);
  nearEach(inner(img), TURNED[90], tol, `${what} rotate 90 contain`);
  img = await shot({ rotate: 90, width: 240, height: 240, fit: 'contain', mirror: true, format: 'jpeg' }, 'contain mirror');
  near(img.at(10, 120), BLACK, jpegTol, `${what} contain + mirror: bar`);
  nearEach(inner(img), mirrored(TURNED[90]), jpegTol, `${what} rotate 90 contain + mirror`);
  // Cover: the middle 240 rows of the turned picture; each corner is its quadrant's.
  img = await shot({ rotate: 270, width: 240, height: 240, fit: 'cover' }, 'cover');
  nearEach([img.at(4, 4), img.at(235, 4), img.at(4, 235), img.at(235, 235)], TURNED[270], tol, `${what} rotate 270 cover`);
}

/** Pixels of `img` in `[x0, y0, x1, y1]` that differ from the same pixels of `other` by more than `tol`. */
function unlike(img, other, [x0, y0, x1, y1], tol) {
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const b = other.at(x, y);
      if (img.at(x, y).some((v, i) => Math.abs(v - b[i]) > tol)) n++;
    }
  }
  return n;
}

/** The bounding box [x0, y0, x1, y1] of the pixels of `img` within `tol` of `rgb`. */
function extent(img, rgb, tol) {
  const box = [img.width, img.height, 0, 0];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.at(x, y).every((v, i) => Math.abs(v - rgb[i]) <= tol)) {
        box[0] = Math.min(box[0], x);
        box[1] = Math.min(box[1], y);
        box[2] = Math.max(box[2], x + 1);
        box[3] = Math.max(box[3], y + 1);
      }
    }
  }
  return box;
}

/**
 * Watermarked snapshots of a solid `colour` stream, PNG (`tol`) and JPEG (`jpegTol`): in each
 * corner the watermark's quarter has drawn pixels and the opposite quarter none; the mirror
 * leaves the watermark where it was and unmirrored; opacity 0 leaves every pixel; CJK draws.
 */
async function checkWatermarks(engine, what, colour, tol, jpegTol) {
  const shot = async (request, label) => decodeOk(await engine.snapshot({ streamType: 'main', format: 'png', ...request }), `${what} ${label}`);
  for (const format of ['png', 'jpeg']) {
    const t = format === 'png' ? tol : jpegTol;
    for (const position of ['top-left', 'top-right', 'bottom-left', 'bottom-right']) {
      const label = `${format} ${position}`;
      const img = await shot({ format, watermark: { text: 'Room 7b {utc}', position } }, label);
      const drawn = marked(img, quarter(img, position), colour, t);
      assert(drawn >= 100, `${what} ${label}: ${drawn} pixels of the watermark in its corner`);
      eq(marked(img, quarter(img, opposite(position)), colour, t), 0, `${what} ${label}: pixels changed in the opposite corner`);
    }
    // The mirror flips the picture, not the watermark: the same pixels where it sits.
    const plain = await shot({ format, watermark: { text: 'Room 7b' } }, `${format} unmirrored`);
    const flipped = await shot({ format, mirror: true, watermark: { text: 'Room 7b' } }, `${format} mirrored`);
    assert(marked(plain, quarter(plain, 'bottom-right'), colour, t) >= 100, `${what} ${format}: a watermark to compare`);
    eq(unlike(flipped, plain, [0, 0, plain.width, plain.height], t), 0, `${what} ${format}: pixels of the mirrored snapshot unlike the unmirrored one's`);
  }
  const none = await shot({ watermark: null }, 'no watermark');
  const clear = await shot({ watermark: { text: 'Room 7b', opacity: 0 } }, 'opacity 0');
  eq(unlike(clear, none, [0, 0, none.width, none.height], 0), 0, `${what}: pixels changed by a watermark of opacity 0`);
  const half = await shot({ watermark: { text: 'Room 7b', opacity: 0.5 } }, 'opacity 0.5');
  const full = await shot({ watermark: { text: 'Room 7b' } }, 'opacity 1');
  const box = quarter(full, 'bottom-right');
  assert(marked(half, box, colour, tol) > 0 && marked(half, box, colour, 120) < marked(full, box, colour, 120), `${what}: opacity 0.5 is fainter than 1`);
  const cjk = await shot({ watermark: { text: '课堂笔记', position: 'top-left' } }, 'CJK');
  const drawn = marked(cjk, quarter(cjk, 'top-left'), colour, tol);
  assert(drawn >= 100, `${what}: ${drawn} pixels of CJK text`);
  // Glyphs, not the same missing-glyph box four times: other characters draw other pixels.
  const other = await shot({ watermark: { text: '板书讲义', position: 'top-left' } }, 'other CJK');
  assert(unlike(cjk, other, quarter(cjk, 'top-left'), tol) >= 20, `${what}: two CJK texts drew the same pixels (no CJK font?)`);
}

export const scenarios = {
  async local_streams_keep_their_colours(Engine) {
    const engine = new Engine();
    const rec = record(engine);
    const main = canvasSource(320, 240, solid(RED));
    const sub = canvasSource(200, 100, solid(BLUE));
    try {
      const t0 = Date.now();
      eq(engine.startVideoPreview('main', main.track), OK, 'preview main');
      eq(engine.startVideoPreview(1, sub.track), OK, 'preview sub');
      eq(engine.takeLocalSnapshot('main', 'notes/main.jpg'), OK, 'take main');
      eq(engine.takeLocalSnapshot(1), OK, 'take sub');
      await rec.wait(2);
      const byType = Object.fromEntries(rec.events.map((e) => [e.streamType, e]));
      const m = byType.main;
      const s = byType.sub;
      assert(m && s, `one event per stream: ${rec.events.map((e) => e.streamType)}`);
      eq(m.path, 'notes/main.jpg', 'main path');
      eq(m.uid, '', 'local uid before joining');
      eq([m.width, m.height].join('x'), '320x240', 'main size');
      eq([s.width, s.height].join('x'), '200x100', 'sub size');
      near(center(await decodeOk(m, 'main')), RED, 12, 'main colour');
      near(center(await decodeOk(s, 'sub')), BLUE, 12, 'sub colour');
      assert(m.timestamp >= t0 && m.timestamp <= Date.now(), 'timestamp is when the frame came');
      eq(rec.calls.length, 2, 'handler calls');
      for (const c of rec.calls) {
        const e = rec.events.find((ev) => ev.path === c.path);
        assert(e === c.result, 'the handler gets the same result object as the event');
        eq(c.code, e.code, 'handler code');
      }
      await sleep(300);
      eq(rec.events.length, 2, 'no further events');
    } finally {
      main.stop();
      sub.stop();
      engine.destroy();
    }
  },

  async new_colour_shows_in_next_snapshot(Engine) {
    const engine = new Engine({ format: 'png' });
    const src = canvasSource(160, 120, solid(RED));
    try {
      eq(engine.startVideoPreview('main', src.track), OK, 'preview');
      for (const colour of [RED, GREEN, BLUE, RED]) {
        src.set(solid(colour));
        // The page shows the new picture from its next frame on.
        await sleep(120);
        const r = await engine.snapshot({ streamType: 'main' });
        near(center(await decodeOk(r, `snapshot of ${colour}`)), colour, 4, 'colour after the change');
      }
    } finally {
      src.stop();
      engine.destroy();
    }
  },

  async snapshot_options(Engine) {
    const engine = new Engine();
    const rec = record(engine);
    const src = canvasSource(640, 360, halves(RED, BLUE));
    let calls = 0;
    const shot = (req) => {
      calls += 1;
      return engine.snapshot({ streamType: 'main', ...req });
    };
    try {
      eq(engine.startVideoPreview('main', src.track), OK, 'preview');

      let r = await shot({ format: 'png', path: 'a.png' });
      eq([...(await bytes(r.blob, 8))].join(','), '137,80,78,71,13,10,26,10', 'PNG signature');
      eq(r.format, 'png', 'format');
      let img = await decodeOk(r, 'png');
      near(img.at(10, 180), RED, 3, 'png left');
      near(img.at(630, 180), BLUE, 3, 'png right');

      r = await shot({ format: 'png', mirror: true });
      img = await decodeOk(r, 'mirror');
      near(img.at(10, 180), BLUE, 3, 'mirrored left');
      near(img.at(630, 180), RED, 3, 'mirrored right');

      r = await shot({});
      eq([...(await bytes(r.blob, 3))].join(','), '255,216,255', 'JPEG SOI');

      const sizes = [
        [{ width: 320 }, '320x180'],
        [{ height: 90 }, '160x90'],
        [{ width: 90, height: 160 }, '160x90'], // portrait asked of a landscape stream: swapped
        [{ width: 300, height: 300 }, '300x300'],
        [{ width: 0, height: 0 }, '640x360'],
      ];
      for (const [req, want] of sizes) {
        r = await shot(req);
        eq(`${r.width}x${r.height}`, want, `size for ${JSON.stringify(req)}`);
        await decodeOk(r, want);
      }

      const square = { width: 300, height: 300, format: 'png' };
      img = await decodeOk(await shot({ ...square, fit: 'fill' }), 'fill');
      near(img.at(5, 5), RED, 3, 'fill corner');
      near(img.at(295, 295), BLUE, 3, 'fill far corner');
      img = await decodeOk(await shot({ ...square, fit: 'contain' }), 'contain');
      near(img.at(150, 10), BLACK, 0, 'contain bar above');
      near(img.at(150, 290), BLACK, 0, 'contain bar below');
      near(img.at(40, 150), RED, 3, 'contain picture left');
      near(img.at(260, 150), BLUE, 3, 'contain picture right');
      img = await decodeOk(await shot({ ...square, fit: 'cover' }), 'cover');
      near(img.at(150 - 100, 5), RED, 3, 'cover top left is picture');
      near(img.at(150 + 100, 295), BLUE, 3, 'cover bottom right is picture');

      src.set(texture());
      await sleep(100);
      const low = await shot({ quality: 10 });
      const high = await shot({ quality: 95 });
      assert(low.size * 2 < high.size, `quality 10 (${low.size} B) vs 95 (${high.size} B)`);

      await rec.wait(calls);
      await sleep(200);
      eq(rec.events.length, calls, 'one event per snapshot() call');
    } finally {
      src.stop();
      engine.destroy();
    }
  },

  async fake_camera(Engine) {
    const engine = new Engine();
    const track = await fakeCamera(1280, 720);
    try {
      const { width, height } = track.getSettings();
      eq(engine.startVideoPreview('main', track), OK, 'preview');
      const img = await decodeOk(await engine.snapshot({ streamType: 'main' }), 'camera');
      eq(`${img.width}x${img.height}`, `${width}x${height}`, 'the camera size');
      // A real picture: not black, not one flat colour.
      let sum = 0;
      const seen = new Set();
      for (let y = 8; y < img.height; y += 37) {
        for (let x = 8; x < img.width; x += 41) {
          const [r, g, b] = img.at(x, y);
          sum += r + g + b;
          seen.add(`${r >> 4},${g >> 4},${b >> 4}`);
        }
      }
      assert(sum > 0, 'the picture is not black');
      if (isChromium()) {
        // Chromium's fake camera draws a moving pattern.
        assert(seen.size > 3, `the picture has detail (${seen.size} colours)`);
      } else {
        // Firefox's fake camera is one colour that drifts slowly: the page shows the same one.
        near(center(img), (await shown(track)).centre, 24, 'the colour the page shows');
      }
      const small = await engine.snapshot({ streamType: 'main', width: 640 });
      eq(`${small.width}x${small.height}`, `640x${Math.round((640 * height) / width)}`, 'scaled');
      return `camera ${width}x${height}, ${small.size} B at 640 wide`;
    } finally {
      track.stop();
      engine.destroy();
    }
  },

  async screen_share(Engine) {
    const engine = new Engine();
    const rec = record(engine);
    let track;
    let real = true;
    try {
      track = await screenTrack();
    } catch (e) {
      // Firefox and WebKit grant getDisplayMedia only on a user gesture.
      if (isChromium()) throw new Error(`getDisplayMedia failed in Chromium: ${e}`);
      standIn(`getDisplayMedia refused (${e.name}): an 800x600 canvas track is the screen`);
      real = false;
      track = canvasSource(800, 600, solid(GREEN)).track;
    }
    try {
      const { width, height } = await shown(track);
      eq(engine.startScreenCapture(track), INVALID_OPERATION, 'screen capture before joining');
      eq(engine.joinChannel('class-1', 1001), OK, 'join');
      eq(engine.startScreenCapture(track), OK, 'start screen capture');
      eq(engine.takeLocalSnapshot('sub', 'screen.jpg'), OK, 'take sub');
      const e = await rec.wait(1);
      await decodeOk(e, 'screen');
      eq(`${e.width}x${e.height}`, `${width}x${height}`, 'screen size');
      eq(e.uid, '1001', 'uid after joining');
      eq(e.streamType, 'sub', 'stream type');
      eq(engine.stopScreenCapture(), OK, 'stop screen capture');
      eq(engine.takeLocalSnapshot('sub'), INVALID_OPERATION, 'take after stopping');
      return real ? `real screen ${width}x${height}` : '';
    } finally {
      track.stop();
      engine.destroy();
    }
  },

  async remote_streams(Engine) {
    const engine = new Engine();
    const rec = record(engine);
    const cam = canvasSource(320, 240, solid(GREEN));
    const screen = canvasSource(320, 240, solid(BLUE));
    const main = await loopback(cam.track);
    const sub = await loopback(screen.track);
    try {
      eq(engine.onUserVideoStart(7, main.track), INVALID_OPERATION, 'remote event before joining');
      eq(engine.joinChannel('room-9', 'teacher'), OK, 'join');
      eq(engine.takeRemoteSnapshot(7, 'main'), INVALID_OPERATION, 'before onUserVideoStart');
      eq(engine.onUserVideoStart(7, main.track), OK, 'onUserVideoStart');
      eq(engine.onUserSubStreamVideoStart('7', sub.track), OK, 'onUserSubStreamVideoStart');
      eq(engine.onUserVideoStart('teacher', main.track), INVALID_PARAM, 'own uid as a remote user');
      eq(engine.takeRemoteSnapshot(7, 'main', 'remote-main.jpg'), OK, 'take remote main');
      eq(engine.takeRemoteSnapshot('7', 1, 'remote-sub.jpg'), OK, 'take remote sub');
      eq(engine.takeRemoteSnapshot(8, 'main'), INVALID_OPERATION, 'unknown uid');
      await rec.wait(2);
      const byPath = Object.fromEntries(rec.events.map((e) => [e.path, e]));
      const m = byPath['remote-main.jpg'];
      const s = byPath['remote-sub.jpg'];
      eq(m.uid, '7', 'remote uid normalised to a string');
      eq(`${m.streamType}/${s.streamType}`, 'main/sub', 'stream types');
      // VP8 keeps a flat colour within a few levels; JPEG adds a few more.
      near(center(await decodeOk(m, 'remote main')), GREEN, 16, 'remote main colour');
      near(center(await decodeOk(s, 'remote sub')), BLUE, 16, 'remote sub colour');

      eq(engine.onUserVideoStop(7), OK, 'onUserVideoStop');
      eq(engine.takeRemoteSnapshot(7, 'main'), INVALID_OPERATION, 'main after stop');
      eq(engine.takeRemoteSnapshot(7, 'sub', 'still.jpg'), OK, 'sub unaffected');
      await rec.wait(3);
      eq(engine.onUserLeave(7), OK, 'onUserLeave');
      eq(engine.takeRemoteSnapshot(7, 'sub'), INVALID_OPERATION, 'sub after leave');
      eq(engine.onUserSubStreamVideoStart(7, sub.track), OK, 'back again');
      eq(engine.leaveChannel(), OK, 'leave');
      eq(engine.takeRemoteSnapshot(7, 'sub'), INVALID_OPERATION, 'after leaveChannel');
      return `remote ${m.width}x${m.height}`;
    } finally {
      main.close();
      sub.close();
      cam.stop();
      screen.stop();
      engine.destroy();
    }
  },

  async ended_tracks(Engine) {
    const engine = new Engine();
    const rec = record(engine);
    const src = canvasSource(160, 120, solid(RED));
    try {
      eq(engine.startVideoPreview('main', src.track), OK, 'preview');
      src.stop();
      eq(engine.startVideoPreview('sub', src.track), INVALID_PARAM, 'an ended track is refused');
      eq(engine.takeLocalSnapshot('main', 'gone.jpg'), OK, 'accepted: the stream is still started');
      const e = await rec.wait(1);
      eq(e.code, TRACK_ENDED, 'track ended code');
      eq(e.blob, null, 'no blob');
      eq(e.path, 'gone.jpg', 'path');
      assert(e.message.includes('ended'), e.message);
      const err = await rejects(engine.snapshot({ streamType: 'main' }), TRACK_ENDED, 'snapshot()');
      eq(err.result.code, TRACK_ENDED, 'the rejection carries the result');

      // A track that ends while the engine waits for its frame.
      const silent = silentTrack();
      eq(engine.startVideoPreview('main', silent), OK, 'preview a silent track');
      const t0 = performance.now();
      const pending = engine.snapshot({ streamType: 'main' });
      await sleep(200);
      silent.stop();
      await rejects(pending, TRACK_ENDED, 'ended during the wait');
      const waited = performance.now() - t0;
      assert(waited < 1500, `noticed the end after ${waited} ms`);
      await rec.wait(3);
      return `ended noticed ${Math.round(waited - 200)} ms after stop()`;
    } finally {
      engine.destroy();
    }
  },

  async timing_walk(Engine) {
    const engine = new Engine();
    const rec = record(engine);
    const cam = canvasSource(160, 120, solid(RED));
    const scr = canvasSource(160, 120, solid(BLUE));
    let accepted = 0;
    const take = (st, want, what) => {
      const code = engine.takeLocalSnapshot(st);
      eq(code, want, what);
      if (code === OK) accepted += 1;
    };
    try {
      take('main', INVALID_OPERATION, 'nothing started');
      eq(engine.startVideoPreview('main', cam.track), OK, 'preview');
      take('main', OK, 'during preview');
      take('sub', INVALID_OPERATION, 'sub not started');
      eq(engine.stopVideoPreview('main'), OK, 'stop preview');
      take('main', INVALID_OPERATION, 'after stopVideoPreview');
      eq(engine.stopVideoPreview('main'), OK, 'stopping again');
      eq(engine.startVideoPreview('main', cam.track), OK, 'preview again');
      eq(engine.enableLocalVideo('main', true, cam.track), INVALID_OPERATION, 'enable before join');
      eq(engine.joinChannel('room', 5), OK, 'join');
      take('main', INVALID_OPERATION, 'joining ends the preview');
      eq(engine.startVideoPreview('main', cam.track), INVALID_OPERATION, 'preview after join');
      eq(engine.stopVideoPreview('main'), INVALID_OPERATION, 'stop preview after join');
      eq(engine.enableLocalVideo('main', true), OK, 'enable with the preview track');
      take('main', OK, 'after enableLocalVideo');
      eq(engine.startScreenCapture(scr.track), OK, 'screen');
      take('sub', OK, 'screen share');
      eq(engine.enableLocalVideo('sub', false), OK, 'disable sub');
      take('sub', INVALID_OPERATION, 'sub disabled');
      eq(engine.enableLocalVideo('sub', true), OK, 'enable sub with the screen track');
      take('sub', OK, 'sub again');
      eq(engine.stopScreenCapture(), OK, 'stop screen');
      take('sub', INVALID_OPERATION, 'after stopScreenCapture');
      eq(engine.enableLocalVideo('main', false), OK, 'disable main');
      take('main', INVALID_OPERATION, 'main disabled');
      eq(engine.enableLocalVideo('main', true), OK, 'enable main again');
      eq(engine.joinChannel('room', 5), INVALID_OPERATION, 'join twice');
      eq(engine.leaveChannel(), OK, 'leave');
      take('main', INVALID_OPERATION, 'after leaving');
      eq(engine.leaveChannel(), INVALID_OPERATION, 'leave twice');
      eq(engine.onUserVideoStart(7, cam.track), INVALID_OPERATION, 'remote event after leaving');

      await rec.wait(accepted);
      await sleep(200);
      eq(rec.events.length, accepted, 'one event per accepted call');
      const colours = { main: RED, sub: BLUE };
      for (const e of rec.events) {
        near(center(await decodeOk(e, e.path)), colours[e.streamType], 12, `${e.path} colour`);
      }
      eq(rec.events.filter((e) => e.uid === '5').length, 3, 'snapshots after joining carry the uid');
    } finally {
      cam.stop();
      scr.stop();
      engine.destroy();
    }
  },

  async destroy_ends_in_flight(Engine) {
    const engine = new Engine({ frameTimeout: 10000 });
    const rec = record(engine);
    const silent = silentTrack();
    try {
      eq(engine.startVideoPreview('main', silent), OK, 'preview');
      eq(engine.takeLocalSnapshot('main', 'pending.jpg'), OK, 'take');
      const pending = engine.snapshot({ streamType: 'main' });
      await sleep(150);
      const t0 = performance.now();
      engine.destroy();
      await rejects(pending, DESTROYED, 'snapshot() in flight');
      const e = await rec.wait(2, 2000);
      assert(performance.now() - t0 < 1000, 'in-flight snapshots end promptly');
      eq(rec.events.map((ev) => ev.code).join(), `${DESTROYED},${DESTROYED}`, 'codes');
      engine.destroy();
      eq(engine.takeLocalSnapshot('main'), INVALID_OPERATION, 'take after destroy');
      eq(engine.startVideoPreview('main', silent), INVALID_OPERATION, 'preview after destroy');
      await rejects(engine.snapshot({ streamType: 'main' }), INVALID_OPERATION, 'snapshot after destroy');
      await sleep(200);
      eq(rec.events.length, 2, 'nothing after destroy');
      eq(e.blob, null, 'no blob');
    } finally {
      silent.stop();
    }
  },

  async a_freed_engine_leaves_no_listener(Engine) {
    // free() without destroy(), as a framework dropping its handle does: the engine's closures
    // go, and so must the listeners that would call them.
    const errors = [];
    const seen = (e) => {
      errors.push(String(e.error?.message ?? e.message));
      e.preventDefault();
    };
    window.addEventListener('error', seen);
    try {
      const engine = new Engine();
      await engine.ready;
      engine.free();
      window.dispatchEvent(new Event('online'));
      await sleep(100);
      eq(errors.length, 0, `errors after an online event: ${errors.join('; ')}`);
      return 'no error from the freed engine';
    } finally {
      window.removeEventListener('error', seen);
    }
  },

  async destroy_ends_encoding(Engine) {
    // A 4K PNG of noise keeps the worker busy for a while: destroy() must end the snapshot
    // whose frame is already in the worker, without waiting for its image.
    // WebKit's <video> path takes over a second for its first 4K frame.
    const engine = new Engine({ frameTimeout: 10000 });
    const rec = record(engine);
    const noise = new OffscreenCanvas(3840, 2160);
    {
      const img = new ImageData(3840, 2160);
      const words = new Uint32Array(img.data.buffer);
      let x = 2463534242;
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        words[i] = (x >>> 0) | 0xff000000;
      }
      noise.getContext('2d').putImageData(img, 0, 0);
    }
    // Repainted by copying the noise: cheap enough every 40 ms at 4K.
    const big = canvasSource(3840, 2160, (ctx) => ctx.drawImage(noise, 0, 0));
    try {
      eq(engine.startVideoPreview('main', big.track), OK, 'preview');
      const request = { streamType: 'main', format: 'png' };
      const t0 = performance.now();
      const whole = await engine.snapshot(request);
      const encodeMs = performance.now() - t0;
      eq(engine.encoderPlacement, 'worker', 'this scenario needs the worker');
      eq(whole.width, 3840, 'an undisturbed 4K PNG');
      assert(encodeMs > 120, `a 4K PNG took only ${encodeMs} ms: too short to end in the middle`);
      const posted = frameSentToWorker();
      const pending = engine.snapshot(request);
      await posted;
      await sleep(20);
      const t1 = performance.now();
      engine.destroy();
      await rejects(pending, DESTROYED, 'snapshot() in the worker');
      const ended = performance.now() - t1;
      assert(ended < encodeMs / 2, `ended ${ended} ms after destroy(); the image takes ${encodeMs} ms`);
      await sleep(encodeMs + 200);
      eq(rec.events.map((e) => e.code).join(), `${OK},${DESTROYED}`, 'one event each, nothing later');
      eq(rec.events[1].blob, null, 'no blob');
      return `4K PNG ${Math.round(encodeMs)} ms; ended ${ended.toFixed(1)} ms after destroy()`;
    } finally {
      big.stop();
      engine.destroy();
    }
  },

  async frame_timeout(Engine) {
    const engine = new Engine({ frameTimeout: 300 });
    const rec = record(engine);
    const silent = silentTrack();
    const live = canvasSource(64, 48, solid(GREEN));
    try {
      eq(engine.startVideoPreview('main', silent), OK, 'preview');
      const t0 = performance.now();
      eq(engine.takeLocalSnapshot('main'), OK, 'take');
      const e = await rec.wait(1, 5000);
      const waited = performance.now() - t0;
      eq(e.code, FRAME_TIMEOUT, 'timeout code');
      assert(e.message.includes('300 ms'), e.message);
      assert(waited >= 290 && waited < 2000, `gave up after ${waited} ms`);
      eq(engine.startVideoPreview('main', live.track), OK, 'a live track');
      const r = await engine.snapshot({ streamType: 'main' });
      near(center(await decodeOk(r, 'live')), GREEN, 12, 'works after a timeout');
      return `timed out after ${Math.round(waited)} ms`;
    } finally {
      silent.stop();
      live.stop();
      engine.destroy();
    }
  },

  async one_event_per_accepted_call(Engine) {
    const engine = new Engine();
    const src = canvasSource(96, 64, solid(RED));
    const handled = [];
    const events = [];
    engine.setEventHandler({
      onTakeSnapshotResult(code, path) {
        handled.push(path);
        if (handled.length === 1) throw new Error('a bug in the app handler');
      },
    });
    let reentrant;
    engine.addEventListener('takesnapshotresult', (e) => {
      events.push(e.detail.path);
      // Calling back into the engine from its own event is allowed.
      if (reentrant === undefined) reentrant = engine.takeLocalSnapshot('main', 'reentrant.jpg');
    });
    try {
      eq(engine.startVideoPreview('main', src.track), OK, 'preview');
      const paths = ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'e.jpg'];
      for (const p of paths) eq(engine.takeLocalSnapshot('main', p), OK, p);
      eq(engine.takeLocalSnapshot('side', 'x.jpg'), INVALID_PARAM, 'refused');
      eq(engine.takeLocalSnapshot('sub', 'y.jpg'), INVALID_OPERATION, 'refused');
      eq(engine.takeRemoteSnapshot(9, 'main', 'z.jpg'), INVALID_OPERATION, 'refused');
      await poll(() => events.length >= 6, 10000);
      await sleep(500);
      eq(reentrant, OK, 're-entrant call');
      eq(events.length, 6, `events ${events}`);
      eq(handled.length, 6, `handler calls ${handled}`);
      eq([...events].sort().join(), [...paths, 'reentrant.jpg'].sort().join(), 'paths');
    } finally {
      src.stop();
      engine.destroy();
    }
  },

  async default_names(Engine) {
    const engine = new Engine();
    const rec = record(engine);
    const src = canvasSource(64, 48, solid(BLUE));
    try {
      eq(engine.startVideoPreview('main', src.track), OK, 'preview');
      const before = Date.now();
      for (let i = 0; i < 3; i++) eq(engine.takeLocalSnapshot('main'), OK, 'take');
      await rec.wait(3);
      const names = rec.events.map((e) => e.path);
      eq(new Set(names).size, 3, `distinct names ${names}`);
      for (const n of names) assert(/^local_main_\d{17}(_\d+)?\.jpg$/.test(n), n);
      const stamp = names[0].slice('local_main_'.length, 'local_main_'.length + 17);
      const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(8, 10)}:` +
        `${stamp.slice(10, 12)}:${stamp.slice(12, 14)}.${stamp.slice(14)}Z`;
      const t = Date.parse(iso);
      assert(t >= before && t <= Date.now(), `the stamp ${stamp} is the UTC time of the call`);
      eq(rec.calls.map((c) => c.path).join(), names.join(), 'the handler gets the same names');

      eq(engine.joinChannel('room', 42), OK, 'join');
      eq(engine.enableLocalVideo('main', true), OK, 'enable');
      const r = await engine.snapshot({ streamType: 'main', format: 'png' });
      assert(/^42_main_\d{17}(_\d+)?\.png$/.test(r.path), r.path);
    } finally {
      src.stop();
      engine.destroy();
    }
  },

  async kept_clones_end_with_their_streams(Engine) {
    // The engine works on clones of the page's tracks; a clone that outlived its stream would
    // keep the camera on. Record every clone it makes.
    const clones = [];
    const clone = MediaStreamTrack.prototype.clone;
    MediaStreamTrack.prototype.clone = function recordedClone() {
      const c = clone.call(this);
      clones.push({ of: this, clone: c });
      return c;
    };
    // Safari: the clones are sent to the engine's Worker, and end there.
    const inWorker = spyOnWorkers();
    const engine = new Engine();
    const camera = await fakeCamera(640, 480);
    const canvas = canvasSource(160, 120, solid(GREEN));
    try {
      await engine.ready;
      const viaWorker = engine.frameReader === 'MediaStreamTrackProcessor in a Worker';
      eq(engine.startVideoPreview('main', camera), OK, 'preview camera');
      eq(engine.startVideoPreview('sub', canvas.track), OK, 'preview canvas');
      for (let i = 0; i < 3; i++) {
        await decodeOk(await engine.snapshot({ streamType: 'main' }), `camera ${i}`);
        await decodeOk(await engine.snapshot({ streamType: 'sub' }), `canvas ${i}`);
      }
      const live = (of) => clones.filter((c) => c.of === of && c.clone.readyState === 'live').length;
      assert(clones.length >= 2, `clones made: ${clones.length}`);
      assert(live(camera) <= 1 && live(canvas.track) <= 1, 'at most one kept clone per stream');
      const sent = await inWorker.report();
      if (viaWorker) eq(`${sent.tracks}/${sent.live}`, '2/2', 'clones sent to the Worker/live there');
      else eq(sent.tracks, 0, 'clones sent to a Worker');
      // The page stops its camera without telling the engine: the clone follows within 0.5 s.
      camera.stop();
      await sleep(600);
      eq(live(camera), 0, 'live clones of the stopped camera');
      if (viaWorker) eq((await inWorker.report()).live, 1, 'live clones in the Worker: the canvas');
      // A stream the engine is told about ends its clone at once.
      eq(engine.stopVideoPreview('sub'), OK, 'stop canvas preview');
      eq(live(canvas.track), 0, 'live clones of the stopped stream');
      eq((await inWorker.report()).live, 0, 'live clones in the Worker');
      return `${clones.length} clones${viaWorker ? ' (ended in the Worker)' : ''}, all ended with their streams`;
    } finally {
      inWorker.restore();
      MediaStreamTrack.prototype.clone = clone;
      camera.stop();
      canvas.stop();
      engine.destroy();
    }
  },

  async frame_reader_tells_the_truth(Engine) {
    // What this browser offers, asked directly: the processor on the page, only in a Worker
    // (Safari), or neither.
    const onPage = typeof MediaStreamTrackProcessor === 'function';
    const inAWorker = await askWorker(() => typeof MediaStreamTrackProcessor === 'function');
    const want = onPage ? 'MediaStreamTrackProcessor' : inAWorker ? 'MediaStreamTrackProcessor in a Worker' : 'video element';
    const spy = spyOnWorkers();
    const engine = new Engine();
    const pageOnly = new Engine({ worker: false });
    const src = canvasSource(160, 120, solid(BLUE));
    try {
      await engine.ready;
      await pageOnly.ready;
      eq(engine.frameReader, want, 'frameReader');
      eq(engine.encoderPlacement, 'worker', 'encoderPlacement');
      eq(pageOnly.frameReader, onPage ? want : 'video element', 'frameReader with worker: false');
      eq(pageOnly.encoderPlacement, 'page', 'encoderPlacement with worker: false');
      // The frames really come that way: read from a processor in the Worker, or not.
      for (const e of [engine, pageOnly]) {
        eq(e.startVideoPreview('main', src.track), OK, 'preview');
        near(center(await decodeOk(await e.snapshot({ streamType: 'main' }), e.frameReader)), BLUE, 12, 'colour');
      }
      const { read } = await spy.report();
      if (want.endsWith('in a Worker')) assert(read > 0, 'frames read in the Worker');
      else eq(read, 0, 'frames read in a Worker');
      return want;
    } finally {
      spy.restore();
      src.stop();
      engine.destroy();
      pageOnly.destroy();
    }
  },

  async worker_and_page_give_the_same_pictures(Engine) {
    const inWorker = new Engine();
    const onPage = new Engine({ worker: false });
    const canvas = canvasSource(320, 240, halves(RED, BLUE));
    const camera = await fakeCamera(1280, 720);
    try {
      eq(onPage.encoderPlacement, 'page', 'worker: false');
      for (const engine of [inWorker, onPage]) {
        eq(engine.startVideoPreview('main', canvas.track), OK, 'preview canvas');
        eq(engine.startVideoPreview('sub', camera), OK, 'preview camera');
      }
      const means = [];
      for (const engine of [inWorker, onPage]) {
        const what = engine === inWorker ? 'worker' : 'page';
        for (const format of ['jpeg', 'png']) {
          const img = await decodeOk(await engine.snapshot({ streamType: 'main', format }), `${what} ${format}`);
          near(img.at(40, 120), RED, format === 'png' ? 2 : 12, `${what} ${format}: left half`);
          near(img.at(280, 120), BLUE, format === 'png' ? 2 : 12, `${what} ${format}: right half`);
        }
        const fitted = await decodeOk(
          await engine.snapshot({ streamType: 'main', width: 200, height: 100, fit: 'contain', mirror: true }),
          `${what} contain + mirror`,
        );
        near(fitted.at(5, 50), BLACK, 12, `${what}: letterbox bar`);
        near(fitted.at(80, 50), BLUE, 14, `${what}: mirrored left`);
        near(fitted.at(120, 50), RED, 14, `${what}: mirrored right`);
        // The camera: its own planes in the worker (Chromium hands out I420), the browser's
        // RGBA conversion on the page. The average colour of both must agree.
        const cam = await decodeOk(await engine.snapshot({ streamType: 'sub' }), `${what} camera`);
        const sum = [0, 0, 0];
        let n = 0;
        for (let i = 0; i < cam.data.length; i += 4 * 97) {
          for (let c = 0; c < 3; c++) sum[c] += cam.data[i + c];
          n++;
        }
        means.push(sum.map((v) => v / n));
      }
      // Chromium's fake camera moves: a few levels of difference come from the motion.
      near(means[0], means[1].map(Math.round), 6, 'mean colour of the camera, worker vs page');
      eq(inWorker.encoderPlacement, 'worker', 'default: the worker');
      return `worker mean ${means[0].map(Math.round)}, page mean ${means[1].map(Math.round)}`;
    } finally {
      canvas.stop();
      camera.stop();
      inWorker.destroy();
      onPage.destroy();
    }
  },

  async size_first_images(Engine) {
    // src/core/jpeg's progressive files, decoded by this browser: from a canvas (RGBA) in the
    // worker and on the page, from the camera (its own I420 planes in the worker where the
    // browser has them), at both chroma layouts it picks by quality (4:2:0 below 90, 4:4:4).
    const inWorker = new Engine();
    const onPage = new Engine({ worker: false });
    const flat = canvasSource(320, 240, halves(RED, BLUE));
    const detailed = canvasSource(320, 240, texture());
    const smooth = canvasSource(320, 240, halves(GREEN, BLUE));
    const yuv = (await canGenerateFrames()) ? await yuvSource(320, 240, 'I420', RED, GREEN, { matrix: 'smpte170m', fullRange: false }) : null;
    const camera = await fakeCamera(640, 360);
    const notes = [];
    try {
      for (const engine of [inWorker, onPage]) {
        const what = engine === inWorker ? 'worker' : 'page';
        eq(engine.startVideoPreview('main', flat.track), OK, `${what}: preview`);
        for (const quality of [50, 85, 95]) {
          const r = await engine.snapshot({ streamType: 'main', sizeFirst: true, quality });
          const img = await decodeOk(r, `${what} q${quality}`);
          near(img.at(40, 120), RED, 12, `${what} q${quality}: left half`);
          near(img.at(280, 120), BLUE, 12, `${what} q${quality}: right half`);
        }
        const fitted = await decodeOk(
          await engine.snapshot({ streamType: 'main', sizeFirst: true, width: 200, height: 100, fit: 'contain', mirror: true }),
          `${what} sizeFirst contain + mirror`,
        );
        near(fitted.at(5, 50), BLACK, 12, `${what} sizeFirst: letterbox bar`);
        near(fitted.at(80, 50), BLUE, 14, `${what} sizeFirst: mirrored left`);
        // Fewer bytes than the plain encoder at the same setting, for fine detail and for a
        // smooth picture: from a canvas (RGBA) and, where the browser can make frames, from
        // I420 planes (the camera's path). Still sources, so both calls see the same picture.
        const sources = [['fine detail', detailed.track], ['smooth', smooth.track, [GREEN, BLUE]]];
        if (yuv) sources.push(['smooth I420', yuv.track, [RED, GREEN]]);
        for (const [kind, track, halvesOf] of sources) {
          eq(engine.startVideoPreview('sub', track), OK, `${what}: preview ${kind}`);
          const plain = await engine.snapshot({ streamType: 'sub', quality: 85 });
          const small = await engine.snapshot({ streamType: 'sub', quality: 85, sizeFirst: true });
          for (const [r, name] of [[plain, 'plain'], [small, 'sizeFirst']]) {
            const img = await decodeOk(r, `${what} ${kind} ${name}`);
            // Both are of the picture: the sizes compare one picture.
            if (halvesOf) {
              near(img.at(40, 120), halvesOf[0], 12, `${what} ${kind} ${name}: left half`);
              near(img.at(280, 120), halvesOf[1], 12, `${what} ${kind} ${name}: right half`);
            }
          }
          eq(`${small.width}×${small.height}`, `${plain.width}×${plain.height}`, `${what} ${kind}: size`);
          assert(small.size < plain.size, `${what} ${kind}: sizeFirst ${small.size} B, plain ${plain.size} B`);
          notes.push(`${what} ${kind} ${small.size}/${plain.size} B`);
          eq(engine.stopVideoPreview('sub'), OK, `${what}: stop ${kind}`);
        }
        // The camera's own frames (its I420 planes in the worker where the browser has them).
        eq(engine.startVideoPreview('sub', camera), OK, `${what}: preview camera`);
        const cam = await decodeOk(await engine.snapshot({ streamType: 'sub', sizeFirst: true }), `${what} camera sizeFirst`);
        eq(`${cam.width}×${cam.height}`, '640×360', `${what} camera: size`);
        engine.stopVideoPreview('main');
        engine.stopVideoPreview('sub');
      }
      return notes.join(', ');
    } finally {
      flat.stop();
      detailed.stop();
      smooth.stop();
      yuv?.stop();
      camera.stop();
      inWorker.destroy();
      onPage.destroy();
    }
  },

  async without_workers_the_page_encodes(Engine) {
    // As under a Content-Security-Policy without worker-src blob: `new Worker` throws.
    const RealWorker = globalThis.Worker;
    globalThis.Worker = function NoWorker() {
      throw new DOMException('blocked by the page policy', 'SecurityError');
    };
    let engine;
    try {
      engine = new Engine();
    } finally {
      globalThis.Worker = RealWorker;
    }
    const src = canvasSource(320, 240, halves(GREEN, BLUE));
    try {
      eq(engine.encoderPlacement, 'page', 'no Worker: the page encodes');
      eq(engine.startVideoPreview('main', src.track), OK, 'preview');
      const img = await decodeOk(await engine.snapshot({ streamType: 'main', width: 160 }), 'page path');
      eq(`${img.width}x${img.height}`, '160x120', 'scaled');
      near(img.at(30, 60), GREEN, 14, 'left');
      near(img.at(130, 60), BLUE, 14, 'right');
    } finally {
      src.stop();
      engine.destroy();
    }
  },

  async a_bug_inside_becomes_an_error_event(Engine, fail) {
    const a = new Engine();
    const b = new Engine();
    const seen = [];
    a.addEventListener('error', (e) => seen.push(['a', e.detail]));
    b.addEventListener('error', (e) => {
      seen.push(['b', e.detail]);
      throw new Error('a listener that throws does not stop the others');
    });
    a.setEventHandler({ onTakeSnapshotResult() {} });
    try {
      fail('index out of bounds: the len is 2 but the index is 7');
      eq(seen.length, 0, 'nothing runs inside the failing call');
      await sleep(50);
      eq(seen.map(([who]) => who).sort().join(), 'a,b', 'every engine is told once');
      for (const [who, detail] of seen) {
        eq(`${detail.code} ${detail.codeName}`, `30001 ERR_FATAL`, `${who}: code`);
        assert(detail.message.includes('index out of bounds') && detail.message.includes('reload'), detail.message);
      }
      return seen[0][1].message;
    } finally {
      a.destroy();
      b.destroy();
    }
  },

  async yuv_frames_keep_their_colours(Engine) {
    if (!(await canGenerateFrames())) {
      return 'no frames of our own here: this browser\'s own frames are checked by worker_and_page_give_the_same_pictures';
    }
    const engine = new Engine();
    const spaces = [
      { matrix: 'smpte170m', fullRange: false },
      { matrix: 'bt709', fullRange: false },
      { matrix: 'smpte170m', fullRange: true },
      { matrix: 'bt709', fullRange: true },
    ];
    const checked = [];
    try {
      for (const format of ['I420', 'NV12']) {
        for (const space of spaces) {
          const what = `${format} ${space.matrix} ${space.fullRange ? 'full' : 'limited'}`;
          const src = await yuvSource(320, 240, format, RED, GREEN, space);
          try {
            eq(engine.startVideoPreview('main', src.track), OK, `${what}: preview`);
            const img = await decodeOk(await engine.snapshot({ streamType: 'main' }), what);
            near(img.at(60, 120), RED, 10, `${what}: left`);
            near(img.at(260, 120), GREEN, 10, `${what}: right`);
            const png = await decodeOk(await engine.snapshot({ streamType: 'main', format: 'png' }), `${what} png`);
            near(png.at(60, 120), RED, 4, `${what} png: left`);
            const small = await decodeOk(
              await engine.snapshot({ streamType: 'main', width: 160, height: 160, fit: 'contain', mirror: true }),
              `${what} contain + mirror`,
            );
            near(small.at(80, 5), BLACK, 10, `${what}: letterbox bar`);
            near(small.at(30, 80), GREEN, 14, `${what}: mirrored left`);
            near(small.at(130, 80), RED, 14, `${what}: mirrored right`);
            checked.push(what);
          } finally {
            eq(engine.stopVideoPreview('main'), OK, `${what}: stop`);
            src.stop();
          }
        }
      }
      return `${checked.length} formats × colour spaces`;
    } finally {
      engine.destroy();
    }
  },

  async rotated_snapshots(Engine) {
    const inWorker = new Engine();
    const onPage = new Engine({ worker: false });
    const turning = new Engine({ rotate: 90, format: 'png' });
    const src = canvasSource(320, 240, quadrants(RED, GREEN, BLUE, YELLOW));
    try {
      for (const [engine, what] of [[inWorker, 'worker'], [onPage, 'page']]) {
        eq(engine.startVideoPreview('main', src.track), OK, `${what}: preview`);
        await checkTurns(engine, what, 3, 12);
      }
      // The engine's option turns every snapshot (takeLocalSnapshot too); a request's own wins.
      const rec = record(turning);
      eq(turning.startVideoPreview('main', src.track), OK, 'preview');
      eq(turning.takeLocalSnapshot('main'), OK, 'take');
      const taken = await rec.wait(1);
      eq(`${taken.width}x${taken.height}`, '240x320', 'takeLocalSnapshot with options.rotate 90');
      nearEach(quadrantColours(await decodeOk(taken, 'options.rotate 90')), TURNED[90], 3, 'options.rotate 90');
      for (const rotate of [0, 180]) {
        const img = await decodeOk(await turning.snapshot({ streamType: 'main', rotate }), `request.rotate ${rotate}`);
        eq(`${img.width}x${img.height}`, '320x240', `request.rotate ${rotate} over options.rotate 90`);
        nearEach(quadrantColours(img), TURNED[rotate], 3, `request.rotate ${rotate} over options.rotate 90`);
      }
    } finally {
      src.stop();
      inWorker.destroy();
      onPage.destroy();
      turning.destroy();
    }
  },

  async rotated_yuv_frames(Engine) {
    const inWorker = new Engine();
    const onPage = new Engine({ worker: false });
    // The camera's own frames (I420 in Chromium and Firefox: turned as planes in the Worker).
    const camera = await fakeCamera(640, 360);
    const notes = [];
    let width;
    let height;
    try {
      for (const [engine, what] of [[inWorker, 'worker'], [onPage, 'page']]) {
        eq(engine.startVideoPreview('sub', camera), OK, `${what}: preview camera`);
        // The frames' own size (WebKit's mock camera reports another in getSettings()).
        ({ width, height } = await decodeOk(await engine.snapshot({ streamType: 'sub' }), `${what} camera`));
        for (const rotate of [90, 180, 270]) {
          const size = rotate === 180 ? `${width}x${height}` : `${height}x${width}`;
          const img = await decodeOk(await engine.snapshot({ streamType: 'sub', rotate }), `${what} camera rotate ${rotate}`);
          eq(`${img.width}x${img.height}`, size, `${what} camera rotate ${rotate}: size`);
        }
        const small = await engine.snapshot({ streamType: 'sub', rotate: 90, width: 180 });
        eq(`${small.width}x${small.height}`, `180x${Math.round((180 * width) / height)}`, `${what} camera rotate 90, width 180`);
      }
      if (!(await canGenerateFrames())) {
        return `camera ${width}x${height} turned; no frames of our own here for colours: canvas frames are checked by rotated_snapshots`;
      }
      for (const format of ['I420', 'NV12']) {
        const src = await yuvQuadrants(320, 240, format, [RED, GREEN, BLUE, YELLOW], { matrix: 'smpte170m', fullRange: false });
        try {
          for (const [engine, what] of [[inWorker, `worker ${format}`], [onPage, `page ${format}`]]) {
            eq(engine.startVideoPreview('main', src.track), OK, `${what}: preview`);
            await checkTurns(engine, what, 6, 12);
            eq(engine.stopVideoPreview('main'), OK, `${what}: stop`);
          }
          notes.push(format);
        } finally {
          src.stop();
        }
      }
      return `camera ${width}x${height} turned; ${notes.join(' and ')} frames turned in the worker and on the page`;
    } finally {
      camera.stop();
      inWorker.destroy();
      onPage.destroy();
    }
  },

  async watermarked_snapshots(Engine) {
    const inWorker = new Engine();
    const onPage = new Engine({ worker: false });
    const src = canvasSource(320, 240, solid(BLUE));
    const notes = [];
    try {
      for (const [engine, what] of [[inWorker, 'worker'], [onPage, 'page']]) {
        eq(engine.startVideoPreview('main', src.track), OK, `${what}: preview`);
        await checkWatermarks(engine, what, BLUE, 8, 24);
        eq(engine.stopVideoPreview('main'), OK, `${what}: stop`);
      }
      notes.push('canvas frames');
      if (await canGenerateFrames()) {
        // The camera's own planes: JPEG lays the watermark on them (flipped, under a mirror).
        for (const format of ['I420', 'NV12']) {
          const yuv = await yuvSource(320, 240, format, BLUE, BLUE, { matrix: 'smpte170m', fullRange: false });
          try {
            for (const [engine, what] of [[inWorker, `worker ${format}`], [onPage, `page ${format}`]]) {
              eq(engine.startVideoPreview('main', yuv.track), OK, `${what}: preview`);
              await checkWatermarks(engine, what, BLUE, 10, 24);
              eq(engine.stopVideoPreview('main'), OK, `${what}: stop`);
            }
            notes.push(`${format} frames`);
          } finally {
            yuv.stop();
          }
        }
      }
      return `watermarks in the worker and on the page: ${notes.join(', ')}`;
    } finally {
      src.stop();
      inWorker.destroy();
      onPage.destroy();
    }
  },

  async watermark_options_and_logos(Engine) {
    const engine = new Engine({ format: 'png', watermark: { text: 'evidence {uid}', position: 'top-left' } });
    const rec = record(engine);
    const src = canvasSource(320, 240, solid(BLUE));
    const whole = (img) => [0, 0, img.width, img.height];
    const logo = new OffscreenCanvas(200, 50);
    const ctx = logo.getContext('2d');
    ctx.fillStyle = `rgb(${GREEN.join(',')})`;
    ctx.fillRect(0, 0, 200, 50);
    const bitmap = await createImageBitmap(logo);
    try {
      eq(engine.startVideoPreview('main', src.track), OK, 'preview');
      eq(engine.takeLocalSnapshot('main'), OK, 'take');
      let img = await decodeOk(await rec.wait(1), 'takeLocalSnapshot');
      assert(marked(img, quarter(img, 'top-left'), BLUE, 8) >= 100, 'options.watermark marks takeLocalSnapshot');
      eq(marked(img, quarter(img, 'bottom-right'), BLUE, 8), 0, 'options.watermark: its corner only');
      img = await decodeOk(await engine.snapshot({ streamType: 'main', watermark: null }), 'watermark null');
      eq(marked(img, whole(img), BLUE, 8), 0, 'request.watermark null: no watermark');
      img = await decodeOk(await engine.snapshot({ streamType: 'main', watermark: { text: 'own' } }), 'own watermark');
      assert(marked(img, quarter(img, 'bottom-right'), BLUE, 8) >= 50, "the request's own watermark, bottom-right by default");
      eq(marked(img, quarter(img, 'top-left'), BLUE, 8), 0, "the request's own watermark replaces the engine's");
      // A 200×50 logo on a 320×240 picture: scaled to a quarter of its width (80×20), 2 % of
      // the shorter side (4 px) from the edges.
      const blob = await logo.convertToBlob({ type: 'image/png' });
      for (const [image, kind] of [[blob, 'Blob'], [bitmap, 'ImageBitmap']]) {
        img = await decodeOk(await engine.snapshot({ streamType: 'main', watermark: { image } }), `logo ${kind}`);
        const box = extent(img, GREEN, 8);
        [236, 216, 316, 236].forEach((v, i) => assert(Math.abs(box[i] - v) <= 1, `logo ${kind}: at ${box}, want 236,216,316,236 ±1`));
      }
      // A Blob that is not an image: the snapshot fails with 30003, the handler hears it, and
      // the engine goes on.
      const calls = rec.calls.length;
      const e = await rejects(engine.snapshot({ streamType: 'main', watermark: { image: new Blob(['not a picture'], { type: 'image/png' }) } }), INVALID_PARAM, 'a Blob that is not an image');
      assert(e.message.includes('watermark.image'), `names the field: "${e.message}"`);
      eq(rec.calls.length, calls + 1, 'one handler call');
      eq(rec.calls[calls].code, INVALID_PARAM, 'onTakeSnapshotResult hears 30003');
      bitmap.close();
      await rejects(engine.snapshot({ streamType: 'main', watermark: { image: bitmap } }), INVALID_PARAM, 'a closed ImageBitmap');
      img = await decodeOk(await engine.snapshot({ streamType: 'main' }), 'after bad logos');
      assert(marked(img, quarter(img, 'top-left'), BLUE, 8) >= 100, 'the engine goes on with its watermark');
      return 'options, null, own, Blob and ImageBitmap logos, bad logos';
    } finally {
      src.stop();
      engine.destroy();
    }
  },

  async colours_outside_the_gamut(Engine) {
    if (!(await canGenerateFrames())) {
      return 'no frames of our own here to make such frames';
    }
    // U = V = 0, as Chromium's fake camera writes: green, and outside the RGB gamut, where its
    // JFIF chroma would be below 0. The snapshot must show the clipped conversion (what
    // Chromium draws), not another green: with the chroma clamped instead, the right half came
    // out (0, 174, 0) where Chromium draws (0, 194, 0).
    const [w, h] = [320, 240];
    const data = new Uint8Array(w * h + 2 * (w / 2) * (h / 2));
    for (let y = 0; y < h; y++) {
      data.fill(126, y * w, y * w + w / 2);
      data.fill(50, y * w + w / 2, (y + 1) * w);
    }
    const colorSpace = { matrix: 'smpte170m', primaries: 'smpte170m', transfer: 'smpte170m', fullRange: false };
    const frame = new VideoFrame(data, { format: 'I420', codedWidth: w, codedHeight: h, timestamp: 0, colorSpace });
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(frame, 0, 0);
    frame.close();
    const drawn = (x, y) => [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)];
    // What the planes mean: limited-range BT.601, R, G and B each clipped. Chromium draws
    // exactly that (libyuv); WebKit draws these colours, which no real camera makes, a few
    // levels off its own way, so the snapshot is held to the conversion everywhere, and to
    // the drawing where the browser draws the conversion.
    const exact = (y, u, v) => {
      const c = 1.164 * (y - 16);
      return [c + 1.596 * (v - 128), c - 0.392 * (u - 128) - 0.813 * (v - 128), c + 2.017 * (u - 128)]
        .map((x) => Math.min(255, Math.max(0, Math.round(x))));
    };
    const [left, right] = [exact(126, 0, 0), exact(50, 0, 0)];
    const [drawnLeft, drawnRight] = [drawn(80, 120), drawn(240, 120)];
    if (isChromium()) {
      near(drawnLeft, left, 1, 'Chromium draws the left half as the conversion');
      near(drawnRight, right, 1, 'Chromium draws the right half as the conversion');
    }
    const engine = new Engine();
    const src = await repeatedFrame(data, 'I420', w, h, colorSpace);
    try {
      eq(engine.startVideoPreview('main', src.track), OK, 'preview');
      const shots = [
        [{ format: 'jpeg' }, 4, [80, 120], [240, 120]],
        [{ format: 'jpeg', mirror: true }, 4, [240, 120], [80, 120]],
        [{ format: 'jpeg', width: 160 }, 4, [40, 60], [120, 60]],
        [{ format: 'png' }, 1, [80, 120], [240, 120]],
      ];
      for (const [request, tol, [lx, ly], [rx, ry]] of shots) {
        const what = JSON.stringify(request);
        const img = await decodeOk(await engine.snapshot({ streamType: 'main', ...request }), what);
        near(img.at(lx, ly), left, tol, `${what}: left half`);
        near(img.at(rx, ry), right, tol, `${what}: right half`);
        if (isChromium()) {
          near(img.at(lx, ly), drawnLeft, tol, `${what}: left half as drawn`);
          near(img.at(rx, ry), drawnRight, tol, `${what}: right half as drawn`);
        }
      }
      return `conversion ${left} and ${right}, drawn ${drawnLeft} and ${drawnRight}; snapshots within 4 levels of the conversion`;
    } finally {
      engine.destroy();
      src.stop();
    }
  },
};

/**
 * Records every VideoFrame the engine gets: those read from a MediaStreamTrackProcessor
 * (Chromium) and those made with `new VideoFrame(video)` (Firefox). `restore()` undoes it.
 */
function spyOnFrames() {
  const seen = [];
  const undoReads = recordReads(seen);
  const undoFrames = recordConstructed('VideoFrame', seen);
  return {
    seen,
    restore() {
      undoReads();
      undoFrames();
    },
  };
}

/** What `f()` returns inside a new dedicated Worker. */
async function askWorker(f) {
  const url = URL.createObjectURL(new Blob([`postMessage((${f})())`], { type: 'text/javascript' }));
  const worker = new Worker(url);
  try {
    return await Promise.race([
      new Promise((resolve) => (worker.onmessage = (e) => resolve(e.data))),
      sleep(5000).then(() => {
        throw new Error('the test Worker did not answer');
      }),
    ]);
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
}

/** Resolves once the page posts a VideoFrame to a Worker (the next encoder job). */
function frameSentToWorker(ms = 15000) {
  const post = Worker.prototype.postMessage;
  return new Promise((resolve, reject) => {
    setTimeout(() => {
      Worker.prototype.postMessage = post;
      reject(new Error(`no frame was sent to a Worker within ${ms} ms`));
    }, ms);
    Worker.prototype.postMessage = function spiedPost(message, ...rest) {
      const sent = post.call(this, message, ...rest);
      if (message && message.frame instanceof VideoFrame) {
        Worker.prototype.postMessage = post;
        resolve();
      }
      return sent;
    };
  });
}

/**
 * Records in `seen` every VideoFrame read from a stream reader of this realm; gives the undo.
 * The encoder Worker runs it too (its source is put in front of the Worker's).
 */
function recordReads(seen) {
  const read = ReadableStreamDefaultReader.prototype.read;
  ReadableStreamDefaultReader.prototype.read = function spiedRead() {
    const p = read.call(this);
    p.then((r) => r && r.value instanceof VideoFrame && seen.push(r.value), () => {});
    return p;
  };
  return () => {
    ReadableStreamDefaultReader.prototype.read = read;
  };
}

/** Records in `made` every object `new globalThis[name](…)` makes; gives the undo. */
function recordConstructed(name, made) {
  const Original = globalThis[name];
  globalThis[name] = new Proxy(Original, {
    construct(target, args) {
      const object = Reflect.construct(target, args);
      made.push(object);
      return object;
    },
  });
  return () => {
    globalThis[name] = Original;
  };
}

/**
 * Records every VideoFrame inside the engine's encoder workers too: the frames they read from
 * a processor's stream (Safari) and those the page transfers to them, and the tracks the page
 * transfers to them. The worker is made
 * from a Blob URL; this puts a spy in front of its source. `report()` asks each worker how
 * many frames it saw and how many of them are still open.
 */
function spyOnWorkers() {
  const prelude = `(() => {
    const read = [];
    const received = [];
    const tracks = [];
    (${recordReads})(read);
    addEventListener('message', (e) => {
      if (e.data && e.data.spyReport) {
        e.stopImmediatePropagation();
        const seen = [...read, ...received];
        const open = seen.filter((f) => f.format !== null || f.codedWidth !== 0).length;
        const live = tracks.filter((t) => t.readyState === 'live').length;
        postMessage({ spy: { seen: seen.length, open, read: read.length, tracks: tracks.length, live } });
      } else if (e.data && e.data.frame instanceof VideoFrame) {
        received.push(e.data.frame);
      } else if (e.data && e.data.open !== undefined) {
        tracks.push(e.data.track);
      }
    });
  })();
`;
  const workers = [];
  const createObjectURL = URL.createObjectURL;
  URL.createObjectURL = (object) =>
    createObjectURL(object instanceof Blob && object.type === 'text/javascript' ? new Blob([prelude, object], { type: object.type }) : object);
  const undoWorkers = recordConstructed('Worker', workers);
  return {
    workers,
    /** Summed over the workers: frames seen, still open, read from processors; tracks, live. */
    async report() {
      const sum = { seen: 0, open: 0, read: 0, tracks: 0, live: 0 };
      for (const worker of workers) {
        const answer = new Promise((resolve) => {
          const listen = (e) => {
            if (!e.data?.spy) return;
            worker.removeEventListener('message', listen);
            resolve(e.data.spy);
          };
          worker.addEventListener('message', listen);
        });
        worker.postMessage({ spyReport: true });
        const spy = await Promise.race([answer, sleep(2000).then(() => ({ silent: true }))]);
        assert(!spy.silent, 'the encoder worker answered the spy');
        for (const k of Object.keys(sum)) sum[k] += spy[k];
      }
      return sum;
    },
    restore() {
      URL.createObjectURL = createObjectURL;
      undoWorkers();
    },
  };
}

scenarios.every_video_frame_is_closed = async (Engine) => {
  const summary = [];
  // The worker (Safari: it reads the kept processors itself) and the page's own path.
  for (const options of [{}, { worker: false }]) {
    const spy = spyOnFrames();
    const inWorker = spyOnWorkers();
    // Long enough for five snapshots at once through WebKit's <video> path (~100 ms each).
    const engine = new Engine({ frameTimeout: 1500, ...options });
    const rec = record(engine);
    const src = canvasSource(160, 120, solid(GREEN));
    const silent = silentTrack();
    const label = options.worker === false ? 'page' : engine.encoderPlacement;
    try {
      eq(engine.startVideoPreview('main', src.track), OK, 'preview');
      for (let i = 0; i < 5; i++) eq(engine.takeLocalSnapshot('main'), OK, 'take');
      await engine.snapshot({ streamType: 'main', width: 64, format: 'png', mirror: true });
      await rec.wait(6);
      // A timeout, then a frame arriving late on the same track.
      eq(engine.startVideoPreview('sub', silent), OK, 'silent preview');
      eq(engine.takeLocalSnapshot('sub'), OK, 'take silent');
      await rec.wait(7);
      eq(rec.events[6].code, FRAME_TIMEOUT, 'timed out');
      await sleep(800);
      // A kept reader holds its stream's newest frame while the stream runs (in the Worker,
      // in Safari): the streams stop first.
      eq(engine.stopVideoPreview('main'), OK, 'stop main');
      eq(engine.stopVideoPreview('sub'), OK, 'stop sub');
      const worker = await inWorker.report();
      eq(worker.open, 0, `${label}: frames left open in the worker of ${worker.seen}`);
      // Cancelled by destroy.
      eq(engine.startVideoPreview('main', src.track), OK, 'preview again');
      eq(engine.takeLocalSnapshot('main'), OK, 'take before destroy');
      engine.destroy();
      await rec.wait(8);
      await sleep(800);
      const seen = spy.seen.length + worker.seen;
      assert(seen >= 6, `${label}: frames seen: ${seen}`);
      const open = spy.seen.filter((f) => f.format !== null || f.codedWidth !== 0);
      eq(open.length, 0, `${label}: frames left open on the page of ${spy.seen.length}`);
      if (label === 'worker') assert(worker.seen >= 6, `${label}: frames seen in the worker: ${worker.seen}`);
      summary.push(`${label}: ${spy.seen.length} on the page + ${worker.seen} in the worker`);
    } finally {
      spy.restore();
      inWorker.restore();
      src.stop();
      silent.stop();
      engine.destroy();
    }
  }
  return `${summary.join('; ')}, all closed`;
};

/** `fail(message)`: what the module's panic hook does with a panic's message (from Rust). */
export function run(name, Engine, fail) {
  return runScenario(scenarios, name, Engine, fail);
}
