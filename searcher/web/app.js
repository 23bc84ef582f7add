// The staff search page. All state lives in the URL (?q=…&bureau=…&page=…&sheet=…), so a link can be
// shared and the back button works: every change pushes a new URL and render() draws the page from it.
// The DOM is built with createElement/textContent only (no innerHTML), so nothing from the index can run
// as markup; snippets arrive as escaped HTML with <mark> and are turned back into text and <mark> nodes.
'use strict';

(() => {
  // The facets come from the server's table (facet_list in every answer); every URL parameter that is
  // not one of SINGLE is a facet and may repeat.
  let FACETS = [];
  const facetsOf = (data) => (data.facet_list || []).map((f) => [f.name, f.label]);
  const SINGLE = ['q', 'amount_min', 'amount_max', 'sort', 'page', 'sheet'];
  const FACET_SHOWN = 8; // longer facet lists fold behind a button
  const KIND_LABEL = { '当初': '当初予算', '補正': '補正予算', '予備費': '予備費', '要求': '概算要求' };
  const FIELD_LABEL = { amount_min: '金額の下限', amount_max: '金額の上限', year: '年度', kind: '予算区分', bureau: '局・課', rate: '補助率' };

  const $ = (id) => document.getElementById(id);
  let sequence = 0; // answers to superseded requests are dropped
  // The control to give the focus back to once the page is redrawn (a keyboard user toggling a facet
  // must not be thrown back to the top of the page).
  let refocus = null;
  const expanded = new Set(); // facets the user unfolded

  // --- URL state -----------------------------------------------------------------------------------
  function readState() {
    const p = new URLSearchParams(location.search);
    const s = {};
    for (const k of SINGLE) s[k] = p.get(k) || '';
    for (const k of new Set(p.keys())) if (!SINGLE.includes(k)) s[k] = p.getAll(k).filter((v) => v !== '');
    for (const [k] of FACETS) s[k] = s[k] || [];
    return s;
  }
  function toQuery(s) {
    const p = new URLSearchParams();
    if (s.q) p.set('q', s.q);
    for (const [k, vs] of Object.entries(s)) if (Array.isArray(vs)) for (const v of vs) p.append(k, v);
    for (const k of ['amount_min', 'amount_max']) if (s[k]) p.set(k, s[k]);
    if (s.sort && s.sort !== 'relevance') p.set('sort', s.sort);
    if (s.page && s.page !== '1') p.set('page', s.page);
    if (s.sheet) p.set('sheet', s.sheet);
    return p.toString();
  }
  function urlFor(s) {
    const q = toQuery(s);
    return q ? '/?' + q : '/';
  }
  function navigate(s, { replace = false } = {}) {
    const url = urlFor(s);
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    render();
  }
  // A change of query or filters starts again from the first page and leaves the detail view.
  function update(change) {
    const s = readState();
    Object.assign(s, change);
    if (!('page' in change)) s.page = '';
    if (!('sheet' in change)) s.sheet = '';
    navigate(s);
  }

  // --- formatting ----------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  }
  function oku(yen) {
    const v = yen / 1e8;
    const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 1 ? 1 : 2;
    return v.toLocaleString('ja-JP', { maximumFractionDigits: digits }) + '億円';
  }
  function era(year) {
    if (!year) return '';
    if (year >= 2019) return '令和' + (year === 2019 ? '元' : year - 2018) + '年度';
    return '平成' + (year - 1988) + '年度';
  }
  function change(h) {
    if (h.new) return el('span', { class: 'change new', text: '新規' });
    if (h.amount === undefined || h.previous_amount === undefined) return null;
    const d = h.amount - h.previous_amount;
    const pct = h.previous_amount ? (d / h.previous_amount) * 100 : 0;
    const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
    const cls = d > 0 ? 'up' : d < 0 ? 'down' : 'same';
    const text = `前年度 ${oku(h.previous_amount)}、${sign}${oku(Math.abs(d))}` +
      (h.previous_amount ? `（${sign}${Math.abs(pct).toFixed(1)}%）` : '');
    return el('span', { class: 'change ' + cls, text });
  }
  function amountText(h) {
    if (h.amount === undefined) return '金額なし';
    return (h.approximate ? '約' : '') + oku(h.amount);
  }
  function bureauText(bureaus) {
    return (bureaus || []).map((b) => [b.top, ...(b.divisions || [])].filter(Boolean).join(' ')).filter(Boolean).join('／');
  }
  // "…の<mark>蓄電池</mark>の…" (escaped by the server) → text and <mark> nodes.
  function snippetNodes(html) {
    const decode = (t) => t.replace(/&(amp|lt|gt|quot|#39);/g, (m, n) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" }[n]));
    const out = [];
    let marked = false;
    for (const part of html.split(/(<mark>|<\/mark>)/)) {
      if (part === '<mark>') marked = true;
      else if (part === '</mark>') marked = false;
      else if (part) out.push(marked ? el('mark', { text: decode(part) }) : document.createTextNode(decode(part)));
    }
    return out;
  }
  function sheetLink(id, text, cls) {
    const s = readState();
    s.sheet = id;
    const a = el('a', { href: urlFor(s), class: cls, text });
    a.addEventListener('click', (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return; // new tab etc.
      e.preventDefault();
      update({ sheet: id, page: readState().page });
    });
    return a;
  }
  function metaLine(h) {
    return el('p', { class: 'meta' },
      el('span', { class: 'year', text: [era(h.year), KIND_LABEL[h.kind] || h.kind].filter(Boolean).join('・') }),
      el('span', { class: 'amount', text: amountText(h) }),
      change(h),
      el('span', { class: 'bureau', text: bureauText(h.bureaus) }));
  }

  async function getJSON(url) {
    const res = await fetch(url, { headers: { Accept: 'application/json' } });
    let body = null;
    try { body = await res.json(); } catch (e) { /* not JSON: reported below */ }
    if (!res.ok) throw new Error(body && body.error ? body.error : `サーバーの応答が不正です（${res.status}）`);
    return body;
  }

  // --- results view --------------------------------------------------------------------------------
  function renderFacets(data, s) {
    const box = $('facets');
    box.replaceChildren();
    FACETS = facetsOf(data);
    for (const [key, title] of FACETS) {
      const values = (data.facets && data.facets[key]) || [];
      const selected = s[key] || [];
      const group = el('fieldset', { class: 'facet', 'data-facet': key });
      const legend = el('legend', {}, title);
      group.append(legend);
      if (selected.length) {
        group.append(el('button', {
          type: 'button', class: 'clear', text: 'クリア', 'aria-label': title + 'の絞り込みをクリア',
          onclick: () => { refocus = { key }; update({ [key]: [] }); },
        }));
      }
      if (!values.length) group.append(el('p', { class: 'small muted', text: '該当なし' }));
      const list = el('ul', {});
      const folded = !expanded.has(key) && values.length > FACET_SHOWN + 2;
      values.forEach((v, i) => {
        const on = selected.includes(v.value);
        if (folded && i >= FACET_SHOWN && !on) return;
        const id = `f-${key}-${i}`;
        const box = el('input', { type: 'checkbox', id, checked: on, 'data-value': v.value });
        box.addEventListener('change', () => {
          refocus = { key, value: v.value };
          const next = box.checked ? [...selected, v.value] : selected.filter((x) => x !== v.value);
          update({ [key]: next });
        });
        list.append(el('li', {}, box, el('label', { for: id },
          el('span', { class: 'label', text: v.label }), el('span', { class: 'count', text: String(v.count) }))));
      });
      group.append(list);
      if (values.length > FACET_SHOWN + 2) {
        group.append(el('button', {
          type: 'button', class: 'more', 'aria-expanded': String(!folded),
          text: folded ? `すべて表示（${values.length}）` : '折りたたむ',
          onclick: () => { if (folded) expanded.add(key); else expanded.delete(key); renderFacets(data, readState()); },
        }));
      }
      box.append(group);
    }
    if (refocus) {
      const group = box.querySelector(`fieldset[data-facet="${refocus.key}"]`);
      const target = group && ([...group.querySelectorAll('input')].find((i) => i.dataset.value === refocus.value) ||
        group.querySelector('input'));
      if (target) target.focus();
      refocus = null;
    }
  }

  function renderChips(data, s) {
    const chips = $('chips');
    chips.replaceChildren();
    const add = (text, remove, kind) => {
      chips.append(el('li', { class: 'chip ' + (kind || '') },
        el('span', { text }),
        el('button', { type: 'button', 'aria-label': `条件「${text}」を外す`, title: '外す', text: '×', onclick: remove })));
    };
    const labelOf = (key, value) => {
      const f = (data.facets && data.facets[key]) || [];
      const hit = f.find((v) => v.value === value);
      return hit ? hit.label : value;
    };
    for (const [key, title] of facetsOf(data))
      for (const v of s[key] || []) add(`${title}: ${labelOf(key, v)}`, () => update({ [key]: s[key].filter((x) => x !== v) }));
    if (s.amount_min) add(`金額: ${s.amount_min} 以上`, () => update({ amount_min: '' }));
    if (s.amount_max) add(`金額: ${s.amount_max} 以下`, () => update({ amount_max: '' }));
    // Budget words recognised inside the query (10億円以上, 令和6年度, 補正): removing one removes its words.
    // One word can set several filters (令和6年度補正: year and kind); it gets one chip.
    const byText = new Map();
    for (const f of data.recognised_filters || []) {
      const fields = byText.get(f.text) || [];
      fields.push(FIELD_LABEL[f.field] || f.field);
      byText.set(f.text, fields);
    }
    for (const [text, fields] of byText) {
      add(`${fields.join('・')}: ${text}（検索語から）`, () => {
        const q = s.q.replace(text, ' ').replace(/\s+/g, ' ').trim();
        update({ q });
      }, 'recognised');
    }
    chips.hidden = !chips.children.length;
  }

  function renderHits(data) {
    const list = $('results');
    list.replaceChildren();
    list.start = data.hits.length ? data.hits[0].rank : 1;
    for (const h of data.hits) {
      const item = el('li', { class: 'hit' });
      item.append(el('h3', {}, sheetLink(h.id, h.display_title || h.title)));
      if (h.parent) item.append(el('p', { class: 'parent', text: `親事業: ${h.parent}${h.sub_label ? ' のうち ' + h.sub_label : ''}` }));
      item.append(metaLine(h));
      if (h.snippet && h.snippet.html) {
        item.append(el('p', { class: 'snippet' },
          h.snippet.section ? el('span', { class: 'section', text: h.snippet.section }) : null,
          ...snippetNodes(h.snippet.html)));
      }
      list.append(item);
    }
  }

  // When all the words together found nothing, the server answers with the sheets that have most of them
  // (relaxed): say so, strike the words that were dropped, and offer to insist on each ("…" makes a word
  // required). A "did you mean" suggestion is a link, never applied by itself.
  function suggestionLink(data) {
    if (!data.suggestion) return null;
    const a = el('a', { href: urlFor({ q: data.suggestion }), class: 'suggestion', text: data.suggestion });
    a.addEventListener('click', (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      update({ q: data.suggestion });
    });
    return el('p', { class: 'did-you-mean' }, 'もしかして: ', a);
  }

  function renderNotice(data, s) {
    const box = $('notice');
    box.replaceChildren();
    if (data.relaxed) {
      const lead = data.complete_matches > 0
        ? `すべての語を含む資料は ${data.complete_matches} 件です。一部の語を含む資料も表示しています`
        : 'すべての語を含む資料はありません。一部の語を含む資料を表示しています';
      const words = el('p', { class: 'dropped' }, '含まれない場合がある語: ');
      for (const w of data.dropped_words || []) {
        const insist = el('button', { type: 'button', class: 'insist', text: '必ず含める', 'aria-label': `「${w}」を必ず含めて検索` });
        insist.addEventListener('click', () => update({ q: `${s.q} "${w}"` }));
        words.append(el('s', { class: 'dropped-word', text: w }), insist, ' ');
      }
      box.append(el('p', { class: 'relaxed', text: lead }), words);
    }
    if (data.total && data.suggestion) box.append(suggestionLink(data));
    box.hidden = !box.children.length;
  }

  // Nothing at all: the suggestion, the filters whose removal would give hits (with how many), and tips.
  function renderZeroHit(data, s) {
    const section = $('zero-hit');
    section.hidden = data.total !== 0;
    if (data.total !== 0) return;
    const sug = $('zero-hit-suggestion');
    sug.replaceChildren();
    const link = suggestionLink(data);
    if (link) sug.append(link);
    const box = $('zero-hit-filters');
    box.replaceChildren();
    const removals = data.removable_filters || [];
    if (removals.length) {
      const list = el('ul', { class: 'removals' });
      for (const f of removals) {
        const button = el('button', { type: 'button', class: 'remove-filter', text: `「${f.label}」を外す（${f.count} 件）` });
        button.addEventListener('click', () => {
          const typed = (data.recognised_filters || []).find((r) => r.field === f.field);
          if (Array.isArray(s[f.field]) && s[f.field].includes(f.value)) update({ [f.field]: s[f.field].filter((x) => x !== f.value) });
          else if (f.field === 'amount_min' || f.field === 'amount_max') {
            if (s[f.field]) update({ [f.field]: '' });
            else if (typed) update({ q: s.q.replace(typed.text, ' ').replace(/\s+/g, ' ').trim() });
          } else if (typed) update({ q: s.q.replace(typed.text, ' ').replace(/\s+/g, ' ').trim() });
        });
        list.append(el('li', {}, button));
      }
      box.append(el('p', { text: '次の条件を外すと見つかります:' }), list);
    }
  }

  function renderPager(data, s) {
    const nav = $('pager');
    nav.replaceChildren();
    const pages = data.pages || 0;
    if (pages <= 1) return;
    const page = data.page;
    const link = (n, text, label, current) => {
      const t = Object.assign({}, s, { page: String(n), sheet: '' });
      if (current) return el('span', { class: 'page current', 'aria-current': 'page', text });
      const a = el('a', { href: urlFor(t), class: 'page', 'aria-label': label, text });
      a.addEventListener('click', (e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        update({ page: String(n) });
        $('results-heading').focus();
      });
      return a;
    };
    const ul = el('ul', {});
    if (page > 1) ul.append(el('li', {}, link(page - 1, '← 前へ', '前のページ')));
    const from = Math.max(1, page - 3), to = Math.min(pages, page + 3);
    if (from > 1) ul.append(el('li', {}, link(1, '1', '1 ページ目')), from > 2 ? el('li', { class: 'gap', text: '…' }) : '');
    for (let n = from; n <= to; n++) ul.append(el('li', {}, link(n, String(n), `${n} ページ目`, n === page)));
    if (to < pages) ul.append(to < pages - 1 ? el('li', { class: 'gap', text: '…' }) : '', el('li', {}, link(pages, String(pages), `${pages} ページ目`)));
    if (page < pages) ul.append(el('li', {}, link(page + 1, '次へ →', '次のページ')));
    nav.append(ul);
  }

  // The amounts of the whole matched set: one row per fiscal year × kind (当初, 補正, 予備費 and 要求 are
  // never added together), the change against the previous year where the sheets state it, and the
  // sheets without an amount counted as such. Amounts in 億円, the exact yen on hover.
  function yenCell(yen) {
    return el('td', { class: 'num', title: `${yen.toLocaleString('ja-JP')} 円`, text: oku(yen) });
  }
  function renderTotals(data) {
    const box = $('totals');
    box.replaceChildren();
    const t = data.totals;
    if (!t || !t.sheets) return;
    const table = el('table', { class: 'totals-table', 'aria-label': '金額の合計' },
      el('caption', { text: `金額の合計（該当 ${t.sheets.toLocaleString('ja-JP')} 件、年度・予算区分ごと）` }),
      el('thead', {}, el('tr', {},
        ['年度', '予算区分', '件数', '合計', '前年度額の記載がある資料', '前年度', '増減'].map((h) => el('th', { scope: 'col', text: h })))));
    const body = el('tbody', {});
    for (const c of t.by_year_kind) {
      const p = c.previous;
      const d = p ? p.change_yen : null;
      const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
      body.append(el('tr', {},
        el('td', { text: c.year_label }),
        el('td', { text: c.kind ? (KIND_LABEL[c.kind] || c.kind) : '記載なし' }),
        el('td', { class: 'num', text: `${c.sheets} 件` }),
        yenCell(c.amount_yen),
        el('td', { class: 'num', text: p ? `${p.sheets} 件（今年度 ${oku(p.amount_yen)}）` : '—' }),
        p ? yenCell(p.previous_yen) : el('td', { class: 'num', text: '—' }),
        p ? el('td', { class: 'num change ' + (d > 0 ? 'up' : d < 0 ? 'down' : 'same'), title: `${d.toLocaleString('ja-JP')} 円`, text: sign + oku(Math.abs(d)) })
          : el('td', { class: 'num', text: '—' })));
    }
    if (t.without_amount) {
      body.append(el('tr', { class: 'no-amount' },
        el('td', { colspan: '2', text: '金額の記載なし' }),
        el('td', { class: 'num', text: `${t.without_amount} 件` }),
        el('td', { colspan: '4', class: 'muted', text: '合計に含みません' })));
    }
    table.append(body);
    box.append(table);
  }

  // Facets with a parent facet (課・室 under 局・庁) are drawn inside it: each division's row moves under
  // its bureau's row, with its own count and checkbox (the filter stays per facet: AND across facets, OR
  // within one). A division whose bureau is not on screen stays in its own group.
  function nestFacets(data) {
    for (const f of data.facet_list || []) {
      if (!f.parent) continue;
      const child = document.querySelector(`#facets fieldset[data-facet="${f.name}"]`);
      const parent = document.querySelector(`#facets fieldset[data-facet="${f.parent}"]`);
      if (!child || !parent) continue;
      const parentOf = new Map(((data.facets && data.facets[f.name]) || []).map((v) => [v.value, v.parent]));
      const groups = new Map();
      for (const input of [...child.querySelectorAll('input[data-value]')]) {
        const p = parentOf.get(input.dataset.value);
        const host = p && [...parent.querySelectorAll('li:not(.nested-group) > input[data-value]')].find((i) => i.dataset.value === p);
        if (!host) continue;
        let sub = groups.get(p);
        if (!sub) {
          sub = el('ul', { class: 'nested', 'aria-label': `${p}の${f.label}` });
          host.closest('li').after(el('li', { class: 'nested-group', 'data-parent': p }, sub));
          groups.set(p, sub);
        }
        sub.append(input.closest('li'));
      }
      if (!groups.size) continue;
      if (!child.querySelector('li')) child.hidden = true;
      else child.querySelector('legend').textContent = `${f.label}（局・庁が一覧にないもの）`;
    }
  }

  // The CSV export of the whole matched set (not only this page), with the same parameters as the search.
  function renderExport(data, s) {
    const box = $('budget-tools');
    box.replaceChildren();
    if (!data.total) return;
    const params = new URLSearchParams(toQuery(Object.assign({}, s, { sheet: '', page: '' })));
    const a = el('a', { id: 'csv-link', class: 'button', href: '/api/search.csv?' + params.toString(), download: 'yosan-search.csv',
      text: `CSV で保存（${data.total.toLocaleString('ja-JP')} 件すべて）` });
    box.append(a);
    if (data.total > 100000) box.append(el('p', { class: 'notice', text: 'CSV は先頭の 100,000 件までです。条件を絞ってください。' }));
  }

  // --- detail view: scheme, inferred bureau, timeline -------------------------------------------------
  function schemeSection(sheet) {
    const sc = sheet.scheme;
    if (!sc) return null;
    const list = el('dl', { class: 'facts scheme' });
    const row = (title, items) => {
      if (!items.length) return;
      list.append(el('dt', { text: title }), el('dd', {}, items.map((it) =>
        el('span', { class: 'scheme-value' }, it.text, el('span', { class: 'line', text: `${it.line} 行` })))));
    };
    row('支出形態', (sc.forms || []).map((v) => ({ text: v.value, line: v.line })));
    row('補助率', (sc.rates || []).map((v) => ({ text: v.value, line: v.line })));
    row('上限額', (sc.limits || []).map((v) => ({ text: v.text, line: v.line })));
    return el('section', { class: 'scheme-section' }, el('h3', { text: '事業スキーム（抽出）' }), list);
  }
  function inferredText(sheet) {
    const i = sheet.bureau_inferred;
    if (!i) return '';
    return (i.source === 'assignment' ? '推定（割り当て表）: ' : '推定（同じ事業の資料）: ') + i.reason;
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // One bar per year × kind of the 事業 (its own sheet, or its parts added up), kinds in their own colour.
  function timelineChart(series) {
    const w = 560, h = 180, pad = 28, bw = Math.min(56, (w - pad) / Math.max(series.length, 1) - 8);
    const max = Math.max(...series.map((p) => p.amount_yen), 1);
    const chart = svg('svg', { class: 'timeline-chart', viewBox: `0 0 ${w} ${h + 40}`, role: 'img', 'aria-label': '年度・予算区分ごとの金額' });
    series.forEach((p, i) => {
      const bh = Math.max(1, (p.amount_yen / max) * h);
      const x = pad + i * (bw + 8), y = h - bh + 10;
      const bar = svg('rect', { x, y, width: bw, height: bh, class: 'bar kind-' + (p.kind || 'none') });
      bar.append(svg('title', {}, `${p.year_label} ${KIND_LABEL[p.kind] || p.kind}: ${oku(p.amount_yen)}（${p.amount_yen.toLocaleString('ja-JP')} 円）`));
      chart.append(bar,
        svg('text', { x: x + bw / 2, y: y - 2, 'text-anchor': 'middle', class: 'value' }, oku(p.amount_yen)),
        svg('text', { x: x + bw / 2, y: h + 24, 'text-anchor': 'middle' }, era(p.year).replace('年度', '')),
        svg('text', { x: x + bw / 2, y: h + 38, 'text-anchor': 'middle' }, p.kind || ''));
    });
    return chart;
  }
  function timelineSection(id) {
    const box = el('section', { class: 'timeline', 'aria-labelledby': 'timeline-title' },
      el('h3', { id: 'timeline-title', text: '年度ごとの推移（同じ事業）' }), el('p', { class: 'muted', text: '読み込み中…' }));
    getJSON(`/api/sheets/${encodeURIComponent(id)}/timeline`).then((t) => {
      const table = el('table', { class: 'totals-table timeline-table' },
        el('thead', {}, el('tr', {}, ['年度', '予算区分', '資料', '金額', '前年度', '増減'].map((x) => el('th', { scope: 'col', text: x })))),
        el('tbody', {}, t.sheets.map((r) => el('tr', { class: r.id === id ? 'current' : '' },
          el('td', { text: r.year_label || '記載なし' }),
          el('td', { text: KIND_LABEL[r.kind] || r.kind || '' }),
          el('td', {}, r.id === id ? el('strong', { text: r.title }) : sheetLink(r.id, r.title), r.level === '内訳' ? el('span', { class: 'muted', text: ` （内訳 ${r.sub_label || ''}）` }) : ''),
          r.amount !== undefined ? yenCell(r.amount) : el('td', { class: 'num', text: '金額なし' }),
          r.previous_amount !== undefined ? yenCell(r.previous_amount) : el('td', { class: 'num', text: r.new ? '新規' : '—' }),
          el('td', { class: 'num' }, change(r) || '—')))));
      const parts = [el('h3', { id: 'timeline-title', text: `年度ごとの推移: ${t.name}` })];
      if (t.series.length) parts.push(timelineChart(t.series));
      parts.push(table);
      box.replaceChildren(...parts);
    }).catch((e) => box.replaceChildren(el('p', { class: 'error', text: e.message })));
    return box;
  }

  async function showResults(s) {
    $('detail-view').hidden = true;
    $('results-view').hidden = false;
    document.body.classList.remove('detail-mode');
    const seq = ++sequence;
    const params = new URLSearchParams(toQuery(Object.assign({}, s, { sheet: '' })));
    params.set('per_page', '10');
    $('status').textContent = '検索中…';
    document.body.classList.add('loading');
    try {
      const data = await getJSON('/api/search?' + params.toString());
      if (seq !== sequence) return;
      $('error').hidden = true;
      const ms = Math.round(data.milliseconds * 10) / 10;
      const where = s.q ? `「${s.q}」の検索結果 ` : '';
      $('status').textContent = data.total
        ? `${where}${data.total.toLocaleString('ja-JP')} 件中 ${data.hits[0].rank}〜${data.hits[data.hits.length - 1].rank} 件目（${ms} ms）`
        : `${where}該当する資料はありません（${ms} ms）`;
      renderFacets(data, s);
      renderChips(data, s);
      renderNotice(data, s);
      renderZeroHit(data, s);
      nestFacets(data);
      renderExport(data, s);
      renderTotals(data);
      renderHits(data);
      renderPager(data, s);
      document.title = (s.q ? s.q + ' - ' : '') + '予算資料検索';
    } catch (e) {
      if (seq !== sequence) return;
      $('status').textContent = '';
      $('error').textContent = e.message;
      $('error').hidden = false;
      $('notice').hidden = true;
      $('zero-hit').hidden = true;
      $('results').replaceChildren();
      $('pager').replaceChildren();
    } finally {
      if (seq === sequence) document.body.classList.remove('loading');
    }
  }

  // --- detail view ---------------------------------------------------------------------------------
  async function showDetail(s) {
    const seq = ++sequence;
    $('results-view').hidden = true;
    $('detail-view').hidden = false;
    document.body.classList.add('detail-mode'); // the filters belong to the list, not to one sheet
    const back = Object.assign({}, s, { sheet: '' });
    $('back-link').href = urlFor(back);
    const box = $('detail');
    box.replaceChildren(el('p', { class: 'muted', text: '読み込み中…' }));
    try {
      const id = encodeURIComponent(s.sheet);
      const [sheet, similar] = await Promise.all([getJSON(`/api/sheets/${id}`), getJSON(`/api/sheets/${id}/similar`)]);
      if (seq !== sequence) return;
      document.title = sheet.display_title + ' - 予算資料検索';
      const parts = [el('h2', { id: 'detail-title', tabindex: '-1', text: sheet.display_title })];
      if (sheet.parent) parts.push(el('p', { class: 'parent', text: `親事業: ${sheet.parent}${sheet.sub_label ? ' のうち ' + sheet.sub_label : ''}` }));
      parts.push(metaLine(sheet));
      const facts = el('dl', { class: 'facts' });
      const fact = (k, v) => { if (v) facts.append(el('dt', { text: k }), el('dd', { text: v })); };
      fact('予算の記載', sheet.budget_text);
      if (sheet.total !== undefined) fact('総額', oku(sheet.total) + (sheet.total_basis ? `（${sheet.total_basis}）` : ''));
      if (sheet.gx_amount !== undefined) fact('うちGX', oku(sheet.gx_amount));
      fact('内数', sheet.within);
      fact('担当', bureauText(sheet.bureaus));
      fact('担当の出所', inferredText(sheet));
      fact('出典', `${sheet.source.file} ${sheet.source.first_line}〜${sheet.source.last_line} 行` +
        (sheet.source.budget_line ? `（予算額は ${sheet.source.budget_line} 行）` : ''));
      parts.push(facts);
      parts.push(schemeSection(sheet), timelineSection(sheet.id));
      if (sheet.allocations && sheet.allocations.length) {
        parts.push(el('h3', { text: '予算配分額' }),
          el('ul', { class: 'allocations' }, sheet.allocations.map((a) => el('li', { text: a.text }))));
      }
      for (const sec of sheet.sections || []) {
        parts.push(el('section', { class: 'sheet-section' },
          el('h3', {}, sec.title, el('span', { class: 'line', text: `${sec.line} 行` })),
          ...sec.text.split('\n').filter((l) => l.trim()).map((l) => el('p', { text: l }))));
      }
      const rel = el('section', { class: 'related', 'aria-labelledby': 'related-title' },
        el('h3', { id: 'related-title', text: '関連する資料' }));
      if (!similar.hits.length) rel.append(el('p', { class: 'muted', text: '見つかりませんでした' }));
      rel.append(el('ul', {}, similar.hits.map((h) => el('li', {},
        sheetLink(h.id, h.display_title || h.title),
        el('span', { class: 'muted', text: ` ${[era(h.year), KIND_LABEL[h.kind] || h.kind, h.amount !== undefined ? amountText(h) : ''].filter(Boolean).join('・')}` })))));
      parts.push(rel);
      box.replaceChildren(...parts);
      $('detail-title').focus();
    } catch (e) {
      if (seq !== sequence) return;
      box.replaceChildren(el('p', { class: 'error', role: 'alert', text: e.message }));
    }
  }

  function render() {
    const s = readState();
    $('q').value = s.q;
    $('sort').value = s.sort || 'relevance';
    $('amount_min').value = s.amount_min;
    $('amount_max').value = s.amount_max;
    if (s.sheet) showDetail(s);
    else showResults(s);
  }

  // --- wiring --------------------------------------------------------------------------------------
  document.addEventListener('DOMContentLoaded', () => {
    $('search-form').addEventListener('submit', (e) => {
      e.preventDefault();
      update({ q: $('q').value.trim() });
    });
    $('amount-form').addEventListener('submit', (e) => {
      e.preventDefault();
      update({ amount_min: $('amount_min').value.trim(), amount_max: $('amount_max').value.trim() });
    });
    $('sort').addEventListener('change', () => update({ sort: $('sort').value }));
    $('home').addEventListener('click', (e) => { e.preventDefault(); navigate({ q: '', sort: '', page: '', sheet: '', amount_min: '', amount_max: '', ...Object.fromEntries(FACETS.map(([k]) => [k, []])) }); });
    $('back-link').addEventListener('click', (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      update({ sheet: '', page: readState().page });
    });
    document.addEventListener('keydown', (e) => {
      const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
      if (e.key === '/' && !typing) { e.preventDefault(); $('q').focus(); $('q').select(); }
      if (e.key === 'Escape' && !$('detail-view').hidden) { e.preventDefault(); $('back-link').click(); }
    });
    window.addEventListener('popstate', render);
    // On a narrow window the filters start folded so the results are visible first.
    if (window.matchMedia('(max-width: 760px)').matches) $('filters').open = false;
    render();
  });
})();
