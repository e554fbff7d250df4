// The soak: one periodic task at Interval 1 over K streams (default 17) for N minutes (default
// 60) in headless Chromium, uploading every image through the dev server's presigner to its
// s3s-fs store while this runner injects storage faults through the dev server (--faults):
// per block of about 5 minutes (the run is cut into round(N / 5) blocks, at least one),
//   at 10 % of the block   a 5xx burst: the next 20–40 uploads are answered HTTP 500
//   at 30 %                a store outage: every connection to the store is cut for 20–45 s
//                          (at most 30 % of the block, for short runs)
//   at 70 %                expired URLs: the next 20–60 presigned URLs are already expired, so
//                          the store refuses them (403) and the engine must ask for fresh ones
// and it reloads the page (the page dies with its uploads in flight; the next one starts the same
// task again, bak<n>_ names) at random moments: the first within 60-150 s, then every 90-180 s,
// and once inside every store outage
// (amounts and moments drawn from a seeded generator: --seed repeats a run's schedule).
//
// It reads memory every 30 s after a forced GC (CDP HeapProfiler.collectGarbage) — the page's
// JS heap and wasm memory, and those of tracksnap's encoder Worker through a CDP session
// attached to it — drains the page's records of every image event every 5 s, and at the end
// stops the task, flushes the outbox until it is empty (at most 120 s), and reconciles: every
// image a page produced (a capture with a key, known from its event or from the outbox, which
// the runner reads at every drain and before every reload) must be in the store with its byte
// count, or in the outbox (IndexedDB); uploads beyond one per stored key are counted as
// duplicate PUTs. It fails (exit 1) when
//   - an image is neither in the store nor in the outbox (lost), was not kept (outboxfull), or
//     two images share a key (one overwrote the other);
//   - the JS heap or the wasm memory (of the page or of the Worker) grew by more than 5 MiB
//     from the first reading after the warm-up (60 s, or 20 % of shorter runs; with reloads, 30 s
//     after the last page started) to the end, or
//     (runs of 5 minutes or more) the page's JS heap climbs by more than 10 MiB an hour
//     (least-squares slope over the second half of the readings after the warm-up: a short
//     run that stays under 5 MiB is not flat for all that);
//   - Chromium warned about a VideoFrame garbage-collected without close();
//   - more than 1 % of the ticks were skipped;
//   - the page threw, the engine fired its `error` event, the page crashed, or a fault had
//     no effect (the server's counters did not move).
// Prints a table and writes out/soak/soak.json; the store is out/soak/store/ (emptied first).
//
// Usage: node www/soak/run.mjs [--minutes N | --seconds S] [--streams K] [--seed N] [--no-reloads]
//                               [--hung-store]
// --hung-store: instead of the faults above, the store holds every upload open for the whole
// run (one page, no reloads); the task is stopped while it still hangs, then the store answers
// again and the outbox must empty: memory stays bounded and nothing is lost.
// (scripts/soak.sh builds pkg/ first and then runs this.)

import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start } from '../serve.mjs';
import { BUCKET } from '../store.mjs';
import {
  CLK_TCK, chromiumCpu, chromiumRss, cores, isVideoFrameWarning, launchChromium, loadavg, machine,
  openPage, recordConsole, say, settleVideoFrameWarnings, sleep,
} from '../bench/chromium.mjs';
import { fmt, int, mib, pct, table } from '../bench/report.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const usage = 'usage: node www/soak/run.mjs [--minutes N | --seconds S] [--streams K] [--seed N] [--no-reloads] [--hung-store]';

const BLOCK_S = 300; // one set of faults per ~5 minutes
const READ_EVERY_S = 30; // memory readings
const DRAIN_EVERY_S = 5; // the page's records move here
const WARMUP_S = 60; // or 20 % of shorter runs
const GROWTH_LIMIT = 5 * 1024 * 1024;
const TREND_LIMIT = 10 * 1024 * 1024; // per hour: the growth limit, with room for noise
const TREND_MIN_S = 300;
const SKIPPED_LIMIT = 0.01; // share of the ticks
const SETTLE_S = 120; // the outbox's flush at the end
const HUNG_SETTLE_S = 900;
const STOP_LIMIT_MS = 3000; // 2 s for uploads, plus the captures in flight // after a hung store: every image of the run waits in the outbox
const HUNG_OUTBOX_BYTES = 2 ** 31; // a 10-minute hang at 17 streams keeps ~0.5 GB
// An image kept in the outbox this long before the task stopped must have been uploaded by the
// engine's own retries (every 30 s while the outbox holds images) before the final flush.
const RETRIED_WITHIN_S = 90;

function parseArgs(argv) {
  const o = { seconds: 3600, streams: 17, seed: Date.now() % 1_000_000, reloads: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (min, whole) => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < min || (whole && !Number.isInteger(v))) throw new Error(`${a} needs a ${whole ? 'whole ' : ''}number ≥ ${min}\n${usage}`);
      return v;
    };
    if (a === '--minutes') o.seconds = Math.round(num(0.25) * 60);
    else if (a === '--seconds') o.seconds = num(15, true);
    else if (a === '--streams') o.streams = num(1, true);
    else if (a === '--seed') o.seed = num(0, true);
    else if (a === '--no-reloads') o.reloads = false;
    else if (a === '--hung-store') Object.assign(o, { hung: true, reloads: false });
    else if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${usage}`);
  }
  return o;
}

/** A small seeded generator (mulberry32): the same seed, the same faults. */
function generator(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

/** The faults of a run of `seconds`, as `{ at (s from the task's start), kind, body, text }`. */
/** The moments (s from the task's start) the page is reloaded, with why. */
function reloadSchedule(seconds, seed, faults) {
  const rand = generator(seed + 1);
  const reloads = [];
  // The last page runs at least 90 s: its memory is read several times.
  for (let t = rand.int(60, 150); t < seconds - 90; t += rand.int(90, 180)) reloads.push({ at: t, why: 'a random moment' });
  for (const f of faults.filter((x) => x.kind === 'outage')) {
    const lasts = f.body.refuseMs / 1000;
    if (lasts >= 10 && f.at + lasts < seconds - 90) reloads.push({ at: f.at + rand.int(3, Math.min(15, lasts - 5)), why: 'inside the store outage' });
  }
  return reloads.sort((a, b) => a.at - b.at);
}

function faultSchedule(seconds, seed) {
  const rand = generator(seed);
  const blocks = Math.max(1, Math.round(seconds / BLOCK_S));
  const length = seconds / blocks;
  const faults = [];
  for (let b = 0; b < blocks; b++) {
    const at = (share) => Math.round(b * length + share * length);
    const burst = rand.int(20, 40);
    faults.push({ at: at(0.1), kind: '5xx', body: { status500: burst }, text: `5xx burst: the next ${burst} uploads get HTTP 500` });
    const outage = Math.min(rand.int(20, 45), Math.floor(0.3 * length));
    faults.push({ at: at(0.3), kind: 'outage', body: { refuseMs: outage * 1000 }, text: `store outage: connections to the store cut for ${outage} s` });
    const expired = rand.int(20, 60);
    faults.push({ at: at(0.7), kind: 'expired', body: { expireNext: expired }, text: `expired URLs: the next ${expired} presigned URLs are expired` });
  }
  return faults;
}

/**
 * The page's dedicated Workers (tracksnap's encoder), through a CDP session of the page that
 * auto-attaches to them (non-flat sessions, so Playwright's own stay untouched). `read()` forces
 * a GC in each and resolves with their JS heap (Runtime.getHeapUsage) and wasm memory (the
 * worker script's `wasm` instance), summed; null without a Worker.
 */
async function workerProbe(context, page) {
  const cdp = await context.newCDPSession(page);
  const workers = new Set();
  const waiting = new Map();
  let next = 1;
  cdp.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type === 'worker') workers.add(e.sessionId);
  });
  cdp.on('Target.detachedFromTarget', (e) => workers.delete(e.sessionId));
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error) w.reject(new Error(`${m.error.message}`));
    else w.resolve(m.result);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const send = (sessionId, method, params = {}) => new Promise((resolveSend, reject) => {
    const id = next++;
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`${method}: no answer from the worker`));
    }, 10000);
    waiting.set(id, { resolve: (v) => { clearTimeout(timer); resolveSend(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
    cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
  });
  return {
    async read() {
      if (!workers.size) return null;
      const sum = { workers: workers.size, jsHeapUsed: 0, wasmMemory: 0 };
      for (const id of workers) {
        await send(id, 'HeapProfiler.collectGarbage');
        sum.jsHeapUsed += (await send(id, 'Runtime.getHeapUsage')).usedSize;
        const r = await send(id, 'Runtime.evaluate', { expression: "typeof wasm === 'object' && wasm ? wasm.memory.buffer.byteLength : 0", returnByValue: true });
        sum.wasmMemory += r.result?.value ?? 0;
      }
      return sum;
    },
  };
}

// ----- the run ------------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));
const warmupS = Math.min(WARMUP_S, Math.round(0.2 * opts.seconds));
const faults = opts.hung
  ? [{ at: 0, kind: 'hang', body: { hang: true }, text: 'hung store: every upload is held open, never answered, until the task stops' }]
  : faultSchedule(opts.seconds, opts.seed);
const settleS = opts.hung ? HUNG_SETTLE_S : SETTLE_S;
const reloadPlan = opts.reloads ? reloadSchedule(opts.seconds, opts.seed, faults) : [];
const outDir = join(root, 'out', 'soak');
const storeDir = join(outDir, 'store');
rmSync(storeDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const wallStart = Date.now();
const result = {
  date: new Date().toISOString(),
  options: { seconds: opts.seconds, streams: opts.streams, seed: opts.seed, reloads: opts.reloads, hungStore: Boolean(opts.hung), warmupS, readEveryS: READ_EVERY_S, retriedWithinS: RETRIED_WITHIN_S, settleS },
  limits: { growthBytes: GROWTH_LIMIT, heapTrendBytesPerHour: TREND_LIMIT, skippedShare: SKIPPED_LIMIT },
};
const rec = { images: [], outboxUploads: [], outboxFull: [], streamStates: [], engineErrors: [], flushes: [], pendingUploads: 0, task: null, longTasks: null };
const readings = [];
const injected = [];
const reloads = [];
const seenInOutbox = new Map(); // key → size, from every read of the outbox
const problems = []; // page errors, crashes, failed calls
let consoleLog = [];

const server = await start(0, { faults: true, storeDir });
const origin = new URL(server.url).origin;
const browser = await launchChromium();
result.machine = { ...machine(browser.version()), loadStart: loadavg() };

const fault = async (body) => (await fetch(`${origin}/__faults`, { method: body ? 'POST' : 'GET', body: body && JSON.stringify(body) })).json();

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const cdp = await page.context().newCDPSession(page);
  consoleLog = recordConsole(page, '[soak] ');
  page.on('crash', () => problems.push('the page crashed'));
  await openPage(page, new URL('soak/', server.url).href, 'soakReady');
  const worker = await workerProbe(page.context(), page);

  const drain = async () => {
    const d = await page.evaluate(() => window.soakDrain());
    // Only a page that dies needs it: its images may have no event.
    if (opts.reloads) for (const r of await page.evaluate(() => window.soakOutbox())) seenInOutbox.set(r.key, r.size);
    for (const k of ['images', 'outboxUploads', 'outboxFull', 'streamStates', 'engineErrors', 'flushes']) rec[k].push(...d[k]);
    Object.assign(rec, { pendingUploads: d.pendingUploads, task: d.task, longTasks: d.longTasks });
  };
  // Live objects of the page's heap with `prototype` (CDP Runtime.queryObjects): a count that
  // grows with the images points at what leaks (a Promise per wait never settled, say).
  const live = async (prototype) => {
    const group = 'soak-count';
    try {
      const { result: proto } = await cdp.send('Runtime.evaluate', { expression: prototype, objectGroup: group });
      const { objects } = await cdp.send('Runtime.queryObjects', { prototypeObjectId: proto.objectId, objectGroup: group });
      const { result } = await cdp.send('Runtime.callFunctionOn', { objectId: objects.objectId, functionDeclaration: 'function () { return this.length; }', returnByValue: true });
      return result.value;
    } finally {
      await cdp.send('Runtime.releaseObjectGroup', { objectGroup: group });
    }
  };
  const read = async (label, t) => {
    await drain();
    const w = await worker.read();
    await cdp.send('HeapProfiler.collectGarbage');
    const m = await page.evaluate(() => window.soakMemory());
    const r = {
      label, t: Math.round(t), ...m, worker: w, promises: await live('Promise.prototype'), functions: await live('Function.prototype'),
      rss: chromiumRss(), images: rec.images.length, pendingUploads: rec.pendingUploads,
    };
    readings.push(r);
    say(`  ${label.padEnd(8)} t=${String(r.t).padStart(5)} s  JS heap ${mib(r.jsHeapUsed)}, wasm ${mib(r.wasmMemory)}; Worker JS heap ${mib(w?.jsHeapUsed)}, wasm ${mib(w?.wasmMemory)}; ${r.promises} Promises, Chromium RSS ${mib(r.rss.total)}; ${r.images} image events, ${r.pendingUploads} in the outbox`);
  };

  await fault({ reset: true });
  say(`soak: ${opts.streams} streams at Interval 1 for ${opts.seconds} s (seed ${opts.seed}; warm-up ${warmupS} s; memory every ${READ_EVERY_S} s)`);
  const startOptions = { streams: opts.streams, ...(opts.hung ? { outboxMaxBytes: HUNG_OUTBOX_BYTES } : {}) };
  result.page = await page.evaluate((o) => window.soakStart(o), startOptions);
  const t0 = Date.now();
  const cpu0 = { ...chromiumCpu(), at: t0 };

  // Every timed action of the run, in order.
  const actions = [
    ...faults.map((f) => ({ at: f.at, run: async () => {
      injected.push({ ...f, atActual: Math.round((Date.now() - t0) / 100) / 10, state: await fault(f.body) });
      say(`[fault] t=${String(f.at).padStart(5)} s  ${f.text}`);
    } })),
    { at: 0, run: () => read('start', 0) },
    ...reloadPlan.map((r) => ({ at: r.at, run: async () => {
      await drain();
      const t = Date.now();
      await page.reload();
      await page.waitForFunction(() => window.soakReady === true, null, { timeout: 60000 });
      await page.evaluate((o) => window.soakStart(o), { ...startOptions, key: result.page.key });
      reloads.push({ ...r, atActual: Math.round((t - t0) / 100) / 10, ms: Date.now() - t });
      say(`[reload] t=${String(r.at).padStart(5)} s  the page is reloaded (${r.why}), the task started again in ${Date.now() - t} ms`);
    } })),
  ];
  for (let t = warmupS; t < opts.seconds - 5; t += READ_EVERY_S) actions.push({ at: t, run: () => read(t === warmupS ? 'warm' : 'run', t) });
  for (let t = DRAIN_EVERY_S; t < opts.seconds; t += DRAIN_EVERY_S) actions.push({ at: t, run: drain });
  actions.sort((a, b) => a.at - b.at);
  for (const action of actions) {
    await sleep(Math.max(0, t0 + action.at * 1000 - Date.now()));
    try {
      await action.run();
    } catch (e) {
      problems.push(`at ${action.at} s: ${e?.message ?? e}`);
      say(`  failed: ${e?.message ?? e}`);
      if (problems.length > 5) throw new Error('the page stopped answering');
    }
  }
  await sleep(Math.max(0, t0 + opts.seconds * 1000 - Date.now()));
  await read('end', (Date.now() - t0) / 1000);
  const cpu1 = { ...chromiumCpu(), at: Date.now() };
  result.cpu = { cores, clockTicksPerSecond: CLK_TCK, wallSeconds: (cpu1.at - cpu0.at) / 1000, cpuSeconds: (cpu1.ticks - cpu0.ticks) / CLK_TCK };
  result.cpu.share = result.cpu.cpuSeconds / (result.cpu.wallSeconds * cores);

  // A hung store still hangs when the task stops: stopSnapshot must not wait for it.
  if (opts.hung) result.heldAtStop = (await fault()).held;
  else await fault({ reset: true });
  say('stopping the task and flushing the outbox …');
  result.finishStartedAt = Date.now();
  result.finish = await page.evaluate((o) => window.soakFinish(o), { settleS, releaseStore: Boolean(opts.hung) });
  await read('settled', (Date.now() - t0) / 1000);
  result.server = await fault();
  await page.evaluate(() => window.soakClose());
  // Every warning of the whole run counts, and those after destroy() and a last forced GC.
  result.videoFrameWarnings = await settleVideoFrameWarnings(cdp, consoleLog, 0);
} catch (e) {
  problems.push(`the run failed: ${e?.stack ?? e}`);
} finally {
  await browser.close();
  await server.close();
}
result.machine.loadEnd = loadavg();
result.wallSeconds = Math.round((Date.now() - wallStart) / 1000);

// ----- reconciliation -----------------------------------------------------------------------

function reconcile() {
  const produced = new Map(); // key → the image's last event
  const duplicates = [];
  let failedCaptures = 0;
  const failedCodes = {};
  for (const e of rec.images) {
    if (!e.key) {
      failedCaptures += 1;
      failedCodes[e.code] = (failedCodes[e.code] ?? 0) + 1;
      continue;
    }
    if (produced.has(e.key)) duplicates.push(e.key);
    produced.set(e.key, e);
  }
  const outbox = new Map((result.finish?.outbox ?? []).map((r) => [r.key, r]));
  // Images whose page died before their event: known from the outbox.
  for (const [key, size] of seenInOutbox) if (!produced.has(key)) produced.set(key, { key, size, code: null, at: 0, fromOutbox: true });
  const fromOutbox = new Set(rec.outboxUploads.map((u) => u.key));
  const full = new Set(rec.outboxFull.map((u) => u.key));
  const codes = {};
  const counts = { produced: produced.size, uploadedAtOnce: 0, uploadedFromOutbox: 0, inStore: 0, inOutbox: 0, inBoth: 0, sizeMismatch: 0, lost: 0 };
  const lost = [];
  for (const [key, e] of produced) {
    if (!e.fromOutbox) codes[e.code] = (codes[e.code] ?? 0) + 1;
    let stored = null;
    try {
      stored = statSync(join(storeDir, BUCKET, key)).size;
    } catch {
      // not in the store
    }
    const inStore = stored === e.size;
    if (stored !== null && !inStore) counts.sizeMismatch += 1;
    const inOutbox = outbox.has(key);
    if (inStore) counts.inStore += 1;
    if (inOutbox) counts.inOutbox += 1;
    if (inStore && inOutbox) counts.inBoth += 1;
    if (e.code === 0 && e.url) counts.uploadedAtOnce += 1;
    if (fromOutbox.has(key)) counts.uploadedFromOutbox += 1;
    if (!inStore && !inOutbox) {
      counts.lost += 1;
      lost.push({ key, code: e.code, size: e.size, storedSize: stored, outboxFull: full.has(key) });
    }
  }
  const unknownOutbox = [...outbox.keys()].filter((k) => !produced.has(k));
  // Uploads the store accepted beyond one per key it holds: sent again after a page died
  // between the 2xx and removing the image from the outbox (twice, not never).
  let storedKeys = 0;
  try {
    storedKeys = readdirSync(join(storeDir, BUCKET), { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length;
  } catch {
    // an empty store
  }
  const duplicatePuts = Math.max(0, (result.server?.stored ?? 0) - storedKeys);
  // Kept long before the stop: uploaded by the engine's own retries, not by the final flush.
  const retriedBy = new Map(rec.outboxUploads.map((u) => [u.key, u.at]));
  const stop = result.finishStartedAt ?? Infinity;
  const keptEarly = [...produced.values()].filter((e) => !e.fromOutbox && e.code !== 0 && e.at < stop - RETRIED_WITHIN_S * 1000);
  const notRetried = keptEarly.filter((e) => !(retriedBy.get(e.key) < stop)).map((e) => e.key);
  counts.knownFromOutboxOnly = [...produced.values()].filter((e) => e.fromOutbox).length;
  return { counts, codes, failedCaptures, failedCodes, duplicates, duplicatePuts, storedKeys, outboxFull: full.size, lost, unknownOutbox, keptEarly: keptEarly.length, notRetried };
}

const summary = reconcile();
result.reconciliation = summary;
result.readings = readings;
result.faults = injected;
result.reloads = reloads;
result.flushes = { count: rec.flushes.length, endFlushes: rec.flushes.filter((f) => f.reason === 'end').length, maxRemaining: Math.max(0, ...rec.flushes.map((f) => f.remaining)) };
result.streamStates = rec.streamStates;
result.engineErrors = rec.engineErrors;
result.longTasks = rec.longTasks;
const pageErrors = consoleLog.filter((m) => m.type === 'pageerror').map((m) => m.text);
const consoleErrors = consoleLog.filter((m) => m.type === 'error' && !isVideoFrameWarning(m.text));
// Chromium logs every refused upload; anything else is printed.
const otherErrors = consoleErrors.filter((m) => !m.text.startsWith('Failed to load resource'));
result.pageErrors = pageErrors;
result.consoleErrors = { count: consoleErrors.length, other: otherErrors.map((m) => m.text).slice(0, 20) };
result.problems = problems;

// Memory: from the first reading after the warm-up to the end (while the task still ran) and
// to after the outbox settled.
// `value(r)` of a reading: the page's figures, or the Worker's (null without one).
// A reload starts a new page with a new heap: the figures compare readings of the last page,
// from 30 s after its start (or the warm-up reading when the run had no reload).
const lastReload = reloads.length ? reloads[reloads.length - 1].atActual : null;
const base = (lastReload === null
  ? readings.find((r) => r.label === 'warm')
  : readings.find((r) => r.t >= lastReload + 30 && r.label !== 'settled')) ?? readings.find((r) => r.label === 'end');
const after = readings.filter((r) => r.label === 'end' || r.label === 'settled');
const growth = (value) => (base && value(base) !== null && value(base) !== undefined
  ? Math.max(...after.map((r) => value(r) - value(base)))
  : null);
const pageHeap = (r) => r.jsHeapUsed;
const pageWasm = (r) => r.wasmMemory;
const workerHeap = (r) => r.worker?.jsHeapUsed ?? null;
const workerWasm = (r) => r.worker?.wasmMemory ?? null;
// The page's JS heap over the second half of the readings between the warm-up and the end
// (while the task ran: past the rise to the steady state of uploads in flight), as a
// least-squares slope in bytes per second: a short run whose heap climbs steadily stays under
// the growth limit and still is not flat. Runs of 5 minutes or more only.
function trend(value) {
  const end = readings.find((r) => r.label === 'end');
  if (!base || !end || opts.seconds < TREND_MIN_S) return null;
  const from = base.t + (end.t - base.t) / 2;
  const pts = readings.filter((r) => r.t >= from && r.label !== 'settled').map((r) => [r.t, value(r)]);
  if (pts.length < 4) return null;
  const mt = pts.reduce((a, [t]) => a + t, 0) / pts.length;
  const mv = pts.reduce((a, [, v]) => a + v, 0) / pts.length;
  const num = pts.reduce((a, [t, v]) => a + (t - mt) * (v - mv), 0);
  const den = pts.reduce((a, [t]) => a + (t - mt) ** 2, 0);
  return den ? num / den : null;
}
const heapTrend = trend(pageHeap);
result.heapTrendBytesPerHour = heapTrend === null ? null : Math.round(heapTrend * 3600);
const bothGrowth = (page, worker) => {
  const p = growth(page);
  const w = growth(worker);
  return { ok: p !== null && p <= GROWTH_LIMIT && (w === null || w <= GROWTH_LIMIT), text: `page ${p === null ? 'n/a' : `+${mib(p)}`}, Worker ${w === null ? 'n/a' : `+${mib(w)}`} (from t=${base?.t ?? '?'} s)` };
};
const heapGrowth = bothGrowth(pageHeap, workerHeap);
const wasmGrowth = bothGrowth(pageWasm, workerWasm);
const task = result.finish?.task ?? rec.task ?? {};
const ticks = (task.images ?? 0) + (task.skipped ?? 0) + (task.failed ?? 0);
const skippedShare = ticks ? task.skipped / ticks : 1;
const s = result.server ?? {};
const seen = (kind) => injected.some((f) => f.kind === kind);

const checks = [
  ['every image produced is in the store or the outbox', summary.counts.produced > 0 && summary.counts.lost === 0 && summary.duplicates.length === 0,
    `${int(summary.counts.produced)} produced, ${summary.counts.lost} in neither${summary.duplicates.length ? `, ${summary.duplicates.length} keys used twice` : ''}${summary.counts.sizeMismatch ? `, ${summary.counts.sizeMismatch} stored with other bytes` : ''}`],
  ['no image refused by a full outbox', summary.outboxFull === 0, `${summary.outboxFull} outboxfull events`],
  // With a hung store nothing can go before the stop.
  [`the engine retried its outbox by itself (images kept ≥ ${RETRIED_WITHIN_S} s before the stop)`, opts.hung || summary.notRetried.length === 0,
    `${summary.keptEarly} kept that early, ${summary.notRetried.length} still waiting for the final flush`],
  [`JS heap growth ≤ ${mib(GROWTH_LIMIT)}`, heapGrowth.ok, heapGrowth.text],
  [`JS heap trend ≤ ${mib(TREND_LIMIT)} an hour`, heapTrend === null || heapTrend * 3600 <= TREND_LIMIT,
    heapTrend === null ? `n/a (needs a run of ${TREND_MIN_S / 60} minutes or more and 4 readings in the second half of the last page's)` : `page ${heapTrend >= 0 ? '+' : '−'}${mib(Math.abs(heapTrend) * 3600)} an hour (least squares over the second half)`],
  [`wasm memory growth ≤ ${mib(GROWTH_LIMIT)}`, wasmGrowth.ok, wasmGrowth.text],
  ['no unclosed VideoFrame', result.videoFrameWarnings?.count === 0, result.videoFrameWarnings ? `${result.videoFrameWarnings.count} console warnings (whole run, then ${result.videoFrameWarnings.waitedS} s after destroy() and a forced GC)` : 'not measured'],
  [`skipped ticks ≤ ${pct(SKIPPED_LIMIT)}`, ticks > 0 && skippedShare <= SKIPPED_LIMIT, `${task.skipped ?? '?'} of ${int(ticks)} (${pct(skippedShare)})`],
  ['no page error', pageErrors.length === 0 && rec.engineErrors.length === 0 && problems.length === 0,
    `${pageErrors.length} uncaught, ${rec.engineErrors.length} engine error events, ${problems.length} run problems`],
  ['every fault took effect', (!seen('5xx') || s.failed > 0) && (!seen('outage') || s.refused > 0) && (!seen('expired') || (s.expired > 0 && s.rejected > 0))
    && (!seen('hang') || result.heldAtStop > 0),
    `${s.failed ?? '?'} × HTTP 500, ${s.refused ?? '?'} connections cut, ${s.expired ?? '?'} expired URLs handed out, ${s.rejected ?? '?'} uploads refused (4xx)${seen('hang') ? `, ${result.heldAtStop ?? '?'} uploads held open at the stop` : ''}`],
  ...(opts.hung ? [[`stopSnapshot resolved within ${STOP_LIMIT_MS / 1000} s with the store hung`, result.finish?.stopMs <= STOP_LIMIT_MS,
    `${result.finish?.stopMs ?? '?'} ms, ${result.finish?.imagesInOutbox ?? '?'} of the task's images in the outbox (ImagesInOutbox)`]] : []),
];
result.checks = checks.map(([name, ok, detail]) => ({ name, ok: Boolean(ok), detail }));

// ----- the report ---------------------------------------------------------------------------

const lines = [];
const m = result.machine;
lines.push(`tracksnap soak — ${result.date}, ${result.wallSeconds} s wall`);
lines.push(`machine: ${m.cpuModel}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.chromium}; load ${m.loadStart} at start, ${m.loadEnd} at end`);
lines.push(`run: ${opts.streams} streams (camera ${result.page?.sources?.camera ?? '?'}; ${result.page?.sources?.remotes ?? '?'}), Interval 1, ${opts.seconds} s, seed ${opts.seed}; encoder placement ${result.page?.encoderPlacement ?? '?'}`);
lines.push('');
lines.push('FAULTS INJECTED');
lines.push(table(['t (s)', 'fault'], [
  ...injected.map((f) => [String(f.at), f.text]),
  ...reloads.map((r) => [String(r.at), `page reloaded (${r.why}); the task ran again ${r.ms} ms later`]),
].sort((a, b) => Number(a[0]) - Number(b[0])), 2));
lines.push('');
lines.push(`MEMORY (after a forced GC; checked from t=${base?.t ?? '?'} s: ${lastReload === null ? `the first reading after the ${warmupS} s warm-up` : '30 s after the last reload'})`);
const rssTypes = [...new Set(readings.flatMap((r) => Object.keys(r.rss.byType)))].sort();
lines.push(table(['reading', 't (s)', 'JS heap', 'wasm', 'Worker heap', 'Worker wasm', 'live Promises', 'live functions', 'image events', 'outbox', 'Chromium RSS', ...rssTypes],
  readings.map((r) => [r.label, r.t, mib(r.jsHeapUsed), mib(r.wasmMemory), mib(r.worker?.jsHeapUsed), mib(r.worker?.wasmMemory), int(r.promises), int(r.functions), int(r.images), r.pendingUploads,
    mib(r.rss.total), ...rssTypes.map((t) => mib(r.rss.byType[t]))])));
lines.push("  (JS heap, wasm memory and live objects: the page's; RSS: every Chromium process, by --type; RSS is not checked)");
lines.push('');
const c = summary.counts;
lines.push('IMAGES');
lines.push(table(['', 'count'], [
  ['produced (captured and named)', `${int(c.produced)} (${int(c.knownFromOutboxOnly)} known from the outbox only: their page died first)`],
  ['  uploaded at once (code 0, url)', int(c.uploadedAtOnce)],
  ['  uploaded later from the outbox (outboxupload)', int(c.uploadedFromOutbox)],
  ['  in the store, same byte count', int(c.inStore)],
  ['  in the outbox at the end', int(c.inOutbox)],
  ['  in neither: lost', int(c.lost)],
  ['duplicate PUTs (2xx beyond one per stored key)', `${int(summary.duplicatePuts)} (${int(s.stored)} stored, ${int(summary.storedKeys)} keys in the store)`],
  ['page reloads', String(reloads.length)],
  ['event codes of produced images', Object.entries(summary.codes).map(([k, v]) => `${k}: ${v}`).join(', ')],
  ['failed captures (no image)', `${summary.failedCaptures}${summary.failedCaptures ? ` (${Object.entries(summary.failedCodes).map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`],
  ['task counters', `images ${task.images}, skipped ${task.skipped}, failed ${task.failed}; stop ${result.finish?.stopResult ?? '?'} in ${result.finish?.stopMs ?? '?'} ms`],
  ['outbox at the end', `${result.finish?.pendingUploads ?? '?'} after ${result.finish ? fmt(result.finish.settleMs / 1000) : '?'} s of flushing (${result.flushes.count} flushUploads() calls, at most ${result.flushes.maxRemaining} waiting)`],
], 2));
lines.push('');
lines.push('SERVER');
const storeRequests = (s.stored ?? 0) + (s.failed ?? 0) + (s.refused ?? 0) + (s.rejected ?? 0);
lines.push(table(['', 'count'], [
  ['presigned URLs', `${int(s.presigned)} (${int((s.presigned ?? 0) - c.produced)} beyond one per image; ${int(s.expired)} expired on purpose)`],
  ['upload requests to the store', `${int(storeRequests)}: ${int(s.stored)} stored, ${int(s.failed)} × 500, ${int(s.refused)} cut, ${int(s.rejected)} refused (4xx)`],
  ['uploads retried', `${int(storeRequests - c.produced)} requests beyond one per image`],
], 2));
lines.push('');
lines.push(table(['', 'value'], [
  ['CPU, Chromium', result.cpu ? `${pct(result.cpu.share)} of ${cores} cores (${fmt(result.cpu.cpuSeconds)} CPU-s in ${fmt(result.cpu.wallSeconds)} s)` : 'n/a'],
  ['long tasks (> 50 ms)', rec.longTasks ? `${rec.longTasks.count}, longest ${fmt(rec.longTasks.longestMs)} ms (the runner's forced GCs and object counts included)` : 'n/a'],
  ['stream state changes', String(rec.streamStates.length)],
  ['console errors', `${consoleErrors.length - otherErrors.length} "Failed to load resource" (the uploads refused during faults), ${otherErrors.length} other`],
], 2));
lines.push('');
lines.push('CHECKS');
lines.push(table(['check', 'result', 'detail'], result.checks.map((k) => [k.name, k.ok ? 'ok' : 'FAILED', k.detail]), 3));
for (const p of problems) lines.push(`  problem: ${p}`);
for (const e of pageErrors.slice(0, 5)) lines.push(`  page error: ${e}`);
for (const e of otherErrors.slice(0, 5)) lines.push(`  console error: ${e.text}`);
for (const l of summary.lost.slice(0, 10)) lines.push(`  lost: ${l.key} (code ${l.code}, ${l.size} B, store ${l.storedSize ?? 'none'}${l.outboxFull ? ', outbox full' : ''})`);

writeFileSync(join(outDir, 'soak.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(lines.join('\n'));
console.log(`\nall figures: ${join('out', 'soak', 'soak.json')}; the store: ${join('out', 'soak', 'store', BUCKET)}/`);
const failed = result.checks.filter((k) => !k.ok);
if (failed.length) {
  console.log(`soak FAILED: ${failed.map((k) => k.name).join('; ')}`);
  process.exitCode = 1;
} else {
  console.log('soak passed');
}
