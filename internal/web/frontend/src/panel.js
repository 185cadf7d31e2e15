import { el, append, clear, getText, qs, errorBox } from './dom.js';
import { fmtTime } from './text.js';
import { table } from './table.js';

// The side panel shows what a click asks for: a node's events, an event's raw JSON.
export function panel() {
  let p = document.getElementById('panel');
  if (!p) {
    p = el('aside', { id: 'panel', 'aria-label': 'details', hidden: true });
    document.body.append(p);
  }
  return p;
}

export function closePanel() {
  const p = panel();
  p.hidden = true;
  clear(p);
}

export function openPanel(title, ...content) {
  const p = clear(panel());
  append(p, el('div', { class: 'panel-head' }, el('h2', { text: title }),
    el('button', { type: 'button', class: 'close', 'aria-label': 'close', onclick: closePanel, text: '×' })), ...content);
  p.hidden = false;
  return p;
}

// entryRows turns timeline entries into table rows.
export function entryRows(entries) {
  return entries.map((e) => ({
    time: fmtTime(e.time), api: e.api, outcome: e.outcome, identity: e.identity, key: e.access_key_id || '',
    ip: e.source_ip, region: e.region, account: e.account, signals: (e.signals || []).map((s) => s.title).join('; '), _e: e,
  }));
}

export function eventsTable(entries, caption) {
  return table(entryRows(entries), {
    id: 'events', caption, pageSize: 200,
    columns: ['time', 'api', 'outcome', 'identity', 'key', 'ip', 'region', 'account', 'signals'],
    onRow: (r) => showRaw(r._e),
  });
}

// showRaw opens the raw JSON of a timeline entry, as stored, escaped by the server; it is
// shown as text.
export async function showRaw(e) {
  const pre = el('pre', { class: 'raw', 'aria-label': 'raw event JSON', text: 'loading…' });
  openPanel(`${e.api} at ${fmtTime(e.time)}`, pre);
  try {
    const raw = await getText('/api/event?' + qs({ id: e.event_id, t: e.time, actor: e.identity, key: e.access_key_id }));
    pre.textContent = raw; // the server's JSON text: escapes stay visible as escapes
  } catch (err) {
    pre.replaceWith(errorBox(err));
  }
}
