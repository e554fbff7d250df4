#!/usr/bin/env node
// A WebDriver endpoint for WebKitGTK that wasm-pack's runner (and our own page tests) can use:
// it starts WebKitWebDriver and passes every request through, adding the browser's options to
// each new-session request. wasm-pack's runner sends empty capabilities for Safari, so without
// this MiniBrowser would start with no mock camera and no feature switches.
//
//   node scripts/webkit-driver.mjs [--port N] [--processor]
//
// The options are webdriver.json's "webkitgtk:browserOptions" plus the MiniBrowser binary that
// Debian's libwebkit2gtk-4.1-0 installs; --processor adds +MediaStreamTrackProcessing (WebKit's
// MediaStreamTrackProcessor, which Safari 18+ exposes in Workers). Prints
// "webkit driver: http://127.0.0.1:PORT" once it listens. It runs on $DISPLAY, or starts an Xvfb
// display of its own when none is set.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const port = Number(arg('--port') ?? 0);
const processor = process.argv.includes('--processor');

/** The MiniBrowser of Debian's WebKitGTK package. */
function miniBrowser() {
  const known = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
  if (existsSync(known)) return known;
  const listed = execFileSync('dpkg', ['-L', 'libwebkit2gtk-4.1-0'], { encoding: 'utf8' });
  const found = listed.split('\n').find((p) => p.endsWith('/MiniBrowser'));
  if (!found) throw new Error('no MiniBrowser: apt-get install webkit2gtk-driver');
  return found;
}

export function browserOptions({ processor: withProcessor = false } = {}) {
  const caps = JSON.parse(readFileSync(join(root, 'webdriver.json'), 'utf8'));
  const options = structuredClone(caps['webkitgtk:browserOptions'] ?? {});
  options.binary ??= miniBrowser();
  options.args = [...(options.args ?? [])];
  if (withProcessor) options.args.push('--features=+MediaStreamTrackProcessing');
  return options;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port: p } = s.address();
      s.close(() => resolve(p));
    });
  });
}

async function waitForPort(p, ms) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(p, '127.0.0.1', () => {
        c.end();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`WebKitWebDriver did not listen on ${p} within ${ms} ms`);
}

/** The new-session body with our browser options in `alwaysMatch`. */
function withOptions(body, options) {
  let request;
  try {
    request = JSON.parse(body || '{}');
  } catch {
    return body;
  }
  request.capabilities ??= {};
  request.capabilities.alwaysMatch ??= {};
  request.capabilities.alwaysMatch['webkitgtk:browserOptions'] = options;
  // The legacy form wasm-pack also sends: WebKitWebDriver speaks W3C only.
  delete request.desiredCapabilities;
  return JSON.stringify(request);
}

/** A virtual display (Xvfb picks a free number); resolves with `{ display, stop }`. */
function startXvfb() {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let said = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not start in 10 s')), 10000);
    xvfb.once('error', reject);
    xvfb.stdio[3].on('data', (d) => {
      said += d;
      if (!said.includes('\n')) return;
      clearTimeout(timer);
      resolve({ display: `:${said.trim()}`, stop: () => xvfb.kill() });
    });
  });
}

/**
 * Starts WebKitWebDriver and the pass-through server, on $DISPLAY or on an Xvfb display of its
 * own; resolves with `{ url, close }`.
 */
export async function startDriver({ port: listen = 0, processor: withProcessor = false } = {}) {
  const xvfb = process.env.DISPLAY ? null : await startXvfb();
  const options = browserOptions({ processor: withProcessor });
  const driverPort = await freePort();
  const env = xvfb ? { ...process.env, DISPLAY: xvfb.display } : process.env;
  const driver = spawn('WebKitWebDriver', [`--port=${driverPort}`], { stdio: ['ignore', 'inherit', 'inherit'], env });
  const exited = new Promise((resolve) => driver.once('exit', resolve));
  await Promise.race([
    waitForPort(driverPort, 10000),
    exited.then((code) => {
      throw new Error(`WebKitWebDriver exited (${code})`);
    }),
  ]);
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST' && req.url === '/session') body = withOptions(body, options);
      const headers = { ...req.headers, host: `127.0.0.1:${driverPort}` };
      if (body.length || req.method === 'POST') headers['content-length'] = Buffer.byteLength(body);
      const upstream = http.request(
        { host: '127.0.0.1', port: driverPort, method: req.method, path: req.url, headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (e) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ value: { error: 'unknown error', message: String(e) } }));
      });
      upstream.end(body);
    });
  });
  await new Promise((resolve) => server.listen(listen, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    close() {
      server.close();
      driver.kill();
      return exited.then(() => xvfb?.stop());
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url, close } = await startDriver({ port, processor });
  console.log(`webkit driver: ${url}${processor ? ' (MediaStreamTrackProcessing on)' : ''}`);
  const stop = () => close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
