// The demo without a display: headless Chromium with a fake camera walks through the
// classroom page (preview, join, screen share, a remote student over WebRTC, every kind of
// snapshot, a periodic task) and the live-streaming page, then saves every image and a
// screenshot of each page into out/headless/ and prints a summary.
// Run by `scripts/demo.sh --headless` (after the build).

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { start } from './serve.mjs';
import { CHROMIUM_ARGS } from './e2e/browser.mjs';

const out = 'out/headless';
await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'images'), { recursive: true });

const server = await start(0);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
const summary = [];

async function clickAndLog(page, selector, text) {
  const before = await page.locator('#log li').count();
  await page.click(selector);
  await page.waitForFunction(
    ([n, t]) => [...document.querySelectorAll('#log li')].slice(0, -n || undefined).some((li) => li.textContent.includes(t)),
    [before, text],
    { timeout: 15000 },
  );
}

/** Saves every image of the page's gallery; returns how many. */
async function saveGallery(page, prefix) {
  const images = await page.evaluate(async () => Promise.all(
    [...document.querySelectorAll('#gallery figure img')].map(async (img) => ({
      name: img.alt,
      bytes: [...new Uint8Array(await (await fetch(img.src)).arrayBuffer())],
    })),
  ));
  for (const { name, bytes } of images) {
    await writeFile(join(out, 'images', `${prefix}-${name.replace(/[/\\]/g, '_')}`), Buffer.from(bytes));
  }
  return images.length;
}

try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  await page.goto(server.url);
  await page.waitForFunction(() => document.getElementById('frame-reader').textContent !== '…');
  await clickAndLog(page, '#preview-camera', 'startVideoPreview');
  await clickAndLog(page, '#take-local-main', 'onTakeSnapshotResult');
  await clickAndLog(page, '#join', 'joinChannel');
  await clickAndLog(page, '#enable-camera', 'enableLocalVideo');
  await clickAndLog(page, '#share-screen', 'startScreenCapture');
  await clickAndLog(page, '#remote-join', 'onUserVideoStart');
  await clickAndLog(page, '#remote-share', 'onUserSubStreamVideoStart');
  await page.waitForFunction(() => document.getElementById('v-remote-sub').readyState >= 2);
  for (const button of ['#take-local-main', '#take-local-sub', '#take-remote-main', '#take-remote-sub']) {
    await clickAndLog(page, button, 'onTakeSnapshotResult');
  }
  await page.selectOption('#opt-target', '2002:sub');
  await page.selectOption('#opt-fit', 'contain');
  await page.fill('#opt-height', '360');
  await clickAndLog(page, '#snapshot', 'resolved');
  await page.fill('#task-interval', '1');
  await clickAndLog(page, '#task-start', 'startSnapshot');
  await page.waitForTimeout(3200);
  await clickAndLog(page, '#task-stop', 'snapshottaskstop');
  // Each stream's latest image (StorageConfig.LatestKey), read back from the store.
  const latestShown = () => [...document.querySelectorAll('#task-latest-images img')].filter((i) => i.complete && i.naturalWidth > 0).length;
  await page.waitForFunction(latestShown, null, { timeout: 10000 });
  const latest = await page.evaluate(latestShown);
  await page.screenshot({ path: join(out, 'classroom.png'), fullPage: true });
  const counters = await page.textContent('#task-counters');
  summary.push(`classroom: ${await saveGallery(page, 'classroom')} images (periodic task: ${counters}; ${latest} latest images shown)`);

  const live = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
  await live.goto(new URL('live.html', server.url).href);
  await live.waitForFunction(() => document.getElementById('status').textContent.startsWith('ready'));
  await live.click('#go-live');
  await live.waitForFunction(() => document.getElementById('status').textContent.startsWith('live'));
  await live.click('#guest');
  await live.waitForTimeout(3000);
  await live.click('#report');
  await live.waitForSelector('#gallery figure[data-path^="reports/"] img');
  await live.click('#end');
  await live.waitForFunction(() => document.getElementById('status').textContent.startsWith('task stopped'));
  await live.screenshot({ path: join(out, 'live.png'), fullPage: true });
  summary.push(`live stream: ${await saveGallery(live, 'live')} images`);
} finally {
  await browser.close();
  await server.close();
}

console.log(summary.join('\n'));
console.log(`images and screenshots: ${out}/  ·  uploaded copies: ${server.storeDir}/snapshots/`);
