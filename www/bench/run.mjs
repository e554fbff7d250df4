// Runs the benchmark page (www/bench/) in headless Chromium and prints the figures; writes
// them all to out/bench/bench.json. Part 1 runs in one page load; Part 2 in a fresh load of the
// same page, so its memory figures do not carry Part 1's buffers.
//
// What only the runner can measure, it adds here:
//   - CPU of every Chromium process (utime+stime+cutime+cstime from /proc/<pid>/stat of the
//     browser's process tree) at the moments the page marks through window.benchMark;
//   - a forced garbage collection (CDP HeapProfiler.collectGarbage) before each memory reading;
//   - Chromium's console warnings about VideoFrames garbage-collected without close().
//
// Usage: node www/bench/run.mjs [--iterations N] [--seconds S] [--streams K] [--quick]
// (scripts/bench.sh builds pkg/ first and then runs this.)

import { execSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { start } from '../serve.mjs';
import { CHROMIUM_ARGS } from '../e2e/browser.mjs';
import { formatReport } from './report.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const usage = 'usage: node www/bench/run.mjs [--iterations N] [--seconds S] [--streams K] [--quick]';

function parseArgs(argv) {
  const o = { iterations: 15, seconds: 60, streams: 17, quick: false };
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
    else if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${usage}`);
  }
  if (o.quick) Object.assign(o, { iterations: 3, seconds: 10 });
  return o;
}

// ----- the machine and its processes --------------------------------------------------------

const CLK_TCK = (() => {
  try {
    return Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
  } catch {
    return 100;
  }
})();
const cores = cpus().length;

function processes() {
  const rows = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const f = stat.slice(close + 2).split(' '); // f[0] is field 3 (state)
      rows.set(Number(name), {
        comm: stat.slice(stat.indexOf('(') + 1, close),
        ppid: Number(f[1]),
        ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), // utime stime cutime cstime
      });
    } catch {
      // the process ended meanwhile
    }
  }
  return rows;
}

/** The browser's process tree: the children of this Node process named chrom*, and theirs. */
function chromiumTree() {
  const rows = processes();
  const children = new Map();
  for (const [pid, r] of rows) {
    if (!children.has(r.ppid)) children.set(r.ppid, []);
    children.get(r.ppid).push(pid);
  }
  const queue = (children.get(process.pid) ?? []).filter((pid) => /chrom/i.test(rows.get(pid).comm));
  const tree = [];
  while (queue.length) {
    const pid = queue.pop();
    tree.push({ pid, ...rows.get(pid) });
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** CPU ticks of every Chromium process (including their reaped children). */
function chromiumCpu() {
  const tree = chromiumTree();
  return { ticks: tree.reduce((sum, p) => sum + p.ticks, 0), processes: tree.length };
}

/** Nanoseconds on CPU of one thread (/proc/<pid>/task/<tid>/schedstat, first field). */
const threadNs = (pid, tid) => Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);

/** Every thread of every Chromium process, with its CPU time. */
function chromiumThreads() {
  const threads = new Map();
  for (const { pid } of chromiumTree()) {
    let tids = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        threads.set(`${pid}/${tid}`, { pid, tid: Number(tid), comm, ns: threadNs(pid, tid) });
      } catch {
        // ended meanwhile
      }
    }
  }
  return threads;
}

function machineCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function machine(chromiumVersion) {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown';
  return { cpuModel: model, cores, memoryBytes: totalmem(), chromium: `Chromium ${chromiumVersion}`, clockTicksPerSecond: CLK_TCK };
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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (s) => process.stderr.write(`${s}\n`);
const VIDEO_FRAME_WAIT_S = 12; // Chromium reports unclosed VideoFrames on a ~10 s timer after GC
const isVideoFrameWarning = (t) => t.includes('VideoFrame') && /garbage collected|not closed/i.test(t);

const result = { date: new Date().toISOString(), options: { iterations: opts.iterations, seconds: opts.seconds, streams: opts.streams, quick: opts.quick } };
const consoleLog = [];
const marks = new Map();
let cdp;
let threadsBefore = null;
let mainThread = null; // the page's main thread, found by findThread() in bench.js

const server = await start(0);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [...CHROMIUM_ARGS, '--enable-precise-memory-info'],
});
result.machine = { ...machine(browser.version()), loadStart: loadavg() };
result.sizes = sizes();

async function openPage(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.benchReady === true || /could not load/.test(document.getElementById('out').textContent), null, { timeout: 60000 });
  const text = await page.textContent('#out');
  if (text.startsWith('could not load')) throw new Error(text);
}

async function settleVideoFrameWarnings(from) {
  await cdp.send('HeapProfiler.collectGarbage');
  say(`waiting ${VIDEO_FRAME_WAIT_S} s for Chromium's unclosed-VideoFrame warnings …`);
  await sleep(VIDEO_FRAME_WAIT_S * 1000);
  return { count: consoleLog.slice(from).filter((m) => isVideoFrameWarning(m.text)).length, waitedS: VIDEO_FRAME_WAIT_S };
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  cdp = await page.context().newCDPSession(page);
  page.on('console', (m) => {
    const text = m.text();
    consoleLog.push({ at: Date.now(), type: m.type(), text });
    if (text.startsWith('[bench] ')) say(text.slice(8));
  });
  page.on('pageerror', (e) => consoleLog.push({ at: Date.now(), type: 'pageerror', text: String(e?.stack ?? e) }));
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
      // The thread that ran the page's 300 ms of busy work: the renderer main thread
      // (CrRendererMain) whose CPU time grew most; any thread if none has that name.
      const grown = [...chromiumThreads()].map(([key, t]) => ({ ...t, deltaMs: (t.ns - (threadsBefore.get(key)?.ns ?? t.ns)) / 1e6 }))
        .sort((a, b) => b.deltaMs - a.deltaMs);
      const best = grown.find((t) => t.comm === 'CrRendererMain') ?? grown[0];
      mainThread = best ? { pid: best.pid, tid: best.tid, comm: best.comm } : null;
      return best ? { pid: best.pid, tid: best.tid, comm: best.comm, cpuMsDuring300msBusyLoop: Math.round(best.deltaMs * 10) / 10 } : null;
    }
    marks.set(name, { at: performance.now(), ...chromiumCpu(), machine: machineCpu() });
    return { ok: true };
  });
  const url = new URL('bench/', server.url).href;

  await openPage(page, url);
  try {
    const from = consoleLog.length;
    const r1 = await page.evaluate((o) => window.runBench(o), { ...opts, parts: ['part1'] });
    result.userAgent = r1.userAgent;
    result.part1 = r1.part1;
    result.part1.videoFrameWarnings = await settleVideoFrameWarnings(from);
  } catch (e) {
    result.part1error = String(e?.message ?? e);
    say(`Part 1 failed: ${result.part1error}`);
  }

  await openPage(page, url); // a fresh page for Part 2
  try {
    const from = consoleLog.length;
    const p2 = await page.evaluate((o) => window.runBench(o), { ...opts, parts: ['part2'] });
    result.part2 = p2.part2;
    result.part2.videoFrameWarnings = await settleVideoFrameWarnings(from);
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
} finally {
  await browser.close();
  await server.close();
}

result.machine.loadEnd = loadavg();
result.consoleErrors = consoleLog.filter((m) => (m.type === 'error' || m.type === 'pageerror') && !isVideoFrameWarning(m.text)).map((m) => m.text);
const outDir = join(root, 'out', 'bench');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(formatReport(result));
console.log(`\nall figures: ${join('out', 'bench', 'bench.json')}`);
if (result.part1error || result.part2error) process.exitCode = 1;
