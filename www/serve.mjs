// The demo's dev server, on loopback unless told otherwise:
//   /www/, /pkg/          the demo page and the built module
//   /node_modules/@jsquash/jpeg/   that package only, for the benchmark page (www/bench/)
//   POST /presign         a presigned upload for { key, contentType, size } (AWS SDK v3): only
//                         keys under --key-prefix, image types, 1 byte to --max-bytes
//   /snapshots/…          passed on to the S3 store (s3s-fs) with the Host header unchanged,
//                         plus the CORS headers s3s-fs does not send: presigned object requests
//                         (PUT, GET, HEAD with a signature in the query) and POST-policy forms only
//   /callback             receives CallbackUrl POSTs; GET /callback/received?TaskId=… lists them;
//                         POST /callback/hang is never answered, GET /callback/hang counts those
//                         open now (held) and those the client gave up (closed)
//   GET /__object/<key>   an object as the store holds it (content type and bytes), for tests
//                         and the demo's gallery
// Only its own origin, and those given with --allow-origin, get in: a request from any other
// origin (its Origin header) or for another host name (its Host header: DNS rebinding) is
// refused with 403, and CORS headers name only allowed origins.
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
//                                     held (uploads hanging now), refusedOrigins, refusedRequests
//
// A page asked for with ?isolated comes with COOP and COEP headers (cross-origin isolated).
// Usage: node www/serve.mjs [port] [--faults] [--host H] [--allow-origin URL]... [--key-prefix P]
//        [--max-bytes N]   (port 0 picks a free one; the URL is printed)
// Uploaded images are files under out/store/snapshots/ (the store's data directory).
// Also imported by the end-to-end tests: `start(port, options)` resolves with { url, close, storeDir }.

import { createServer, request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUCKET, presignPost, presignPut, readObject, startStore } from './store.mjs';

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

/** What `/presign` signs, by default: any key in the bucket, JPEG/PNG/WebP up to 64 MiB. */
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

// CORS for the allowed origins only; `res.cors` holds the headers for the request at hand.
const corsFor = (origin) => (origin ? {
  'access-control-allow-origin': origin,
  'access-control-allow-methods': 'GET, POST, PUT, OPTIONS',
  'access-control-allow-headers': 'content-type',
  'access-control-expose-headers': 'etag, location',
  'access-control-max-age': '600',
  vary: 'origin',
} : { vary: 'origin' });

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
  res.writeHead(status, { ...res.cors, 'content-type': 'application/json' });
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

/** Why `/presign` refuses { key, contentType, size }, or null: the checks a backend needs. */
function presignRefusal(ctx, { key, contentType, size }) {
  if (typeof key !== 'string' || key === '' || key.length > 1024 || key.startsWith('/') || /[\u0000-\u001f\u007f\\]/.test(key)
    || key.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    return 'key must be a path of named segments (no "", ".", "..", leading "/", backslash or control characters)';
  }
  if (!key.startsWith(ctx.keyPrefix)) return `key must start with ${JSON.stringify(ctx.keyPrefix)}`;
  if (!IMAGE_TYPES.includes(contentType)) return `contentType must be one of ${IMAGE_TYPES.join(', ')}`;
  if (!Number.isInteger(size) || size < 1 || size > ctx.maxBytes) return `size must be a whole number of bytes from 1 to ${ctx.maxBytes}`;
  return null;
}

async function presignRoute(ctx, req, res, url) {
  if (req.method !== 'POST') return json(res, 405, { error: 'POST { key, contentType, size }' });
  let body;
  try {
    body = JSON.parse((await readBody(req, 16 << 10)).toString('utf8'));
  } catch (e) {
    return json(res, 400, { error: `not JSON: ${e.message}` });
  }
  const refusal = presignRefusal(ctx, body ?? {});
  if (refusal) {
    ctx.refusedRequests += 1;
    return json(res, 403, { error: refusal });
  }
  const { key, contentType, size } = body;
  ctx.presigned += 1;
  // The browser sends to this server, which passes the request on with its Host unchanged.
  const endpoint = `http://${req.headers.host}`;
  const test = (name) => ctx.faults && url.searchParams.get(name) === '1';
  const f = ctx.faultState;
  // Test switches: a URL signed ten minutes ago for one minute, or a broken signature.
  const expired = test('expired') || (ctx.faults && f.expireNext > 0);
  if (expired && !test('expired')) f.expireNext -= 1;
  if (expired) f.expired += 1;
  const signedAt = expired ? new Date(Date.now() - 600_000) : new Date();
  const expires = expired ? 60 : 300;
  const sign = url.searchParams.get('method') === 'post' ? presignPost : presignPut;
  const reply = await sign({ endpoint, key, contentType, size, expires, signedAt });
  if (test('tamper')) reply.url = reply.url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
  return json(res, 200, reply);
}

// ----- the store, behind the dev server ---------------------------------------------------

/**
 * Whether a request to the store is a signed object operation: PUT, GET or HEAD of a named
 * object with a presigned URL's query (nothing else in it), or a POST-policy form to the
 * bucket (the store checks the policy's signature). Listings, deletes, multipart uploads,
 * ACLs and unsigned requests never reach the store.
 */
function signedObjectRequest(req, url) {
  const key = url.pathname.slice(`/${BUCKET}/`.length);
  const names = [...url.searchParams.keys()];
  if (req.method === 'POST') {
    return (url.pathname === `/${BUCKET}` || url.pathname === `/${BUCKET}/`) && names.length === 0
      && /^multipart\/form-data;/i.test(req.headers['content-type'] ?? '');
  }
  return ['PUT', 'GET', 'HEAD'].includes(req.method) && url.pathname.startsWith(`/${BUCKET}/`)
    && key !== '' && !key.endsWith('/')
    && ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature'].every((n) => url.searchParams.has(n))
    && names.every((n) => /^X-Amz-[A-Za-z0-9-]+$/.test(n) || n === 'x-id');
}

function proxyToStore(ctx, req, res, url) {
  if (!signedObjectRequest(req, url)) {
    ctx.refusedRequests += 1;
    res.writeHead(403, { ...res.cors, 'content-type': 'application/xml' });
    res.end('<Error><Code>AccessDenied</Code><Message>the dev server passes only presigned object requests to the store</Message></Error>');
    return;
  }
  const f = ctx.faultState;
  if (Date.now() < f.refuseUntil) {
    f.refused += 1;
    req.socket.destroy();
    return;
  }
  if (f.refuseKey && req.method !== 'GET' && decodeURIComponent(req.url).includes(f.refuseKey)) {
    f.rejected += 1;
    res.writeHead(413, { ...res.cors, 'content-type': 'application/xml' });
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
    res.writeHead(500, { ...res.cors, 'content-type': 'application/xml' });
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
    res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...res.cors, 'cross-origin-resource-policy': 'same-origin' });
    answer.pipe(res);
  });
  upstream.on('error', (e) => json(res, 502, { error: `store: ${e.message}` }));
  req.pipe(upstream);
}

async function objectRoute(ctx, req, res, url) {
  const key = decodeURIComponent(url.pathname.slice('/__object/'.length));
  // An empty key (or a folder) would be a listing.
  if (req.method !== 'GET' || key === '' || key.endsWith('/')) {
    ctx.refusedRequests += 1;
    return json(res, 403, { error: 'GET /__object/<key> of one object' });
  }
  const o = await readObject(ctx.store.port, key);
  // Not to be embedded by other sites (an <img> sends no Origin).
  res.writeHead(o.status, { ...res.cors, 'content-type': o.type, 'cross-origin-resource-policy': 'same-origin' });
  res.end(o.bytes);
}

async function faultsRoute(ctx, req, res) {
  if (!ctx.faults) return json(res, 404, { error: 'start the server with --faults' });
  const state = () => ({ ...ctx.faultState, presigned: ctx.presigned, held: ctx.held.size, refusedOrigins: ctx.refusedOrigins, refusedRequests: ctx.refusedRequests });
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

/**
 * Whether the request may in: on loopback, its Host is one of this server's names (a rebound
 * DNS name is not); its Origin, when it has one, is this server's or an allowed one. Sets
 * `res.cors`.
 */
function admitted(ctx, req, res) {
  res.cors = corsFor(null);
  const host = String(req.headers.host ?? '').toLowerCase();
  if (ctx.loopback && !ctx.hosts.has(host)) return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin !== `http://${host}` && !ctx.origins.has(origin)) return false;
  res.cors = corsFor(origin);
  return true;
}

async function handle(ctx, req, res) {
  if (!admitted(ctx, req, res)) {
    ctx.refusedOrigins += 1;
    return json(res, 403, { error: 'this dev server answers only its own origin and those given with --allow-origin' });
  }
  const url = new URL(req.url, 'http://localhost');
  const p = url.pathname;
  if (req.method === 'OPTIONS') {
    res.writeHead(204, res.cors);
    return res.end();
  }
  if (p === '/') {
    res.writeHead(302, { location: '/www/' });
    return res.end();
  }
  if (p === `/${BUCKET}` || p.startsWith(`/${BUCKET}/`)) return proxyToStore(ctx, req, res, url);
  if (p === '/presign') return presignRoute(ctx, req, res, url);
  if (p === '/callback' || p.startsWith('/callback/')) return callback(ctx, req, res, url);
  if (p.startsWith('/__object/')) return objectRoute(ctx, req, res, url);
  if (p === '/__faults') return faultsRoute(ctx, req, res);
  return staticFile(ctx, req, res, url);
}

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]', '::1'];

/**
 * Starts the store and the server. `host`: the address to listen on (loopback by default).
 * `faults`: enable the test-only switches. `files`: more files to serve, { '/www/…': absolute
 * path } (the benchmark's encoder module, built by its runner). `allowOrigins`: other origins
 * let in (`http://127.0.0.1:8123`). `keyPrefix`, `maxBytes`: what `/presign` signs.
 */
export async function start(port = 0, {
  host = '127.0.0.1', faults = false, storeDir = join(root, 'out', 'store'), files = {},
  allowOrigins = [], keyPrefix = '', maxBytes = DEFAULT_MAX_BYTES,
} = {}) {
  const store = await startStore(storeDir);
  const ctx = {
    store,
    faults,
    files,
    keyPrefix,
    maxBytes,
    loopback: LOOPBACK.includes(host),
    hosts: new Set(),
    origins: new Set(allowOrigins.map((o) => new URL(o).origin)),
    refusedOrigins: 0,
    refusedRequests: 0,
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
        if (!res.headersSent) res.writeHead(500, res.cors);
        res.end(String(e));
      });
    });
    server.once('error', (e) => {
      store.stop();
      reject(e);
    });
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      // This server's own names: the address it listens on, and on loopback the other loopback names.
      const names = ctx.loopback ? ['127.0.0.1', 'localhost', '[::1]'] : [];
      for (const name of names) {
        ctx.hosts.add(`${name}:${actual}`);
        ctx.origins.add(`http://${name}:${actual}`);
      }
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
  const values = (flag) => args.flatMap((a, i) => (a === flag && i + 1 < args.length ? [args[i + 1]] : []));
  const flagged = new Set(args.flatMap((a, i) => (a.startsWith('--') && !['--faults'].includes(a) ? [i + 1] : [])));
  const port = Number(args.find((a, i) => /^\d+$/.test(a) && !flagged.has(i)) ?? 8080);
  const maxBytes = values('--max-bytes').map(Number).pop();
  const { url, storeDir, close } = await start(port, {
    faults: args.includes('--faults'),
    host: values('--host').pop() ?? '127.0.0.1',
    allowOrigins: values('--allow-origin'),
    keyPrefix: values('--key-prefix').pop() ?? '',
    ...(maxBytes ? { maxBytes } : {}),
  });
  console.log(`tracksnap demo: ${url}`);
  console.log(`uploaded images: ${storeDir}/${BUCKET}/`);
  console.log('(Ctrl-C stops it)');
  const stop = () => close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
