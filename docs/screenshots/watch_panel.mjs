// Screenshot of kappanb's watch panel in JupyterLab, in headless Chromium.
//
// Opens NOTEBOOK in a running JupyterLab, runs all cells from the Run menu, waits for the
// last cell (`%kappa watch ...`) to show its panel, lets it refresh for a while, then
// screenshots that cell. Fails (exit 1) on a widget error or a cell error.
//
// Environment (take.sh sets all of them):
//   SHOT_LAB_URL     JupyterLab base URL, e.g. http://127.0.0.1:18888
//   SHOT_TOKEN       its token
//   SHOT_NOTEBOOK    notebook path relative to the server root
//   SHOT_OUT         PNG to write
//   SHOT_PROFILE     a fresh Chromium --user-data-dir
//   SHOT_CHROMIUM    Chromium binary (default /usr/bin/chromium)
//   SHOT_SETTLE_S    seconds the panel refreshes before the screenshot (default 15)
//   SHOT_TIMEOUT_S   seconds to wait for the watch cell's output (default 1200)
//   SHOT_DEBUG_PNG   on failure, a screenshot of the whole page goes here (optional)
import { chromium } from 'playwright-core';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const labUrl = env('SHOT_LAB_URL');
const token = env('SHOT_TOKEN');
const notebook = env('SHOT_NOTEBOOK');
const out = env('SHOT_OUT');
const profile = env('SHOT_PROFILE');
const executablePath = env('SHOT_CHROMIUM', '/usr/bin/chromium');
const settleMs = Number(env('SHOT_SETTLE_S', '15')) * 1000;
const timeoutMs = Number(env('SHOT_TIMEOUT_S', '1200')) * 1000;
const debugPng = process.env.SHOT_DEBUG_PNG;

const t0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}`);

const problems = [];
// A persistent context is how Playwright takes a fresh --user-data-dir of our choosing.
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const stop = async (code) => {
  await context.close().catch(() => {});
  process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(130));

try {
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' || msg.type() === 'warning' || /widget|anywidget|vega/i.test(text)) {
      log(`console.${msg.type()}: ${text.slice(0, 400)}`);
    }
    if (msg.type() === 'error' && /widget|anywidget|vega|altair/i.test(text)) problems.push(text);
  });
  page.on('pageerror', (err) => {
    log(`pageerror: ${err.message}`);
    problems.push(err.message);
  });

  const url = `${labUrl}/lab/tree/${encodeURI(notebook)}?token=${encodeURIComponent(token)}`;
  log(`open ${labUrl}/lab/tree/${notebook}`);
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.locator('.jp-NotebookPanel .jp-Cell').first().waitFor({ timeout: 120_000 });
  // The kernel must be connected and idle before "Run All Cells" is of use (the status
  // bar reads "Python 3 (ipykernel) | Idle").
  await page.locator('.jp-StatusBar-Widget', { hasText: /\|\s*Idle/ }).first()
    .waitFor({ timeout: 180_000 });
  log('notebook open, kernel idle');
  // Close the left sidebar (file browser): the panel needs the width.
  const leftTab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current');
  if (await leftTab.count()) await leftTab.first().click();

  await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click();
  await page.locator('.lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }).click();
  log('Run > Run All Cells');

  const cells = page.locator('.jp-NotebookPanel .jp-Notebook .jp-CodeCell');
  const count = await cells.count();
  const watchCell = cells.nth(count - 1);
  const errorOutput = page.locator('.jp-NotebookPanel .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]', { hasText: /Traceback|Error:|UsageError/ });

  // Report progress cell by cell, until the watch cell shows its widget.
  const deadline = Date.now() + timeoutMs;
  let lastPrompt = '';
  const started = Date.now();
  for (;;) {
    if (await errorOutput.count()) {
      throw new Error(`a cell failed:\n${(await errorOutput.first().innerText()).slice(0, 2000)}`);
    }
    const prompts = await page.locator('.jp-NotebookPanel .jp-InputArea-prompt').allInnerTexts();
    const now = prompts.map((p) => p.trim()).join(' ');
    if (now !== lastPrompt) {
      log(`prompts: ${now}`);
      lastPrompt = now;
    }
    if (!/\[[*0-9]/.test(now) && Date.now() - started > 60_000) {
      throw new Error('no cell started within 60 s of Run All Cells');
    }
    if (await watchCell.locator('.jp-OutputArea-output .widget-vbox').count()) break;
    if (await watchCell.locator('.jp-OutputArea-output', { hasText: 'Error displaying widget' }).count()) {
      throw new Error('the watch cell says "Error displaying widget"');
    }
    if (Date.now() > deadline) throw new Error('timed out waiting for the watch panel');
    await page.waitForTimeout(1000);
  }
  log('watch panel displayed');
  await watchCell.locator('.vega-embed').first().waitFor({ timeout: 60_000 }).catch(() => {
    throw new Error(`the panel drew no chart within 60 s; browser errors: ${problems.join(' | ') || 'none'}`);
  });
  log(`charts drawn; letting the panel refresh for ${settleMs / 1000} s`);
  await watchCell.scrollIntoViewIfNeeded();
  await page.waitForTimeout(settleMs);

  const text = await watchCell.locator('.jp-OutputArea').innerText();
  if (/Error displaying widget/.test(text)) throw new Error('the watch cell says "Error displaying widget"');
  const marks = await watchCell.locator('.vega-embed canvas, .vega-embed svg').count();
  log(`watch cell: ${marks} chart surface(s); status text:\n${text.slice(0, 800)}`);
  if (marks === 0) throw new Error('no chart canvas/svg in the watch panel');
  if (problems.length) log(`${problems.length} widget-related console error(s), see above`);

  const replay = text.split('\n').find((line) => /replay/.test(line) && /RUNNING|FINISHED|FAILED/.test(line));
  if (replay && !/catching up/.test(replay)) {
    log(`WARNING: the replay is no longer catching up (${replay.trim()}); raise SHOT_EVENTS`);
  }

  // Select the first cell so the watch cell shows no active-cell bar or cell toolbar, move
  // the mouse out of the way (no tooltip), then shoot the watch cell. The panel redraws its
  // charts every second: retry if the chart was replaced while being captured.
  await cells.first().locator('.jp-InputPrompt').click();
  await page.mouse.move(0, 0);
  await watchCell.scrollIntoViewIfNeeded();
  for (let attempt = 1; ; attempt++) {
    const surface = await watchCell.locator('.vega-embed canvas, .vega-embed svg.marks').first().elementHandle();
    await watchCell.screenshot({ path: out, animations: 'disabled' });
    if (await surface.evaluate((el) => el.isConnected)) break;
    if (attempt === 5) throw new Error('the chart kept redrawing during the screenshot');
    log('chart redrawn while capturing; again');
  }
  log(`wrote ${out}`);
  await stop(0);
} catch (err) {
  log(`FAILED: ${err.stack ?? err}`);
  if (debugPng) {
    // The last cell if there is one (the notebook scrolls inside the page), else the page.
    const page = context.pages()[0];
    const last = page?.locator('.jp-NotebookPanel .jp-CodeCell').last();
    const shot = (await last?.count()) ? last.screenshot({ path: debugPng }) : page?.screenshot({ path: debugPng });
    await shot?.then(() => log(`debug screenshot: ${debugPng}`), () => {});
  }
  await stop(1);
}
