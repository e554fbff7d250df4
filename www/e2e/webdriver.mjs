// A small W3C WebDriver client with the few page calls our end-to-end tests make, for browsers
// Playwright cannot drive here (WebKitGTK through scripts/webkit-driver.mjs). Functions passed to
// `evaluate` and `waitForFunction` are sent as source and run in the page, as with Playwright.

const SCRIPT_TIMEOUT_MS = 60000;

export class WebDriverPage {
  constructor(driverUrl, session) {
    this.base = `${driverUrl}/session/${session}`;
    this.driverUrl = driverUrl;
    this.session = session;
  }

  /** A new browser session on the driver at `driverUrl`. */
  static async open(driverUrl) {
    const r = await call('POST', `${driverUrl}/session`, { capabilities: { alwaysMatch: {} } });
    const page = new WebDriverPage(driverUrl, r.sessionId);
    await page.send('POST', '/timeouts', { script: SCRIPT_TIMEOUT_MS, pageLoad: 60000 });
    return page;
  }

  send(method, path, body) {
    return call(method, `${this.base}${path}`, body);
  }

  async goto(url) {
    await this.send('POST', '/url', { url });
    await this.watchProblems();
  }

  async reload() {
    await this.send('POST', '/refresh', {});
    await this.watchProblems();
  }

  /**
   * Records the page's uncaught errors and console errors from now on (WebDriver has no event
   * for them): what the page reported while it loaded is not seen.
   */
  watchProblems() {
    return this.evaluate(() => {
      if (window.__problems) return;
      const problems = (window.__problems = []);
      addEventListener('error', (e) => problems.push(`page error: ${e.message}`));
      addEventListener('unhandledrejection', (e) => problems.push(`page error: ${e.reason}`));
      const error = console.error;
      console.error = (...args) => {
        problems.push(`console error: ${args.join(' ')}`);
        error.apply(console, args);
      };
    });
  }

  /** The problems recorded since the last call. */
  problems() {
    return this.evaluate(() => (window.__problems ?? []).splice(0));
  }

  /** Runs `fn(arg)` in the page (it may be async) and returns its JSON-able result. */
  evaluate(fn, arg) {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${fn})(arguments[0])).then(
        (v) => done({ ok: v === undefined ? null : v }),
        (e) => done({ error: String(e && e.stack || e) }));`;
    return this.send('POST', '/execute/async', { script, args: [arg ?? null] }).then((r) => {
      if (r && 'error' in r) throw new Error(`in the page: ${r.error}`);
      return r?.ok;
    });
  }

  /** Polls `fn(arg)` in the page every `polling` ms until it is truthy. */
  async waitForFunction(fn, arg, { timeout = 10000, polling = 50 } = {}) {
    const t0 = Date.now();
    for (;;) {
      const v = await this.evaluate(fn, arg);
      if (v) return v;
      if (Date.now() - t0 > timeout) throw new Error(`waited ${timeout} ms for ${String(fn).slice(0, 120)}`);
      await new Promise((r) => setTimeout(r, polling));
    }
  }

  waitForSelector(selector, { timeout = 30000 } = {}) {
    return this.waitForFunction((s) => document.querySelector(s) !== null, selector, { timeout });
  }

  waitForTimeout(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Types `value` into an input, as a person would: `input` and `change` events follow. */
  fill(selector, value) {
    return this.evaluate(([s, v]) => {
      const el = document.querySelector(s);
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, [selector, value]);
  }

  selectOption(selector, value) {
    return this.fill(selector, value);
  }

  /** The visible part of the page, as a PNG file at `path`. */
  async screenshot({ path }) {
    const { writeFile } = await import('node:fs/promises');
    const png = await this.send('GET', '/screenshot', undefined);
    await writeFile(path, Buffer.from(png, 'base64'));
  }

  textContent(selector) {
    return this.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
  }

  /** A real click through the driver (a user gesture), on the first element `selector` matches. */
  async click(selector) {
    const el = await this.send('POST', '/element', { using: 'css selector', value: selector });
    const id = Object.values(el)[0];
    await this.send('POST', `/element/${id}/click`, {});
  }

  close() {
    return this.send('DELETE', '', undefined).catch(() => {});
  }
}

async function call(method, url, body) {
  const r = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(SCRIPT_TIMEOUT_MS + 10000),
  });
  const answer = await r.json().catch(() => ({}));
  if (!r.ok) {
    const v = answer.value ?? {};
    throw new Error(`WebDriver ${method} ${url}: ${r.status} ${v.error ?? ''} ${v.message ?? ''}`);
  }
  return answer.value;
}
