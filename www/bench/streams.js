// A room of K streams for a periodic task, and the page's memory figures: shared by the
// benchmark's Part 2 (www/bench/bench.js) and the soak page (www/soak/soak.js).
//
// The room: the local user's fake camera (1280×720) as the main stream, and K−1 remote users
// whose tracks are animated 640×360 canvases (redrawn every ~30 ms), so that every stream
// delivers new frames for as long as the run lasts.

/** A canvas that draws a moving picture when `draw()` is called, and its captured track. */
export function animatedCanvas(box, label, width, height, hue) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.title = label;
  box.append(canvas);
  const ctx = canvas.getContext('2d');
  let n = 0;
  const draw = () => {
    n += 1;
    ctx.fillStyle = `hsl(${(hue + n) % 360} 45% 35%)`;
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = '#fff';
    ctx.beginPath();
    ctx.arc((n * 7) % width, height / 2 + Math.sin(n / 10) * height / 3, height / 8, 0, Math.PI * 2);
    ctx.fill();
    ctx.font = '28px sans-serif';
    ctx.fillText(`${label} · frame ${n}`, 16, 40);
  };
  draw();
  return { canvas, draw, track: canvas.captureStream(30).getVideoTracks()[0] };
}

/**
 * The page's memory: JS heap (needs Chromium's --enable-precise-memory-info for exact figures)
 * and the page's wasm memory. `gc` is the runner's answer to a forced-GC request, if any.
 */
export function memory(wasm, gc) {
  return {
    jsHeapUsed: performance.memory?.usedJSHeapSize ?? null,
    jsHeapTotal: performance.memory?.totalJSHeapSize ?? null,
    wasmMemory: wasm.memory.buffer.byteLength,
    gcForced: Boolean(gc?.gc),
  };
}

/**
 * Joins `room` as `me` on `engine`, starts the camera as the local main stream and `streams − 1`
 * remote users `user1…` with animated canvases (shown in `box`). Resolves with the tracks, the
 * task's `StreamList` for all of them, a description of the sources, and `stop()`, which ends
 * the drawing and the tracks (not the engine). Throws when the engine refuses a call.
 */
export async function startRoom(engine, { room, me, streams, box }) {
  const camera = (await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } } })).getVideoTracks()[0];
  const remotes = [];
  let raf = 0;
  const stop = () => {
    cancelAnimationFrame(raf);
    camera.stop();
    for (const r of remotes) {
      r.track.stop();
      r.canvas.remove();
    }
  };
  try {
    const check = (call, code) => {
      if (code !== 0) throw new Error(`${call}: ${code} ${engine.lastError?.message}`);
    };
    check('joinChannel', engine.joinChannel(room, me));
    check('enableLocalVideo', engine.enableLocalVideo('main', true, camera));
    for (let i = 1; i < streams; i++) {
      const r = animatedCanvas(box, `user${i}`, 640, 360, i * 37);
      remotes.push(r);
      check('onUserVideoStart', engine.onUserVideoStart(`user${i}`, r.track));
    }
  } catch (e) {
    stop();
    throw e;
  }
  let last = 0;
  const loop = (t) => {
    if (t - last >= 30) {
      last = t;
      for (const r of remotes) r.draw();
    }
    raf = requestAnimationFrame(loop);
  };
  raf = requestAnimationFrame(loop);
  const cs = camera.getSettings();
  const round = (v) => Math.round(v * 10) / 10;
  return {
    camera,
    remotes,
    StreamList: [{ UserId: me, StreamType: 0 }, ...remotes.map((_, i) => ({ UserId: `user${i + 1}`, StreamType: 0 }))],
    sources: { camera: `${cs.width}×${cs.height} @ ${round(cs.frameRate)} fps`, remotes: remotes.length ? `${remotes.length} animated canvases 640×360` : 'none' },
    stop,
  };
}
