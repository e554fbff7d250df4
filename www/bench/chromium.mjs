// What the runners of the benchmark (www/bench/run.mjs) and the soak (www/soak/run.mjs) see
// from outside the page: headless Chromium launched with the page tests' flags, its console,
// its process tree and their CPU time and memory in /proc, the machine, a forced garbage
// collection, and Chromium's console warnings about VideoFrames garbage-collected unclosed.

import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../e2e/browser.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const say = (s) => process.stderr.write(`${s}\n`);

// ----- the browser and its page -------------------------------------------------------------

/** Headless Chromium ($CHROMIUM or /usr/bin/chromium) with exact performance.memory figures. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--enable-precise-memory-info'],
  });
}

/**
 * Records the page's console messages and uncaught errors in the returned array
 * (`{ at, type, text }`); lines starting with `prefix` are also printed without it.
 */
export function recordConsole(page, prefix) {
  const log = [];
  page.on('console', (m) => {
    const text = m.text();
    log.push({ at: Date.now(), type: m.type(), text });
    if (text.startsWith(prefix)) say(text.slice(prefix.length));
  });
  page.on('pageerror', (e) => log.push({ at: Date.now(), type: 'pageerror', text: String(e?.stack ?? e) }));
  return log;
}

/** Loads `url` and waits until the page sets `window[readyFlag]`, or says in #out that it could not load. */
export async function openPage(page, url, readyFlag) {
  await page.goto(url);
  await page.waitForFunction((flag) => window[flag] === true || /could not load/.test(document.getElementById('out').textContent), readyFlag, { timeout: 60000 });
  const text = await page.textContent('#out');
  if (text.startsWith('could not load')) throw new Error(text);
}

export const VIDEO_FRAME_WAIT_S = 12; // Chromium reports unclosed VideoFrames on a ~10 s timer after GC
export const isVideoFrameWarning = (t) => t.includes('VideoFrame') && /garbage collected|not closed/i.test(t);

/**
 * Forces a GC through `cdp` (a CDP session of the page), waits for Chromium's unclosed-VideoFrame
 * warnings, and counts those in `consoleLog` from index `from`.
 */
export async function settleVideoFrameWarnings(cdp, consoleLog, from) {
  await cdp.send('HeapProfiler.collectGarbage');
  say(`waiting ${VIDEO_FRAME_WAIT_S} s for Chromium's unclosed-VideoFrame warnings …`);
  await sleep(VIDEO_FRAME_WAIT_S * 1000);
  return { count: consoleLog.slice(from).filter((m) => isVideoFrameWarning(m.text)).length, waitedS: VIDEO_FRAME_WAIT_S };
}

// ----- the machine and its processes --------------------------------------------------------

export const CLK_TCK = (() => {
  try {
    return Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
  } catch {
    return 100;
  }
})();
export const cores = cpus().length;

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
export function chromiumCpu() {
  const tree = chromiumTree();
  return { ticks: tree.reduce((sum, p) => sum + p.ticks, 0), processes: tree.length };
}

/**
 * Resident memory (VmRSS from /proc/<pid>/status) of every Chromium process, summed, and by the
 * process's `--type` (`browser` for the one without: it holds the Blobs' bytes; `renderer`
 * for pages and their Workers; `gpu-process`; `utility` for the network service and others).
 * Pages shared between processes count once per process.
 */
export function chromiumRss() {
  const byType = {};
  let total = 0;
  for (const { pid } of chromiumTree()) {
    try {
      const kb = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0);
      const type = readFileSync(`/proc/${pid}/cmdline`, 'utf8').match(/--type=([\w-]+)/)?.[1] ?? 'browser';
      byType[type] = (byType[type] ?? 0) + kb * 1024;
      total += kb * 1024;
    } catch {
      // ended meanwhile
    }
  }
  return { total, byType };
}

/** Nanoseconds on CPU of one thread (/proc/<pid>/task/<tid>/schedstat, first field). */
export const threadNs = (pid, tid) => Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);

/** Every thread of every Chromium process, with its CPU time. */
export function chromiumThreads() {
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

export function machineCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export function machine(chromiumVersion) {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown';
  return { cpuModel: model, cores, memoryBytes: totalmem(), chromium: `Chromium ${chromiumVersion}`, clockTicksPerSecond: CLK_TCK };
}
