/* Opsbook service worker: offline app shell, every phrase, recent documents.
 *   app shell        cache first, refreshed in the background on each visit
 *   /api/docs/*      cache first (phrases + recently opened), revalidated in the background
 *   /api/search, /api/answer, /api/categories   network first, last answers as fallback
 * Cache names are shared with app.js (on-device search reads ob-phrases and ob-docs).
 * See docs/web.md. */
'use strict';
const VERSION = '1';
const SHELL = 'ob-shell-' + VERSION;
const PHRASES = 'ob-phrases';
const DOCS = 'ob-docs';
const API = 'ob-api';
/* './' is index.html under the URL the page was loaded from (so installing
 * finds it in the HTTP cache). */
const SHELL_FILES = ['./', 'app.css', 'app.js', 'icon.svg', 'manifest.webmanifest'];
const MAX_DOCS = 40;
const MAX_API = 30;
const scope = self.registration.scope;
const abs = (rel) => new URL(rel, scope).href;

self.addEventListener('install', (e) => {
  e.waitUntil((async () => {
    const c = await caches.open(SHELL);
    /* The page has just loaded these: the HTTP cache (max-age=300) answers. */
    await c.addAll(SHELL_FILES.map(abs));
    /* Best effort: a failure here must not stop the shell from installing;
     * the page asks for another sync later. */
    await syncPhrases().catch(() => {});
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (e) => {
  e.waitUntil((async () => {
    for (const k of await caches.keys()) if (k.startsWith('ob-shell-') && k !== SHELL) await caches.delete(k);
    await self.clients.claim();
    await notify();
  })());
});

self.addEventListener('message', (e) => {
  if (e.data && e.data.type === 'sync') e.waitUntil(syncPhrases().catch(() => {}));
});

async function notify() {
  const c = await caches.open(PHRASES);
  const count = (await c.keys()).length;
  for (const cl of await self.clients.matchAll({ includeUncontrolled: true })) cl.postMessage({ type: 'synced', count });
}

/* Every phrase document, fetched by id from the table of contents; a copy
 * we already hold, the table included, is revalidated with its ETag (304:
 * nothing sent; the table is 1.3 MB gzip'ed at 100,000 files). */
async function syncPhrases() {
  const api = await caches.open(API);
  const held = await api.match(abs('api/categories'));
  const tag = held && held.headers.get('ETag');
  const r = await fetch(abs('api/categories'), { cache: 'no-store', headers: tag ? { 'If-None-Match': tag } : {} });
  let cats;
  if (r.status === 304 && held) {
    cats = await held.json();
  } else {
    if (!r.ok) throw new Error('categories ' + r.status);
    await api.put(abs('api/categories'), r.clone());
    cats = await r.json();
  }
  const ids = cats.categories.flatMap((c) => c.docs).filter((d) => d.type === 'phrase').map((d) => d.id);
  const c = await caches.open(PHRASES);
  const want = new Set(ids.map((id) => abs('api/docs/' + id)));
  for (const k of await c.keys()) if (!want.has(k.url)) await c.delete(k);
  const queue = [...want];
  const worker = async () => {
    while (queue.length) {
      const url = queue.shift();
      try {
        const old = await c.match(url);
        const tag = old && old.headers.get('ETag');
        const res = await fetch(url, { cache: 'no-store', headers: tag ? { 'If-None-Match': tag } : {} });
        if (res.status === 200) await c.put(url, res);
      } catch { /* keep what we have */ }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  await notify();
}

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (!url.href.startsWith(scope)) return;
  const rel = url.href.slice(scope.length).replace(/[?#].*$/, '');
  if (req.mode === 'navigate') {
    if (rel === '' || rel === 'index.html') e.respondWith(shell('./', e));
  } else if (SHELL_FILES.includes(rel)) e.respondWith(shell(rel, e));
  else if (/^api\/docs\/[a-z0-9][a-z0-9-]{0,63}$/.test(rel)) e.respondWith(doc(req, e));
  else if (/^api\/(search|answer|categories)$/.test(rel)) e.respondWith(networkFirst(req, e));
});

let refreshed = 0;
async function shell(file, e) {
  const hit = await caches.match(abs(file), { cacheName: SHELL });
  if (!hit) return fetch(e.request);
  /* Refresh the whole shell in the background at most once a minute; the
   * next visit gets the new files (all or none, so they stay consistent). */
  if (e.request.mode === 'navigate' && Date.now() - refreshed > 60e3) {
    refreshed = Date.now();
    e.waitUntil(refreshShell());
  }
  return hit;
}
async function refreshShell() {
  try {
    const res = await Promise.all(SHELL_FILES.map((f) => fetch(abs(f), { cache: 'no-cache' })));
    if (res.some((r) => !r.ok)) return;
    const c = await caches.open(SHELL);
    await Promise.all(res.map((r, i) => c.put(abs(SHELL_FILES[i]), r)));
  } catch { /* offline: keep the old shell */ }
}

async function doc(req, e) {
  const key = req.url.replace(/[?#].*$/, '');
  const p = await caches.open(PHRASES);
  const d = await caches.open(DOCS);
  const isPhrase = !!(await p.match(key));
  const store = isPhrase ? p : d;
  const hit = await store.match(key);
  const wantFresh = req.cache === 'no-cache' || req.cache === 'reload' || req.cache === 'no-store';
  if (hit && !wantFresh) {
    e.waitUntil(revalidate(store, key, hit, !isPhrase));
    return hit;
  }
  try {
    const res = await fetch(key, { cache: 'no-store' });
    if (res.ok) e.waitUntil(put(store, key, res.clone(), !isPhrase));
    return res;
  } catch (err) {
    if (hit) return hit;
    return offlineReply();
  }
}
async function revalidate(store, key, hit, lru) {
  try {
    const tag = hit.headers.get('ETag');
    const res = await fetch(key, { cache: 'no-store', headers: tag ? { 'If-None-Match': tag } : {} });
    if (res.status === 200) await put(store, key, res, lru);
    else if (lru) await put(store, key, hit.clone(), lru);
  } catch { /* offline */ }
}
/* Recently opened documents: delete + put keeps the key order = recency. */
async function put(store, key, res, lru) {
  if (lru) await store.delete(key);
  await store.put(key, res);
  if (lru) {
    const keys = await store.keys();
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_DOCS))) await store.delete(k);
  }
}

async function networkFirst(req, e) {
  const c = await caches.open(API);
  try {
    const res = await fetch(req);
    if (res.ok) e.waitUntil(remember(c, req.url, res.clone()));
    return res;
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    const hit = await c.match(req.url);
    if (hit) {
      const h = new Headers(hit.headers);
      h.set('X-Ob-From-Cache', '1');
      return new Response(hit.body, { status: hit.status, headers: h });
    }
    return offlineReply();
  }
}

async function remember(c, url, res) {
  await c.delete(url);
  await c.put(url, res);
  const keys = (await c.keys()).filter((k) => !k.url.endsWith('/api/categories'));
  for (const k of keys.slice(0, Math.max(0, keys.length - MAX_API))) await c.delete(k);
}

function offlineReply() {
  return new Response(JSON.stringify({ error: { code: 'offline', message: '离线:无法连接服务器' } }), {
    status: 503,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'X-Ob-Offline': '1' },
  });
}
