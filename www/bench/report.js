// Derived figures and the printed report; no DOM, so the page and the Node runner share it.

const find = (part1, sourceId, methodId) => {
  const m = part1.sources.find((s) => s.id === sourceId)?.methods.find((x) => x.id === methodId);
  return m?.status === 'ok' ? m : null;
};
// Ratios only of positive figures (a main-thread figure can come out ≤ 0 after subtracting the idle share).
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && a > 0 && b > 0 ? Math.round((a / b) * 1000) / 1000 : null);
const diff = (a, b, d) => (Number.isFinite(a) && Number.isFinite(b) ? Math.round((a - b) * 10 ** d) / 10 ** d : null);

/** Ratios and differences between the methods, per source. */
export function derive(part1) {
  const perSource = {};
  for (const s of part1.sources) {
    const ts = find(part1, s.id, 'tracksnap-jpeg');
    const native = find(part1, s.id, 'video-tojpeg');
    const sf = find(part1, s.id, 'tracksnap-jpeg-sizefirst');
    const jq = find(part1, s.id, 'jsquash-jpeg');
    const control = find(part1, s.id, 'control-busy-worker');
    perSource[s.id] = {
      // tracksnap's main-thread CPU (JPEG, PNG, sizeFirst) and the control's: the measurement's
      // bias on this source, which tracksnap's figures include too.
      mainThreadCpuMs: {
        jpeg: find(part1, s.id, 'tracksnap-jpeg')?.mainThreadCpuMs?.median ?? null,
        png: find(part1, s.id, 'tracksnap-png')?.mainThreadCpuMs?.median ?? null,
        sizeFirst: sf?.mainThreadCpuMs?.median ?? null,
        control: control?.mainThreadCpuMs?.median ?? null,
        // tracksnap JPEG less the control, measured in blocks of calls (bench.js, blockMainThread).
        jpegBlocks: ts?.mainThreadBlockMs?.median ?? null,
        // The same blocks raw (less the idle share, as the per-call figures): tracksnap's, the control's.
        jpegBlocksRaw: ts?.mainThreadBlockMs?.raw?.median ?? null,
        controlBlocksRaw: ts?.mainThreadBlockMs?.rawControl?.median ?? null,
      },
      tracksnapJpegOverToBlobJpeg: {
        time: ratio(ts?.timeMs.median, native?.timeMs.median),
        mainThreadCpu: ratio(ts?.mainThreadCpuMs?.median, native?.mainThreadCpuMs?.median),
        mainThreadProbe: ratio(ts?.mainThreadMs.median, native?.mainThreadMs.median),
        bytes: ratio(ts?.bytes.median, native?.bytes.median),
        psnrDbDiff: diff(ts?.quality?.psnrDb?.median, native?.quality?.psnrDb?.median, 3),
        ssimDiff: diff(ts?.quality?.ssim?.median, native?.quality?.ssim?.median, 5),
      },
      sizeFirstOverJsquash: sf
        ? {
          bytes: ratio(sf.bytes.median, jq?.bytes.median),
          time: ratio(sf.timeMs.median, jq?.timeMs.median),
          psnrDbDiff: diff(sf.quality?.psnrDb?.median, jq?.quality?.psnrDb?.median, 3),
          ssimDiff: diff(sf.quality?.ssim?.median, jq?.quality?.ssim?.median, 5),
        }
        : null,
    };
  }
  return perSource;
}

/** A text table; the first column is left-aligned, the others right-aligned unless `left`. */
export function table(headers, rows, left = 1) {
  const cells = [headers, ...rows].map((r) => r.map((c) => (c === null || c === undefined ? '–' : String(c))));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r, n) => {
    const line = r.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
    return n === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

export const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : v === Infinity ? '∞' : null);
export const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : null);
export const mib = (v) => (Number.isFinite(v) ? `${(v / 1048576).toFixed(1)} MiB` : 'n/a');
export const pct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : 'n/a');
const x = (v) => (Number.isFinite(v) ? `×${v.toFixed(2)}` : 'n/a');
const x3 = (v) => (Number.isFinite(v) ? `×${v.toFixed(3)}` : 'n/a');
const signed = (v, d, unit = '') => {
  if (!Number.isFinite(v)) return 'n/a';
  if (Math.abs(v) < 0.5 / 10 ** d) return `±${(0).toFixed(d)}${unit}`;
  return `${v > 0 ? '+' : ''}${v.toFixed(d)}${unit}`;
};

const psnrText = (q) => (q.median === null ? `∞ (${q.identical}/${q.samples.length} identical)` : fmt(q.median, 2));

function part1Report(p) {
  const lines = [];
  const mt = p.mainThread;
  lines.push(`PART 1 — one snapshot of the same live track; ${p.iterations} timed calls per method (after ${p.warmUp ?? 1} warm-up call${(p.warmUp ?? 1) === 1 ? '' : 's'})`);
  if (p.sourcesLive) lines.push(`  sources     ${p.sourcesLive}: the others are stopped while one is measured; its methods' calls interleaved, call i of each in turn`);
  lines.push('  time        call → Blob; median, and p95 by nearest rank (the maximum below 20 calls)');
  lines.push(`  main CPU    CPU time of the page's main thread during the call, less the readings' cost and the thread's idle CPU share times the call's length`);
  lines.push('              (the share pooled over windows as long as each call, right after it)');
  lines.push(`              (runner: ${mt ? `/proc/${mt.pid}/task/${mt.tid}/schedstat, the thread that ran the page's 300 ms busy loop` : 'not available'})`);
  lines.push(`  main probe  time the page's MessageChannel probe found the thread unavailable (gaps > 1 ms), in a second pass, less`);
  lines.push('              the share seen in an idle window as long as the call right after it; the OS running other processes');
  lines.push('              also shows as unavailable time, so on a busy machine this is noisy');
  lines.push(`  quality     median of the first ${p.keptForQuality} outputs against the reference picture (canvases only): PSNR over RGB;`);
  lines.push(`              SSIM over luma, ${p.ssim.window}×${p.ssim.window} windows, stride ${p.ssim.stride}, K1 ${p.ssim.K1}, K2 ${p.ssim.K2}`);
  lines.push(`  tracksnap   frame reader ${p.frameReader}, encoded in ${p.encoderPlacement === 'worker' ? 'a Worker' : "the page's thread"}; it waits for the`);
  lines.push("              track's next frame (up to one frame interval: 'frame wait', part of its time, from the result's");
  lines.push('              timestamp), while the <video> methods read the frame already on screen');
  lines.push("  control     no snapshot: a Worker busy for as long as tracksnap's JPEG call, the page waiting (see the last table)");
  for (const m of p.skipped ?? []) lines.push(`  not measured: ${m.id} (${m.reason})`);
  for (const s of p.sources) {
    lines.push('');
    lines.push(`${s.label} — track ${s.track.width}×${s.track.height} @ ${s.track.frameRate} fps, <video> ${s.video.width}×${s.video.height}`);
    const rows = s.methods.map((m) => (m.status === 'ok'
      ? [m.label, fmt(m.timeMs.median), fmt(m.timeMs.p95), fmt(m.frameWaitMs?.median), fmt(m.mainThreadCpuMs?.median), fmt(m.mainThreadMs.median), int(m.bytes.median),
        m.output ? `${m.output.width}×${m.output.height}` : null,
        m.quality?.psnrDb ? psnrText(m.quality.psnrDb) : m.quality?.error ? 'size≠' : null,
        m.quality?.ssim ? fmt(m.quality.ssim.median, 4) : null]
      : [m.label, m.status, '', '', '', '', '', '', '', '']));
    lines.push(table(['method', 'median ms', 'p95 ms', 'frame wait', 'main CPU ms', 'main probe ms', 'bytes', 'output', 'PSNR dB', 'SSIM'], rows));
    for (const m of s.methods.filter((r) => r.status !== 'ok')) lines.push(`  ${m.label}: ${m.status} — ${m.reason}`);
    for (const m of s.methods.filter((r) => r.quality?.error)) lines.push(`  ${m.label}: no quality figure — ${m.quality.error}`);
  }
  lines.push('');
  lines.push('DERIVED (ratios of medians; differences of medians)');
  const rows = [];
  // The main-thread ratio: of the CPU figures when the runner measured them, else of the probe's.
  const cpuKnown = p.sources.some((s) => s.methods.some((m) => m.mainThreadCpuMs));
  for (const s of p.sources) {
    const d = p.derived?.[s.id];
    if (!d) continue;
    const a = d.tracksnapJpegOverToBlobJpeg;
    const b = d.sizeFirstOverJsquash;
    rows.push([s.label, x(a.time), x(cpuKnown ? a.mainThreadCpu : a.mainThreadProbe), x(a.bytes), signed(a.psnrDbDiff, 3, ' dB'), signed(a.ssimDiff, 5),
      b ? x(b.bytes) : 'n/a', b ? x(b.time) : 'n/a']);
  }
  lines.push(table(['source', 'ts/toBlob time', cpuKnown ? 'main CPU' : 'main probe', 'bytes', 'ΔPSNR', 'ΔSSIM', 'sizeFirst/jsquash bytes', 'time'], rows));
  lines.push('  ts/toBlob: tracksnap JPEG q85 over <video>+toBlob JPEG 0.85; ΔPSNR, ΔSSIM: tracksnap minus toBlob.');
  if (cpuKnown) {
    lines.push('');
    lines.push("MAIN-THREAD CPU PER SNAPSHOT (ms, medians) beside the control: a Worker busy as long as tracksnap's JPEG call while the");
    lines.push("page only waits, so the control's figure is the measurement's own bias on that source");
    const cpuRows = p.sources.map((s) => {
      const c = p.derived?.[s.id]?.mainThreadCpuMs ?? {};
      return [s.label, fmt(c.jpeg, 2), fmt(c.png, 2), fmt(c.sizeFirst, 2), fmt(c.control, 2), fmt(c.jpegBlocksRaw, 2), fmt(c.controlBlocksRaw, 2), fmt(c.jpegBlocks, 2)];
    });
    lines.push(table(['source', 'JPEG', 'PNG', 'sizeFirst', 'control', 'blocks: JPEG', 'control', 'JPEG − control'], cpuRows));
    const b = p.sources.map((s) => find(p, s.id, 'tracksnap-jpeg')?.mainThreadBlockMs).find(Boolean);
    lines.push(`  blocks: one reading per block of ${b?.callsPerBlock ?? '–'} calls, per call, median over ${b?.blocks ?? '–'} blocks: tracksnap JPEG and a control block of the`);
    lines.push('  same call lengths, each less the idle share like the per-call figures, and their difference (the page\'s own');
    lines.push('  per-frame work, such as a canvas track\'s, is in both and cancels).');
  }
  return lines.join('\n');
}

function part2Report(p) {
  const lines = [];
  lines.push(`PART 2 — one periodic task, Interval ${p.interval} s, JPEG, ${p.streams} streams (camera ${p.sources?.camera}; ${p.sources?.remotes}), ${(p.windowMs / 1000).toFixed(1)} s`);
  if (p.error) {
    lines.push(`  failed: ${p.error}`);
    return lines.join('\n');
  }
  const t = p.task ?? {};
  lines.push(table(['figure', 'value'], [
    ['images (events, code 0)', `${p.images} of ${p.expected} expected (${p.streams} streams × ${p.ticks} ticks); per stream ${p.perStream.min}–${p.perStream.max}`],
    ['task counters', `images ${t.images}, skipped ${t.skipped}, failed ${t.failed}; failed events ${p.failedEvents}; stop reason ${t.stopReason}`],
    ['image size (median)', `${int(p.bytesMedian)} B`],
    ['lateness vs 1 s grid', `median ${fmt(p.lateness.medianMs)} ms, p95 ${fmt(p.lateness.p95Ms)} ms, max ${fmt(p.lateness.maxMs)} ms (min ${fmt(p.lateness.minMs)})`],
    ['startSnapshot / stopSnapshot', `${p.startCallMs} ms / ${p.stopCallMs} ms`],
    ['long tasks, task window', p.longTasks.observed
      ? `${p.longTasks.task.count}, longest ${fmt(p.longTasks.task.longestMs)} ms, total ${fmt(p.longTasks.task.totalMs)} ms (PerformanceObserver 'longtask', > 50 ms)`
      : 'n/a: this browser has no longtask entries'],
    [`long tasks, baseline ${p.longTasks.baselineSeconds} s`, `${p.longTasks.baseline.count}, longest ${fmt(p.longTasks.baseline.longestMs)} ms`],
    ['CPU, Chromium, task', p.cpu ? `${pct(p.cpu.task.share)} of ${p.cpu.cores} cores (${fmt(p.cpu.task.cpuSeconds, 2)} CPU-s in ${fmt(p.cpu.task.wallSeconds, 2)} s, ${p.cpu.task.processes} processes)` : 'n/a (runner only)'],
    ['CPU, Chromium, no task', p.cpu ? `${pct(p.cpu.baseline.share)} (${fmt(p.cpu.baseline.cpuSeconds, 2)} CPU-s in ${fmt(p.cpu.baseline.wallSeconds, 2)} s); task adds ${signed((p.cpu.task.share - p.cpu.baseline.share) * 100, 1, ' points')}` : 'n/a (runner only)'],
    ['CPU, whole machine', p.cpu ? `task ${pct(p.cpu.task.machineShare)}, no task ${pct(p.cpu.baseline.machineShare)} (every process, /proc/stat)` : 'n/a (runner only)'],
    ['JS heap used', `start ${mib(p.memoryStart.jsHeapUsed)}, end ${mib(p.memoryEnd.jsHeapUsed)}${p.memoryStart.gcForced ? ' (after a forced GC)' : ''}`],
    ['wasm memory', `start ${mib(p.memoryStart.wasmMemory)}, end ${mib(p.memoryEnd.wasmMemory)}`],
    ['unclosed VideoFrames', p.videoFrameWarnings
      ? `${p.videoFrameWarnings.count} console warning(s) "VideoFrame … garbage collected" (${p.videoFrameWarnings.waitedS} s after a forced GC)`
      : 'n/a (runner only: Chromium console)'],
  ], 2));
  return lines.join('\n');
}

function part3Report(p) {
  const lines = [`PART 3 — write-ahead: each image kept in the outbox (IndexedDB) before its upload; ${p.count} snapshots of a ${p.source}, JPEG q85, median ${int(p.bytesMedian)} B`];
  const row = (label, t, b) => [label, `${fmt(t.median, 3)} (p95 ${fmt(t.p95, 3)})`, `${fmt(b.median, 3)} (p95 ${fmt(b.p95, 3)})`, x(ratio(t.median, b.median))];
  lines.push(table(['ms per image', 'tracksnap', 'bare IndexedDB put', 'ratio'], [
    row('page thread', p.tracksnap.pageMs, p.bare.pageMs),
    row('end to end', p.tracksnap.totalMs, p.bare.totalMs),
  ]));
  lines.push('  tracksnap: Web Lock, one transaction over three stores (record, bytes, byte count, checked against');
  lines.push('  outboxMaxBytes); bare: one put of the Blob (of its bytes where Blobs are refused) into one');
  lines.push(`  store. Page thread: the sum of the synchronous stretches (${p.timerResolution}).`);
  return lines.join('\n');
}

/** tracksnap JPEG against <video>+toBlob JPEG, source by source, in Chromium and in WebKit. */
function browsersReport(r) {
  const lines = ['CHROMIUM AND WEBKIT — tracksnap JPEG q85 against <video>+toBlob JPEG 0.85, medians of the same run'];
  const sources = [...new Map([...(r.part1?.sources ?? []), ...(r.webkit?.part1?.sources ?? [])].map((s) => [s.id, s.label])).entries()];
  const cells = (p, id) => {
    const ts = p && find(p, id, 'tracksnap-jpeg');
    const tb = p && find(p, id, 'video-tojpeg');
    if (!ts || !tb) return ['–', '–', '–', '–'];
    return [fmt(ts.timeMs.median), fmt(tb.timeMs.median), x(ratio(ts.timeMs.median, tb.timeMs.median)), x(ratio(ts.bytes.median, tb.bytes.median))];
  };
  lines.push(table(
    ['source', 'Chromium ts ms', 'toBlob ms', 'time', 'bytes', 'WebKit ts ms', 'toBlob ms', 'time', 'bytes'],
    sources.map(([id, label]) => [label, ...cells(r.part1, id), ...cells(r.webkit?.part1, id)]),
  ));
  lines.push(`  WebKit: ${r.webkit?.userAgent ?? 'n/a'}; frame reader ${r.webkit?.part1?.frameReader}, encoded in ${r.webkit?.part1?.encoderPlacement}`);
  return lines.join('\n');
}

// ----- Part 4: the encoder alone against libjpeg-turbo --------------------------------------

/** Part 4's targets (issue 22): time ≤ 2.5× tjbench's, bytes ≤ 1.0× libjpeg-turbo's at equal PSNR. */
export const ENCODER_TARGETS = { time: 2.5, bytes: 1.0 };

/**
 * libjpeg-turbo's bytes at a PSNR, from its JPEGs of the same picture at several qualities:
 * log(bytes) interpolated linearly in PSNR between the two qualities around it; null outside
 * their range.
 */
export function bytesAtPsnr(curve, db) {
  const pts = curve.filter((c) => Number.isFinite(c.psnrDb) && c.bytes > 0).sort((a, b) => a.psnrDb - b.psnrDb);
  if (!Number.isFinite(db)) return null;
  for (let i = 0; i + 1 < pts.length; i++) {
    const [a, b] = [pts[i], pts[i + 1]];
    if (db < a.psnrDb || db > b.psnrDb) continue;
    const t = b.psnrDb > a.psnrDb ? (db - a.psnrDb) / (b.psnrDb - a.psnrDb) : 0;
    return { bytes: Math.round(Math.exp(Math.log(a.bytes) + t * (Math.log(b.bytes) - Math.log(a.bytes)))), between: [a.quality, b.quality] };
  }
  return null;
}

/**
 * Per route: our time over tjbench's (its YUV → JPEG time for the I420 routes, RGBX → JPEG for
 * RGBA) and our bytes over libjpeg-turbo's at our PSNR. The targets hold for the plain preset;
 * sizeFirst's rows are given for comparison.
 */
export function derivePart4(p) {
  const tj = p.tjbench ?? {};
  const curve = p.libjpegTurbo ?? [];
  const rows = p.methods.map((m) => {
    const rgb = m.route === 'rgba';
    const tjMs = rgb ? tj.rgbMs : tj.yuvMs;
    const time = ratio(m.timeMs.median, tjMs);
    // Fastest against fastest: on a busy machine descheduling only adds time, so the minima are
    // each side's speed without contention (a check on the medians' ratio).
    const tjMin = (rgb ? tj.interleaved?.rgbMs : tj.interleaved?.yuvMs)?.samples;
    const fastest = ratio(m.timeMs.samples?.length ? Math.min(...m.timeMs.samples) : null, tjMin?.length ? Math.min(...tjMin) : null);
    const at = bytesAtPsnr(curve, m.quality?.psnrDb);
    const bytes = ratio(m.bytes, at?.bytes);
    return {
      id: m.id, route: m.route, sizeFirst: m.sizeFirst,
      tjbenchMs: Number.isFinite(tjMs) ? Math.round(tjMs * 1000) / 1000 : null,
      tjbenchFrom: rgb ? 'RGBX' : 'YUV',
      time, timeOk: m.sizeFirst || time === null ? null : time <= ENCODER_TARGETS.time, fastest,
      libjpegTurboBytesAtOurPsnr: at?.bytes ?? null, between: at?.between ?? null,
      bytes, bytesOk: m.sizeFirst || bytes === null ? null : bytes <= ENCODER_TARGETS.bytes,
    };
  });
  return { targets: ENCODER_TARGETS, rows };
}

const verdict = (r, target, ok) => (r === null ? 'n/a' : `×${r.toFixed(2)}${ok === null ? '' : ` (target ≤ ${target.toFixed(1)}) ${ok ? 'ok' : 'MISSED'}`}`);

function part4Report(p, browser = 'Chromium') {
  const lines = [];
  const tj = p.tjbench ?? {};
  const d = p.derived ?? derivePart4(p);
  const q85 = p.libjpegTurbo?.find((r) => r.quality === 85);
  lines.push(`PART 4 — the JPEG encoder alone: ${p.width}×${p.height} photo picture, q${p.quality} ${p.subsampling}, against libjpeg-turbo's tjbench on the same frame`);
  lines.push(`  ours        examples/encoder_wasm.rs in ${browser}, on ${p.placement}; ${p.iterations} timed calls per route after ${p.warmUp} warm-up calls,`);
  lines.push('              routes interleaved call by call; the frame is copied into wasm memory before each call, outside the timing');
  lines.push(`              (${p.timer})`);
  if (tj.version) {
    const i = tj.interleaved;
    lines.push(`  tjbench     ${tj.version}, native, one core: ${tj.command}`);
    lines.push(`              interleaved: after each of our rounds, one run from RGBX and one from YUV (-benchtime ${i.seconds} -warmup ${i.warmup}),`);
    lines.push(`              median of the ${i.runs} runs' ms per frame (from its megapixels per second): the ratios use these`);
    lines.push(`              long: -benchtime ${tj.long.seconds} -warmup ${tj.long.warmup} before and after our rounds: from YUV ${fmt(tj.before.yuv.compMs, 2)} and ${fmt(tj.after.yuv.compMs, 2)} ms,`);
    lines.push(`              from RGBX ${fmt(tj.before.rgb.compMs, 2)} and ${fmt(tj.after.rgb.compMs, 2)} ms (its RGB → YUV, before YUV → JPEG: ${fmt(i.yuvEncodeMs.median, 2)} ms interleaved)`);
  } else {
    lines.push('  tjbench     not installed (apt-get install libjpeg-turbo-progs): our figures alone');
  }
  lines.push('');
  const byId = new Map(d.rows.map((r) => [r.id, r]));
  const tjP95 = (r) => (r.tjbenchFrom === 'RGBX' ? tj.interleaved?.rgbMs.p95 : tj.interleaved?.yuvMs.p95);
  lines.push(table(['route', 'median ms', 'p95 ms', 'tjbench median', 'p95', 'time: ours / tjbench (medians)', 'fastest / fastest'], p.methods.map((m) => {
    const r = byId.get(m.id);
    return [m.label, fmt(m.timeMs.median, 2), fmt(m.timeMs.p95, 2), r.tjbenchMs === null ? 'n/a' : `${fmt(r.tjbenchMs, 2)} (${r.tjbenchFrom})`, fmt(tjP95(r), 2), verdict(r.time, d.targets.time, r.timeOk), x(r.fastest)];
  })));
  lines.push('  fastest / fastest: the least of our calls over the least of tjbench\'s interleaved runs, each side\'s speed without contention');
  if (tj.long) {
    const longRatio = (m) => ratio(m.timeMs.median, m.route === 'rgba' ? tj.long.rgbMs : tj.long.yuvMs);
    lines.push(`  against the long runs' mean (YUV ${fmt(tj.long.yuvMs, 2)} ms, RGBX ${fmt(tj.long.rgbMs, 2)} ms): ${p.methods.filter((m) => !m.sizeFirst).map((m) => `${m.label} ${x(longRatio(m))}`).join(', ')}`);
  }
  lines.push('');
  const lj = q85 ? `${int(q85.bytes)} B, ${fmt(q85.psnrDb, 2)} dB` : 'n/a';
  lines.push(table(['route', 'bytes', 'PSNR dB', 'SSIM', 'libjpeg-turbo at our PSNR', 'bytes: ours / libjpeg-turbo'], p.methods.map((m) => {
    const r = byId.get(m.id);
    return [m.label, int(m.bytes), fmt(m.quality?.psnrDb, 2), fmt(m.quality?.ssim, 4),
      r.libjpegTurboBytesAtOurPsnr === null ? 'n/a' : `${int(r.libjpegTurboBytesAtOurPsnr)} B (q${r.between.join('–')})`, verdict(r.bytes, d.targets.bytes, r.bytesOk)];
  })));
  if (q85) lines.push(`  libjpeg-turbo q85 4:2:0: ${lj}, SSIM ${fmt(q85.ssim, 4)}.`);
  lines.push(`  PSNR over RGB and SSIM over luma against the picture, every JPEG decoded by ${browser}. "At our PSNR": libjpeg-turbo's`);
  lines.push(`  bytes interpolated (log bytes, linear in PSNR) between its JPEGs at the two qualities around our PSNR (q${p.libjpegTurbo?.length ? `${p.libjpegTurbo[0].quality}–${p.libjpegTurbo.at(-1).quality}` : '–'} made).`);
  lines.push('  Targets for the plain preset; sizeFirst for comparison. The JPEGs and the PPM: out/bench/photo-1080p*.');
  return lines.join('\n');
}

// ----- Part 5 and the targets --------------------------------------------------------------

function part5Report(p) {
  const lines = [`PART 5 — sizeFirst against @jsquash/jpeg (MozJPEG) at equal quality; q${p.sweep[0]}–${p.sweep.at(-2)} every ${p.sweep[1] - p.sweep[0]}, on the host`];
  lines.push(table(['picture', 'bytes at equal PSNR', 'SSIM', 'SSIMULACRA2', 'q85 ms (host)', 'MozJPEG q85 ms (Chromium)'],
    p.rows.map((r) => [r.picture, x3(r.bdPsnr), x3(r.bdSsim), x3(r.bdSsimulacra2), fmt(r.msQ85, 1), fmt(r.jsquashQ85MsChromium, 0)])));
  lines.push('  ratios of bytes at equal quality over the range both curves cover (log bytes against the metric, as BD-rate);');
  lines.push('  every file decoded by one decoder; PSNR over RGB, SSIM over luma, SSIMULACRA2 by the ssimulacra2 crate.');
  lines.push(`  ${p.command}`);
  return lines.join('\n');
}

/**
 * Issue 22's other targets (the encoder's are ENCODER_TARGETS): end to end over <video>+toBlob
 * (the 1080p photo canvas, every other source), sizeFirst over MozJPEG (bytes at equal
 * SSIMULACRA2 and PSNR, time), and the module's gzipped bytes.
 */
export const TARGETS = { endToEndPhoto: 0.35, endToEnd: 0.5, sizeFirstSsimulacra2: 0.88, sizeFirstPsnr: 0.97, sizeFirstTime: 0.15, wasmGzipBytes: 200000 };

/** A source's end-to-end target: stricter on the 1080p photo canvas. */
export const endToEndTarget = (sourceId) => (sourceId === 'canvas-1080p' ? TARGETS.endToEndPhoto : TARGETS.endToEnd);

/**
 * Every figure of the run that has a target, against it: [{ what, figure, target, ok, note }],
 * `figure` and `target` as printed. Ratios are "≤ target"; a missing figure is listed as n/a.
 */
export function targetRows(r) {
  const rows = [];
  const add = (what, value, target, text, note = '') => rows.push({
    what, figure: value === null || value === undefined ? 'n/a' : text(value), target: `≤ ${text(target)}`,
    ok: value === null || value === undefined ? null : value <= target, note,
  });
  const ratioText = (v) => `×${v.toFixed(2)}`;
  for (const [browser, p4] of [['Chromium', r.part4], ['WebKit', r.webkit?.part4]]) {
    if (!p4) continue;
    const d = p4.derived ?? derivePart4(p4);
    for (const row of d.rows.filter((w) => !w.sizeFirst)) {
      const m = p4.methods.find((q) => q.id === row.id);
      add(`encoder time, ${m.label} / tjbench (${browser})`, row.time, ENCODER_TARGETS.time, ratioText, `fastest / fastest ${x(row.fastest)}`);
      add(`encoder bytes, ${m.label} / libjpeg-turbo at equal PSNR (${browser})`, row.bytes, ENCODER_TARGETS.bytes, ratioText);
    }
  }
  for (const [browser, p1] of [['Chromium', r.part1], ['WebKit', r.webkit?.part1]]) {
    if (!p1) continue;
    const derived = p1.derived ?? derive(p1);
    for (const s of p1.sources) {
      const a = derived[s.id]?.tracksnapJpegOverToBlobJpeg;
      if (!a) continue;
      add(`end to end, ${s.label} / <video>+toBlob (${browser})`, a.time, endToEndTarget(s.id), ratioText,
        `bytes ${x(a.bytes)}, ΔPSNR ${signed(a.psnrDbDiff, 2, ' dB')}`);
    }
    if (browser !== 'Chromium') continue;
    for (const s of p1.sources) {
      const b = derived[s.id]?.sizeFirstOverJsquash;
      if (b) add(`sizeFirst time / MozJPEG, ${s.label} (${browser})`, b.time, TARGETS.sizeFirstTime, ratioText);
    }
  }
  for (const row of r.part5?.rows ?? []) {
    add(`sizeFirst bytes / MozJPEG at equal SSIMULACRA2, ${row.picture}`, row.bdSsimulacra2, TARGETS.sizeFirstSsimulacra2, x3);
    add(`sizeFirst bytes / MozJPEG at equal PSNR, ${row.picture}`, row.bdPsnr, TARGETS.sizeFirstPsnr, x3);
  }
  const wasm = r.sizes?.find((f) => f.label === 'tracksnap_bg.wasm');
  if (wasm) add('module size, tracksnap_bg.wasm gzip -9', wasm.gzip, TARGETS.wasmGzipBytes, (v) => `${int(v)} B`);
  return rows;
}

function targetsReport(r) {
  const rows = targetRows(r);
  const met = rows.filter((t) => t.ok === true).length;
  const lines = [`TARGETS (issue 22) — every figure of this run that has one: ${met} of ${rows.length} met`];
  lines.push(table(['figure', 'this run', 'target', '', 'beside it'], rows.map((t) => [t.what, t.figure, t.target, t.ok === null ? 'n/a' : t.ok ? 'ok' : 'MISSED', t.note]), 1));
  lines.push('  end to end: photo canvas 1080p ≤ 0.35, every other source ≤ 0.5, at equal bytes and quality (beside it);');
  lines.push('  encoder: the medians of interleaved calls (Part 4); sizeFirst time from Part 1, in the browser.');
  return lines.join('\n');
}

/** The whole report as text. */
export function formatReport(r) {
  const lines = [];
  lines.push(`tracksnap benchmark — ${r.date ?? r.started}`);
  if (r.machine) {
    const m = r.machine;
    lines.push(`machine: ${m.cpuModel}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.chromium}`);
    lines.push(`load average (1, 5, 15 min): ${m.loadStart} at start, ${m.loadEnd} at end`);
  } else {
    lines.push(`browser: ${r.userAgent}`);
  }
  const o = r.options;
  lines.push(`options: ${o.iterations} iterations, periodic run ${o.seconds} s, ${o.streams} streams`);
  if (r.part1) lines.push('', part1Report(r.part1));
  if (r.part1error) lines.push('', `PART 1 failed: ${r.part1error}`);
  if (r.sizes) {
    lines.push('', 'MODULE SIZES (bytes; gzip level 9)');
    lines.push(table(['file', 'raw', 'gzip -9'], r.sizes.map((s) => [s.label, int(s.raw), int(s.gzip)])));
  }
  if (r.part2) lines.push('', part2Report(r.part2));
  if (r.part3) lines.push('', part3Report(r.part3));
  if (r.part4) lines.push('', part4Report(r.part4));
  if (r.webkit) {
    lines.push('', 'WEBKIT', `browser: ${r.webkit.userAgent}`);
    if (r.webkit.part1) lines.push('', part1Report(r.webkit.part1), '', browsersReport(r));
    if (r.webkit.part4) lines.push('', part4Report(r.webkit.part4, 'WebKit'));
    if (r.webkit.part4error) lines.push('', `WEBKIT PART 4 failed: ${r.webkit.part4error}`);
    if (r.webkit.part1error) lines.push('', `WEBKIT PART 1 failed: ${r.webkit.part1error}`);
    else if (r.webkit.part1failures) lines.push('', `WebKit Part 1 ran a second time: the first browser's page died (${r.webkit.part1failures[0]})`);
  }
  if (r.webkitError) lines.push('', `WEBKIT failed: ${r.webkitError}`);
  if (r.part5) lines.push('', part5Report(r.part5));
  if (r.part2error) lines.push('', `PART 2 failed: ${r.part2error}`);
  if (r.part3error) lines.push('', `PART 3 failed: ${r.part3error}`);
  if (r.part4error) lines.push('', `PART 4 failed: ${r.part4error}`);
  if (r.part5error) lines.push('', `PART 5 failed: ${r.part5error}`);
  lines.push('', targetsReport(r));
  if (r.consoleErrors?.length) {
    lines.push('', `console errors (${r.consoleErrors.length}, first 5):`);
    for (const e of r.consoleErrors.slice(0, 5)) lines.push(`  ${e}`);
  }
  return lines.join('\n');
}
