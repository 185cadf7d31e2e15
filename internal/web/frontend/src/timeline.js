import { Timeline } from 'vis-timeline/peer';
import { DataSet } from 'vis-data/peer';
import { el } from './dom.js';
import { short } from './text.js';

// Past this many events, the timeline clusters events close in time.
const CLUSTER_AT = 400;

// laneOf is the identity an event belongs to: one lane per identity.
export function laneOf(e) {
  return e.identity || (e.access_key_id ? 'key ' + e.access_key_id : 'unknown identity');
}

// drawTimeline draws the entries in container, one lane per identity, coloured by outcome,
// signals marked. Item and lane contents are elements built with textContent (vis-timeline
// would parse a string as HTML). onSelect gets the entry clicked; onRange the entries in
// the visible window after a zoom or a drag (the brush).
export function drawTimeline(container, entries, opts = {}) {
  const lanes = new Map();
  for (const e of entries) {
    const l = laneOf(e);
    if (!lanes.has(l)) lanes.set(l, lanes.size);
  }
  const groups = new DataSet([...lanes].map(([name, id]) => ({
    id, content: el('span', { class: 'lane', title: name, text: short(name, 60) }),
  })));
  // A click opens the event: on its label (a plain click listener), or anywhere on the
  // item (the timeline's own selection, which a pointer tap makes).
  let last = { i: -1, at: 0 };
  const open = (i) => {
    const now = Date.now();
    if (last.i === i && now - last.at < 500) return;
    last = { i, at: now };
    if (opts.onSelect) opts.onSelect(entries[i]);
  };
  const items = new DataSet(entries.map((e, i) => {
    const sig = e.signals && e.signals.length;
    const api = e.api.split(':').pop();
    return {
      id: i, group: lanes.get(laneOf(e)), start: e.time, type: 'point',
      className: `ev ${e.outcome === 'ok' ? 'ok' : 'err'}${sig ? ' sig' : ''}`,
      content: el('span', { class: 'ev-label', dataset: { event: e.event_id }, onclick: () => open(i) },
        sig ? el('span', { class: 'sig-mark', text: '⚑ ' }) : null, short(api, 32)),
    };
  }));
  const times = entries.map((e) => Date.parse(e.time)).filter((t) => !Number.isNaN(t));
  const min = Math.min(...times), max = Math.max(...times);
  const pad = Math.max((max - min) * 0.03, 60_000);
  const tl = new Timeline(container, items, groups, {
    stack: true, orientation: 'top', zoomable: true, moveable: true, selectable: true, showCurrentTime: false,
    start: new Date(min - pad), end: new Date(max + pad), zoomMin: 1000, groupOrder: 'id', maxHeight: 560,
    tooltip: { followMouse: false, overflowMethod: 'cap' },
    cluster: entries.length > CLUSTER_AT ? { maxItems: 4, clusterCriteria: (a, b) => a.group === b.group } : false,
  });
  tl.on('select', (p) => {
    if (p.items.length && typeof p.items[0] === 'number') open(p.items[0]);
  });
  tl.on('rangechanged', (p) => {
    if (!opts.onRange) return;
    const a = p.start.getTime(), b = p.end.getTime();
    opts.onRange(entries.filter((e) => { const t = Date.parse(e.time); return t >= a && t <= b; }), p.start, p.end);
  });
  return tl;
}
