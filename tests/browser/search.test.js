// The search page in headless Debian chromium, driven by playwright-core (no browser download: it uses
// /usr/bin/chromium). Run by ctest through run.sh:
//   node search.test.js BUILD_DIR SOURCE_DIR
// It indexes the corpus into a fresh directory, starts `yosan-search serve` on a free loopback port, types
// a query, clicks a facet, checks the counts against the API, opens a sheet, walks back through the
// history, and saves screenshots under BUILD_DIR/browser-test/.
'use strict';

const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const [buildDir, sourceDir] = process.argv.slice(2).map((p) => path.resolve(p));
if (!buildDir || !sourceDir) {
  console.error('usage: node search.test.js BUILD_DIR SOURCE_DIR');
  process.exit(2);
}
const outDir = path.join(buildDir, 'browser-test');
const config = path.join(sourceDir, 'config', 'yosan.toml');

function step(text) {
  console.log('- ' + text);
}

// Starts the server and resolves with its URL once it prints the line announcing it.
function startServer(index) {
  const server = spawn(path.join(buildDir, 'searcher', 'yosan-search'),
    ['serve', '--config', config, '--index', index, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the server did not start: ' + out)), 30000);
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    server.on('exit', (code) => reject(new Error(`the server exited (${code}): ${out}`)));
  });
  return { server, url };
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'yosan-browser-'));
  const index = path.join(work, 'index');
  const profile = path.join(work, 'profile'); // a fresh --user-data-dir for every run
  let server = null;
  let context = null;
  try {
    step('indexing the corpus');
    const idx = spawnSync(path.join(buildDir, 'indexer', 'yosan-index'), ['--config', config, '--index', index], { stdio: 'inherit' });
    assert.ok(idx.status === 0 || idx.status === 3, `yosan-index exited with ${idx.status}`);

    const started = startServer(index);
    server = started.server;
    const base = await started.url;
    step('server at ' + base);
    const api = async (q) => (await fetch(new URL(q, base))).json();

    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
      locale: 'ja-JP',
    });
    const page = context.pages()[0] || (await context.newPage());
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    // Nothing may be fetched from anywhere but the server itself.
    page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push('outside request: ' + r.url()); });

    step('the page lists every sheet before any query');
    await page.goto(base);
    await page.waitForSelector('#results li.hit');
    const everything = await api('/api/search?per_page=1');
    assert.match(await page.textContent('#status'), new RegExp(everything.total + ' 件'));

    step('typing a query');
    await page.getByLabel('検索語').fill('蓄電池');
    const typed = Date.now();
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=%E8%93%84%E9%9B%BB%E6%B1%A0/);
    await page.waitForFunction(() => document.querySelector('#status').textContent.includes('「蓄電池」'));
    // A figure, not an assertion: timing depends on the machine (bench/http measures the server).
    console.log(`  results on screen ${Date.now() - typed} ms after Enter`);
    const result = await api('/api/search?q=' + encodeURIComponent('蓄電池'));
    assert.ok(result.total > 0);
    assert.equal(await page.locator('#results li.hit').count(), Math.min(result.total, 10));
    assert.equal(await page.locator('#results li.hit h3').first().textContent(), result.hits[0].display_title);
    assert.ok(await page.locator('#results li.hit mark').count() > 0, 'matches are highlighted');
    assert.match(await page.locator('#results li.hit .amount').first().textContent(), /億円|金額なし/);
    await page.screenshot({ path: path.join(outDir, 'results.png'), fullPage: true });

    step('clicking a facet');
    const facet = result.facets.bureau[0];
    const box = page.locator('fieldset[data-facet="bureau"] li').filter({ hasText: facet.label }).first();
    assert.equal(await box.locator('.count').textContent(), String(facet.count));
    await box.locator('input[type=checkbox]').check();
    await page.waitForURL(/bureau=/);
    await page.waitForFunction((n) => document.querySelector('#status').textContent.includes(`${n} 件`), facet.count);
    assert.equal(await page.locator('#results li.hit').count(), Math.min(facet.count, 10));
    assert.ok(await page.locator('fieldset[data-facet="bureau"] input:checked').count() === 1);
    assert.equal(await page.evaluate(() => document.activeElement.dataset.value), facet.value, 'the focus stays on the facet');
    assert.ok(await page.locator('#chips li').filter({ hasText: facet.label }).count() === 1, 'the filter shows as a chip');
    const narrowed = await api('/api/search?q=' + encodeURIComponent('蓄電池') + '&bureau=' + encodeURIComponent(facet.value));
    for (const [key, values] of Object.entries(narrowed.facets)) {
      if (key === 'bureau') continue;
      for (const v of values) {
        const row = page.locator(`fieldset[data-facet="${key}"] li`).filter({ has: page.locator(`input[data-value="${v.value}"]`) });
        if (await row.count()) assert.equal(await row.locator('.count').textContent(), String(v.count), `${key} ${v.value}`);
      }
    }
    await page.screenshot({ path: path.join(outDir, 'facet.png'), fullPage: true });

    step('opening a sheet');
    const first = narrowed.hits[0];
    await page.locator('#results li.hit h3 a').first().click();
    await page.waitForURL(/sheet=/);
    await page.waitForSelector('#detail-title');
    assert.equal(await page.textContent('#detail-title'), first.display_title);
    const sheet = await api('/api/sheets/' + first.id);
    assert.equal(await page.locator('.sheet-section').count(), sheet.sections.length);
    assert.match(await page.textContent('.facts'), new RegExp(`${sheet.source.first_line}〜${sheet.source.last_line} 行`));
    await page.waitForSelector('.related li a');
    await page.screenshot({ path: path.join(outDir, 'detail.png'), fullPage: true });

    step('the back button returns to the filtered results');
    await page.goBack();
    await page.waitForSelector('#results-view:not([hidden]) li.hit');
    assert.ok(page.url().includes('bureau='));
    assert.equal(await page.inputValue('#q'), '蓄電池');
    await page.goBack();
    await page.waitForFunction(() => !location.search.includes('bureau='));
    await page.waitForFunction((n) => document.querySelector('#status').textContent.includes(`${n} 件`), result.total);

    step('keyboard: / focuses the search box; a removable chip from a recognised budget word');
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'q');
    await page.keyboard.type('10億円以上 宇宙');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#chips li.recognised');
    await page.locator('#chips li.recognised button').first().click();
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === '宇宙');

    step('a sentence with a word no sheet has: the relaxed notice, the word struck through, insisting on it');
    const relaxedQuery = '京都の中小企業の事業承継';
    const relaxedApi = await api('/api/search?q=' + encodeURIComponent(relaxedQuery));
    assert.equal(relaxedApi.relaxed, true);
    assert.deepEqual(relaxedApi.dropped_words, ['京都']);
    await page.getByLabel('検索語').fill(relaxedQuery);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#notice:not([hidden]) .relaxed');
    assert.match(await page.textContent('#notice .relaxed'), /すべての語を含む資料はありません。一部の語を含む資料を表示しています/);
    assert.equal(await page.textContent('#notice s.dropped-word'), '京都');
    assert.equal(await page.locator('#results li.hit').count(), Math.min(relaxedApi.total, 10));
    await page.screenshot({ path: path.join(outDir, 'relaxed.png'), fullPage: true });
    await page.locator('#notice button.insist').first().click();
    await page.waitForFunction(() => (new URLSearchParams(location.search).get('q') || '').includes('"京都"'));

    step('insisting finds nothing: the zero-hit page with tips, never an empty screen');
    await page.waitForSelector('#zero-hit:not([hidden])');
    assert.equal(await page.locator('#results li.hit').count(), 0);
    assert.ok(await page.locator('#zero-hit .tips li').count() >= 3);

    step('a typo: "did you mean" as a link, followed by hand');
    await page.getByLabel('検索語').fill('ロボテイクス');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#zero-hit:not([hidden]) .did-you-mean a');
    assert.equal(await page.textContent('#zero-hit .did-you-mean a'), 'ロボティクス');
    await page.screenshot({ path: path.join(outDir, 'zero-hit.png'), fullPage: true });
    await page.locator('#zero-hit .did-you-mean a').click();
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'ロボティクス');
    await page.waitForSelector('#results li.hit');
    assert.ok(await page.locator('#zero-hit').isHidden());

    step('a filter that empties the answer is offered for removal with its count');
    const filtered = await api('/api/search?q=' + encodeURIComponent('ロボティクス') + '&kind=' + encodeURIComponent('予備費'));
    assert.equal(filtered.total, 0);
    assert.ok(filtered.removable_filters.length >= 1);
    await page.goto(base + '?q=' + encodeURIComponent('ロボティクス') + '&kind=' + encodeURIComponent('予備費'));
    await page.waitForSelector('#zero-hit:not([hidden]) button.remove-filter');
    assert.match(await page.textContent('#zero-hit button.remove-filter'), new RegExp(`（${filtered.removable_filters[0].count} 件）`));
    await page.locator('#zero-hit button.remove-filter').first().click();
    await page.waitForFunction(() => !location.search.includes('kind='));
    await page.waitForFunction((n) => document.querySelector('#status').textContent.includes(`${n} 件`), filtered.removable_filters[0].count);
    step('budget analysis: the totals table and the CSV button');
    await page.goto(base + '?q=' + encodeURIComponent('中小企業'));
    await page.waitForSelector('#totals table');
    const sme = await api('/api/search?q=' + encodeURIComponent('中小企業'));
    const totalRows = sme.totals.by_year_kind.length + (sme.totals.without_amount ? 1 : 0);
    assert.equal(await page.locator('#totals tbody tr').count(), totalRows);
    const firstCell = sme.totals.by_year_kind[0];
    const yenTitle = await page.locator('#totals tbody tr').first().locator('td.num').nth(1).getAttribute('title');
    assert.equal(yenTitle, `${firstCell.amount_yen.toLocaleString('ja-JP')} 円`, 'the exact yen on hover');
    const href = await page.getAttribute('#csv-link', 'href');
    assert.ok(href.startsWith('/api/search.csv?') && href.includes('q='), href);
    const csv = await fetch(new URL(href, base));
    assert.match(csv.headers.get('content-type'), /text\/csv/);
    const text = await csv.text();
    assert.equal(text.split('\r\n').filter(Boolean).length, sme.total + 1, 'one row per matching sheet, all pages');

    step('budget analysis: a scheme facet');
    const rate = sme.facets.rate.find((v) => v.value !== '記載なし');
    const rateBox = page.locator('fieldset[data-facet="rate"] li').filter({ has: page.locator(`input[data-value="${rate.value}"]`) });
    await rateBox.locator('input[type=checkbox]').check();
    await page.waitForURL(/rate=/);
    await page.waitForFunction((n) => document.querySelector('#status').textContent.includes(`${n} 件`), rate.count);
    await page.screenshot({ path: path.join(outDir, 'budget.png'), fullPage: true });

    step('budget analysis: the timeline chart of a 事業');
    const project = await api('/api/search?q=' + encodeURIComponent('title:中小企業活性化・事業承継総合支援事業') + '&kind=' + encodeURIComponent('補正'));
    const target = project.hits.find((h) => h.title === '中小企業活性化・事業承継総合支援事業');
    assert.ok(target, 'the 補正 sheet of the 事業');
    const tl = await api('/api/sheets/' + target.id + '/timeline');
    await page.goto(base + '?sheet=' + encodeURIComponent(target.id));
    await page.waitForSelector('.timeline-chart rect');
    assert.equal(await page.locator('.timeline-chart rect').count(), tl.series.length);
    assert.equal(await page.locator('.timeline-table tbody tr').count(), tl.sheets.length);
    await page.screenshot({ path: path.join(outDir, 'timeline.png'), fullPage: true });
    await page.goto(base + '?q=' + encodeURIComponent('宇宙'));  // the next step reloads a results page

    step('a narrow window');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.waitForSelector('#results li.hit');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal scrolling on a narrow window (${overflow}px)`);
    await page.screenshot({ path: path.join(outDir, 'narrow.png'), fullPage: false });

    assert.deepEqual(problems, []);
    console.log('ok: screenshots in ' + outDir);
  } finally {
    if (context) await context.close();
    if (server) server.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
