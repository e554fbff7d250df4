// Measures what a hidden tab does to a periodic task. The demo page runs a task at Interval
// 1 s over the fake camera; WebDriver then opens a second tab in front of it (the demo's tab
// turns `hidden`, as when a student switches tabs), waits, and switches back. Prints figures
// for the task and, for comparison, for a plain setInterval(100 ms) on the same page.
//
// Firefox (headless, through geckodriver): it reports background tabs as hidden and throttles
// their timers. Headless Chromium keeps every tab `visible`, so it cannot show the effect.
//
// Usage: node www/measure/hidden-tab.mjs [hidden seconds, default 60]
// Needs: pkg/ built (wasm-pack build --target web), firefox-esr, geckodriver (scripts/setup.sh).

import { spawn } from 'node:child_process';
import { start } from '../serve.mjs';

const hiddenS = Number(process.argv[2] ?? 60);
const port = 4400 + Math.floor(Math.random() * 500);
const driver = spawn('geckodriver', ['--port', String(port)], { stdio: 'ignore' });
const server = await start(0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function wd(method, path, body) {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const { value } = await r.json();
  if (value?.error) throw new Error(`${path}: ${value.error}: ${value.message}`);
  return value;
}

let id;
let version = '';
try {
  for (let i = 0; i < 50 && !id; i++) {
    try {
      const session = await wd('POST', '/session', {
        capabilities: { alwaysMatch: { 'moz:firefoxOptions': {
          args: ['-headless'],
          prefs: { 'media.navigator.streams.fake': true, 'media.navigator.permission.disabled': true },
        } } },
      });
      id = session.sessionId;
      version = session.capabilities?.browserVersion ?? '';
    } catch {
      await sleep(200);
    }
  }
  const run = (script) => wd('POST', `/session/${id}/execute/sync`, { script, args: [] });

  await wd('POST', `/session/${id}/url`, { url: server.url });
  for (let i = 0; i < 100 && !(await run('return !!window.tracksnap?.engine')); i++) await sleep(100);
  const started = await wd('POST', `/session/${id}/execute/async`, {
    args: [],
    script: `const done = arguments[arguments.length - 1];
      (async () => {
        const engine = window.tracksnap.engine;
        const camera = (await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 } })).getVideoTracks()[0];
        engine.joinChannel('measure', 'me');
        engine.enableLocalVideo('main', true, camera);
        const m = { images: [], ticks: [], visibility: [] };
        window.measure = m;
        engine.addEventListener('periodicsnapshot', (e) => m.images.push({ at: performance.now(), code: e.detail.code }));
        setInterval(() => m.ticks.push(performance.now()), 100);
        document.addEventListener('visibilitychange', () => m.visibility.push({ at: performance.now(), state: document.visibilityState }));
        const r = await engine.startSnapshot({ AppId: 'measure', RoomId: 'measure', TaskId: 'hidden', ImageConfig: { Interval: 1, Width: 320 } });
        return r.Result;
      })().then(done, (e) => done(String(e)));`,
  });
  if (started !== 'ok') throw new Error(`startSnapshot: ${started}`);
  await sleep(5000);

  const demoTab = await wd('GET', `/session/${id}/window`);
  const cover = await wd('POST', `/session/${id}/window/new`, { type: 'tab' });
  await wd('POST', `/session/${id}/window`, { handle: cover.handle });
  console.error(`demo tab in the background for ${hiddenS} s …`);
  await sleep(hiddenS * 1000);
  await wd('POST', `/session/${id}/window`, { handle: demoTab });
  await sleep(300);
  const m = await run('return window.measure');

  const hide = m.visibility.find((v) => v.state === 'hidden');
  const show = m.visibility.find((v) => v.state === 'visible' && v.at > (hide?.at ?? 0));
  if (!hide || !show) throw new Error(`the tab was never hidden: ${JSON.stringify(m.visibility)}`);
  const span = (show.at - hide.at) / 1000;
  const inHidden = (t) => t >= hide.at && t < show.at;
  const images = m.images.filter((i) => inHidden(i.at));
  const gaps = images.slice(1).map((i, k) => i.at - images[k].at).sort((a, b) => a - b);
  const visibleSpan = (hide.at - m.ticks[0]) / 1000;
  console.log(JSON.stringify({
    browser: `Firefox ${version} (headless)`,
    hiddenSeconds: +span.toFixed(1),
    periodicImagesWhileHidden: images.length,
    expectedAtInterval1s: Math.floor(span),
    failedCaptures: images.filter((i) => i.code !== 0).length,
    gapBetweenImagesMs: {
      median: Math.round(gaps[gaps.length >> 1] ?? NaN),
      max: Math.round(gaps.at(-1) ?? NaN),
    },
    pageSetInterval100msPerSecond: {
      visible: +(m.ticks.filter((t) => t < hide.at).length / visibleSpan).toFixed(1),
      hidden: +(m.ticks.filter(inHidden).length / span).toFixed(1),
    },
  }, null, 2));
} finally {
  if (id) await wd('DELETE', `/session/${id}`).catch(() => {});
  driver.kill();
  await server.close();
}
