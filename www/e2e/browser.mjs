// The Chromium flags every page test and the headless demo use: fake camera and screen
// capture without prompts, autoplay, and no calls to closed network hosts.
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--auto-accept-this-tab-capture', '--auto-select-desktop-capture-source=Entire screen',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

/**
 * The engines the page tests run in, each able to open a page that offers the Playwright calls
 * the tests make: Chromium (Playwright), and WebKitGTK through the WebDriver endpoint of
 * scripts/webkit-driver.mjs, which scripts/test.sh starts and names in TRACKSNAP_WEBKIT_DRIVER.
 * Without it the WebKit tests are skipped, and say why.
 */
export const ENGINES = [
  {
    name: 'chromium',
    skip: false,
    async open({ width, height }) {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width, height } });
      const problems = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
      return { page, problems: async () => problems.splice(0), close: () => browser.close() };
    },
  },
  {
    name: 'webkit',
    skip: process.env.TRACKSNAP_WEBKIT_DRIVER ? false : 'no WebKit driver: scripts/test.sh starts one (TRACKSNAP_WEBKIT_DRIVER)',
    async open({ width, height }) {
      const { WebDriverPage } = await import('./webdriver.mjs');
      const page = await WebDriverPage.open(process.env.TRACKSNAP_WEBKIT_DRIVER);
      await page.send('POST', '/window/rect', { width, height }).catch(() => {});
      return { page, problems: () => page.problems(), close: () => page.close() };
    },
  },
];
