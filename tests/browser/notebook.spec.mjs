// Notebook 01 as a newcomer runs it: opened in JupyterLab (1400 px wide window, the Kappa
// panel open), its code cells run in order, unchanged. tests/browser/test_notebook.py
// starts JupyterLab on a fresh kappanb home (the notebook's `%kappa up` starts its stack)
// and runs this script, which checks, while the runs update:
//   - the watch output never scrolls sideways and every chart's legend is drawn inside it;
//   - each run's state agrees across the panel's heading, its table row, the charts' last
//     points (read from the specs the kernel sent, tests/browser/frames.mjs) and the side
//     panel: v1 while it catches up and once caught up; v1 after a burst of events sent
//     behind its back (tests/browser/burst.py) puts it behind the head again ("catching
//     up" in every view, then "caught up" again); v1 and v2 during and after the replay;
//   - an error the side panel shows stays while the state stays, and goes once a run's
//     state changes (the refusal is the server's answer replaced by the test);
//   - after `%kappa down` in a cell added at the end, the side panel offers no run action,
//     and JupyterLab's log (the server's and the kernel's output) gets no Kafka client's
//     connection attempts while the panel polls KAPPA_QUIET_POLLS more times.
// Screenshots in KAPPA_OUT_DIR: nb-run.png, nb-burst.png, nb-replay.png (the watch panel
// while v2 replays), nb-panel.png (the side panel after the promote), nb-down.png; and
// nb-failure.png on a miss.
//
// Environment: KAPPA_LAB_URL, KAPPA_TOKEN, KAPPA_NOTEBOOK (path under the server root),
// KAPPA_NOTEBOOK_FILE (the same file on disk), KAPPA_LAB_LOG, KAPPA_BURST (a command line,
// JSON array), KAPPA_OUT_DIR, KAPPA_PROFILE, KAPPA_CHROMIUM, KAPPA_TIMEOUT_S,
// KAPPA_QUIET_POLLS [4].
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { KernelFrames } from './frames.mjs';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') {
    console.error(`notebook.spec.mjs: ${name} is not set (tests/browser/test_notebook.py sets it)`);
    process.exit(2);
  }
  return value;
};
const labUrl = env('KAPPA_LAB_URL').replace(/\/$/, '');
const token = env('KAPPA_TOKEN');
const notebook = env('KAPPA_NOTEBOOK');
const notebookFile = env('KAPPA_NOTEBOOK_FILE');
const labLog = env('KAPPA_LAB_LOG');
const burstCommand = JSON.parse(env('KAPPA_BURST'));
const outDir = env('KAPPA_OUT_DIR');
const profile = env('KAPPA_PROFILE');
const executablePath = env('KAPPA_CHROMIUM', '/usr/bin/chromium');
const totalMs = Number(env('KAPPA_TIMEOUT_S', '600')) * 1000;
const quietPolls = Number(env('KAPPA_QUIET_POLLS', '4'));
const JOB = 'daily_captured';

const t0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
let current = 'launching Chromium';
const step = async (name, fn) => {
  current = name;
  log(`${name} ...`);
  const result = await fn();
  log(`${name}: ok`);
  return result;
};
class Miss extends Error {}
const miss = (msg) => { throw new Miss(msg); };
const png = (name) => path.join(outDir, name);
const flat = (text) => String(text ?? '').replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim();

const sources = JSON.parse(fs.readFileSync(notebookFile, 'utf8')).cells
  .map((c) => ({ type: c.cell_type, code: Array.isArray(c.source) ? c.source.join('') : c.source }));

const burst = spawn(burstCommand[0], burstCommand.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
let burstSaid = '';
burst.stdout.on('data', (d) => { burstSaid += d.toString(); });

const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1400, height: 900 },
  deviceScaleFactor: 2,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const page = context.pages()[0] ?? await context.newPage();
page.setDefaultTimeout(20_000);
const frames = new KernelFrames();
frames.watch(page);
let polls = 0; // the side panel's answered state polls
page.on('response', (r) => { if (/\/kappanb\/api\/state/.test(r.url())) polls += 1; });

let finishing = false;
const finish = async (code, err) => {
  if (finishing) return;
  finishing = true;
  if (err) {
    const why = err instanceof Miss ? err.message : (err.stack ?? String(err));
    console.error(`notebook.spec.mjs FAILED at step "${current}": ${why}`);
    await page.screenshot({ path: png('nb-failure.png') }).catch(() => {});
  }
  burst.kill();
  await context.close().catch(() => {});
  process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => finish(130, new Error(signal)));
const watchdog = setTimeout(
  () => finish(1, new Miss(`the script's time limit of ${totalMs / 1000} s ran out`)), totalMs);
page.on('pageerror', (err) => log(`pageerror: ${err.message}`));

const until = async (what, ms, probe) => {
  const deadline = Date.now() + ms;
  let seen;
  for (;;) {
    const value = await probe();
    if (value && !value.notYet) return value;
    seen = value?.seen ?? seen;
    if (Date.now() > deadline) miss(`${what} within ${ms / 1000} s${seen ? `; saw: ${seen}` : ''}`);
    await page.waitForTimeout(250);
  }
};

const cells = page.locator('.jp-NotebookPanel .jp-Notebook .jp-Cell');
const panel = page.locator('#kappanb-panel');
const version = (n) => panel.locator(`[data-kappa-job="${JOB}"] [data-kappa-version="${n}"]`);
const panelError = async () => flat((await panel.locator('.kappa-error:not([hidden])').allInnerTexts()).join(' | '));

/** The side panel's word on a version: {state, progress}. */
const side = async (n) => ({
  state: flat((await version(n).locator('.kappa-state').allInnerTexts()).join(' ')),
  progress: flat((await version(n).locator('.kappa-caught-up').allInnerTexts()).join(' ')),
});

/** A watch output as the page shows it: its heading and, per run label, its table row. */
const shown = async (cell) => cell.locator('.jp-OutputArea').evaluate((area) => {
  const text = (n) => (n?.textContent ?? '').replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim();
  const table = [...area.querySelectorAll('table')]
    .find((t) => [...t.querySelectorAll('th')].some((th) => text(th) === 'progress'));
  const rows = {};
  if (table) {
    const heads = [...table.querySelector('tr').children].map(text);
    for (const tr of [...table.querySelectorAll('tr')].slice(1)) {
      const cellsOf = [...tr.children].map(text);
      const row = Object.fromEntries(heads.map((h, i) => [h, cellsOf[i] ?? '']));
      rows[row.version] = row;
    }
  }
  return { heading: text(area.querySelector('b')), rows };
});

/** The output fits: no sideways scroll, every chart and legend inside, a legend per chart. */
const fits = async (cell) => {
  const fit = await cell.locator('.jp-OutputArea-output').first().evaluate((node) => {
    const area = node.getBoundingClientRect();
    const charts = [...node.querySelectorAll('.vega-embed')].map((c) => c.getBoundingClientRect());
    const legends = [...node.querySelectorAll('.role-legend')].map((c) => c.getBoundingClientRect());
    const scrolls = [node, ...node.querySelectorAll('*')].some((n) => n.scrollWidth > n.clientWidth + 1
      && ['auto', 'scroll'].includes(getComputedStyle(n).overflowX));
    const page = document.scrollingElement;
    return {
      scrolls: scrolls || page.scrollWidth > page.clientWidth + 1, width: Math.round(area.width),
      charts: charts.length, legends: legends.length,
      outside: [...charts, ...legends].filter((r) => r.right > area.right + 1 || r.left < area.left - 1).length,
    };
  });
  if (fit.scrolls) miss(`the watch output scrolls sideways: ${JSON.stringify(fit)}`);
  if (fit.charts < 3 || fit.legends < fit.charts) miss(`${fit.legends} legend(s) drawn for ${fit.charts} charts`);
  if (fit.outside) miss(`${fit.outside} chart(s) or legend(s) reach beyond the output area (${fit.width} px)`);
  return fit;
};

const number = (s) => Number(String(s).replace(/[^0-9.-]/g, ''));

/** Whether `label` (e.g. "v1 live") reads `want` everywhere: its row, the heading when it
 * is about that version, the side panel, and the charts' last points (behind, rate). */
const agreement = async (cell, code, label, n, want) => {
  const { heading, rows } = await shown(cell);
  const row = rows[label];
  const s = await side(n);
  const points = frames.lastPoints(code);
  const behindPoint = points['records behind the head']?.[label]?.behind;
  const ratePoint = points['records/s']?.[label]?.records_in_per_s;
  const said = `heading "${heading}"; row ${JSON.stringify(row ?? null)}; side panel ${JSON.stringify(s)}; `
    + `charts' last points: behind ${behindPoint}, rate ${ratePoint}`;
  const headingAbout = heading.includes(` v${n} `);
  const ok = row && row.state === 'RUNNING' && row.progress === want
    && s.state === row.state && s.progress === want
    && (!headingAbout || heading.endsWith(`: ${row.state} · ${want}`))
    && behindPoint !== undefined && number(row.behind) === behindPoint
    && ratePoint !== undefined && Math.abs(number(row.rate) - ratePoint) <= 1;
  return ok ? { said, row } : { notYet: true, seen: said };
};

/** Runs code cell `i` (clicked, then Shift+Enter); `during` is awaited while it runs. */
const runCell = async (i, during) => {
  const cell = cells.nth(i);
  await cell.scrollIntoViewIfNeeded();
  await cell.locator('.jp-InputPrompt').click();
  await page.keyboard.press('Shift+Enter');
  const prompt = cell.locator('.jp-InputPrompt');
  const count = async () => (await prompt.innerText()).replace(/\s+/g, '');
  await until(`cell ${i} to start`, 30_000, async () => (await count()) !== '[]:' || { notYet: true });
  if (during) await during(cell);
  await until(`cell ${i} to finish`, 300_000, async () => /^\[\d+\]:$/.test(await count())
    || { notYet: true, seen: `prompt ${await count()}; output ${flat(await cell.locator('.jp-OutputArea').innerText()).slice(0, 300)}` });
  const errors = await cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]').allInnerTexts();
  if (errors.length) miss(`cell ${i} failed: ${errors.join('\n').slice(0, 1500)}`);
  return cell;
};
const codeIndex = (needle) => {
  const i = sources.findIndex((c) => c.type === 'code' && c.code.includes(needle));
  if (i < 0) miss(`notebook 01 has no cell with "${needle}"`);
  return i;
};

try {
  await step('open notebook 01 and the Kappa panel', async () => {
    await page.goto(`${labUrl}/lab/tree/${encodeURI(notebook)}?token=${encodeURIComponent(token)}`,
      { waitUntil: 'domcontentloaded' });
    await cells.first().waitFor({ timeout: 60_000 });
    await page.locator('.jp-StatusBar-Widget', { hasText: /\|\s*Idle/ }).first().waitFor({ timeout: 60_000 })
      .catch(() => miss("the notebook's kernel did not become idle"));
    const domCells = await cells.count();
    if (domCells !== sources.length) miss(`JupyterLab shows ${domCells} cells, the file has ${sources.length}`);
    await page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="kappanb-panel"]').click();
    await panel.waitFor({ state: 'visible', timeout: 10_000 });
  });

  const run = codeIndex('live = %kappa run');
  const replay = codeIndex('fix = %kappa replay');
  const promote = codeIndex('%kappa promote');
  const retire = codeIndex('%kappa retire');
  const runCode = sources[run].code;
  const replayCode = sources[replay].code;

  for (let i = 0; i < sources.length; i += 1) {
    if (sources[i].type !== 'code') continue;
    if (i === run) {
      await step(`cell ${i}: v1 runs live; its panel fits and agrees with the side panel`, async () => {
        const cell = await runCell(i, async (c) => {
          await until('the watch panel drawing its charts', 120_000, async () =>
            (await c.locator('.vega-embed').count()) >= 3 || { notYet: true });
          await fits(c);
          await page.mouse.move(0, 0);
          await c.screenshot({ path: png('nb-run.png') });
        });
        const agreed = await until('v1 "caught up" in every view', 60_000,
          () => agreement(cell, runCode, 'v1 live', 1, 'caught up'));
        log(agreed.said);
        await fits(cell);
      });
      await step('a burst behind v1\'s back: "catching up" in every view, then "caught up" again', async () => {
        const cell = cells.nth(i);
        await until('the burst ready', 120_000, async () => /ready/.test(burstSaid) || { notYet: true, seen: burstSaid });
        burst.stdin.write('go\n');
        const behind = await until('v1 "catching up" in every view after the burst', 90_000, async () => {
          const said = await agreement(cell, runCode, 'v1 live', 1, 'catching up');
          if (!said.notYet && number(said.row.behind) <= 1000) return { notYet: true, seen: said.said };
          return said;
        });
        log(behind.said);
        await fits(cell);
        await page.mouse.move(0, 0);
        await cell.screenshot({ path: png('nb-burst.png') });
        const back = await until('v1 "caught up" again in every view', 120_000,
          () => agreement(cell, runCode, 'v1 live', 1, 'caught up'));
        log(`${back.said}; burst: ${flat(burstSaid)}`);
      });
      continue;
    }
    if (i === replay) {
      await step(`cell ${i}: v2 replays; the panel fits while both runs update, and agrees`, async () => {
        let caught = false;
        const cell = await runCell(i, async (c) => {
          await until('the replay panel drawing its charts', 120_000, async () =>
            (await c.locator('.vega-embed').count()) >= 3 || { notYet: true });
          await fits(c);
          // v2 catching up, as the heading, the table, the charts and the side panel say.
          const racing = await until('v2 "catching up" in every view', 60_000, async () => {
            const said = await agreement(c, replayCode, 'v2 replay', 2, 'catching up');
            if (said.notYet && /"progress":"caught up"/.test(said.seen) && /v2 replay/.test(said.seen)) return 'over';
            // Racing: reading (a rate above 0), still behind.
            if (!said.notYet && !(number(said.row.rate) > 0 && number(said.row.behind) > 1000)) {
              return { notYet: true, seen: said.said };
            }
            return said;
          }).catch((err) => { log(`note: ${err.message}`); return null; });
          if (racing && racing !== 'over') {
            caught = true;
            log(racing.said);
            // v1 beside it at that moment (logged: a watch made for the replay's panel can
            // read "at the head" while the run's own panel and the side panel say "caught up").
            const v1 = await agreement(c, replayCode, 'v1 live', 1, 'caught up');
            const own = await shown(cells.nth(run));
            log(`v1 meanwhile: ${v1.said ?? v1.seen}; in v1's own panel: ${JSON.stringify(own.rows['v1 live'] ?? null)}`);
            await fits(c);
            await page.mouse.move(0, 0);
            await c.locator('.jp-OutputArea').screenshot({ path: png('nb-replay.png') });
          }
        });
        const v2 = await until('v2 "caught up" in every view', 60_000,
          () => agreement(cell, replayCode, 'v2 replay', 2, 'caught up'));
        const v1 = await until('v1 "caught up" in every view beside it', 60_000,
          () => agreement(cell, replayCode, 'v1 live', 1, 'caught up'));
        log(`${v2.said}\n${v1.said}`);
        await fits(cell);
        if (!caught) {
          log('note: the replay caught up before every view said "catching up" at once: nb-replay.png shows it caught up');
          await page.mouse.move(0, 0);
          await cell.locator('.jp-OutputArea').screenshot({ path: png('nb-replay.png') });
        }
      });
      continue;
    }
    if (i === retire) {
      await step('the side panel keeps an error while the state stays, and drops it when v1 stops', async () => {
        // The server's refusal of a stop, as it answers when the state moved under a click.
        await page.route('**/kappanb/api/jobs/**', (route) => route.request().method() === 'POST'
          ? route.fulfill({ status: 409, contentType: 'application/json',
            body: JSON.stringify({ message: 'refused by the browser test: v1 is not running' }) })
          : route.continue());
        await version(1).locator('[data-kappa-action="stop"]').click();
        const dialog = page.locator('.jp-Dialog');
        await dialog.waitFor({ timeout: 10_000 }).catch(() => miss('Stop opened no confirmation dialog'));
        await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
        await until('the refusal in the side panel', 15_000, async () =>
          /refused by the browser test/.test(await panelError()) || { notYet: true, seen: await panelError() });
        await page.unroute('**/kappanb/api/jobs/**');
        const seen = polls;
        await until('two polls with v1 still RUNNING', 30_000, async () => polls >= seen + 2 || { notYet: true });
        if ((await side(1)).state !== 'RUNNING') miss(`v1 is no longer RUNNING: ${JSON.stringify(await side(1))}`);
        if (!/refused by the browser test/.test(await panelError())) miss('the error went while v1\'s state stayed');
        await page.mouse.move(0, 0);
        await panel.screenshot({ path: png('nb-panel-error.png') });
        await runCell(i, null);
        await until('the error gone once v1 stopped', 30_000, async () => {
          const [err, s] = [await panelError(), await side(1)];
          if (err && s.state !== 'RUNNING') return { notYet: true, seen: `error "${err}" beside v1 ${JSON.stringify(s)}` };
          return !err && s.state !== 'RUNNING' ? true : { notYet: true, seen: `error "${err}", v1 ${JSON.stringify(s)}` };
        });
      });
      continue;
    }
    await step(`cell ${i}: ${flat(sources[i].code).slice(0, 70)}`, () => runCell(i, null));
    if (i === promote) {
      await step('the side panel after the promote: v2 served, v1 still live', async () => {
        await until('v2 marked served', 30_000, async () => (await version(2).locator('.kappa-serving').count()) > 0
          || { notYet: true, seen: flat(await panel.innerText()).slice(0, 400) });
        await until('v1 and v2 RUNNING in the side panel', 30_000, async () =>
          ((await side(1)).state === 'RUNNING' && (await side(2)).state === 'RUNNING') || { notYet: true });
        // Wider than JupyterLab's default sidebar, so the picture reads well: drag its edge.
        const edge = await page.locator('#jp-main-split-panel > .lm-SplitPanel-handle').first().boundingBox();
        const narrow = (await panel.boundingBox()).width;
        if (edge) {
          await page.mouse.move(edge.x + edge.width / 2, edge.y + edge.height / 2);
          await page.mouse.down();
          await page.mouse.move(edge.x + 160, edge.y + edge.height / 2, { steps: 5 });
          await page.mouse.up();
        }
        await page.mouse.move(0, 0);
        if (edge) {
          await until('the side panel wider after the drag', 5_000, async () =>
            (await panel.boundingBox()).width > narrow + 100 || { notYet: true });
        }
        const box = await panel.boundingBox();
        const bottom = await panel.evaluate((node) =>
          Math.max(...[...node.querySelectorAll('*')].map((c) => c.getBoundingClientRect().bottom)));
        await page.screenshot({ path: png('nb-panel.png'), clip: { ...box, height: Math.min(box.height, Math.ceil(bottom - box.y) + 12) } });
      });
    }
  }

  await step('%kappa down in a cell at the end; then no Kafka client retries the stopped stack', async () => {
    const count = await cells.count();
    await cells.last().locator('.jp-InputPrompt').click();
    await page.keyboard.press('b');
    await until('a new cell', 5_000, async () => (await cells.count()) > count || { notYet: true });
    await cells.nth(count).locator('.cm-content').click();
    await page.keyboard.type('%kappa down');
    await page.keyboard.press('Escape');
    await runCell(count, null);
    // The window: from the first panel poll after `down`, KAPPA_QUIET_POLLS more.
    const first = polls;
    await until('a panel poll after down', 30_000, async () => polls > first || { notYet: true });
    const from = fs.statSync(labLog).size;
    const start = polls;
    await until(`${quietPolls} more panel polls`, 60_000, async () => polls >= start + quietPolls || { notYet: true });
    const said = fs.readFileSync(labLog, 'utf8').slice(from);
    const retries = said.split('\n').filter((l) => /rdkafka|librdkafka|Connection refused|BrokerTransportFailure|\|FAIL\|/i.test(l));
    log(`JupyterLab's log over ${quietPolls} polls (${((Date.now() - t0) / 1000).toFixed(0)} s): ${said.split('\n').length - 1} line(s), ${retries.length} of a Kafka client`);
    if (retries.length) miss(`a Kafka client retries the stopped stack:\n${retries.slice(0, 10).join('\n')}`);
    const offered = await panel.locator('[data-kappa-action]').evaluateAll((ns) => ns.map((n) => n.dataset.kappaAction));
    if (offered.some((a) => a !== 'up')) miss(`the side panel still offers ${offered.join(', ')} with the stack down`);
    const stale = await panelError();
    if (stale) miss(`the side panel still shows an old error: ${stale}`);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: png('nb-down.png') });
  });

  log(`passed; screenshots in ${outDir}`);
  clearTimeout(watchdog);
  await finish(0);
} catch (err) {
  clearTimeout(watchdog);
  await finish(1, err);
}
