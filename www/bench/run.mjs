// Runs the benchmark page (www/bench/) in headless Chromium and prints the figures; writes
// them all to out/bench/bench.json. Each part runs in a fresh load of the page, so that Part 2's
// memory figures do not carry Part 1's buffers.
//
// What only the runner can measure, it adds here (helpers in chromium.mjs, shared with the
// soak runner, www/soak/run.mjs):
//   - CPU of every Chromium process (utime+stime+cutime+cstime from /proc/<pid>/stat of the
//     browser's process tree) at the moments the page marks through window.benchMark;
//   - a forced garbage collection (CDP HeapProfiler.collectGarbage) before each memory reading;
//   - Chromium's console warnings about VideoFrames garbage-collected without close().
//
// With --webkit, Part 1 runs in WebKitGTK too (MiniBrowser through scripts/webkit-driver.mjs,
// its processor on, as in Safari 18+), and the report sets the two browsers side by side.
// The runner has no view into WebKit's processes: its figures are the page's own.
//
// Usage: node www/bench/run.mjs [--iterations N] [--seconds S] [--streams K] [--quick] [--webkit]
//                               [--parts 1,2,3]
// (scripts/bench.sh builds pkg/ first and then runs this.)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { start } from '../serve.mjs';
import {
  CLK_TCK, chromiumCpu, chromiumThreads, cores, isVideoFrameWarning, launchChromium, loadavg, machine,
  machineCpu, openPage, recordConsole, say, settleVideoFrameWarnings, threadNs,
} from './chromium.mjs';
import { formatReport } from './report.js';
import { chartSvg } from './chart.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const usage = 'usage: node www/bench/run.mjs [--iterations N] [--seconds S] [--streams K] [--quick] [--webkit] [--parts 1,2,3]';

function parseArgs(argv) {
  const o = { iterations: 15, seconds: 60, streams: 17, quick: false, webkit: false, parts: ['part1', 'part2', 'part3'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (min) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min) throw new Error(`${a} needs a whole number ≥ ${min}\n${usage}`);
      return v;
    };
    if (a === '--iterations') o.iterations = num(1);
    else if (a === '--seconds') o.seconds = num(4);
    else if (a === '--streams') o.streams = num(1);
    else if (a === '--quick') o.quick = true;
    else if (a === '--webkit') o.webkit = true;
    else if (a === '--parts') {
      o.parts = String(argv[++i]).split(',').map((n) => `part${n.trim()}`);
      if (o.parts.some((p) => !['part1', 'part2', 'part3'].includes(p))) throw new Error(`--parts takes a list of 1, 2, 3\n${usage}`);
    }
    else if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${usage}`);
  }
  if (o.quick) Object.assign(o, { iterations: 3, seconds: 10 });
  return o;
}

function sizes() {
  const entry = (label, files) => {
    const buf = Buffer.concat(files.map((f) => readFileSync(join(root, f))));
    return { label, files, raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length };
  };
  const jq = 'node_modules/@jsquash/jpeg';
  return [
    entry('tracksnap_bg.wasm', ['pkg/tracksnap_bg.wasm']),
    entry('tracksnap.js', ['pkg/tracksnap.js']),
    entry('@jsquash/jpeg mozjpeg_enc.wasm', [`${jq}/codec/enc/mozjpeg_enc.wasm`]),
    entry('@jsquash/jpeg encoder js (4 files)', [`${jq}/encode.js`, `${jq}/meta.js`, `${jq}/utils.js`, `${jq}/codec/enc/mozjpeg_enc.js`]),
  ];
}

// ----- the run ------------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));

const result = { date: new Date().toISOString(), options: { iterations: opts.iterations, seconds: opts.seconds, streams: opts.streams, quick: opts.quick } };
let consoleLog = [];
const marks = new Map();
let cdp;
let threadsBefore = null;
let mainThread = null; // the page's main thread, found by findThread() in bench.js

/** Whether `pid` is one of Chromium's renderer processes (by its command line). */
function isRenderer(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--type=renderer');
  } catch {
    return false;
  }
}

const server = await start(0);
const browser = await launchChromium();
result.machine = { ...machine(browser.version()), loadStart: loadavg() };
result.sizes = sizes();

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  cdp = await page.context().newCDPSession(page);
  consoleLog = recordConsole(page, '[bench] ');
  await page.exposeFunction('benchMark', async (name) => {
    if (name === 'gc') {
      await cdp.send('HeapProfiler.collectGarbage');
      return { gc: true };
    }
    if (name === 'thread') {
      if (!mainThread) return null;
      try {
        return { ns: threadNs(mainThread.pid, mainThread.tid) };
      } catch {
        return null;
      }
    }
    if (name === 'thread:find-start') {
      threadsBefore = chromiumThreads();
      return { ok: true };
    }
    if (name === 'thread:find-end') {
      // The thread that ran the page's 300 ms of busy work: of the renderer processes' main
      // threads (tid = pid; named CrRendererMain by some builds, plain "chromium" by Debian's),
      // the one whose CPU time grew most; any thread if none is found. (Not just the busiest
      // thread: the GPU process's main thread can come close while the page draws.)
      const grown = [...chromiumThreads()].map(([key, t]) => ({ ...t, deltaMs: (t.ns - (threadsBefore.get(key)?.ns ?? t.ns)) / 1e6 }))
        .sort((a, b) => b.deltaMs - a.deltaMs);
      const best = grown.find((t) => t.tid === t.pid && isRenderer(t.pid)) ?? grown.find((t) => t.comm === 'CrRendererMain') ?? grown[0];
      mainThread = best ? { pid: best.pid, tid: best.tid, comm: best.comm } : null;
      return best ? { pid: best.pid, tid: best.tid, comm: best.comm, cpuMsDuring300msBusyLoop: Math.round(best.deltaMs * 10) / 10 } : null;
    }
    marks.set(name, { at: performance.now(), ...chromiumCpu(), machine: machineCpu() });
    return { ok: true };
  });
  const url = new URL('bench/', server.url).href;

  if (opts.parts.includes('part1')) try {
    await openPage(page, url, 'benchReady');
    const from = consoleLog.length;
    const r1 = await page.evaluate((o) => window.runBench(o), { ...opts, parts: ['part1'] });
    result.userAgent = r1.userAgent;
    result.part1 = r1.part1;
    result.part1.videoFrameWarnings = await settleVideoFrameWarnings(cdp, consoleLog, from);
  } catch (e) {
    result.part1error = String(e?.message ?? e);
    say(`Part 1 failed: ${result.part1error}`);
  }

  if (opts.parts.includes('part2')) try {
    await openPage(page, url, 'benchReady');
    const from = consoleLog.length;
    const p2 = await page.evaluate((o) => window.runBench(o), { ...opts, parts: ['part2'] });
    result.part2 = p2.part2;
    result.part2.videoFrameWarnings = await settleVideoFrameWarnings(cdp, consoleLog, from);
    const span = (a, b) => {
      const s = marks.get(a);
      const e = marks.get(b);
      const wallSeconds = (e.at - s.at) / 1000;
      const cpuSeconds = (e.ticks - s.ticks) / CLK_TCK;
      return {
        wallSeconds,
        cpuSeconds,
        share: cpuSeconds / (wallSeconds * cores),
        processes: Math.max(s.processes, e.processes),
        machineShare: (e.machine.busy - s.machine.busy) / (e.machine.total - s.machine.total),
      };
    };
    result.part2.cpu = { cores, clockTicksPerSecond: CLK_TCK, task: span('cpu:task-start', 'cpu:task-end'), baseline: span('cpu:baseline-start', 'cpu:baseline-end') };
  } catch (e) {
    result.part2error = String(e?.message ?? e);
    say(`Part 2 failed: ${result.part2error}`);
  }

  if (opts.parts.includes('part3')) try {
    await openPage(page, `${url}?isolated`, 'benchReady'); // a finer clock
    const r3 = await page.evaluate((o) => window.runBench(o), { ...opts, parts: ['part3'] });
    result.part3 = r3.part3;
  } catch (e) {
    result.part3error = String(e?.message ?? e);
    say(`Part 3 failed: ${result.part3error}`);
  }
} finally {
  await browser.close();
}

if (opts.webkit && opts.parts.includes('part1')) {
  try {
    result.webkit = await webkitPart1(new URL('bench/', server.url).href);
  } catch (e) {
    result.webkitError = String(e?.message ?? e);
    say(`WebKit Part 1 failed: ${result.webkitError}`);
  }
}
await server.close();

/** Part 1 in WebKitGTK: the same page, driven over WebDriver. */
async function webkitPart1(url) {
  const { startDriver } = await import('../../scripts/webkit-driver.mjs');
  const { WebDriverPage } = await import('../e2e/webdriver.mjs');
  const driver = await startDriver({ processor: true });
  try {
    const page = await WebDriverPage.open(driver.url);
    try {
      await page.send('POST', '/window/rect', { width: 1280, height: 900 }).catch(() => {});
      await page.goto(url);
      await page.waitForFunction(() => window.benchReady === true || /could not load/.test(document.getElementById('out').textContent), null, { timeout: 60000 });
      say('WebKit: Part 1 …');
      // Started, then polled rarely: every poll is work on the page's thread.
      await page.evaluate((o) => {
        window.runBench(o).then((r) => (window.benchDone = { r }), (e) => (window.benchDone = { error: String(e?.stack ?? e) }));
      }, { ...opts, parts: ['part1'] });
      const done = await page.waitForFunction(() => window.benchDone ?? null, null, { timeout: 3600000, polling: 5000 });
      if (done.error) throw new Error(done.error);
      return { userAgent: done.r.userAgent, part1: done.r.part1 };
    } finally {
      await page.close();
    }
  } finally {
    await driver.close();
  }
}

result.machine.loadEnd = loadavg();
result.consoleErrors = consoleLog.filter((m) => (m.type === 'error' || m.type === 'pageerror') && !isVideoFrameWarning(m.text)).map((m) => m.text);
const outDir = join(root, 'out', 'bench');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
const svg = chartSvg(result);
if (svg) writeFileSync(join(outDir, 'bench.svg'), svg);
console.log(formatReport(result));
console.log(`\nall figures: ${join('out', 'bench', 'bench.json')}${svg ? `; the chart: ${join('out', 'bench', 'bench.svg')}` : ''}`);
if (result.part1error || result.part2error || result.part3error || result.webkitError) process.exitCode = 1;
