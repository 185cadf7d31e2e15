import { el, append, clear, getJSON, qs, errorBox } from './dom.js';
import { short, fmtTime, visible } from './text.js';
import { statusLabel } from './triage.js';

const LEVELS = ['critical', 'high', 'medium', 'low', 'informational'];
const STATUSES = ['new', 'investigating', 'closed-true-positive', 'closed-false-positive'];
const FILTERS = ['level', 'status', 'rule', 'account', 'region', 'actor', 'q', 'since', 'until'];

// renderInbox shows the signals, newest first, with the filters of the URL.
export async function renderInbox(main, params) {
  const p = {};
  for (const f of FILTERS) p[f] = f === 'level' || f === 'status' ? params.getAll(f) : params.get(f) || '';
  const offset = parseInt(params.get('offset') || '0', 10) || 0;
  const limit = 50;
  const go = (changes) => {
    const next = { ...p, offset: 0, ...changes };
    location.hash = '#/?' + qs(next);
  };
  const box = el('section', { class: 'inbox', 'aria-label': 'signals inbox' });
  append(main, box);
  let data;
  try {
    data = await getJSON('/api/signals?' + qs({ ...p, offset, limit }));
  } catch (err) {
    append(box, errorBox(err));
    return null;
  }

  // Counts per level: each is a toggle of the level filter.
  const counts = el('div', { class: 'counts', role: 'group', 'aria-label': 'levels' });
  for (const lv of LEVELS) {
    const on = p.level.includes(lv);
    counts.append(el('button', {
      type: 'button', class: `count lv-${lv}` + (on ? ' on' : ''), 'aria-pressed': on ? 'true' : 'false', dataset: { level: lv },
      onclick: () => go({ level: on ? p.level.filter((x) => x !== lv) : [...p.level, lv] }),
    }, el('span', { class: 'n', text: String(data.counts[lv] || 0) }), ' ' + lv));
  }

  const select = (name, options, label) => {
    const s = el('select', { name, 'aria-label': label, onchange: () => go({ [name]: s.value }) },
      el('option', { value: '', text: 'any ' + label }),
      options.map((o) => el('option', { value: o.value, selected: o.value === p[name], text: o.text })));
    return s;
  };
  const input = (name, type, placeholder) => {
    const i = el('input', { name, type, placeholder, 'aria-label': placeholder, value: p[name] });
    i.addEventListener('change', () => go({ [name]: i.value }));
    return i;
  };
  const status = el('select', { name: 'status', 'aria-label': 'status', onchange: () => go({ status: status.value ? [status.value] : [] }) },
    el('option', { value: '', text: 'any status' }),
    STATUSES.map((s) => el('option', { value: s, selected: p.status.includes(s), text: `${statusLabel(s)} (${data.statuses[s] || 0})` })));
  const filters = el('form', { class: 'filters', onsubmit: (e) => e.preventDefault() },
    input('q', 'search', 'search titles and summaries'),
    status,
    select('rule', data.facets.rules.map((f) => ({ value: f.value, text: `${short(f.label || f.value, 60)} (${f.count})` })), 'rule'),
    select('account', data.facets.accounts.map((f) => ({ value: f.value, text: `${visible(f.value)} (${f.count})` })), 'account'),
    select('region', data.facets.regions.map((f) => ({ value: f.value, text: `${visible(f.value)} (${f.count})` })), 'region'),
    input('actor', 'search', 'actor or access key'),
    el('label', {}, 'from ', input('since', 'datetime-local', 'from')),
    el('label', {}, 'to ', input('until', 'datetime-local', 'to')),
    el('button', { type: 'button', class: 'link', onclick: () => { location.hash = '#/'; }, text: 'clear filters' }));

  const rows = el('tbody');
  for (const r of data.signals) {
    const s = r.signal;
    const link = '#/case?' + qs({ signal: s.id });
    rows.append(el('tr', { class: `lv-${s.level}`, dataset: { signal: s.id } },
      el('td', {}, el('span', { class: `badge lv-${s.level}`, text: s.level })),
      el('td', { class: 'mono' }, el('a', { href: link, text: s.id, title: 'investigate this signal' })),
      el('td', { class: 'nowrap', text: fmtTime(s.first_seen) }),
      el('td', {}, el('a', { href: link, class: 'title', text: s.title }), el('div', { class: 'summary', text: s.summary })),
      el('td', { class: 'mono wrap', text: s.actor }),
      el('td', { class: 'mono nowrap', text: s.account_id }),
      el('td', { text: s.regions.length > 3 ? `${s.regions.length} regions` : s.regions.join(', ') }),
      el('td', { class: 'num', text: String(s.event_count) }),
      el('td', {}, el('span', { class: `status st-${r.triage.status}`, text: statusLabel(r.triage.status), title: r.triage.note ? r.triage.note : null }))));
  }
  const from = data.matched === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, data.matched);
  const pager = el('div', { class: 'pager' },
    el('button', { type: 'button', disabled: offset === 0, onclick: () => { location.hash = '#/?' + qs({ ...p, offset: Math.max(0, offset - limit) }); }, text: '← newer' }),
    el('span', { class: 'muted', text: `${from}–${to} of ${data.matched} matching (${data.total} signals in the store)` }),
    el('button', { type: 'button', disabled: to >= data.matched, onclick: () => { location.hash = '#/?' + qs({ ...p, offset: offset + limit }); }, text: 'older →' }));
  append(box, el('h1', { text: 'Signals' }), counts, filters,
    data.triage_damaged ? el('p', { class: 'warn', text: `${data.triage_damaged} damaged line(s) of the triage log were skipped` }) : null,
    el('div', { class: 'tbl-scroll' }, el('table', { class: 'signals' },
      el('thead', {}, el('tr', {}, ['level', 'id', 'first seen (UTC)', 'signal', 'actor', 'account', 'regions', 'events', 'status'].map((h) => el('th', { scope: 'col', text: h })))),
      rows)),
    data.signals.length === 0 ? el('p', { class: 'muted', text: 'No signal matches these filters.' }) : null,
    pager);
  return null;
}
