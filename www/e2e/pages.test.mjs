// The other two ways people meet tracksnap: the live-streaming page that loads the classic
// <script src> build (in Chromium and WebKitGTK), and a tiny app that imports "tracksnap" by
// name and is bundled by Vite (Chromium). Run: node --test www/e2e/   (after scripts/build.sh)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { start } from '../serve.mjs';
import { CHROMIUM_ARGS, ENGINES } from './browser.mjs';

let browser;

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
});

for (const engine of ENGINES) {
  test(`the live-streaming page works from a classic script tag in ${engine.name}`, { skip: engine.skip }, async () => {
    const server = await start(0, { storeDir: `out/e2e-live-store-${engine.name}` });
    const session = await engine.open({ width: 1300, height: 1000 });
    const { page } = session;
    try {
      await page.goto(new URL('live.html', server.url).href);
      await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('ready'));
      assert.equal(await page.evaluate(() => document.querySelectorAll('script[type="module"]').length), 0, 'no module script on the page');
      assert.equal(await page.evaluate(() => typeof window.tracksnap), 'function', 'the global of the classic build');
      assert.match(await page.textContent('#status'), /encoding in worker\)$/, 'the classic build encodes in a Worker too');

      await page.click('#go-live');
      await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('live'));
      await page.click('#guest');
      await page.waitForFunction(() => new Set([...document.querySelectorAll('#gallery figure')].map((f) => f.dataset.path.split('__uid_s_')[1]?.split('__')[0])).size >= 2, null, { timeout: 15000 });
      await page.click('#report');
      await page.waitForSelector('#gallery figure[data-path^="reports/"] img');
      await page.click('#end');
      await page.waitForFunction(() => document.getElementById('status').textContent === 'task stopped (stopped)');

      const keys = await page.evaluate(() => [...document.querySelectorAll('#gallery figure')].map((e) => e.dataset.path));
      const users = new Set(keys.filter((k) => k.startsWith('moderation_')).map((k) => k.split('__uid_s_')[1].split('__')[0]));
      assert.deepEqual([...users].sort(), ['guest-7', 'host'], 'both streams were moderated');
      for (const key of keys) {
        const bytes = await readFile(join(server.storeDir, 'snapshots', key)).catch(() => null);
        assert.ok(bytes && bytes.length > 0, `${key} is in the store`);
      }
      const report = keys.find((k) => k.startsWith('reports/'));
      const png = await readFile(join(server.storeDir, 'snapshots', report));
      assert.deepEqual([...png.subarray(0, 4)], [137, 80, 78, 71], 'the report is a PNG');
      await page.screenshot({ path: `out/live-${engine.name}.png`, fullPage: true });
      assert.deepEqual(await session.problems(), []);
    } finally {
      await session.close();
      await server.close();
    }
  });
}

// The bundler and the headless walk-through are Chromium tools (Playwright drives the latter).
test('a Vite build of an app that imports "tracksnap" runs', async () => {
  await build({ configFile: 'www/bundled/vite.config.mjs' });
  const server = await preview({ configFile: 'www/bundled/vite.config.mjs', preview: { port: 0, host: '127.0.0.1' } });
  const page = await browser.newPage();
  try {
    await page.goto(server.resolvedUrls.local[0]);
    await page.waitForFunction(() => document.getElementById('result').textContent !== 'working…');
    const result = await page.textContent('#result');
    assert.deepEqual(JSON.parse(result).code, 0, result);
    const r = JSON.parse(result);
    assert.deepEqual([r.width, r.height, r.type], [320, 180, 'image/png']);
  } finally {
    await page.close();
    await new Promise((done) => server.httpServer.close(done));
  }
});

test('the headless demo walks through both pages and saves what it made', async () => {
  const { stdout } = await promisify(execFile)('node', ['www/headless-demo.mjs'], { timeout: 120000 });
  const classroom = Number(/classroom: (\d+) images/.exec(stdout)?.[1]);
  const live = Number(/live stream: (\d+) images/.exec(stdout)?.[1]);
  assert.ok(classroom >= 10 && live >= 3, stdout);
  const files = await readdir('out/headless/images');
  assert.equal(files.length, classroom + live, 'every image saved');
  const shots = await readdir('out/headless');
  assert.ok(shots.includes('classroom.png') && shots.includes('live.png'), shots.join());
});
