import { el, append, getJSON, postJSON, errorBox, qs } from './dom.js';
import { visible } from './text.js';
import { fmtTime } from './text.js';

const LABELS = {
  'new': 'new',
  'investigating': 'investigating',
  'closed-true-positive': 'closed: true positive',
  'closed-false-positive': 'closed: false positive',
};

export function statusLabel(s) {
  return LABELS[s] || s;
}

// triageEditor shows a signal's status, note and history, and saves a change.
export async function triageEditor(signalID) {
  const box = el('section', { class: 'triage', 'aria-label': 'triage' });
  let data;
  try {
    data = await getJSON('/api/signal?' + qs({ id: signalID }));
  } catch (err) {
    append(box, errorBox(err));
    return box;
  }
  const status = el('select', { name: 'triage-status', 'aria-label': 'triage status' },
    Object.keys(LABELS).map((s) => el('option', { value: s, selected: s === data.triage.status, text: LABELS[s] })));
  const note = el('textarea', { name: 'triage-note', rows: 2, maxlength: 10000, placeholder: 'note', 'aria-label': 'triage note' });
  note.value = data.triage.note || '';
  const by = el('input', { name: 'triage-by', placeholder: 'analyst (optional)', 'aria-label': 'analyst', maxlength: 200 });
  by.value = localStorage.getItem('trailhound.analyst') || '';
  const msg = el('span', { class: 'muted', role: 'status' });
  const who = (t) => (t.by || t.at ? `set by ${t.by || 'someone'} at ${fmtTime(t.at)}` : 'not triaged yet');
  const current = el('span', { class: 'muted', text: who(data.triage) });
  const save = el('button', {
    type: 'button', name: 'triage-save', text: 'Save',
    onclick: async () => {
      save.disabled = true;
      msg.textContent = 'saving…';
      try {
        localStorage.setItem('trailhound.analyst', by.value.trim());
        const rec = await postJSON('/api/triage', { signal_id: data.signal.id, status: status.value, note: note.value, by: by.value.trim() });
        msg.className = 'muted';
        msg.textContent = 'saved';
        current.textContent = who(rec);
      } catch (err) {
        msg.className = 'error';
        msg.textContent = 'not saved: ' + visible(err.message);
      } finally {
        save.disabled = false;
      }
    },
  });
  const hist = el('details', {}, el('summary', { text: `history (${data.history.length})` }),
    el('ul', {}, data.history.slice().reverse().map((h) => el('li', { text: `${fmtTime(h.at)} ${h.by || ''}: ${statusLabel(h.status)}${h.note ? ' — ' + h.note : ''}` }))));
  append(box, el('strong', { text: 'Triage' }), status, note, by, save, msg, current, hist);
  return box;
}
