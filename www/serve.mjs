// The demo's web server: serves the repository's www/ and pkg/ on loopback, and receives
// CallbackUrl POSTs.
// Usage: node www/serve.mjs [port]   (port 0 picks a free one; the URL is printed)
// Also imported by the end-to-end tests: `start(port)` resolves with { url, close }.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const served = ['www', 'pkg'];

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

// ----- the callback receiver: a real HTTP endpoint for CallbackUrl -------------------------
// POST /callback            stores the JSON body (CORS open to any origin)
// POST /callback?fail=N     test switch: the first N POSTs of that TaskId answer 500
// GET  /callback/received?TaskId=…   { received: [bodies…], failed: n }

const callbacks = new Map(); // TaskId → { received: [], failed: 0, failLeft: null }

const cors = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, OPTIONS',
  'access-control-allow-headers': 'content-type',
  'access-control-max-age': '600',
};

function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res, status, value) {
  res.writeHead(status, { ...cors, 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

async function callback(req, res, url) {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, cors);
    return res.end();
  }
  if (req.method === 'GET' && url.pathname === '/callback/received') {
    const entry = callbacks.get(url.searchParams.get('TaskId') ?? '');
    return json(res, 200, { received: entry?.received ?? [], failed: entry?.failed ?? 0 });
  }
  if (req.method === 'POST' && url.pathname === '/callback') {
    let body;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8'));
    } catch (e) {
      return json(res, 400, { error: `not JSON: ${e.message}` });
    }
    const taskId = String(body.TaskId ?? '');
    let entry = callbacks.get(taskId);
    if (!entry) {
      entry = { received: [], failed: 0, failLeft: null };
      callbacks.set(taskId, entry);
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
  return json(res, 405, { error: 'method not allowed' });
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/callback' || url.pathname.startsWith('/callback/')) {
    return callback(req, res, url);
  }
  if (url.pathname === '/') {
    res.writeHead(302, { location: '/www/' });
    return res.end();
  }
  let path = decodeURIComponent(url.pathname);
  if (path.endsWith('/')) path += 'index.html';
  const file = normalize(join(root, path));
  const top = file.slice(root.length + 1).split(sep)[0];
  if (!file.startsWith(root + sep) || !served.includes(top)) {
    res.writeHead(404).end('not found');
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': types[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    res.end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
}

export function start(port = 0, host = '127.0.0.1') {
  return new Promise((resolvePromise, reject) => {
    const server = createServer((req, res) => {
      handle(req, res).catch((e) => {
        res.writeHead(500).end(String(e));
      });
    });
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolvePromise({
        url: `http://${host}:${actual}/www/`,
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8080);
  const { url } = await start(port);
  console.log(`tracksnap demo: ${url}`);
  console.log('(Ctrl-C stops it)');
}
