/* Opsbook web page: search, scripted replies, reading, lessons, offline.
 * Plain script, no build step. Talks only to this server (docs/api.md).
 * Everything the server sends is inserted as text, except the documents'
 * html, which goes through sanitize() first. See docs/web.md. */
'use strict';
(() => {
  window.OB_APP = true;
  const $ = (s, r = document) => r.querySelector(s);
  const $$ = (s, r = document) => Array.from(r.querySelectorAll(s));

  /* el('a', {href, class, onclick}, child, ...): children are nodes or text. */
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of kids.flat(9)) if (c != null && c !== false && c !== '') e.append(c);
    return e;
  }

  const store = {
    get(k, d) {
      try { const v = localStorage.getItem('ob.' + k); return v == null ? d : JSON.parse(v); } catch { return d; }
    },
    set(k, v) {
      try { if (v == null) localStorage.removeItem('ob.' + k); else localStorage.setItem('ob.' + k, JSON.stringify(v)); } catch { /* private mode or full */ }
    },
  };

  const TYPE_LABEL = { phrase: '话术', sop: '流程', fault: '故障复盘' };
  const GROUPS = [
    ['phrase', 'replies', '怎么说', '标准话术'],
    ['sop', 'procedures', '怎么做', '流程与制度'],
    ['fault', 'faults', '类似故障', '故障复盘'],
  ];
  const LIMIT = { phrase: 5, sop: 5, fault: 3 };
  const EXAMPLES = ['客户说宽带修了好几次还是断', '上门怎么自我介绍', '机房太热了温度多少算正常', '客户送东西要不要收', '光猫LOS灯一闪一闪的'];
  /* Slots about the technician, remembered on this device. */
  const REMEMBER = /技术员|姓名|名字|工号|分局|支局|网格|班组|地区|区域|单位/;
  const SLOT_RE = /\{\{([^{}\s]{1,16})\}\}/g;
  const CACHES = ['ob-phrases', 'ob-docs'];

  const input = $('#q');
  const results = $('#results');
  const statusEl = $('#status');
  const docView = $('#doc');
  const tocView = $('#toc');

  /* ---------- network state ---------- */
  let offline = false;
  function setOffline(v) {
    offline = v;
    $('#net').hidden = !v;
    document.documentElement.classList.toggle('is-offline', v);
  }
  addEventListener('offline', () => setOffline(true));
  addEventListener('online', () => {
    setOffline(false);
    if (lastLocal && input.value.trim()) run();
  });
  setOffline(navigator.onLine === false);

  /* Timings read by tests/browser (first answer, app ready). */
  function mark(name) {
    try { if (!performance.getEntriesByName(name).length) performance.mark(name); } catch { /* old browser */ }
  }

  class ApiError extends Error {}
  async function api(path, opts = {}) {
    let r;
    try {
      r = await fetch(path, opts);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      setOffline(true);
      const err = new ApiError('离线:无法连接服务器');
      err.offline = true;
      throw err;
    }
    let body = null;
    try { body = await r.json(); } catch { /* not JSON */ }
    const code = body && body.error && body.error.code;
    if (code === 'offline') {
      setOffline(true);
      const err = new ApiError(body.error.message);
      err.offline = true;
      throw err;
    }
    if (r.headers.get('X-Ob-From-Cache')) setOffline(true);
    else if (navigator.onLine !== false) setOffline(false);
    if (!r.ok) {
      const err = new ApiError((body && body.error && body.error.message) || `服务器出错(${r.status}),请稍后重试`);
      err.status = r.status;
      err.code = code;
      throw err;
    }
    return body;
  }

  /* ---------- safe text ---------- */
  const ENT = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  function decodeEntities(s) {
    return s.replace(/&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|(amp|lt|gt|quot|apos));/gi, (m, d, x, n) => {
      if (n) return ENT[n.toLowerCase()];
      const c = parseInt(d || x, d ? 10 : 16);
      return c > 0 && c < 0x110000 && (c < 0xd800 || c > 0xdfff) ? String.fromCodePoint(c) : '\ufffd';
    });
  }
  /* The API's snippet is escaped text with <mark></mark>. Rebuild it as DOM
   * nodes: only <mark> becomes an element, everything else stays text, so
   * nothing in it can ever be markup. */
  function snippetNodes(s) {
    const out = [];
    let inMark = false;
    for (const part of String(s).split(/(<mark>|<\/mark>)/)) {
      if (part === '<mark>') inMark = true;
      else if (part === '</mark>') inMark = false;
      else if (part) {
        const t = decodeEntities(part);
        out.push(inMark ? el('mark', null, t) : document.createTextNode(t));
      }
    }
    return out;
  }

  /* Documents' html (cmark, raw HTML suppressed) checked again against an
   * allow-list: unknown elements become their text, attributes are dropped
   * except a few, and nothing may load from another server. */
  const TAGS = new Set(('P H1 H2 H3 H4 H5 H6 UL OL LI BLOCKQUOTE PRE CODE EM STRONG A BR HR TABLE THEAD TBODY TR TH TD ' +
    'DEL S SUP SUB SPAN DIV IMG').split(' '));
  const DROP = new Set('SCRIPT STYLE IFRAME OBJECT EMBED TEMPLATE SVG MATH NOSCRIPT LINK META BASE FORM'.split(' '));
  function sanitize(html) {
    const t = document.createElement('template');
    t.innerHTML = String(html || '');
    (function clean(node) {
      for (const c of Array.from(node.children)) {
        if (DROP.has(c.tagName)) { c.remove(); continue; }
        if (!TAGS.has(c.tagName)) { c.replaceWith(document.createTextNode(c.textContent)); continue; }
        for (const a of Array.from(c.attributes)) {
          const n = a.name;
          const keep = (n === 'id' && /^[A-Za-z][\w-]{0,63}$/.test(a.value)) ||
            (n === 'start' && c.tagName === 'OL') || (n === 'href' && c.tagName === 'A') ||
            (n === 'alt' && c.tagName === 'IMG') || n === 'title';
          if (!keep) c.removeAttribute(n);
        }
        if (c.tagName === 'A') {
          const h = c.getAttribute('href') || '';
          if (!/^(https?:|mailto:|tel:|#)/i.test(h)) c.removeAttribute('href');
          else if (/^https?:/i.test(h)) { c.target = '_blank'; c.rel = 'noopener noreferrer'; }
        }
        if (c.tagName === 'IMG') { c.replaceWith(document.createTextNode(c.getAttribute('alt') || '')); continue; }
        clean(c);
      }
    })(t.content);
    return t.content;
  }

  function badge(type) {
    return el('span', { class: 'badge' + (type === 'fault' ? ' fault' : '') }, TYPE_LABEL[type] || '文档');
  }

  let toastTimer = 0;
  function toast(msg) {
    const t = $('#toast');
    t.textContent = msg;
    t.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => t.classList.remove('show'), 1800);
  }

  function status(msg, err) {
    statusEl.textContent = msg || '';
    statusEl.classList.toggle('err', !!err);
  }

  /* ---------- phrases and slots ---------- */
  /* The source writes some blanks as an ellipsis (「请您帮忙……,可以吗」); the
   * handbook keeps it verbatim and the page offers it as a blank to fill. */
  function blanks(text) {
    return String(text).replace(/…{2,}/g, '{{内容}}');
  }
  function slotNames(text) {
    const out = [];
    for (const m of String(text).matchAll(SLOT_RE)) if (!out.includes(m[1])) out.push(m[1]);
    return out;
  }
  function slotSpan(name, vals) {
    const v = vals && (vals[name] || '').trim();
    return el('span', { class: 'slot' + (v ? '' : ' empty'), 'data-slot': name }, v || `〔${name}〕`);
  }
  function phraseNodes(text, vals) {
    return String(text).split(SLOT_RE).map((p, i) => (i % 2 ? slotSpan(p, vals) : p));
  }
  function fill(text, vals) {
    return String(text).replace(SLOT_RE, (m, n) => (vals[n] || '').trim());
  }

  async function copyText(text) {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        return true;
      }
    } catch { /* fall back below */ }
    const back = document.activeElement;
    const ta = el('textarea', { readonly: true, 'aria-hidden': 'true', class: 'offscreen' });
    ta.value = text;
    ta.style.position = 'fixed';
    ta.style.top = '-100px';
    ta.style.opacity = '0';
    document.body.append(ta);
    ta.select();
    ta.setSelectionRange(0, text.length);
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    if (back && back.focus) back.focus();
    return ok;
  }

  /* ---------- search ---------- */
  let chip = '';
  let timer = 0;
  let seq = 0;
  let ctl = null;
  let lastLocal = false;
  let shownQuery = null;

  function syncClear() { $('#clear').hidden = !input.value; }

  function setHash(h) {
    if (location.hash !== h) history.replaceState(null, '', h || location.pathname + location.search);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(run, 200);
  }

  async function run(offset = 0) {
    clearTimeout(timer);
    const q = input.value.trim();
    if (ctl) ctl.abort();
    ctl = null;
    const my = ++seq;
    if (!offset) setHash(q ? '#/q/' + encodeURIComponent(q) : '#/');
    if (!q) {
      shownQuery = null;
      renderIdle();
      return;
    }
    const type = chip;
    if (offline && navigator.onLine === false) {
      const local = await localSearch(q, type);
      if (my === seq) renderResults(q, local, { local: true, type });
      return;
    }
    /* A search the inline script in index.html started before we arrived. */
    const early = window.OB_EARLY;
    window.OB_EARLY = null;
    const c = (ctl = new AbortController());
    results.setAttribute('aria-busy', 'true');
    if (!offset) status('正在查找…');
    /* Weak signal: after 2 s show what the device has, until the server answers. */
    const slow = setTimeout(async () => {
      const local = await localSearch(q, type);
      if (!offset && my === seq && !c.signal.aborted && hasAny(local)) renderResults(q, local, { local: true, slow: true, type });
    }, 2000);
    try {
      let groups, more = 0;
      if (type) {
        const d = await api(`api/search?type=${type}&limit=20&offset=${offset}&q=${encodeURIComponent(q)}`, { signal: c.signal });
        groups = { [type]: d.results || [] };
        more = d.total > offset + groups[type].length && groups[type].length === 20 ? offset + 20 : 0;
      } else {
        const d = (early && early.q === q && !offset && (await early.p)) ||
          (await api('api/answer?q=' + encodeURIComponent(q), { signal: c.signal }));
        groups = {};
        for (const [t, key] of GROUPS) groups[t] = d[key] || [];
      }
      if (my !== seq) return;
      renderResults(q, groups, { type, more, append: offset > 0 });
    } catch (e) {
      if (e.name === 'AbortError' || my !== seq) return;
      if (e.offline) {
        const local = await localSearch(q, type);
        if (my === seq) renderResults(q, local, { local: true, type });
        return;
      }
      results.replaceChildren();
      status(e.message, true);
    } finally {
      clearTimeout(slow);
      if (my === seq) results.removeAttribute('aria-busy');
    }
  }

  function hasAny(groups) {
    return GROUPS.some(([t]) => groups[t] && groups[t].length);
  }

  function card(r) {
    const href = '#/doc/' + r.id + (r.anchor ? '/' + r.anchor : '');
    const meta = [r.category, r.section].filter(Boolean).join(' · ');
    const li = el('li', { class: 'card', 'data-id': r.id, 'data-type': r.type },
      el('a', { class: 'card-link', href }, r.title, meta && el('span', { class: 'meta' }, meta)));
    if (r.type === 'phrase' && r.phrase) {
      const say = blanks(r.phrase);
      li.append(el('p', { class: 'say' }, phraseNodes(say)));
      const slots = slotNames(say);
      li.append(el('div', { class: 'card-actions' }, slots.length
        ? el('span', { class: 'need' }, '点开填写:' + slots.join('、'))
        : el('button', {
          type: 'button', class: 'btn', 'aria-label': `复制话术:${r.title}`,
          onclick: async () => toast((await copyText(r.phrase)) ? '已复制' : '复制失败,请点开后长按文字复制'),
        }, '复制')));
    } else if (r.marked) {
      li.append(el('p', { class: 'snip' }, r.marked));
    } else if (r.snippet) {
      li.append(el('p', { class: 'snip' }, snippetNodes(r.snippet)));
    }
    return li;
  }

  function renderResults(q, groups, o = {}) {
    lastLocal = !!o.local;
    shownQuery = q;
    if (o.append) {
      const list = $(`[data-group="${o.type}"] .cards`, results);
      $$('.more', results).forEach((b) => b.remove());
      if (list) list.append(...(groups[o.type] || []).map(card));
      if (o.more) results.append(moreButton(o.more));
      status(`已显示 ${$$('.card', results).length} 条`);
      return;
    }
    const out = [];
    let n = 0;
    if (o.local) {
      out.push(el('p', { class: 'note' }, o.slow
        ? '网络较慢,先显示本机保存的结果,服务器回复后自动更新。'
        : '离线:以下结果来自本机保存的话术和最近打开过的文档。'));
    }
    for (const [t, , title, sub] of GROUPS) {
      const items = groups[t];
      if (!items || !items.length) continue;
      n += items.length;
      out.push(el('section', { class: 'group', 'data-group': t, 'aria-labelledby': 'g-' + t },
        el('h2', { id: 'g-' + t }, title, el('small', null, sub)),
        el('ol', { class: 'cards' }, items.map(card))));
    }
    if (!n) out.push(emptyHint(q, o));
    if (o.more) out.push(moreButton(o.more));
    results.replaceChildren(...out);
    status(n ? `找到 ${n} 条结果` : '没有找到结果');
    if (!o.local) mark('ob:answer');
  }

  function moreButton(offset) {
    return el('button', { type: 'button', class: 'more', onclick: () => run(offset) }, '显示更多');
  }

  function emptyHint(q, o) {
    const tips = [
      el('li', null, '换个说法:用客户的原话或看到的现象,比如「光猫红灯闪」「机房太热」。'),
      el('li', null, '少写几个字,只留关键的词。'),
    ];
    if (o.type) {
      tips.unshift(el('li', null, '取消「', GROUPS.find((g) => g[0] === o.type)[2], '」筛选,',
        el('button', { type: 'button', class: 'linklike', onclick: () => setChip('') }, '查看全部类型'), '。'));
    }
    if (o.local) tips.push(el('li', null, '离线时只能查到本机保存的话术和最近打开过的文档;有信号后再试一次。'));
    tips.push(el('li', null, '或者在', el('a', { href: '#/toc' }, '目录'), '里按类别查找。'));
    return el('div', { class: 'noresult' }, el('p', null, `没有找到与「${q}」相关的内容。可以试试:`), el('ul', null, tips));
  }

  function renderIdle() {
    const recent = store.get('recent', []);
    status('');
    lastLocal = false;
    results.replaceChildren(...[
      el('h2', { class: 'home-h' }, '试试这样问'),
      el('ul', { class: 'examples' }, EXAMPLES.map((x) => el('li', null,
        el('button', { type: 'button', onclick: () => { input.value = x; syncClear(); run(); } }, x)))),
      recent.length ? [el('h2', { class: 'home-h' }, '最近查看'),
        el('ul', { class: 'list' }, recent.map((r) => el('li', null, el('a', { href: '#/doc/' + r.id }, badge(r.type), r.title))))] : null,
      el('p', null, '新员工可以在', el('a', { href: '#/toc' }, '目录'), '里按类别通读手册。')].flat().filter(Boolean));
  }

  function setChip(t) {
    chip = t;
    for (const b of $$('.chip')) b.setAttribute('aria-pressed', String(b.dataset.type === t));
    if (input.value.trim()) run();
  }

  /* ---------- on-device search (offline) ---------- */
  function norm(s) {
    return String(s || '').normalize('NFKC').toLowerCase().replace(SLOT_RE, '').replace(/[^\p{L}\p{N}]+/gu, ' ');
  }
  function addGrams(s, uni, bi) {
    for (const w of norm(s).split(' ')) {
      const a = Array.from(w);
      for (let i = 0; i < a.length; i++) {
        uni.add(a[i]);
        if (i + 1 < a.length) bi.add(a[i] + a[i + 1]);
      }
    }
  }
  function fieldOf(...texts) {
    const f = { uni: new Set(), bi: new Set() };
    for (const t of texts.flat()) addGrams(t, f.uni, f.bi);
    return f;
  }
  let local = { key: '', docs: [] };
  async function localDocs() {
    if (!('caches' in window)) return [];
    const entries = [];
    try {
      for (const name of CACHES) {
        if (!(await caches.has(name))) continue;
        const c = await caches.open(name);
        for (const k of await c.keys()) entries.push([c, k]);
      }
    } catch { return local.docs; }
    const key = entries.map((e) => e[1].url).sort().join('\n');
    if (key === local.key) return local.docs;
    const docs = await Promise.all(entries.map(async ([c, k]) => {
      try {
        const d = await (await c.match(k)).json();
        if (!d || !d.id) return null;
        const body = (d.markdown || '').replace(/<!--[\s\S]*?-->/g, '');
        return {
          d,
          f: [[3, fieldOf(d.symptoms || [], d.tags || [])], [2, fieldOf(d.title)], [1, fieldOf(d.phrase || '', body)]],
        };
      } catch { return null; }
    }));
    const seen = new Set();
    local = { key, docs: docs.filter((x) => x && !seen.has(x.d.id) && seen.add(x.d.id)) };
    return local.docs;
  }
  /* Score = sum over the query's bigrams (and, lightly, characters) of the
   * best field weight they occur in (symptoms 3, title 2, text 1) times an
   * idf over the documents on the device. */
  async function localSearch(q, type) {
    const docs = await localDocs();
    const qf = fieldOf(q);
    const groups = { phrase: [], sop: [], fault: [] };
    if (!docs.length) return groups;
    const idf = new Map();
    const w = (x, kind) => {
      if (!idf.has(kind + x)) {
        let df = 0;
        for (const e of docs) if (e.f.some(([, f]) => f[kind].has(x))) df++;
        idf.set(kind + x, Math.log(1 + docs.length / (df || 1)));
      }
      return idf.get(kind + x);
    };
    const scored = [];
    for (const e of docs) {
      if (type && e.d.type !== type) continue;
      let s = 0, hits = 0;
      for (const [kind, k] of [['bi', 1], ['uni', 0.25]]) {
        for (const g of qf[kind]) {
          let best = 0;
          for (const [wt, f] of e.f) if (wt > best && f[kind].has(g)) best = wt;
          if (best) { s += k * best * w(g, kind); if (kind === 'bi') hits++; }
        }
      }
      if (hits || (!qf.bi.size && s)) scored.push([s, e.d]);
    }
    scored.sort((a, b) => b[0] - a[0]);
    const floor = scored.length ? scored[0][0] * 0.2 : 0;
    for (const [s, d] of scored) {
      const g = groups[d.type];
      if (!g || s < floor || g.length >= (type ? 20 : LIMIT[d.type])) continue;
      g.push({
        id: d.id, type: d.type, title: d.title, category: d.category, phrase: d.phrase,
        marked: d.phrase ? null : markText((d.symptoms || [])[0] || d.title, qf.bi),
      });
    }
    return groups;
  }
  function markText(text, qbi) {
    const a = Array.from(text);
    const on = a.map(() => false);
    const n = a.map((c) => norm(c).trim());
    for (let i = 0; i + 1 < a.length; i++) if (qbi.has(n[i] + n[i + 1])) on[i] = on[i + 1] = true;
    const out = [];
    let i = 0;
    while (i < a.length) {
      let j = i;
      while (j < a.length && on[j] === on[i]) j++;
      const t = a.slice(i, j).join('');
      out.push(on[i] ? el('mark', null, t) : t);
      i = j;
    }
    return out;
  }

  /* ---------- views and routing ---------- */
  let homeScroll = 0;
  let inApp = 0;

  function show(name) {
    const homeShown = !$('#home').hidden;
    if (homeShown && name !== 'home') homeScroll = scrollY;
    for (const v of $$('.view')) v.hidden = v.id !== name;
    for (const a of $$('.bar-nav a')) {
      const on = (a.getAttribute('href') === '#/toc') === (name === 'toc') && name !== 'doc';
      if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
  }

  function route() {
    const h = decodeHash(location.hash.slice(1)) || '/';
    let m;
    if ((m = h.match(/^\/doc\/([a-z0-9][a-z0-9-]{0,63})(?:\/([A-Za-z][\w-]{0,63}))?$/))) return showDoc(m[1], m[2]);
    if (h === '/toc') return showToc();
    m = h.match(/^\/q\/(.*)$/s);
    return showHome(m ? m[1] : null);
  }
  function decodeHash(h) {
    try { return decodeURIComponent(h); } catch { return h; }
  }

  function showHome(q) {
    const wasHidden = $('#home').hidden;
    show('home');
    document.title = '运维手册检索';
    if (q != null && q.trim() !== input.value.trim()) {
      input.value = q.slice(0, 256);
      syncClear();
      run();
    } else if (shownQuery === null && !input.value.trim()) {
      renderIdle();
    }
    if (wasHidden) requestAnimationFrame(() => scrollTo(0, homeScroll));
  }

  function backButton() {
    return el('button', {
      type: 'button', class: 'back',
      onclick: () => (inApp > 0 ? history.back() : (location.hash = shownQuery ? '#/q/' + encodeURIComponent(shownQuery) : '#/')),
    }, '‹ 返回');
  }

  let docCtl = null;
  let current = null;
  async function showDoc(id, anchor) {
    show('doc');
    if (current && current.id === id && !docView.dataset.error) {
      document.title = current.title + ' · 运维手册';
      goTo(anchor);
      return;
    }
    if (docCtl) docCtl.abort();
    const c = (docCtl = new AbortController());
    current = null;
    delete docView.dataset.error;
    docView.replaceChildren(backButton(), el('p', { class: 'loading', role: 'status' }, '正在加载…'));
    let d;
    try {
      d = await api('api/docs/' + id, { signal: c.signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      docView.dataset.error = '1';
      const h = el('h1', { tabindex: '-1' }, '无法打开文档');
      docView.replaceChildren(backButton(), h,
        el('p', null, e.offline ? '离线:这篇文档没有保存在本机,请在有信号时再打开。'
          : e.status === 404 ? '找不到这篇文档,可能已被删除或改名。' : e.message),
        el('p', null, el('a', { href: '#/toc' }, '查看目录')));
      h.focus();
      return;
    }
    if (c !== docCtl) return;
    current = d;
    renderDoc(d);
    const recent = store.get('recent', []).filter((r) => r.id !== d.id);
    recent.unshift({ id: d.id, type: d.type, title: d.title });
    store.set('recent', recent.slice(0, 8));
    goTo(anchor);
  }

  function goTo(anchor) {
    const h1 = $('h1', docView);
    const target = anchor && docView.querySelector('#' + CSS.escape(anchor));
    if (target) {
      target.setAttribute('tabindex', '-1');
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: 'start' });
    } else {
      scrollTo(0, 0);
      if (h1) h1.focus({ preventScroll: true });
    }
  }

  function renderDoc(d) {
    document.title = d.title + ' · 运维手册';
    const body = sanitize(d.html);
    const firstH1 = body.querySelector('h1');
    if (firstH1) firstH1.remove();
    const out = [backButton(),
      el('p', { class: 'crumb' }, badge(d.type), d.category || '未分类', d.severity ? ' · 级别:' + d.severity : ''),
      el('h1', { tabindex: '-1' }, d.title)];
    if (d.type === 'phrase') out.push(phraseUI(d, body));
    const toc = d.toc || [];
    if (toc.length) {
      out.push(el('nav', { class: 'panel toc', 'aria-label': '本文目录' },
        el('details', { open: toc.length <= 12 },
          el('summary', null, `本文目录(${toc.length} 节)`),
          el('ol', { class: 'toc-list' }, toc.map((t) => el('li', { class: 'l' + t.level },
            el('a', { href: `#/doc/${d.id}/${t.anchor}` }, t.text)))))));
    }
    if (d.type === 'fault' && (d.lessons || []).length) {
      out.push(el('section', { class: 'panel', 'aria-labelledby': 'lsn-h' },
        el('h2', { id: 'lsn-h' }, `经验教训(${d.lessons.length} 条)`),
        el('ul', { class: 'toc-list' }, d.lessons.map((l) => {
          const t = toc.find((x) => x.level === 3 && x.text === l.heading);
          return el('li', null, t ? el('a', { href: `#/doc/${d.id}/${t.anchor}` }, l.heading) : l.heading);
        }))));
    }
    if (body.textContent.trim()) {
      if (d.type === 'phrase') out.push(el('h2', { class: 'home-h' }, '使用说明'));
      out.push(el('div', { class: 'doc-body' }, body));
    }
    if ((d.related || []).length) {
      out.push(el('nav', { class: 'panel', 'aria-labelledby': 'rel-h' },
        el('h2', { id: 'rel-h' }, '相关文档'),
        el('ul', { class: 'toc-list' }, d.related.map((r) => el('li', null,
          el('a', { href: '#/doc/' + r.id }, badge(r.type), r.title))))));
    }
    if (d.type === 'fault') out.push(lessonForm(d));
    const pager = el('nav', { class: 'pager', 'aria-label': '按目录顺序' });
    out.push(pager);
    docView.replaceChildren(...out);
    categories().then((cats) => {
      if (!cats || current !== d) return;
      const all = cats.categories.flatMap((c) => c.docs);
      const i = all.findIndex((x) => x.id === d.id);
      if (i < 0) return;
      const link = (x, cls, label) => el('a', { class: cls, href: '#/doc/' + x.id }, el('small', null, label), x.title);
      pager.replaceChildren(...[i > 0 && link(all[i - 1], 'prev', '‹ 上一篇'), i + 1 < all.length && link(all[i + 1], 'next', '下一篇 ›')].filter(Boolean));
    });
  }

  /* Alternative wordings: every top-level blockquote of the Markdown. The
   * API's `phrase` is the first one. */
  function phraseVariants(d) {
    const groups = [];
    let cur = null;
    for (const line of String(d.markdown || '').split('\n')) {
      const m = line.match(/^ {0,3}> ?(.*)$/);
      if (m) (cur = cur || []).push(m[1].trim());
      else if (cur) { groups.push(cur); cur = null; }
    }
    if (cur) groups.push(cur);
    const texts = groups.map((ls) => ls.join('').replace(/\\([\\`*_{}[\]()#+\-.!>])/g, '$1').trim()).filter(Boolean);
    if (d.phrase) texts[0] = d.phrase;
    return texts.map(blanks);
  }

  function phraseUI(d, body) {
    const variants = phraseVariants(d);
    for (const b of Array.from(body.children)) {
      if (b.tagName === 'BLOCKQUOTE' || (b.tagName === 'P' && b.textContent.trim() === '或')) b.remove();
    }
    const names = [];
    for (const v of variants) for (const n of slotNames(v)) if (!names.includes(n)) names.push(n);
    const saved = store.get('slots', {});
    const vals = {};
    for (const n of names) vals[n] = REMEMBER.test(n) ? saved[n] || '' : '';
    const msg = el('p', { class: 'msg', id: 'copy-msg', role: 'status', 'aria-live': 'polite' });
    const boxes = variants.map((v, i) => el('blockquote', { class: 'phrase', id: 'phrase-' + i }, phraseNodes(v, vals)));
    const inputs = {};
    const fields = names.map((n, i) => {
      const id = 'slot-' + i;
      const inp = el('input', {
        id, name: n, type: 'text', value: vals[n], autocomplete: 'off', maxlength: '64',
        enterkeyhint: i + 1 < names.length ? 'next' : 'done', 'aria-describedby': 'copy-msg', 'data-slot': n,
        oninput: () => {
          vals[n] = inp.value;
          inp.removeAttribute('aria-invalid');
          for (const s of $$(`.slot[data-slot="${CSS.escape(n)}"]`, docView)) s.replaceWith(slotSpan(n, vals));
          if (REMEMBER.test(n)) {
            const all = store.get('slots', {});
            all[n] = inp.value.trim();
            store.set('slots', all);
          }
          if (msg.classList.contains('err')) { msg.textContent = ''; msg.className = 'msg'; }
        },
      });
      inputs[n] = inp;
      return el('div', { class: 'field' }, el('label', { for: id }, n, REMEMBER.test(n) && el('span', { class: 'hint' }, '(记在本机)')), inp);
    });
    async function copy(i) {
      const v = variants[i];
      const missing = slotNames(v).find((n) => !vals[n].trim());
      if (missing) {
        const inp = inputs[missing];
        inp.setAttribute('aria-invalid', 'true');
        for (const s of $$(`.slot[data-slot="${CSS.escape(missing)}"]`, boxes[i])) s.classList.add('bad');
        $('#toast').classList.remove('show');
        msg.className = 'msg err';
        msg.textContent = `请先填写「${missing}」,再复制`;
        inp.focus();
        return;
      }
      const ok = await copyText(fill(v, vals));
      msg.className = ok ? 'msg ok' : 'msg err';
      msg.textContent = ok ? '已复制' : '复制失败:请长按上面的话术手动复制';
      if (ok) toast('已复制');
    }
    const buttons = variants.map((v, i) => el('button', { type: 'submit', class: 'btn btn-primary copy', 'data-variant': i, value: String(i) },
      variants.length > 1 ? `复制说法${i + 1}` : '复制话术'));
    const form = el('form', {
      class: 'slots', novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        const b = e.submitter && e.submitter.dataset.variant;
        copy(b ? Number(b) : 0);
      },
    }, names.length ? el('p', { class: 'phrase-label' }, '填写空白后复制:') : null, fields, buttons.map((b) => el('p', null, b)), msg);
    const parts = [];
    variants.forEach((v, i) => {
      parts.push(el('p', { class: 'phrase-label', id: 'pl-' + i }, variants.length > 1 ? `说法${i + 1}` : '标准话术'));
      boxes[i].setAttribute('aria-labelledby', 'pl-' + i);
      parts.push(boxes[i]);
    });
    if (!variants.length) parts.push(el('p', null, '这篇话术没有可复制的原文。'));
    else parts.push(form);
    return el('section', { class: 'phrase-ui', 'aria-label': '话术' }, parts);
  }

  /* ---------- lessons learned (POST /api/docs/{id}/lessons) ---------- */
  function lessonForm(d) {
    const msg = el('p', { class: 'msg', id: 'lesson-msg', role: 'status', 'aria-live': 'polite' });
    const field = (id, label, ctrl, hint) => el('div', { class: 'field' },
      el('label', { for: id }, label, hint && el('span', { class: 'hint' }, hint)), ctrl);
    const author = el('input', { id: 'l-author', name: 'author', type: 'text', autocomplete: 'name', maxlength: '32', required: true,
      value: store.get('author', '') || (store.get('slots', {})['技术员'] || '') });
    const text = el('textarea', { id: 'l-text', name: 'text', required: true, maxlength: '4000', rows: '5' });
    const incident = el('input', { id: 'l-incident', name: 'incident', type: 'text', maxlength: '64', placeholder: '如:工单号' });
    const token = el('input', { id: 'l-token', name: 'token', type: 'password', autocomplete: 'off' });
    const tokenField = field('l-token', '提交口令', token, '(只需输入一次,记在本机)');
    const tokenSaved = el('p', null, '提交口令已记在本机。',
      el('button', { type: 'button', class: 'linklike', onclick: () => { store.set('token', null); showToken(true); token.focus(); } }, '更换口令'));
    function showToken(need) { tokenField.hidden = !need; tokenSaved.hidden = need; }
    showToken(!store.get('token', ''));
    const submit = el('button', { type: 'submit', class: 'btn btn-primary' }, '提交经验教训');
    const err = (m, ctrl) => {
      msg.className = 'msg err';
      msg.textContent = m;
      if (ctrl) { ctrl.setAttribute('aria-invalid', 'true'); ctrl.focus(); }
    };
    const form = el('form', {
      class: 'lesson-form', novalidate: true, 'aria-labelledby': 'lf-h',
      oninput: (e) => e.target.removeAttribute && e.target.removeAttribute('aria-invalid'),
      onsubmit: async (e) => {
        e.preventDefault();
        const a = author.value.trim(), t = text.value.trim(), inc = incident.value.trim();
        if (!tokenField.hidden && token.value.trim()) store.set('token', token.value.trim());
        const tok = store.get('token', '');
        if (!a) return err('请填写作者。', author);
        if (!t) return err('请填写经验教训的内容。', text);
        if (!tok) return err('请输入提交口令(向管理员索取)。', token);
        store.set('author', a);
        if (navigator.onLine === false) return err('离线,无法提交。内容还在表单里,请在有信号时再提交。');
        submit.disabled = true;
        msg.className = 'msg';
        msg.textContent = '正在提交…';
        const payload = { author: a, text: t };
        if (inc) payload.incident = inc;
        let r, body = null;
        try {
          r = await fetch(`api/docs/${d.id}/lessons`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + tok },
            body: JSON.stringify(payload),
          });
          try { body = await r.json(); } catch { body = null; }
        } catch {
          submit.disabled = false;
          return err('网络不通,没有提交。内容还在表单里,请在有信号时再提交。');
        }
        submit.disabled = false;
        const smsg = body && body.error && body.error.message;
        if (r.status === 201 || r.status === 200) {
          showToken(false);
          const l = (body && (body.lesson || body)) || {};
          addLesson(l, a, t);
          text.value = '';
          incident.value = '';
          msg.className = 'msg ok';
          msg.textContent = '已添加,谢谢!新的经验教训已显示在上面。';
          fetch('api/docs/' + d.id, { cache: 'no-cache' }).catch(() => {});
          return;
        }
        if (r.status === 401) {
          store.set('token', null);
          token.value = '';
          showToken(true);
          return err('提交口令不正确,请重新输入。', token);
        }
        if (r.status === 403) return err('服务器为只读模式,暂时不能添加经验教训。');
        if (r.status === 400) return err('内容有误:' + (smsg || '请检查作者和内容后再提交。'));
        if (r.status === 413) return err('内容太长,请精简后再提交。');
        if (r.status === 404 || r.status === 405) return err('这台服务器暂不支持添加经验教训。');
        return err(smsg || `提交失败(${r.status}),请稍后重试。`);
      },
    },
    el('h2', { id: 'lf-h' }, '添加经验教训'),
    el('p', null, '处理完类似故障后,把值得记住的做法写下来,供以后的同事参考。'),
    field('l-author', '作者', author),
    field('l-text', '经验教训', text),
    field('l-incident', '关联事件', incident, '(选填)'),
    tokenField, tokenSaved, submit, msg);
    return form;
  }

  function addLesson(l, author, text) {
    const body = $('.doc-body', docView) || docView.insertBefore(el('div', { class: 'doc-body' }), $('.lesson-form', docView));
    const heading = l.heading || [l.date || new Date().toISOString().slice(0, 10), l.author || author].join(' ') +
      (l.incident ? ' · 事件 ' + l.incident : '');
    const id = /^s\d+$/.test(l.anchor || '') && !docView.querySelector('#' + l.anchor) ? l.anchor : null;
    const box = el('div', { class: 'is-new' }, el('h3', { id }, heading));
    for (const p of String(l.text || text).split(/\n\s*\n/)) if (p.trim()) box.append(el('p', null, p.trim()));
    const h2 = $$('h2', body).find((h) => h.textContent.trim() === '经验教训');
    let at = null;
    if (h2) { at = h2.nextElementSibling; while (at && at.tagName !== 'H2') at = at.nextElementSibling; }
    else body.append(el('h2', null, '经验教训'));
    body.insertBefore(box, at);
    if (current && current.lessons) current.lessons.push({ heading, text: l.text || text });
  }

  /* ---------- 目录 ---------- */
  let catsP = null;
  function categories() {
    if (!catsP) catsP = api('api/categories').catch(() => { catsP = null; return null; });
    return catsP;
  }
  async function showToc() {
    show('toc');
    document.title = '目录 · 运维手册';
    if (!tocView.dataset.ok) {
      tocView.replaceChildren(el('h1', { tabindex: '-1' }, '目录'), el('p', { class: 'loading', role: 'status' }, '正在加载…'));
      const cats = await categories();
      if (!cats) {
        tocView.replaceChildren(el('h1', { tabindex: '-1' }, '目录'),
          el('p', null, offline ? '离线:目录没有保存在本机,请在有信号时再打开。' : '目录加载失败,请稍后重试。'),
          el('button', { type: 'button', class: 'more', onclick: () => { catsP = null; showToc(); } }, '重试'));
      } else {
        const all = cats.categories.flatMap((c) => c.docs);
        const count = (t) => all.filter((x) => x.type === t).length;
        tocView.dataset.ok = '1';
        tocView.replaceChildren(
          el('h1', { tabindex: '-1' }, '目录'),
          el('p', null, `全部 ${all.length} 篇:话术 ${count('phrase')} 篇、流程 ${count('sop')} 篇、故障复盘 ${count('fault')} 篇。按类别展开,从上到下通读;每篇末尾有“上一篇/下一篇”。`),
          ...cats.categories.map((c) => el('details', { class: 'panel toc-cat' },
            el('summary', null, `${c.name}(${c.docs.length} 篇)`),
            el('ol', { class: 'toc-list' }, c.docs.map((x) => el('li', null, el('a', { href: '#/doc/' + x.id }, badge(x.type), x.title)))))));
      }
    }
    const h = $('h1', tocView);
    if (h) h.focus({ preventScroll: true });
  }

  /* ---------- offline support ---------- */
  async function offlineInfo() {
    if (!('caches' in window)) return;
    try {
      if (!(await caches.has('ob-phrases'))) return;
      const n = (await (await caches.open('ob-phrases')).keys()).length;
      if (n) {
        $('#offline-info').textContent = `离线可用:本机已保存 ${n} 条话术和最近打开的文档。`;
        document.documentElement.dataset.offlineReady = String(n);
      }
    } catch { /* storage unavailable */ }
  }
  if ('serviceWorker' in navigator && window.isSecureContext) {
    navigator.serviceWorker.addEventListener('message', (e) => {
      if (e.data && e.data.type === 'synced') {
        store.set('synced', Date.now());
        local.key = '';
        offlineInfo();
      }
    });
    /* Register after the page has loaded, so that installing (the app shell
     * and every phrase) never competes with the first search. */
    addEventListener('load', () => setTimeout(() => {
      navigator.serviceWorker.register('sw.js').then(() => {
        const c = navigator.serviceWorker.controller;
        if (c && Date.now() - store.get('synced', 0) > 12 * 3600e3) c.postMessage({ type: 'sync' });
      }).catch(() => {});
    }, 1000));
    offlineInfo();
  }

  /* ---------- wiring ---------- */
  input.addEventListener('input', (e) => { syncClear(); if (!e.isComposing) schedule(); });
  input.addEventListener('compositionend', schedule);
  $('#clear').addEventListener('click', () => { input.value = ''; syncClear(); run(); input.focus(); });
  $('#sf').addEventListener('submit', (e) => {
    e.preventDefault();
    run();
    if (matchMedia('(pointer: coarse)').matches) input.blur();
  });
  $('#chips').addEventListener('click', (e) => {
    const b = e.target.closest('.chip');
    if (b) setChip(b.dataset.type);
  });
  addEventListener('hashchange', () => { inApp++; route(); });
  syncClear();
  route();
  /* Typed before this script arrived (slow network): answer it now. */
  if (input.value.trim() && shownQuery === null && !$('#home').hidden) run();
  document.documentElement.dataset.ready = '1';
  mark('ob:ready');
})();
