// The dev server as the backend users copy: presigning with the AWS SDK against the real store
// (s3s-fs checks every signature), what /presign and the store proxy refuse, and a page on
// another origin kept out, in headless Chromium and WebKitGTK (see ENGINES).
// Run: node --test www/e2e/

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { start } from '../serve.mjs';
import { ENGINES } from './browser.mjs';

const JPEG = 'image/jpeg';
// A 1×1 PNG, for the <img> probe.
const PNG = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0));
const body = (n, fill = 7) => new Uint8Array(n).fill(fill);

/** POST /presign of `server` from Node (no Origin header: a same-origin or server-side caller). */
async function presign(server, req, query = '') {
  const r = await fetch(`${server.origin}/presign${query}`, { method: 'POST', body: JSON.stringify(req) });
  return { status: r.status, reply: await r.json() };
}

/** Sends `bytes` as the presigned reply says: a PUT with its headers, or a POST-policy form. */
function upload(reply, bytes, type = JPEG) {
  if (reply.method === 'POST') {
    const form = new FormData();
    for (const [k, v] of Object.entries(reply.fields)) form.append(k, v);
    form.append('file', new Blob([bytes], { type }));
    return fetch(reply.url, { method: 'POST', body: form });
  }
  return fetch(reply.url, { method: 'PUT', headers: reply.headers, body: bytes });
}

const object = async (server, key) => {
  const r = await fetch(`${server.origin}/__object/${key}`);
  return { status: r.status, type: r.headers.get('content-type'), bytes: new Uint8Array(await r.arrayBuffer()) };
};

/** A request with the headers given, Host included (fetch would set its own). */
function raw(server, method, path, headers, text) {
  const { hostname, port } = new URL(server.origin);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

async function devServer(options = {}) {
  const s = await start(0, { faults: true, storeDir: `out/e2e-server-store`, ...options });
  return { ...s, origin: new URL(s.url).origin };
}

describe('presigning with the AWS SDK, checked by the store', () => {
  let server;
  before(async () => { server = await devServer(); });
  after(() => server?.close());

  test('a PUT with the signed type and length is stored; the object reads back', async () => {
    const { status, reply } = await presign(server, { key: 'sdk/put.jpg', contentType: JPEG, size: 100 });
    assert.equal(status, 200);
    assert.match(reply.url, /X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost/, 'type and length are signed');
    assert.equal((await upload(reply, body(100))).status, 200);
    const o = await object(server, 'sdk/put.jpg');
    assert.deepEqual([o.status, o.type, o.bytes.length, o.bytes[99]], [200, JPEG, 100, 7]);
  });

  test('the store refuses a tampered URL, an expired one, another length and another type', async () => {
    const req = { key: 'sdk/refused.jpg', contentType: JPEG, size: 100 };
    const tampered = (await presign(server, req, '?tamper=1')).reply;
    assert.equal((await upload(tampered, body(100))).status, 403, 'tampered signature');
    const expired = (await presign(server, req, '?expired=1')).reply;
    assert.equal((await upload(expired, body(100))).status, 403, 'expired URL');
    const good = (await presign(server, req)).reply;
    assert.equal((await upload(good, body(101))).status, 403, 'a body one byte longer');
    assert.equal((await upload(good, body(99))).status, 403, 'a body one byte shorter');
    const png = await fetch(good.url, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: body(100) });
    assert.equal(png.status, 403, 'another Content-Type');
    assert.equal((await object(server, 'sdk/refused.jpg')).status, 404, 'nothing was stored');
  });

  test('a POST policy holds its content-length-range and its expiry', async () => {
    const req = { key: 'sdk/form.jpg', contentType: JPEG, size: 50 };
    const good = (await presign(server, req, '?method=post')).reply;
    assert.equal(good.method, 'POST');
    assert.equal((await upload(good, body(51))).status, 400, 'a file longer than the range');
    assert.equal((await upload((await presign(server, req, '?method=post&expired=1')).reply, body(50))).status, 403, 'expired policy');
    assert.equal((await upload((await presign(server, req, '?method=post&tamper=1')).reply, body(50))).status, 204, 'the tamper switch is for PUT URLs');
    assert.equal((await upload(good, body(50, 9))).status, 204);
    const o = await object(server, 'sdk/form.jpg');
    assert.deepEqual([o.status, o.type, o.bytes.length, o.bytes[0]], [200, JPEG, 50, 9]);
  });
});

describe('what the dev server refuses', () => {
  let server;
  before(async () => { server = await devServer({ keyPrefix: 'rooms/', maxBytes: 1000 }); });
  after(() => server?.close());

  test('/presign signs only image keys under its prefix, up to its size limit', async () => {
    const ok = { key: 'rooms/a.jpg', contentType: JPEG, size: 1000 };
    assert.equal((await presign(server, ok)).status, 200);
    for (const [what, req] of [
      ['a key outside the prefix', { ...ok, key: 'other/a.jpg' }],
      ['an empty key', { ...ok, key: '' }],
      ['a traversal', { ...ok, key: 'rooms/../a.jpg' }],
      ['a folder', { ...ok, key: 'rooms/' }],
      ['a control character', { ...ok, key: 'rooms/a\n.jpg' }],
      ['a page', { ...ok, contentType: 'text/html' }],
      ['an SVG (scripts)', { ...ok, contentType: 'image/svg+xml' }],
      ['no size', { ...ok, size: undefined }],
      ['too large', { ...ok, size: 1001 }],
      ['a fraction', { ...ok, size: 10.5 }],
    ]) {
      const { status, reply } = await presign(server, req);
      assert.equal(status, 403, `${what}: ${JSON.stringify(reply)}`);
      assert.ok(reply.error, what);
    }
  });

  test('the store proxy passes only presigned object requests: no listing, no unsigned writes', async () => {
    const signed = (await presign(server, { key: 'rooms/b.jpg', contentType: JPEG, size: 10 })).reply;
    const signedQuery = new URL(signed.url).search;
    for (const [what, method, path, init = {}] of [
      ['a listing', 'GET', '/snapshots'],
      ['a listing with a slash', 'GET', '/snapshots/'],
      ['a list-type=2 listing', 'GET', '/snapshots?list-type=2'],
      ['an unsigned read', 'GET', '/snapshots/rooms/a.jpg'],
      ['an unsigned write', 'PUT', '/snapshots/rooms/c.jpg', { body: body(10) }],
      ['a delete', 'DELETE', `/snapshots/rooms/b.jpg${signedQuery}`],
      ['a multipart upload', 'POST', `/snapshots/rooms/b.jpg?uploads`],
      ['a signed URL with more in its query', 'PUT', `/snapshots/rooms/b.jpg${signedQuery}&acl`, { body: body(10) }],
      ['a form that is not a form', 'POST', '/snapshots', { body: 'x' }],
      ['the object route with an empty key', 'GET', '/__object/'],
      ['the object route with a folder', 'GET', '/__object/rooms/'],
    ]) {
      const r = await fetch(`${server.origin}${path}`, { method, ...init });
      assert.equal(r.status, 403, what);
    }
    assert.equal((await upload(signed, body(10))).status, 200, 'the signed request itself passes');
  });

  test('another origin, or another host name, is refused with no CORS headers', async () => {
    const before = (await (await fetch(`${server.origin}/__faults`)).json()).presigned;
    for (const [what, headers] of [
      ['another origin', { origin: 'http://evil.example' }],
      ['another port on this machine', { origin: 'http://127.0.0.1:1' }],
      ['an opaque origin', { origin: 'null' }],
      ['a rebound DNS name', { host: 'evil.example' }],
    ]) {
      for (const [method, path] of [['POST', '/presign'], ['OPTIONS', '/presign'], ['GET', '/__object/rooms/b.jpg'], ['GET', '/www/']]) {
        const r = await raw(server, method, path, headers, method === 'POST' ? JSON.stringify({ key: 'rooms/x.jpg', contentType: JPEG, size: 10 }) : '');
        assert.equal(r.status, 403, `${what}: ${method} ${path}`);
        assert.equal(r.headers['access-control-allow-origin'], undefined, `${what}: no CORS`);
      }
    }
    assert.equal((await (await fetch(`${server.origin}/__faults`)).json()).presigned, before, 'nothing was signed');
    const own = await fetch(`${server.origin}/presign`, { method: 'OPTIONS', headers: { origin: server.origin } });
    assert.equal(own.headers.get('access-control-allow-origin'), server.origin, 'its own origin gets CORS');
  });
});

/** A page on a second origin: a plain server with one empty page. */
function secondOrigin() {
  return new Promise((resolve) => {
    const srv = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>another site</title>');
    });
    srv.listen(0, '127.0.0.1', () => resolve({ origin: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((d) => srv.close(d)) }));
  });
}

/** In the page: what a script of its origin gets from the dev server at `dev`. */
async function probe({ dev, key }) {
  const outcome = (p) => p.then((r) => r.status, (e) => `refused (${e.name})`);
  const req = JSON.stringify({ key: 'probe/x.jpg', contentType: 'image/jpeg', size: 10 });
  const img = new Promise((resolve) => {
    const el = new Image();
    el.onload = () => resolve('loaded');
    el.onerror = () => resolve('refused');
    el.src = `${dev}/__object/${key}?t=${Date.now()}`;
  });
  return {
    presign: await outcome(fetch(`${dev}/presign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: req })),
    // A "simple" request goes without a preflight: the server itself must refuse it.
    simplePresign: await outcome(fetch(`${dev}/presign`, { method: 'POST', body: req })),
    object: await outcome(fetch(`${dev}/__object/${key}`)),
    listing: await outcome(fetch(`${dev}/snapshots?list-type=2`)),
    image: await img,
  };
}

for (const engine of ENGINES) {
  test(`a page on another origin cannot presign, read or list in ${engine.name}`, { skip: engine.skip }, async () => {
    const other = await secondOrigin();
    const closed = await devServer({ storeDir: 'out/e2e-server-closed' });
    const open = await devServer({ storeDir: 'out/e2e-server-open', allowOrigins: [other.origin] });
    const session = await engine.open({ width: 800, height: 600 });
    try {
      // One object in each store, put there by Node.
      for (const s of [closed, open]) {
        const { reply } = await presign(s, { key: 'probe/there.png', contentType: 'image/png', size: PNG.length });
        assert.equal((await upload(reply, PNG, 'image/png')).status, 200);
      }
      await session.page.goto(`${other.origin}/`);
      const refused = await session.page.evaluate(probe, { dev: closed.origin, key: 'probe/there.png' });
      assert.deepEqual(refused, {
        presign: 'refused (TypeError)', simplePresign: 'refused (TypeError)', object: 'refused (TypeError)',
        listing: 'refused (TypeError)', image: 'refused',
      });
      const faults = await (await fetch(`${closed.origin}/__faults`)).json();
      assert.equal(faults.presigned, 1, 'only Node\'s presign was signed: the page\'s were refused by the server');
      assert.ok(faults.refusedOrigins >= 3, `refused by origin: ${faults.refusedOrigins}`);

      // The same page, let in with --allow-origin, gets its answers (not an <img>: no embedding).
      const allowed = await session.page.evaluate(probe, { dev: open.origin, key: 'probe/there.png' });
      assert.deepEqual(allowed, { presign: 200, simplePresign: 200, object: 200, listing: 403, image: 'refused' });

      // The dev server's own page gets all of it, the image included.
      await session.page.goto(`${closed.origin}/www/`);
      const own = await session.page.evaluate(probe, { dev: closed.origin, key: 'probe/there.png' });
      assert.deepEqual(own, { presign: 200, simplePresign: 200, object: 200, listing: 403, image: 'loaded' });
    } finally {
      await session.close();
      await closed.close();
      await open.close();
      await other.close();
    }
  });
}
