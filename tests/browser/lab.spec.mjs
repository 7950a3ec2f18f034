// kappanb's JupyterLab extension, driven in Debian's headless Chromium by playwright-core.
//
// tests/browser/test_lab.py starts JupyterLab (the extension from the built wheel), prepares
// a job with v1 live and v2 replayed to its end, then runs this script, which:
//   1. opens the notebook, types a `%%kappa job` cell and checks that its SQL keywords carry
//      syntax-highlighting classes (`.cm-kappa-sql .tok-keyword`);
//   2. presses Tab after `FROM ` and finds the topic's SQL table name among the completions;
//   3. opens the Kappa panel in the left sidebar and sees v1 of the job RUNNING and served;
//   4. checks the panel offers only what the server accepts, and that Flink UI is a link
//      away from "Stop stack";
//   5. clicks promote on v2, accepts the confirmation dialog, and sees v2 served;
//   6. runs a `%%kappa job` cell with a typo (SELEC): Flink's parse error, a caret on line 2;
//   7. presses Tab after `JOIN ` in a new cell: the first completion is one of kappanb's tables;
//   8. runs `%kappa watch JOB`: the live panel fits the 1400 px window's output area with
//      a legend per chart, and its table and the side panel say the same of v1.
// It writes sql-cell.png, completion.png, panel.png, typo.png and watch.png to
// KAPPA_OUT_DIR, and on any miss failure.png, and
// exits 1 with a message saying which step failed and what it saw.
//
// Environment (the pytest test sets all of them):
//   KAPPA_LAB_URL    JupyterLab's base URL, e.g. http://127.0.0.1:8888
//   KAPPA_TOKEN      its token
//   KAPPA_NOTEBOOK   notebook path relative to the server root (one empty code cell)
//   KAPPA_JOB        the prepared job (v1 live and served, v2 a finished bounded replay)
//   KAPPA_SQL_TABLE  the SQL table name of the prepared topic (what completion must offer)
//   KAPPA_TOPIC      the prepared topic's Kafka name (the completion item must name it)
//   KAPPA_OUT_DIR    where the screenshots go
//   KAPPA_PROFILE    a fresh Chromium --user-data-dir
//   KAPPA_CHROMIUM   Chromium binary [/usr/bin/chromium]
//   KAPPA_TIMEOUT_S  the whole script's time limit [150]
import { chromium } from 'playwright-core';
import path from 'node:path';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') {
    console.error(`lab.spec.mjs: ${name} is not set (tests/browser/test_lab.py sets it)`);
    process.exit(2);
  }
  return value;
};
const labUrl = env('KAPPA_LAB_URL').replace(/\/$/, '');
const token = env('KAPPA_TOKEN');
const notebook = env('KAPPA_NOTEBOOK');
const job = env('KAPPA_JOB');
const sqlTable = env('KAPPA_SQL_TABLE');
const topic = env('KAPPA_TOPIC');
const outDir = env('KAPPA_OUT_DIR');
const profile = env('KAPPA_PROFILE');
const executablePath = env('KAPPA_CHROMIUM', '/usr/bin/chromium');
const totalMs = Number(env('KAPPA_TIMEOUT_S', '150')) * 1000;

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

const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1400, height: 900 },
  deviceScaleFactor: 2, // sharp screenshots for docs/
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const page = context.pages()[0] ?? await context.newPage();
page.setDefaultTimeout(20_000);

let finishing = false;
const finish = async (code, err) => {
  if (finishing) return;
  finishing = true;
  if (err) {
    const why = err instanceof Miss ? err.message : (err.stack ?? String(err));
    console.error(`lab.spec.mjs FAILED at step "${current}": ${why}`);
    await page.screenshot({ path: png('failure.png') })
      .then(() => console.error(`failure screenshot: ${png('failure.png')}`), () => {});
  }
  await context.close().catch(() => {});
  process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => finish(130, new Error(signal)));
const watchdog = setTimeout(
  () => finish(1, new Miss(`the script's time limit of ${totalMs / 1000} s ran out`)), totalMs);

page.on('pageerror', (err) => log(`pageerror: ${err.message}`));
page.on('console', (msg) => {
  if (msg.type() === 'error' && /kappa/i.test(msg.text())) log(`console.error: ${msg.text().slice(0, 400)}`);
});

/** Polls `probe` until it returns a truthy value; else fails with `what` and the last seen. */
const until = async (what, ms, probe) => {
  const deadline = Date.now() + ms;
  let seen;
  for (;;) {
    const value = await probe();
    if (value && !value.notYet) return value;
    seen = value?.seen ?? seen;
    if (Date.now() > deadline) miss(`${what} within ${ms / 1000} s${seen ? `; saw: ${seen}` : ''}`);
    await page.waitForTimeout(300);
  }
};

try {
  await step('open the notebook', async () => {
    await page.goto(`${labUrl}/lab/tree/${encodeURI(notebook)}?token=${encodeURIComponent(token)}`,
      { waitUntil: 'domcontentloaded' });
    await page.locator('.jp-NotebookPanel .jp-CodeCell').first().waitFor({ timeout: 60_000 });
    await page.locator('.jp-StatusBar-Widget', { hasText: /\|\s*Idle/ }).first()
      .waitFor({ timeout: 60_000 })
      .catch(() => miss('the notebook\'s kernel did not become idle'));
  });

  const cell = page.locator('.jp-NotebookPanel .jp-CodeCell').first();
  const editor = cell.locator('.cm-content');
  const cellText = async () => (await editor.innerText()).replace(/\u00a0/g, ' ');

  await step('type a %%kappa job cell up to FROM', async () => {
    await editor.click();
    await page.keyboard.type(`%%kappa job ${job} --note "typed in the browser"\n`);
    await page.keyboard.type('SELECT CAST(event_time AS DATE) AS pay_day, COUNT(*) AS payments\n');
    await page.keyboard.type('FROM ');
  });

  await step(`complete after FROM (Tab) to ${sqlTable}`, async () => {
    await page.keyboard.press('Tab');
    const item = page.locator('.jp-Completer .jp-Completer-item')
      .filter({ has: page.locator('.jp-Completer-match', { hasText: new RegExp(`^${sqlTable}$`) }) });
    // One candidate only is inserted at once by JupyterLab; several show the list.
    const offered = async () => {
      if (await item.count()) return 'list';
      if ((await cellText()).includes(`FROM ${sqlTable}`)) return 'inserted';
      const shown = await page.locator('.jp-Completer .jp-Completer-match').allInnerTexts();
      return { notYet: true, seen: shown.length ? `items ${shown.slice(0, 15).join(', ')}` : 'no completer list' };
    };
    let longSince = 0;
    let how = await until(`the completer offering ${sqlTable}`, 20_000, async () => {
      const found = await offered();
      // A long list (the kernel's names too, drawn as one scrolls) for 2 s: narrow it.
      if (!found.notYet || await page.locator('.jp-Completer .jp-Completer-item').count() < 10) return found;
      longSince ||= Date.now();
      return Date.now() - longSince > 2_000 ? 'long' : found;
    });
    if (how === 'long') {
      log(`${sqlTable} not among the first items of a long list: typing "${sqlTable.slice(0, 3)}" narrows it`);
      await page.keyboard.type(sqlTable.slice(0, 3));
      how = await until(`the narrowed completer offering ${sqlTable}`, 10_000, offered);
    }
    if (how === 'list') {
      const shown = await page.locator('.jp-Completer .jp-Completer-match').allInnerTexts();
      log(`completer items: ${shown.slice(0, 15).join(', ')}${shown.length > 15 ? ', ...' : ''}`);
      // The item names the Kafka topic behind the SQL table (its type text: "topic NAME").
      const itemText = await item.first().innerText();
      if (!itemText.includes(topic)) {
        throw new Error(`the completion item for ${sqlTable} does not name its topic ${topic}: "${itemText}"`);
      }
      log(`the item names its topic: "${itemText.replace(/\s+/g, ' ').trim()}"`);
      // kappanb's names come first (a word of the cell, e.g. the alias "payments", after),
      // and the topic is shown whole on one line, not cut off.
      const types = await page.locator('.jp-Completer .jp-Completer-item .jp-Completer-typeExtended').allInnerTexts();
      if (!/^(topic |table|output table)/.test((types[0] ?? '').trim())) {
        miss(`the first completion is not one of kappanb's tables: ${shown[0]} (${types[0] ?? 'no type'})`);
      }
      const typeBox = await item.first().locator('.jp-Completer-typeExtended').evaluate((node) => ({
        text: node.textContent, cut: node.scrollWidth > node.clientWidth + 1,
        lines: Math.round(node.getBoundingClientRect().height / parseFloat(getComputedStyle(node).lineHeight || '16')),
      }));
      if (typeBox.text !== `topic ${topic}` || typeBox.cut || typeBox.lines > 1) {
        miss(`the topic is not shown whole on one line: ${JSON.stringify(typeBox)}`);
      }
      await page.screenshot({ path: png('completion.png') });
      await item.first().click();
      await until(`${sqlTable} inserted after FROM`, 5_000, async () =>
        (await cellText()).includes(`FROM ${sqlTable}`) || { notYet: true, seen: await cellText() });
    } else {
      log(`the only candidate, ${sqlTable}, was inserted at once`);
    }
  });

  await step('type the rest of the cell', async () => {
    const focused = await page.evaluate(() => !!document.activeElement?.closest('.jp-CodeCell .cm-editor'));
    if (!focused) await editor.locator('.cm-line').last().click();
    await page.keyboard.press('End');
    await page.keyboard.type('\nWHERE captured\nGROUP BY CAST(event_time AS DATE)');
    log(`cell text:\n${await cellText()}`);
  });

  await step('SQL keywords carry highlighting classes (.cm-kappa-sql .tok-keyword)', async () => {
    const keywords = cell.locator('.cm-kappa-sql .tok-keyword, .cm-kappa-sql.tok-keyword');
    const wanted = ['SELECT', 'CAST', 'AS', 'FROM', 'WHERE', 'GROUP', 'BY'];
    const words = await until('SQL keywords highlighted', 10_000, async () => {
      const texts = await keywords.allInnerTexts();
      const got = new Set(texts.flatMap((t) => t.trim().toUpperCase().split(/\s+/)));
      const lacking = wanted.filter((k) => !got.has(k));
      return lacking.length === 0 ? got
        : { notYet: true, seen: `highlighted keywords [${[...got].join(', ')}], lacking ${lacking.join(', ')}` };
    });
    for (const name of ['EVENT_TIME', 'PAY_DAY', sqlTable.toUpperCase()]) {
      if (words.has(name)) miss(`${name} is highlighted as a keyword: the highlighting does not tell keywords from names`);
    }
    const subcommand = await cell.locator('.cm-kappa-subcommand').allInnerTexts();
    log(`keywords: ${[...words].join(' ')}; .cm-kappa-subcommand: ${subcommand.join(' ') || '(none on the %%kappa line)'}`);
    await page.keyboard.press('Escape'); // command mode: no cursor in the screenshot
    await page.mouse.move(0, 0);
    const noToolbar = await page.addStyleTag({ content: '.jp-cell-toolbar { visibility: hidden; }' });
    // The cell as wide as its longest line (plus a margin), not the whole notebook's width.
    const cellBox = await cell.boundingBox();
    const textRight = await cell.evaluate((node) => Math.max(...[...node.querySelectorAll('.cm-line')]
      .map((line) => { const r = document.createRange(); r.selectNodeContents(line); return r.getBoundingClientRect().right; })));
    const width = Math.min(cellBox.width, Math.ceil(textRight - cellBox.x) + 48);
    await page.screenshot({ path: png('sql-cell.png'), clip: { ...cellBox, width } });
    await noToolbar.evaluate((node) => node.remove());
  });

  const panel = page.locator('#kappanb-panel');
  const jobBox = panel.locator(`[data-kappa-job="${job}"]`);
  const version = (n) => jobBox.locator(`[data-kappa-version="${n}"]`);
  const panelError = async () => (await panel.locator('.kappa-error').allInnerTexts())
    .map((t) => t.trim()).filter(Boolean).join(' | ');

  await step('open the Kappa panel', async () => {
    const tab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="kappanb-panel"]');
    await tab.waitFor({ timeout: 20_000 })
      .catch(() => miss('no tab for the widget "kappanb-panel" in the left sidebar'));
    const title = (await tab.getAttribute('title')) ?? '';
    if (!/Kappa/.test(title)) log(`note: the panel's tab has the caption "${title}"`);
    await tab.click();
    await panel.waitFor({ state: 'visible', timeout: 10_000 });
    // Wider than JupyterLab's default sidebar, so the screenshot reads well: drag its edge.
    const edge = await page.locator('#jp-main-split-panel > .lm-SplitPanel-handle').first().boundingBox();
    if (edge) {
      await page.mouse.move(edge.x + edge.width / 2, edge.y + edge.height / 2);
      await page.mouse.down();
      await page.mouse.move(edge.x + 160, edge.y + edge.height / 2, { steps: 5 });
      await page.mouse.up();
    }
  });

  await step(`see ${job} v1 RUNNING and served`, async () => {
    await until(`${job} v1 RUNNING in the panel`, 45_000, async () => {
      const state = (await version(1).locator('.kappa-state').allInnerTexts()).join(' ').trim();
      if (/RUNNING/.test(state)) return state;
      const err = await panelError();
      return { notYet: true, seen: `v1 state "${state}"${err ? `; panel error: ${err}` : ''}; panel text: ${(await panel.innerText()).slice(0, 500)}` };
    });
    if (!(await version(1).locator('.kappa-serving').count())) miss('v1 runs live but the panel does not mark it served (.kappa-serving)');
    if (await version(2).locator('.kappa-serving').count()) miss('the panel marks v2 served before the promote');
  });

  await step('the panel offers only what the server accepts', async () => {
    const has = async (where, action) => (await where.locator(`[data-kappa-action="${action}"]`).count()) > 0;
    const jobButtons = jobBox.locator(':scope > .kappa-buttons');
    if (!(await has(jobButtons, 'watch'))) miss('no Watch while v1 runs');
    if (await has(jobButtons, 'rollback')) miss('Rollback offered though v1 was served from the start');
    if (await has(version(1), 'promote')) miss('Promote offered on the served v1');
    if (!(await has(version(1), 'stop'))) miss('no Stop on the running v1');
    if (await has(version(2), 'stop')) miss('Stop offered on v2, whose bounded replay finished');
    const promote = version(2).locator('[data-kappa-action="promote"]');
    if ((await promote.getAttribute('data-kappa-force')) === 'true') miss('v2 finished, yet its Promote is the forced one');
    // Flink UI is a link in the heading; Stop stack sits apart, at the section's end.
    const flinkUi = panel.locator('.kappa-stack h3 .kappa-link');
    const stopStack = panel.locator('.kappa-stack-stop [data-kappa-action="down"]');
    const [a, b] = [await flinkUi.boundingBox(), await stopStack.boundingBox()];
    if (!a || !b) miss(`Flink UI link ${a ? 'found' : 'missing'}, Stop stack ${b ? 'found' : 'missing'}`);
    if (b.y - (a.y + a.height) < 20) miss(`Stop stack is right beside Flink UI (${Math.round(b.y - a.y - a.height)} px apart)`);
    const underline = await flinkUi.evaluate((n) => getComputedStyle(n).textDecorationLine);
    if (!/underline/.test(underline)) miss(`the Flink UI link does not look like a link (text-decoration ${underline})`);
  });

  await step('promote v2, accepting the confirmation', async () => {
    const button = version(2).locator('[data-kappa-action="promote"]');
    await button.waitFor({ timeout: 10_000 }).catch(() => miss('no promote button on v2'));
    await button.click();
    const dialog = page.locator('.jp-Dialog');
    await dialog.waitFor({ timeout: 10_000 }).catch(() => miss('promote opened no confirmation dialog'));
    log(`dialog: ${(await dialog.innerText()).replace(/\s+/g, ' ').slice(0, 300)}`);
    const accept = dialog.locator('.jp-Dialog-button.jp-mod-accept');
    const label = (await accept.innerText()).trim();
    if (!/Promote/.test(label)) miss(`the dialog's accept button says "${label}", not "Promote"`);
    await accept.click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
  });

  await step('see v2 served', async () => {
    await until('v2 marked served (.kappa-serving) in the panel', 45_000, async () => {
      const err = await panelError();
      if (err) miss(`the panel shows an error: ${err}`);
      if (await version(2).locator('.kappa-serving').count()) return true;
      return { notYet: true, seen: (await jobBox.innerText()).replace(/\s+/g, ' ').slice(0, 500) };
    });
    if (await version(1).locator('.kappa-serving').count()) miss('v1 is still marked served after the promote');
    await page.mouse.move(0, 0);
    // The panel down to its last line, not the empty rest of the sidebar.
    const box = await panel.boundingBox();
    const bottom = await panel.evaluate((node) =>
      Math.max(...[...node.querySelectorAll('*')].map((c) => c.getBoundingClientRect().bottom)));
    const height = Math.min(box.height, Math.ceil(bottom - box.y) + 12);
    await page.screenshot({ path: png('panel.png'), clip: { ...box, height } });
  });

  await step('after the promote, Rollback is offered', async () => {
    await until('a Rollback button', 20_000, async () =>
      (await jobBox.locator('[data-kappa-action="rollback"]').count()) > 0
        || { notYet: true, seen: (await jobBox.innerText()).replace(/\s+/g, ' ').slice(0, 300) });
  });

  const cells = page.locator('.jp-NotebookPanel .jp-CodeCell');
  /** Adds a code cell at the end with `text`, runs it; returns its locator. */
  const runCell = async (text) => {
    const count = await cells.count();
    await cells.last().locator('.cm-content').click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('b'); // a cell below, in command mode
    await until('a new cell', 5_000, async () => (await cells.count()) > count || { notYet: true });
    const added = cells.nth(count);
    await added.locator('.cm-content').click();
    await page.keyboard.type(text);
    await page.keyboard.press('Shift+Enter');
    return added;
  };
  const outputText = async (c) => (await c.locator('.jp-OutputArea').innerText()).replace(/\u00a0/g, ' ');

  await step('a typo shows Flink\'s parse error with a caret on the line typed', async () => {
    await runCell('%load_ext kappanb');
    const typo = await runCell(`%%kappa job ${job}_typo\nSELEC pay_day\nFROM ${sqlTable}`);
    const said = await until("Flink's parse error in the cell's output", 120_000, async () => {
      const text = await outputText(typo);
      return /Flink's parser/.test(text) ? text : { notYet: true, seen: text.slice(0, 400) || '(no output yet)' };
    });
    // line 1 is the %%kappa line: the typo is on line 2, and the caret under its S
    if (!/line 2 of the cell:\n {4}SELEC pay_day\n {4}\^/.test(said)) {
      miss(`the error does not point at line 2 with a caret: ${said.slice(0, 600)}`);
    }
    await page.mouse.move(0, 0);
    await typo.screenshot({ path: png('typo.png') });
  });

  await step('complete after JOIN (Tab): kappanb\'s tables first', async () => {
    const count = await cells.count();
    await cells.last().locator('.cm-content').click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('b');
    await until('a new cell', 5_000, async () => (await cells.count()) > count || { notYet: true });
    await cells.nth(count).locator('.cm-content').click();
    await page.keyboard.type(`%%kappa job ${job}_join\nSELECT a.payment_id FROM ${sqlTable} AS a\nJOIN `);
    await page.keyboard.press('Tab');
    const types = await until('the completer after JOIN', 20_000, async () => {
      const found = await page.locator('.jp-Completer .jp-Completer-item .jp-Completer-typeExtended').allInnerTexts();
      if (found.length) return found;
      const text = (await cells.nth(count).locator('.cm-content').innerText()).replace(/\u00a0/g, ' ');
      return text.includes(`JOIN ${sqlTable}`) ? [`topic ${topic}`] : { notYet: true, seen: text };
    });
    if (!/^(topic |table|output table)/.test((types[0] ?? '').trim())) {
      miss(`the first completion after JOIN is not one of kappanb's tables: ${types[0] ?? 'none'}`);
    }
    log(`after JOIN the first item is "${(types[0] ?? '').trim()}"`);
    await page.keyboard.press('Escape');
  });

  await step('the live watch panel fits the output area, its legend visible, and agrees with the side panel', async () => {
    const watch = await runCell(`%kappa watch ${job}`);
    const output = watch.locator('.jp-OutputArea-output').first();
    await until('the watch panel drawing its charts', 90_000, async () =>
      (await watch.locator('.vega-embed').count()) >= 3
        || { notYet: true, seen: (await outputText(watch)).slice(0, 300) || '(no output yet)' });
    // While v1 runs and the panel updates: no sideways scroll, every chart (with its
    // legend on top) inside the output area.
    const fit = await output.evaluate((node) => {
      const area = node.getBoundingClientRect();
      const charts = [...node.querySelectorAll('.vega-embed')].map((c) => c.getBoundingClientRect());
      const legends = [...node.querySelectorAll('.role-legend')].map((c) => c.getBoundingClientRect());
      const scrolls = [node, ...node.querySelectorAll('*')].some((n) => n.scrollWidth > n.clientWidth + 1
        && ['auto', 'scroll'].includes(getComputedStyle(n).overflowX));
      return {
        scrolls, width: Math.round(area.width), charts: charts.length, legends: legends.length,
        outside: [...charts, ...legends].filter((r) => r.right > area.right + 1 || r.left < area.left - 1).length,
      };
    });
    log(`watch output: ${JSON.stringify(fit)}`);
    if (fit.scrolls) miss('the watch output scrolls sideways');
    // Each chart says which colour is which version: a legend per chart, drawn.
    if (fit.legends < fit.charts) miss(`${fit.legends} legend(s) drawn for ${fit.charts} charts`);
    if (fit.outside) miss(`${fit.outside} chart(s) or legend(s) reach beyond the output area (${fit.width} px)`);
    // One word for v1's progress: the watch table's and the side panel's, once both judged.
    const agreed = await until("the watch table and the side panel saying the same of v1", 60_000, async () => {
      const row = await watch.locator('tr', { hasText: 'v1 live' }).last().innerText().catch(() => '');
      const side = (await version(1).locator('.kappa-caught-up').allInnerTexts()).join(' ').trim();
      const word = (row.match(/(caught up|catching up|at the head|finished)\s*$/) ?? [])[1] ?? '';
      return word && side === word && word === 'caught up' ? `${word}`
        : { notYet: true, seen: `watch row "${row.replace(/\s+/g, ' ')}", side panel "${side}"` };
    });
    const heading = await watch.locator('.jp-OutputArea-output').first().innerText();
    if (!/v1 live/.test(heading) || /\bFINISHED\b/.test(heading)) miss(`the watch output contradicts v1 RUNNING: ${heading.slice(0, 300)}`);
    log(`v1 reads "${agreed}" in the watch table and the side panel`);
    await page.mouse.move(0, 0);
    await watch.screenshot({ path: png('watch.png') });
  });

  log(`passed; screenshots in ${outDir}`);
  clearTimeout(watchdog);
  await finish(0);
} catch (err) {
  clearTimeout(watchdog);
  await finish(1, err);
}
