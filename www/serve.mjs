// The demo's dev server, on loopback:
//   /www/, /pkg/          the demo page and the built module
//   /node_modules/@jsquash/jpeg/   that package only, for the benchmark page (www/bench/)
//   POST /presign         a presigned upload for { key, contentType, size } (SigV4, real)
//   /snapshots/…          passed on to the S3 store (s3s-fs) with the Host header unchanged,
//                         plus the CORS headers s3s-fs does not send
//   /callback             receives CallbackUrl POSTs; GET /callback/received?TaskId=… lists them;
//                         POST /callback/hang is never answered, GET /callback/hang counts those
//                         open now (held) and those the client gave up (closed)
//   GET /__object/<key>   an object as the store holds it (content type and bytes), for tests
// With --faults (tests, the soak), POST /__faults injects store failures and expired URLs, and
// /presign takes ?expired=1 and ?tamper=1; the module never sees any of this.
//   POST /__faults { status500: N }   the next N uploads (non-GET requests to the store) get HTTP 500
//                  { refuseMs: M }    for M ms, every request to the store has its connection cut
//                  { expireNext: N }  the next N presigned URLs are already expired when handed out
//                  { hang: true }     uploads (PUT, POST) to the store are held open, never answered
//                  { refuseKey: S }   uploads whose path contains S get HTTP 413 (until reset)
//                  { reset: true }    ends all five, cutting the held uploads (the counters stay)
//   GET /__faults                     the switches and counters: failed (500s answered), refused,
//                                     stored (2xx uploads), rejected (4xx uploads), expired, presigned,
//                                     held (uploads hanging now)
//
// A page asked for with ?isolated comes with COOP and COEP headers (cross-origin isolated).
// Usage: node www/serve.mjs [port] [--faults]   (port 0 picks a free one; the URL is printed)
// Uploaded images are files under out/store/snapshots/ (the store's data directory).
// Also imported by the end-to-end tests: `start(port, options)` resolves with { url, close, storeDir }.

import { createServer, request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUCKET, presign, presignPost, startStore } from './store.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const served = ['www', 'pkg'];
// The benchmark page (www/bench/) imports @jsquash/jpeg from node_modules: that package's
// directory is served, nothing else under node_modules.
const servedPackages = ['node_modules/@jsquash/jpeg/'];

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

const cors = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, OPTIONS',
  'access-control-allow-headers': 'content-type',
  'access-control-expose-headers': 'etag, location',
  'access-control-max-age': '600',
};

function readBody(req, limit = 1 << 20) {
  return new Promise((resolveBody, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res, status, value) {
  res.writeHead(status, { ...cors, 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

// ----- CallbackUrl receiver -----------------------------------------------------------------
// POST /callback?fail=N   test switch: the first N POSTs of that TaskId answer 500

async function callback(ctx, req, res, url) {
  if (url.pathname === '/callback/hang') {
    if (req.method === 'GET') return json(res, 200, { held: ctx.hungCallbacks.size, closed: ctx.hungClosed });
    ctx.hungCallbacks.add(req);
    res.on('close', () => {
      ctx.hungCallbacks.delete(req);
      ctx.hungClosed += 1;
    });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/callback/received') {
    const entry = ctx.callbacks.get(url.searchParams.get('TaskId') ?? '');
    return json(res, 200, { received: entry?.received ?? [], failed: entry?.failed ?? 0 });
  }
  if (req.method !== 'POST' || url.pathname !== '/callback') return json(res, 405, { error: 'method not allowed' });
  let body;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
  } catch (e) {
    return json(res, 400, { error: `not JSON: ${e.message}` });
  }
  const taskId = String(body.TaskId ?? '');
  let entry = ctx.callbacks.get(taskId);
  if (!entry) {
    entry = { received: [], failed: 0, failLeft: null };
    ctx.callbacks.set(taskId, entry);
  }
  if (entry.failLeft === null) entry.failLeft = Number(url.searchParams.get('fail') ?? 0);
  if (entry.failLeft > 0) {
    entry.failLeft -= 1;
    entry.failed += 1;
    return json(res, 500, { error: 'injected failure' });
  }
  entry.received.push(body);
  return json(res, 200, { ok: true });
}

// ----- presigning -------------------------------------------------------------------------

async function presignRoute(ctx, req, res, url) {
  if (req.method !== 'POST') return json(res, 405, { error: 'POST { key, contentType, size }' });
  let body;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
  } catch (e) {
    return json(res, 400, { error: `not JSON: ${e.message}` });
  }
  const { key, contentType, size } = body ?? {};
  if (typeof key !== 'string' || !key || key.split('/').some((s) => s === '..' || s === '.') || typeof contentType !== 'string') {
    return json(res, 400, { error: 'key (a safe path) and contentType are required' });
  }
  ctx.presigned += 1;
  const host = req.headers.host;
  const test = (name) => ctx.faults && url.searchParams.get(name) === '1';
  const f = ctx.faultState;
  // Test switches: a URL signed ten minutes ago for one minute, or a broken signature.
  const expired = test('expired') || (ctx.faults && f.expireNext > 0);
  if (expired && !test('expired')) f.expireNext -= 1;
  if (expired) f.expired += 1;
  const signedAt = expired ? new Date(Date.now() - 600_000) : new Date();
  const expires = expired ? 60 : 300;
  const reply = url.searchParams.get('method') === 'post'
    ? presignPost({ host, key, contentType, size: Number(size) || 0, expires, signedAt })
    : presign({ method: 'PUT', host, key, contentType, expires, signedAt });
  if (test('tamper')) reply.url = reply.url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
  return json(res, 200, reply);
}

// ----- the store, behind the dev server ---------------------------------------------------

function proxyToStore(ctx, req, res) {
  const f = ctx.faultState;
  if (Date.now() < f.refuseUntil) {
    f.refused += 1;
    req.socket.destroy();
    return;
  }
  if (f.refuseKey && req.method !== 'GET' && decodeURIComponent(req.url).includes(f.refuseKey)) {
    f.rejected += 1;
    res.writeHead(413, { ...cors, 'content-type': 'application/xml' });
    res.end('<Error><Code>EntityTooLarge</Code><Message>injected refusal</Message></Error>');
    return;
  }
  if (f.hang && (req.method === 'PUT' || req.method === 'POST')) {
    ctx.held.add(req);
    res.on('close', () => ctx.held.delete(req));
    return;
  }
  if (f.fail500 > 0 && req.method !== 'GET') {
    f.fail500 -= 1;
    f.failed += 1;
    res.writeHead(500, { ...cors, 'content-type': 'application/xml' });
    res.end('<Error><Code>InternalError</Code><Message>injected failure</Message></Error>');
    return;
  }
  const upstream = httpRequest({
    host: '127.0.0.1',
    port: ctx.store.port,
    method: req.method,
    path: req.url,
    headers: req.headers, // Host unchanged: the signature covers it
  }, (answer) => {
    const status = answer.statusCode ?? 500;
    if (req.method !== 'GET' && status < 300) f.stored += 1;
    if (req.method !== 'GET' && status >= 400 && status < 500) f.rejected += 1;
    res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...cors });
    answer.pipe(res);
  });
  upstream.on('error', (e) => json(res, 502, { error: `store: ${e.message}` }));
  req.pipe(upstream);
}

function objectRoute(ctx, req, res, url) {
  const key = decodeURIComponent(url.pathname.slice('/__object/'.length));
  const signed = presign({ method: 'GET', host: `127.0.0.1:${ctx.store.port}`, key });
  fetch(signed.url).then(async (answer) => {
    res.writeHead(answer.status, { ...cors, 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  }, (e) => json(res, 502, { error: e.message }));
}

async function faultsRoute(ctx, req, res) {
  if (!ctx.faults) return json(res, 404, { error: 'start the server with --faults' });
  const state = () => ({ ...ctx.faultState, presigned: ctx.presigned, held: ctx.held.size });
  if (req.method === 'GET') return json(res, 200, state());
  const body = JSON.parse((await readBody(req)).toString('utf8') || '{}');
  const f = ctx.faultState;
  if (body.reset) {
    Object.assign(f, { fail500: 0, refuseUntil: 0, expireNext: 0, hang: false, refuseKey: '' });
    for (const held of ctx.held) held.socket.destroy();
    ctx.held.clear();
  }
  if (body.hang === true) f.hang = true;
  if (typeof body.refuseKey === 'string') f.refuseKey = body.refuseKey;
  if (Number.isFinite(body.status500)) f.fail500 = body.status500;
  if (Number.isFinite(body.refuseMs)) f.refuseUntil = Date.now() + body.refuseMs;
  if (Number.isFinite(body.expireNext)) f.expireNext = body.expireNext;
  return json(res, 200, state());
}

// ----- static files ------------------------------------------------------------------------

async function staticFile(ctx, req, res, url) {
  let path = decodeURIComponent(url.pathname);
  if (path.endsWith('/')) path += 'index.html';
  const extra = Object.hasOwn(ctx.files, path) ? ctx.files[path] : undefined;
  const file = extra ?? normalize(join(root, path));
  const top = file.slice(root.length + 1).split(sep)[0];
  const rel = file.slice(root.length + 1).split(sep).join('/');
  if (!extra && (!file.startsWith(root + sep) || !(served.includes(top) || servedPackages.some((p) => rel.startsWith(p))))) {
    res.writeHead(404).end('not found');
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': types[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      // A cross-origin isolated page reads performance.now() to 5 µs, not 100 (the benchmark).
      ...(url.searchParams.has('isolated') ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {}),
    });
    res.end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
}

async function handle(ctx, req, res) {
  const url = new URL(req.url, 'http://localhost');
  const p = url.pathname;
  if (req.method === 'OPTIONS') {
    res.writeHead(204, cors);
    return res.end();
  }
  if (p === '/') {
    res.writeHead(302, { location: '/www/' });
    return res.end();
  }
  if (p === `/${BUCKET}` || p.startsWith(`/${BUCKET}/`)) return proxyToStore(ctx, req, res);
  if (p === '/presign') return presignRoute(ctx, req, res, url);
  if (p === '/callback' || p.startsWith('/callback/')) return callback(ctx, req, res, url);
  if (p.startsWith('/__object/')) return objectRoute(ctx, req, res, url);
  if (p === '/__faults') return faultsRoute(ctx, req, res);
  return staticFile(ctx, req, res, url);
}

/**
 * Starts the store and the server. `faults`: enable the test-only switches. `files`: more files
 * to serve, { '/www/…': absolute path } (the benchmark's encoder module, built by its runner).
 */
export async function start(port = 0, { host = '127.0.0.1', faults = false, storeDir = join(root, 'out', 'store'), files = {} } = {}) {
  const store = await startStore(storeDir);
  const ctx = {
    store,
    faults,
    files,
    presigned: 0,
    callbacks: new Map(),
    hungCallbacks: new Set(),
    hungClosed: 0,
    faultState: { fail500: 0, failed: 0, refuseUntil: 0, refused: 0, stored: 0, rejected: 0, expireNext: 0, expired: 0, hang: false, refuseKey: '' },
    held: new Set(),
  };
  return new Promise((resolvePromise, reject) => {
    const server = createServer((req, res) => {
      handle(ctx, req, res).catch((e) => {
        if (!res.headersSent) res.writeHead(500, cors);
        res.end(String(e));
      });
    });
    server.once('error', (e) => {
      store.stop();
      reject(e);
    });
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolvePromise({
        url: `http://${host}:${actual}/www/`,
        storeDir,
        close: () => new Promise((done) => {
          server.closeAllConnections?.();
          server.close(() => {
            store.stop();
            done();
          });
        }),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const port = Number(args.find((a) => /^\d+$/.test(a)) ?? 8080);
  const { url, storeDir, close } = await start(port, { faults: args.includes('--faults') });
  console.log(`tracksnap demo: ${url}`);
  console.log(`uploaded images: ${storeDir}/${BUCKET}/`);
  console.log('(Ctrl-C stops it)');
  const stop = () => close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
