// Browser tests of the web page (web/) in Debian's chromium, against the
// real opsbook-serve on port 0 with the bundled handbook indexed into a
// temporary folder. Run by run.sh (ctest label `browser`); see docs/web.md.
//
// Environment: OB_INDEX, OB_SERVE (binaries; default build/bin), OB_LANG,
// OB_SHOTS (screenshots; default build/browser-shots), OB_CHROMIUM
// (default /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { check as checkCsp } from './csp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const BIN = (name, env) => process.env[env] || path.join(root, 'build/bin', name);
const INDEX = BIN('opsbook-index', 'OB_INDEX');
const SERVE = BIN('opsbook-serve', 'OB_SERVE');
const LANG = process.env.OB_LANG || path.join(root, 'lang');
const SHOTS = process.env.OB_SHOTS || path.join(root, 'build/browser-shots');
const CHROMIUM = process.env.OB_CHROMIUM || '/usr/bin/chromium';
const WEB = path.join(root, 'web');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const QUERY = '客户说宽带修了好几次还是断';
/* Chromium's "Fast 3G" preset. */
const FAST_3G = { offline: false, latency: 562.5, downloadThroughput: 180 * 1024, uploadThroughput: 84 * 1024 };
const BUDGET_BYTES = 60 * 1024;
const BUDGET_MS = 1500;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ob-browser-'));
const cleanups = [];
let srv; // { base, proc, log }
const servers = [];
let ctx; // the functional tests' browser context
let page;

function startServer(args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(SERVE, [...args, '--listen', '127.0.0.1:0', '--web', WEB, '--lang', LANG, '--threads', '4'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    const s = { proc, log: [], base: null };
    servers.push(s);
    let buf = '';
    const timer = setTimeout(() => reject(new Error('opsbook-serve did not start:\n' + buf)), 15000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const m = line.match(/listening on (http:\/\/\S+)/);
        if (m && !s.base) { s.base = m[1]; clearTimeout(timer); resolve(s); } else s.log.push(line);
      }
    });
    proc.on('exit', (code) => { if (!s.base) { clearTimeout(timer); reject(new Error(`opsbook-serve exited ${code}:\n${buf}`)); } });
    cleanups.push(() => new Promise((res) => { if (proc.exitCode != null) return res(); proc.on('exit', res); proc.kill('SIGTERM'); }));
  });
}

/* Body bytes the server sent (its access log, after compression), from line `from`. */
function served(s, from = 0) {
  let bytes = 0, n = 0;
  for (const l of s.log.slice(from)) {
    const m = l.match(/^\S+ (GET|HEAD|POST) (\S+) (\d{3}|-) (\d+) /);
    if (m) { bytes += Number(m[4]); n++; }
  }
  return { bytes, n };
}

async function launch(name, opts = {}) {
  const dir = fs.mkdtempSync(path.join(tmp, 'profile-' + name + '-'));
  const c = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: ARGS, locale: 'zh-CN',
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: false, hasTouch: true, ...opts,
  });
  cleanups.push(() => c.close().catch(() => {}));
  return c;
}

async function shot(p, name, opts = {}) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: path.join(SHOTS, name + '.png'), ...opts });
}

async function apiJson(p) {
  const r = await fetch(srv.base + p);
  return r.json();
}

/* Types like a person: the box is cleared, then the text arrives as input. */
async function search(p, q) {
  await p.fill('#q', '');
  await p.fill('#q', q);
}

async function cardIds(p, group) {
  return p.$$eval(`[data-group="${group}"] .card`, (cs) => cs.map((c) => c.dataset.id));
}

before(async () => {
  const db = path.join(tmp, 'db');
  execFileSync(INDEX, ['--handbook', path.join(root, 'handbook'), '--db', db, '--lang', LANG], { stdio: 'pipe' });
  srv = await startServer(['--db', db, '--handbook', path.join(root, 'handbook')]);
  ctx = await launch('main');
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.base });
  page = ctx.pages()[0] || (await ctx.newPage());
  /* No request may leave our server. */
  ctx.on('request', (r) => {
    const u = r.url();
    if (!servers.some((s) => s.base && u.startsWith(s.base + '/')) && !/^(data|blob):/.test(u)) foreign.push(u);
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED/.test(m.text())) errors.push(m.text()); });
});

test('index.html: the CSP allows exactly its inline style and script', () => {
  const r = checkCsp();
  assert.ok(r.ok, 'CSP hashes out of date: run `node tests/browser/csp.mjs --write`');
});
const foreign = [];
const errors = [];

after(async () => {
  for (const c of cleanups.reverse()) await c();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('search: results as one types, grouped; a phrase in the top 3 of 怎么说', async () => {
  await page.goto(srv.base + '/');
  await page.waitForSelector('html[data-ready]');
  await shot(page, '01-home');
  await search(page, QUERY);
  await page.waitForSelector('[data-group="phrase"] .card');
  const top = (await cardIds(page, 'phrase')).slice(0, 3);
  assert.ok(top.includes('phrase-complaint-repeated'), 'top 3 of 怎么说: ' + top);
  const types = await page.$$eval('[data-group="phrase"] .card', (cs) => cs.map((c) => c.dataset.type));
  assert.ok(types.every((t) => t === 'phrase'));
  const heads = await page.$$eval('.group h2', (hs) => hs.map((h) => h.firstChild.textContent));
  assert.deepEqual(heads, ['怎么说', '怎么做', '类似故障']);
  assert.match(page.url(), /#\/q\//);
  /* Highlights are real <mark> elements and nothing else came in as markup. */
  assert.ok((await page.$$('.snip mark')).length > 0);
  assert.equal(await page.$$eval('.results script, .results img, .results iframe', (x) => x.length), 0);
  await shot(page, '02-results');
});

test('search: stale requests are aborted while typing', async () => {
  const seen = [];
  const onReq = (r) => { if (r.url().includes('/api/answer') && !seen.includes(r.url())) seen.push(r.url()); };
  ctx.on('request', onReq);
  await page.fill('#q', '');
  for (const q of ['机', '机房', '机房太', '机房太热']) {
    await page.fill('#q', q);
    await page.waitForTimeout(60);
  }
  await page.waitForFunction(() => decodeURIComponent(location.hash).endsWith('/机房太热') &&
    document.querySelector('#status').textContent.startsWith('找到'));
  ctx.off('request', onReq);
  assert.ok(seen.length <= 2, `debounced: ${seen.length} requests for 4 keystrokes: ${seen.map(decodeURIComponent)}`);
  assert.ok(decodeURIComponent(seen.at(-1)).includes('机房太热'), seen.map(decodeURIComponent).join(' '));
});

test('search: a type chip uses /api/search?type=', async () => {
  await search(page, '机房温度');
  await page.waitForSelector('[data-group="sop"] .card');
  const req = page.waitForRequest((r) => r.url().includes('/api/search?type=sop'));
  await page.click('.chip[data-type="sop"]');
  await req;
  await page.waitForFunction(() => document.querySelectorAll('[data-group]').length === 1 &&
    document.querySelector('[data-group="sop"] .card'));
  const types = await page.$$eval('.card', (cs) => [...new Set(cs.map((c) => c.dataset.type))]);
  assert.deepEqual(types, ['sop']);
  assert.equal(await page.getAttribute('.chip[data-type="sop"]', 'aria-pressed'), 'true');
  await shot(page, '03-chip-sop');
  await page.click('.chip[data-type=""]');
  await page.waitForSelector('[data-group="phrase"], [data-group="fault"]');
});

test('search: an empty result says what to try instead', async () => {
  await search(page, 'qqqxyzzy');
  await page.waitForSelector('.noresult');
  const t = await page.textContent('.noresult');
  assert.match(t, /没有找到与「qqqxyzzy」相关的内容/);
  assert.match(t, /换个说法/);
  assert.match(t, /目录/);
  await shot(page, '04-empty');
});

test('scripted reply: fill the blanks, copy the filled text', async () => {
  await page.goto(srv.base + '/#/doc/phrase-self-intro-at-door');
  await page.waitForSelector('.phrase');
  const size = await page.$eval('.phrase', (e) => parseFloat(getComputedStyle(e).fontSize));
  assert.ok(size >= 20, 'phrase is large: ' + size);
  assert.equal(await page.textContent('label[for="slot-0"]'), '技术员(记在本机)');
  await page.fill('#slot-0', '李强');
  await page.fill('#slot-1', '宽带掉线');
  assert.match(await page.textContent('.phrase'), /头屯河分局李强运维人员.*处理你家宽带掉线故障/);
  await page.click('button.copy');
  await page.waitForSelector('#copy-msg.ok');
  assert.equal(await page.textContent('#copy-msg'), '已复制');
  assert.equal(await page.textContent('#toast'), '已复制');
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(clip, '你好,我是头屯河分局李强运维人员,前面我已和你预约了,处理你家宽带掉线故障,这是我的工作证。');
  await shot(page, '05-phrase-copied');
});

test('scripted reply: copying is refused while a blank is empty', async () => {
  await page.evaluate(() => navigator.clipboard.writeText('原来的内容'));
  await page.fill('#slot-1', '');
  await page.click('button.copy');
  await page.waitForSelector('#copy-msg.err');
  assert.equal(await page.textContent('#copy-msg'), '请先填写「故障」,再复制');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'slot-1');
  assert.equal(await page.getAttribute('#slot-1', 'aria-invalid'), 'true');
  assert.ok(await page.$('.phrase .slot.bad[data-slot="故障"]'));
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), '原来的内容');
  await shot(page, '06-phrase-refused');
});

test('scripted reply: the source\'s ellipsis is a blank to fill', async () => {
  await page.goto(srv.base + '/#/doc/phrase-changed-request-refuse');
  await page.waitForSelector('.phrase');
  assert.equal(await page.textContent('label[for="slot-0"]'), '内容');
  await page.click('button.copy');
  await page.waitForSelector('#copy-msg.err');
  assert.equal(await page.textContent('#copy-msg'), '请先填写「内容」,再复制');
  await page.fill('#slot-0', '安全施工');
  await page.click('button.copy');
  await page.waitForSelector('#copy-msg.ok');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()),
    '不行的,这样会违反安全施工规定,对不起,请见谅。');
});

test('scripted reply: the technician\'s name is remembered on the device', async () => {
  await page.goto(srv.base + '/#/doc/phrase-appointment-call');
  await page.reload();
  await page.waitForSelector('.phrase');
  const v = await page.$eval('input[data-slot="技术员"]', (i) => i.value);
  assert.equal(v, '李强');
  assert.match(await page.textContent('.phrase'), /运维人员李强/);
  assert.equal(await page.$eval('input[data-slot="地区"]', (i) => i.value), '');
});

test('reading: an SOP shows its table of contents, anchors work', async () => {
  const d = await apiJson('/api/docs/sop-idc-environment');
  await page.goto(srv.base + '/#/doc/sop-idc-environment');
  await page.waitForSelector('nav.toc a');
  const links = await page.$$eval('nav.toc a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
  assert.deepEqual(links, d.toc.map((t) => [t.text, `#/doc/sop-idc-environment/${t.anchor}`]));
  assert.ok(await page.isVisible('nav.toc a'));
  await shot(page, '07-sop-toc');
  await page.click(`nav.toc a >> nth=2`);
  await page.waitForFunction(() => location.hash.endsWith('/s3'));
  await page.waitForFunction(() => Math.abs(document.querySelector('#s3').getBoundingClientRect().top) < 120);
  assert.ok((await page.$$('.doc-body h2')).length >= 6);
  assert.ok((await page.$$('.pager a')).length >= 1, 'previous/next in 目录 order');
  const fs16 = await page.$$eval('.doc-body p', (ps) => Math.min(...ps.map((p) => parseFloat(getComputedStyle(p).fontSize))));
  assert.ok(fs16 >= 16, 'body text ≥ 16px: ' + fs16);
  await shot(page, '08-sop-anchor');
});

test('reading: 目录 lists every document by category', async () => {
  const cats = await apiJson('/api/categories');
  /* the server's cached body, sent plain and gzip'ed (it is over 1 KB) */
  const plain = await fetch(srv.base + '/api/categories', { headers: { 'accept-encoding': 'identity' } });
  const packed = await fetch(srv.base + '/api/categories', { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(plain.headers.get('content-encoding'), null);
  assert.equal(packed.headers.get('content-encoding'), 'gzip');
  assert.deepEqual(await plain.json(), cats);
  assert.deepEqual(await packed.json(), cats);
  await page.goto(srv.base + '/#/toc');
  await page.waitForSelector('.toc-cat');
  assert.equal((await page.$$('.toc-cat')).length, cats.categories.length);
  assert.equal((await page.$$('.toc-cat a')).length, cats.categories.reduce((n, c) => n + c.docs.length, 0));
  await page.click('.toc-cat >> nth=0 >> summary');
  await shot(page, '09-toc');
  await page.click('.toc-cat >> nth=0 >> a >> nth=0');
  await page.waitForSelector('.doc h1');
  assert.equal(await page.textContent('.doc h1'), cats.categories[0].docs[0].title);
});

test('fault write-up: related documents, lessons form with errors in Chinese and the new lesson', async () => {
  await page.goto(srv.base + '/#/doc/fault-repeated-broadband-drop');
  await page.waitForSelector('.lesson-form');
  assert.ok((await page.$$('nav.panel a[href^="#/doc/phrase-"]')).length >= 1, 'related documents');
  for (const id of ['l-author', 'l-text', 'l-incident', 'l-token']) assert.ok(await page.$(`label[for="${id}"]`), 'label for ' + id);
  /* The endpoint's contract (docs/api.md), answered by a stand-in. */
  const replies = [
    [401, { error: { code: 'unauthorized', message: '口令无效' } }],
    [403, { error: { code: 'read_only', message: '只读' } }],
    [400, { error: { code: 'bad_field', message: '日期格式应为 YYYY-MM-DD' } }],
    [201, { doc: 'fault-repeated-broadband-drop', lesson: { heading: '2025-03-01 王工', date: '2025-03-01', author: '王工', incident: 'INC-7', text: '光功率临界也要换皮线。', anchor: 's9' } }],
  ];
  const posted = [];
  await page.route('**/api/docs/*/lessons', (route) => {
    const r = route.request();
    posted.push({ auth: r.headers().authorization, body: r.postDataJSON() });
    const [status, body] = replies[posted.length - 1];
    route.fulfill({ status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) });
  });
  assert.equal(await page.inputValue('#l-author'), '李强', 'author defaults to the remembered technician');
  await page.fill('#l-author', '');
  await page.click('.lesson-form button[type="submit"]');
  assert.equal(await page.textContent('#lesson-msg'), '请填写作者。');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'l-author');
  await page.fill('#l-author', '王工');
  await page.fill('#l-text', '光功率临界也要换皮线。');
  await page.fill('#l-incident', 'INC-7');
  await page.fill('#l-token', 'wrong');
  await page.click('.lesson-form button[type="submit"]');
  await page.waitForFunction(() => /口令不正确/.test(document.querySelector('#lesson-msg').textContent));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'l-token');
  assert.equal(await page.evaluate(() => localStorage.getItem('ob.token')), null);
  await page.fill('#l-token', 'right-token');
  await page.click('.lesson-form button[type="submit"]');
  await page.waitForFunction(() => /只读/.test(document.querySelector('#lesson-msg').textContent));
  await page.click('.lesson-form button[type="submit"]');
  await page.waitForFunction(() => /内容有误:日期格式/.test(document.querySelector('#lesson-msg').textContent));
  await page.click('.lesson-form button[type="submit"]');
  await page.waitForSelector('#lesson-msg.ok');
  assert.equal(posted.length, 4);
  assert.equal(posted[0].auth, 'Bearer wrong');
  assert.equal(posted[3].auth, 'Bearer right-token');
  assert.deepEqual(posted[3].body, { author: '王工', text: '光功率临界也要换皮线。', incident: 'INC-7' });
  assert.equal(await page.evaluate(() => JSON.parse(localStorage.getItem('ob.token'))), 'right-token');
  assert.ok(await page.isHidden('#l-token'), 'token entered once');
  const h3 = await page.$$eval('.doc-body .is-new h3', (hs) => hs.map((h) => h.textContent));
  assert.deepEqual(h3, ['2025-03-01 王工']);
  assert.equal(await page.inputValue('#l-text'), '');
  await page.$eval('.is-new h3', (h) => h.scrollIntoView({ block: 'center' }));
  await shot(page, '10-lesson-added');
  await page.unroute('**/api/docs/*/lessons');
  /* And the real server answers in the same shape (an older server: 405). */
  await page.fill('#l-text', '真实服务器的回答');
  await page.click('.lesson-form button[type="submit"]');
  await page.waitForSelector('#lesson-msg.err');
  assert.match(await page.textContent('#lesson-msg'), /口令不正确|只读|暂不支持/);
});

test('fault write-up: a lesson posted to the real server (when it has write routes)', async (t) => {
  const help = (() => { try { return execFileSync(SERVE, ['--help'], { encoding: 'utf8', stdio: 'pipe' }); } catch (e) { return String(e.stdout || '') + String(e.stderr || ''); } })();
  if (!help.includes('--tokens')) return t.skip('this opsbook-serve has no write routes yet');
  const hb = path.join(tmp, 'hb-write');
  fs.cpSync(path.join(root, 'handbook'), hb, { recursive: true });
  const db = path.join(tmp, 'db-write');
  execFileSync(INDEX, ['--handbook', hb, '--db', db, '--lang', LANG], { stdio: 'pipe' });
  const tokens = path.join(tmp, 'tokens');
  const crypto = await import('node:crypto');
  fs.writeFileSync(tokens, `tester ${crypto.createHash('sha256').update('s3cret-token').digest('hex')}\n`);
  const w = await startServer(['--db', db, '--handbook', hb, '--tokens', tokens]);
  const p = await ctx.newPage();
  try {
    await p.goto(w.base + '/#/doc/fault-repeated-broadband-drop');
    await p.waitForSelector('.lesson-form');
    await p.fill('#l-author', '测试员');
    await p.fill('#l-text', '先测光功率,再决定换不换皮线。');
    await p.fill('#l-incident', 'INC-42');
    await p.fill('#l-token', 'not-the-token');
    await p.click('.lesson-form button[type="submit"]');
    await p.waitForFunction(() => /口令不正确/.test(document.querySelector('#lesson-msg').textContent));
    await p.fill('#l-token', 's3cret-token');
    await p.click('.lesson-form button[type="submit"]');
    await p.waitForSelector('#lesson-msg.ok');
    const heading = await p.textContent('.doc-body .is-new h3');
    assert.match(heading, /测试员/);
    assert.match(fs.readFileSync(path.join(hb, 'fault/repeated-broadband-drop.md'), 'utf8'), /先测光功率,再决定换不换皮线。/);
    /* The fresh copy replaced the cached one: a reload shows the lesson. */
    await p.waitForTimeout(500);
    await p.reload();
    await p.waitForSelector('.lesson-form');
    const hs = await p.$$eval('.doc-body h3', (x) => x.map((h) => h.textContent));
    assert.ok(hs.includes(heading), 'after reload: ' + hs);
    await p.$eval('.doc-body h3:last-of-type', (h) => h.scrollIntoView({ block: 'center' }));
    await shot(p, '10b-lesson-real-server');
  } finally {
    await p.close();
  }
});

test('keyboard: search, open a result, go back', async () => {
  await page.goto(srv.base + '/');
  await page.waitForSelector('html[data-ready]');
  await page.keyboard.press('Tab'); // skip link
  await page.keyboard.press('Tab'); // brand
  await page.keyboard.press('Tab'); // 搜索
  await page.keyboard.press('Tab'); // 目录
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'q');
  await page.keyboard.type('上门怎么自我介绍');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.card-link');
  await page.focus('.card-link');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.doc h1');
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1');
  await page.click('.back');
  await page.waitForSelector('#home:not([hidden]) .card');
  assert.equal(await page.inputValue('#q'), '上门怎么自我介绍');
});

test('layout: 320–430 px and desktop; tap targets, labels, no overflow', async () => {
  const p = await ctx.newPage();
  const pages = [['/#/q/' + encodeURIComponent(QUERY), '.card'], ['/#/doc/phrase-self-intro-at-door', '.phrase'],
    ['/#/doc/sop-idc-environment', 'nav.toc'], ['/#/doc/fault-repeated-broadband-drop', '.lesson-form'], ['/#/toc', '.toc-cat']];
  for (const w of [320, 430, 1280]) {
    await p.setViewportSize({ width: w, height: w > 500 ? 900 : 780 });
    for (const [u, sel] of pages) {
      await p.goto(srv.base + u);
      await p.waitForSelector(sel);
      const bad = await p.evaluate(() => {
        const out = [];
        if (document.documentElement.scrollWidth > innerWidth) out.push('horizontal overflow ' + document.documentElement.scrollWidth);
        for (const e of document.querySelectorAll('button, input, textarea, summary, .chip, .bar-nav a, .toc-list a, .list a, .pager a')) {
          const r = e.getBoundingClientRect();
          if (!r.width || getComputedStyle(e).visibility === 'hidden' || e.closest('[hidden]')) continue;
          if (r.height < 44 || (e.matches('button, .chip') && r.width < 44)) out.push(`small target ${e.tagName}.${e.className} ${r.width}x${r.height}`);
        }
        for (const i of document.querySelectorAll('input, textarea')) {
          if (!i.labels.length && !i.getAttribute('aria-label')) out.push('no label: ' + i.id);
        }
        for (const t of document.querySelectorAll('.doc-body p, .snip, .say, .phrase, .noresult p, #q')) {
          if (parseFloat(getComputedStyle(t).fontSize) < 16) out.push('small text ' + t.className);
        }
        return out;
      });
      assert.deepEqual(bad, [], `${w}px ${u}`);
    }
    await p.goto(srv.base + pages[0][0]);
    await p.waitForSelector('.card');
    await shot(p, `11-results-${w}px`);
  }
  await p.close();
});

test('offline: the service worker keeps phrases; search and cached documents work without network', async () => {
  await page.goto(srv.base + '/');
  await page.waitForFunction(() => navigator.serviceWorker.controller && Number(document.documentElement.dataset.offlineReady) >= 30,
    null, { timeout: 30000 });
  const phrases = (await apiJson('/api/categories')).categories.flatMap((c) => c.docs).filter((d) => d.type === 'phrase').length;
  assert.equal(Number(await page.getAttribute('html', 'data-offline-ready')), phrases, 'every phrase is on the device');
  /* The next sync revalidates what the device holds: the table of contents
   * and every phrase answer 304, no body sent. */
  const from = srv.log.length;
  await page.evaluate(() => new Promise((res) => {
    navigator.serviceWorker.addEventListener('message', (e) => { if (e.data && e.data.type === 'synced') res(); });
    navigator.serviceWorker.controller.postMessage({ type: 'sync' });
  }));
  const synced = () => srv.log.slice(from).filter((l) => / GET \/api\/(categories|docs\/)\S* /.test(l));
  for (let i = 0; i < 50 && synced().length < phrases + 1; i++) await page.waitForTimeout(50);
  const sync = synced();
  assert.equal(sync.length, phrases + 1, 'a second sync asks for the table and each phrase once');
  assert.ok(sync.every((l) => / 304 0 /.test(l)), 'a second sync: 304 and no body each time: ' + sync.filter((l) => !/ 304 0 /.test(l)).join(' | '));
  await ctx.setOffline(true);
  try {
    await page.reload(); // the app shell from the cache
    await page.waitForSelector('html[data-ready]');
    await search(page, QUERY);
    await page.waitForSelector('[data-group="phrase"] .card');
    const top = (await cardIds(page, 'phrase')).slice(0, 3);
    assert.ok(top.includes('phrase-complaint-repeated'), 'offline top 3: ' + top);
    assert.ok(await page.isVisible('#net'));
    assert.equal(await page.textContent('#net'), '离线');
    assert.match(await page.textContent('.note'), /离线/);
    await shot(page, '12-offline-search');
    await search(page, '上门怎么自我介绍');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-group="phrase"] .card')].slice(0, 3)
      .some((c) => c.dataset.id === 'phrase-self-intro-at-door'));
    await page.click('[data-id="phrase-self-intro-at-door"] .card-link');
    await page.waitForSelector('.phrase');
    await page.goto(srv.base + '/#/doc/sop-idc-environment'); // opened earlier: cached
    await page.waitForSelector('nav.toc');
    await page.goto(srv.base + '/#/doc/sop-delivery-norms'); // never opened
    await page.waitForSelector('.doc h1');
    assert.match(await page.textContent('.doc'), /离线:这篇文档没有保存在本机/);
    await shot(page, '13-offline-doc-missing');
  } finally {
    await ctx.setOffline(false);
  }
});

test('no request left our server; no script errors', () => {
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, []);
});

test('budgets: first load ≤ 60 KB (gzip); on Fast 3G the search box answers within 1.5 s; a later visit loads from cache', async () => {
  const c = await launch('budget');
  const p = c.pages()[0] || (await c.newPage());
  const cdp = await c.newCDPSession(p);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  const reqs = [];
  c.on('requestfinished', async (r) => {
    try {
      const s = await r.sizes();
      const res = await r.response();
      reqs.push({ url: r.url(), bytes: s.responseBodySize + s.responseHeadersSize, sw: !!r.serviceWorker(), fromSW: !!(res && res.fromServiceWorker()) });
    } catch { /* page closed */ }
  });
  /* The moment the query went in, as the page saw it. */
  await c.addInitScript(() => addEventListener('input', () => performance.mark('ob:typed'), { capture: true, once: true }));
  const logFrom = srv.log.length;
  await p.goto(srv.base + '/', { waitUntil: 'commit' });
  /* A person types as soon as the box is on the screen. */
  await p.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length, null, { polling: 'raf' });
  await p.fill('#q', QUERY);
  await p.waitForSelector('[data-group="phrase"] .card');
  const t = await p.evaluate(() => {
    const at = (n) => performance.getEntriesByName(n)[0].startTime;
    return { paint: at('first-contentful-paint'), typed: at('ob:typed'), answer: at('ob:answer'), ready: at('ob:ready') };
  });
  await p.waitForFunction(() => Number(document.documentElement.dataset.offlineReady) >= 30, null, { timeout: 60000 });
  await p.waitForTimeout(500);
  const first = reqs.slice();
  const page = first.filter((r) => !r.sw).reduce((n, r) => n + r.bytes, 0);
  const sw = first.filter((r) => r.sw).reduce((n, r) => n + r.bytes, 0);
  const log1 = served(srv, logFrom);
  const shell = first.filter((r) => !r.sw && !r.url.includes('/api/'));
  console.log(`# first load, Fast 3G: search box on screen ${t.paint.toFixed(0)} ms, query typed ${t.typed.toFixed(0)} ms, ` +
    `first answer ${t.answer.toFixed(0)} ms (${(t.answer - t.typed).toFixed(0)} ms after typing), app.js ready ${t.ready.toFixed(0)} ms`);
  console.log(`# first load bytes (headers + gzip bodies): page ${(page / 1024).toFixed(1)} KB in ${first.filter((r) => !r.sw).length} requests ` +
    `(app shell ${(shell.reduce((n, r) => n + r.bytes, 0) / 1024).toFixed(1)} KB), service worker install incl. every phrase ` +
    `${(sw / 1024).toFixed(1)} KB in ${first.filter((r) => r.sw).length} requests, total ${((page + sw) / 1024).toFixed(1)} KB; ` +
    `server access log: ${(log1.bytes / 1024).toFixed(1)} KB of bodies in ${log1.n} responses`);
  for (const r of shell) console.log(`#   ${r.url.replace(srv.base, '')} ${r.bytes} B`);
  if (process.env.OB_DEBUG) {
    console.log(await p.evaluate(() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
      .map((e) => `${e.name.replace(location.origin, '')} start ${e.startTime.toFixed(0)} resp ${e.responseStart.toFixed(0)} end ${e.responseEnd.toFixed(0)}`).join('\n')));
    for (const r of first.filter((x) => x.sw)) console.log('# sw', r.url.replace(srv.base, ''), r.bytes);
  }
  await shot(p, '14-fast3g-first-answer');

  /* Later visit: a new tab, same device. */
  const reqsBefore = reqs.length;
  const log2From = srv.log.length;
  const p2 = await c.newPage();
  const cdp2 = await c.newCDPSession(p2);
  await cdp2.send('Network.enable');
  await cdp2.send('Network.emulateNetworkConditions', FAST_3G);
  await p2.goto(srv.base + '/', { waitUntil: 'commit' });
  await p2.fill('#q', QUERY);
  await p2.waitForSelector('[data-group="phrase"] .card');
  const t2 = await p2.evaluate(() => {
    const at = (n) => performance.getEntriesByName(n)[0].startTime;
    return { paint: at('first-contentful-paint'), typed: at('ob:typed'), answer: at('ob:answer'), ready: at('ob:ready') };
  });
  await p2.waitForTimeout(1500);
  const second = reqs.slice(reqsBefore).filter((r) => !r.sw);
  const fromNet = second.filter((r) => !r.fromSW && !r.url.includes('/api/'));
  const log2 = served(srv, log2From);
  console.log(`# later visit, Fast 3G: search box on screen ${t2.paint.toFixed(0)} ms, app.js ready ${t2.ready.toFixed(0)} ms, ` +
    `first answer ${(t2.answer - t2.typed).toFixed(0)} ms after typing (the service worker's own fetch is not throttled); ` +
    `app shell from the service worker: ${second.filter((r) => r.fromSW && !r.url.includes('/api/')).length} files, ` +
    `from the network: ${fromNet.length}; server sent ${(log2.bytes / 1024).toFixed(1)} KB of bodies (the answer + background revalidation)`);

  assert.ok(page + sw <= BUDGET_BYTES, `first load ${page + sw} B > ${BUDGET_BYTES} B`);
  assert.ok(t.paint <= BUDGET_MS, `search box on screen after ${t.paint} ms > ${BUDGET_MS} ms`);
  assert.ok(t.ready <= BUDGET_MS, `app ready after ${t.ready} ms > ${BUDGET_MS} ms`);
  assert.ok(t.answer - t.typed <= 1000, `answer ${t.answer - t.typed} ms after typing`);
  assert.equal(fromNet.length, 0, 'later visit: app shell from cache');
  assert.ok(t2.ready < t.ready, 'later visit is faster');
});
