import { el, clear } from './dom.js';
import { visible } from './text.js';

// flatten turns an object into one level of columns: nested objects as parent.key, lists
// of plain values joined, anything deeper as JSON text. New fields of the report show up
// as new columns without a change here.
export function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix + k;
    if (v === null || v === undefined) continue;
    if (Array.isArray(v)) {
      out[key] = v.every((x) => x === null || typeof x !== 'object') ? v.join(', ') : JSON.stringify(v);
    } else if (typeof v === 'object') {
      flatten(v, key + '.', out);
    } else {
      out[key] = v;
    }
  }
  return out;
}

// columnsOf lists the keys of rows, in first-seen order, preferring the given order.
export function columnsOf(rows, preferred = []) {
  const seen = new Set();
  const cols = [];
  for (const c of preferred) if (rows.some((r) => c in r)) { seen.add(c); cols.push(c); }
  for (const r of rows) for (const k of Object.keys(r)) if (!seen.has(k)) { seen.add(k); cols.push(k); }
  return cols;
}

// table returns a sortable, filterable table of rows (objects of plain values). Every cell
// is text. opts: columns (list of keys or {key, title, render}), onRow(row) for a click,
// caption, pageSize, id (a data-table name for tests).
export function table(rows, opts = {}) {
  const cols = (opts.columns || columnsOf(rows)).map((c) => (typeof c === 'string' ? { key: c, title: c } : c));
  const state = { sort: null, desc: false, filter: '', limit: opts.pageSize || 500 };
  const root = el('div', { class: 'tbl', dataset: { table: opts.id || '' } });
  const filter = el('input', { type: 'search', placeholder: 'filter…', 'aria-label': 'filter ' + (opts.caption || 'table') });
  const count = el('span', { class: 'muted' });
  const body = el('tbody');
  const head = el('tr');
  const more = el('button', { type: 'button', class: 'link', hidden: true, text: 'show more' });
  for (const c of cols) {
    const th = el('th', { scope: 'col', tabindex: 0, title: 'sort by ' + (c.title || c.key) }, c.title || c.key);
    const sort = () => {
      state.desc = state.sort === c.key ? !state.desc : false;
      state.sort = c.key;
      head.querySelectorAll('th').forEach((h) => h.removeAttribute('aria-sort'));
      th.setAttribute('aria-sort', state.desc ? 'descending' : 'ascending');
      render();
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (e) => { if (e.key === 'Enter') sort(); });
    head.append(th);
  }
  const text = (row, c) => {
    const v = row[c.key];
    return v === undefined || v === null ? '' : String(v);
  };
  function render() {
    let list = rows;
    const f = state.filter.toLowerCase();
    if (f) list = list.filter((r) => cols.some((c) => text(r, c).toLowerCase().includes(f)));
    if (state.sort) {
      const c = cols.find((x) => x.key === state.sort);
      list = [...list].sort((a, b) => {
        const x = a[c.key], y = b[c.key];
        const r = typeof x === 'number' && typeof y === 'number' ? x - y : text(a, c).localeCompare(text(b, c), 'en', { numeric: true });
        return state.desc ? -r : r;
      });
    }
    clear(body);
    for (const r of list.slice(0, state.limit)) {
      const tr = el('tr');
      if (opts.onRow) {
        tr.classList.add('clickable');
        tr.tabIndex = 0;
        tr.addEventListener('click', () => opts.onRow(r));
        tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') opts.onRow(r); });
      }
      for (const c of cols) {
        const td = el('td');
        if (c.render) td.append(c.render(r));
        else td.textContent = visible(text(r, c));
        tr.append(td);
      }
      body.append(tr);
    }
    count.textContent = list.length === rows.length ? `${rows.length} rows` : `${list.length} of ${rows.length} rows`;
    more.hidden = list.length <= state.limit;
  }
  filter.addEventListener('input', () => { state.filter = filter.value; render(); });
  more.addEventListener('click', () => { state.limit += opts.pageSize || 500; render(); });
  root.append(el('div', { class: 'tbl-tools' }, opts.caption ? el('strong', { text: opts.caption }) : null, filter, count));
  if (rows.length === 0) {
    root.append(el('p', { class: 'muted', text: opts.empty || 'none' }));
    return root;
  }
  root.append(el('div', { class: 'tbl-scroll' }, el('table', {}, el('thead', {}, head), body)), more);
  render();
  return root;
}
