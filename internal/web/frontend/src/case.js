import { el, append, clear, getJSON, getText, qs, errorBox } from './dom.js';
import { fmtTime, fmtNumber, visible, short } from './text.js';
import { table, flatten } from './table.js';
import { elements, draw, nodeValue, parseResource } from './graph.js';
import { drawTimeline, laneOf } from './timeline.js';
import { openPanel, closePanel, eventsTable, showRaw } from './panel.js';
import { triageEditor } from './triage.js';

const STARTS = ['signal', 'access_key', 'arn', 'user', 'ip'];
const STARTS_LABEL = { signal: 'signal', access_key: 'access key', arn: 'principal', user: 'IAM user', ip: 'source IP' };
const TABS = ['overview', 'graph', 'timeline', 'attack', 'resources', 'data', 'blind-spots', 'cost', 'plan'];
const KNOWN = new Set(['start', 'summary', 'identities', 'signals', 'timeline', 'graph', 'resources', 'data', 'blind_spots', 'matrix', 'cost_estimate', 'remediation_plan']);

// startOf reads the starting point of a view's parameters.
function startOf(params) {
  for (const k of STARTS) if (params.get(k)) return { [k]: params.get(k) };
  return null;
}

// startFor returns the starting point that investigates from a graph node, or null.
function startFor(n) {
  const v = nodeValue(n);
  switch (n.kind) {
    case 'access-key': return { access_key: v };
    case 'ip': return { ip: v };
    case 'user': case 'role': case 'session': case 'root': case 'federated-user': case 'principal':
      return { arn: v };
    default: return null;
  }
}

// merge adds an expansion's report to the base: nodes, edges, timeline entries, resources
// and signals not already there.
function merge(base, more, label) {
  const nodes = new Map(base.graph.nodes.map((n) => [n.id, n]));
  for (const n of more.graph.nodes) if (!nodes.has(n.id)) nodes.set(n.id, { ...n, expansion: label });
  base.graph.nodes = [...nodes.values()];
  const ek = (e) => `${e.from}\u0000${e.to}\u0000${e.kind}`;
  const edges = new Set(base.graph.edges.map(ek));
  for (const e of more.graph.edges) if (!edges.has(ek(e))) base.graph.edges.push(e);
  const evs = new Set(base.timeline.map((e) => e.event_id));
  for (const e of more.timeline) if (!evs.has(e.event_id)) base.timeline.push(e);
  base.timeline.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const rk = (r) => `${r.type}|${r.account}|${r.region}|${r.id || r.name}`;
  const res = new Set(base.resources.map(rk));
  for (const r of more.resources) if (!res.has(rk(r))) base.resources.push(r);
  const sigs = new Set(base.signals.map((s) => s.id));
  for (const s of more.signals) if (!sigs.has(s.id)) base.signals.push(s);
  const ids = new Set(base.identities.map((i) => i.kind + i.id));
  for (const i of more.identities) if (!ids.has(i.kind + i.id)) base.identities.push({ ...i, how: i.how + ' (expanded)' });
}

// renderCase shows the incident of the view's starting point.
export async function renderCase(main, params) {
  const start = startOf(params);
  if (!start) {
    append(main, errorBox('name a starting point: signal, access key, principal, IAM user or IP'));
    return null;
  }
  const expands = params.getAll('expand');
  const excluded = params.getAll('exclude');
  const expandedGroups = params.getAll('group');
  const [kind, value] = Object.entries(start)[0];
  const title = `${STARTS_LABEL[kind]} ${value}`;
  const box = el('section', { class: 'case', 'aria-label': 'incident' });
  const status = el('p', { class: 'muted', role: 'status', text: `Investigating ${visible(title)}…` });
  append(main, box);
  append(box, el('h1', { text: 'Incident from ' + title }), status);
  let rep;
  try {
    rep = await getJSON('/api/case?' + qs(start));
    for (const x of expands) {
      const [k, ...rest] = x.split('=');
      const v = rest.join('=');
      if (!STARTS.includes(k) || !v) continue;
      merge(rep, await getJSON('/api/case?' + qs({ [k]: v })), x);
    }
  } catch (err) {
    status.replaceWith(errorBox(err));
    return null;
  }
  status.remove();
  const state = { tab: TABS.includes(params.get('tab')) ? params.get('tab') : 'overview', cy: null, timeline: null };
  window.trailhound = { report: rep, state };

  // The permalink: the view's parameters, always in the address bar.
  const link = (changes) => {
    const p = { ...start, expand: expands, exclude: excluded, group: expandedGroups, tab: state.tab, ...changes };
    return '#/case?' + qs(p);
  };
  const sum = rep.summary;
  const startQS = qs(start);
  append(box, 
    el('p', { class: 'summary-line' },
      `${fmtNumber(sum.events)} events, ${rep.identities.length} identities, ${rep.signals.length} signals, ${rep.resources.length} resources, `,
      `${sum.accounts.length} account(s), ${sum.regions.length} region(s), ${sum.source_ips.length} source IP(s), ${fmtTime(sum.first_seen)} → ${fmtTime(sum.last_seen)}`,
      expands.length ? ` — expanded from ${expands.length} more identities` : '',
      excluded.length ? ` — ${excluded.length} node(s) excluded from view` : ''),
    el('div', { class: 'actions' },
      el('a', { href: link({}), class: 'button', id: 'permalink', text: 'Permalink' }),
      el('a', { href: '/api/case.md?' + startQS, class: 'button', download: '', text: 'Export Markdown' }),
      el('a', { href: '/api/case.json?' + startQS, class: 'button', download: '', text: 'Export JSON' }),
      el('a', { href: '/api/plan.sh?' + startQS, class: 'button', download: '', id: 'plan-download', text: 'Download plan' }),
      el('a', { href: '/api/navigator?' + startQS, class: 'button', download: '', text: 'ATT&CK layer' })),
  );
  if (start.signal) append(box, await triageEditor(start.signal));

  const tabBar = el('nav', { class: 'tabs', role: 'tablist' });
  const pane = el('div', { class: 'pane' });
  append(box, tabBar, pane);
  const show = (t) => {
    state.tab = t;
    history.replaceState(null, '', link({}));
    tabBar.querySelectorAll('button').forEach((b) => b.setAttribute('aria-selected', b.dataset.tab === t ? 'true' : 'false'));
    clear(pane);
    if (state.cy) { state.cy.destroy(); state.cy = null; }
    if (state.timeline) { state.timeline.destroy(); state.timeline = null; }
    closePanel();
    VIEWS[t](pane, rep, { state, link, excluded, expandedGroups, expands, start });
  };
  for (const t of TABS) tabBar.append(el('button', { type: 'button', role: 'tab', dataset: { tab: t }, onclick: () => show(t), text: t.replace('-', ' ') }));
  show(state.tab);
  return { destroy() { if (state.cy) state.cy.destroy(); if (state.timeline) state.timeline.destroy(); closePanel(); } };
}

// entriesOf returns the timeline entries a graph node stands for.
function entriesOf(rep, n) {
  const v = nodeValue(n);
  switch (n.kind) {
    case 'access-key': return rep.timeline.filter((e) => e.access_key_id === v);
    case 'ip': case 'service': return rep.timeline.filter((e) => e.source_ip === v);
    case 'resource': {
      const r = parseResource(n.id);
      const res = rep.resources.find((x) => x.type === r.type && x.account === r.account && x.region === r.region && (x.id || x.name) === r.rid);
      const ids = new Set(res ? [res.create_event_id, res.delete_event_id].filter(Boolean) : []);
      return rep.timeline.filter((e) => ids.has(e.event_id));
    }
    case 'region': {
      const [acct, region] = n.id.slice('region:'.length).split('|');
      return rep.timeline.filter((e) => e.account === acct && e.region === region);
    }
    case 'group': return [];
    default: return rep.timeline.filter((e) => e.identity === v || e.identity.startsWith(v + '#'));
  }
}

// excludedEntries drops the events of excluded identities, keys and addresses.
function visibleEntries(rep, excluded) {
  if (!excluded.length) return rep.timeline;
  const drop = new Set();
  for (const id of excluded) {
    const i = id.indexOf(':');
    drop.add(id.slice(i + 1));
  }
  return rep.timeline.filter((e) => !drop.has(e.identity) && !drop.has(e.access_key_id) && !drop.has(e.source_ip));
}

const VIEWS = {
  overview(pane, rep) {
    append(pane, 
      table(rep.identities.map((i) => flatten(i)), { id: 'identities', caption: 'Identities in scope', columns: undefined }),
      table(rep.signals.map((s) => ({ ...flatten(s), _id: s.id })), {
        id: 'case-signals', caption: 'Signals in scope',
        columns: [{ key: 'level', title: 'level' }, { key: 'title', title: 'title', render: (r) => el('a', { href: '#/case?' + qs({ signal: r._id }), text: r.title }) },
          'id', 'techniques', 'tactics', 'first_seen'],
      }),
    );
    // Fields this page does not know yet (a newer report): shown as tables or text.
    for (const [k, v] of Object.entries(rep)) {
      if (KNOWN.has(k)) continue;
      append(pane, el('h3', { text: k.replace(/_/g, ' ') }), generic(v, k));
    }
  },

  graph(pane, rep, ctx) {
    const info = el('p', { class: 'muted' });
    const box = el('div', { id: 'graph', class: 'graph', 'aria-label': 'identity graph' });
    let layout = 'auto';
    const redraw = () => {
      if (ctx.state.cy) ctx.state.cy.destroy();
      const els = elements(rep, { excluded: ctx.excluded, expandedGroups: ctx.expandedGroups });
      const { cy, ms } = draw(box, els, { layout, onNode: (n) => nodePanel(rep, n, ctx) });
      ctx.state.cy = cy;
      window.trailhound.cy = cy;
      window.trailhound.layoutMs = ms;
      const groups = cy.nodes('.group').length;
      info.textContent = `${cy.nodes().length} nodes, ${cy.edges().length} edges, laid out in ${Math.round(ms)} ms` +
        (groups ? ` — ${groups} collapsed groups (click one to expand it)` : '') + '. Red: created or obtained in the incident; thick border: in scope; orange halo: marked by signals.';
      box.dataset.ready = 'true';
    };
    append(pane, el('div', { class: 'tools' },
      el('button', { type: 'button', text: 'Regions', onclick: () => { layout = 'regions'; redraw(); } }),
      el('button', { type: 'button', text: 'Force layout (fcose)', onclick: () => { layout = 'fcose'; redraw(); } }),
      el('button', { type: 'button', text: 'Hierarchy (dagre)', onclick: () => { layout = 'dagre'; redraw(); } }),
      el('button', { type: 'button', text: 'Fit', onclick: () => ctx.state.cy && ctx.state.cy.fit() }),
      ctx.excluded.length ? el('a', { class: 'button', href: ctx.link({ exclude: [] }), text: `Show ${ctx.excluded.length} excluded` }) : null),
    info, box);
    requestAnimationFrame(redraw);
  },

  timeline(pane, rep, ctx) {
    const entries = visibleEntries(rep, ctx.excluded);
    const box = el('div', { id: 'timeline', class: 'timeline', 'aria-label': 'timeline' });
    const list = el('div', { class: 'in-view' });
    const showList = (es, a, b) => {
      clear(list);
      list.append(eventsTable(es, a ? `Events from ${fmtTime(a.toISOString())} to ${fmtTime(b.toISOString())}: ${es.length}` : `All events: ${es.length}`));
    };
    const lanes = new Set(entries.map(laneOf)).size;
    append(pane, el('p', { class: 'muted', text: `${entries.length} events in ${lanes} lanes (one per identity). Green: succeeded; red: failed; ⚑ marked by a signal. Scroll to zoom, drag to move: the table lists the events in view. Click an event for its raw JSON.` }),
      el('div', { class: 'tools' },
        el('button', { type: 'button', text: 'Fit', onclick: () => ctx.state.timeline && ctx.state.timeline.fit() }),
        el('button', { type: 'button', id: 'zoom-signals', text: 'Zoom to signals', onclick: () => {
          const s = entries.filter((e) => e.signals && e.signals.length).map((e) => Date.parse(e.time));
          if (s.length && ctx.state.timeline) ctx.state.timeline.setWindow(new Date(Math.min(...s) - 60000), new Date(Math.max(...s) + 60000));
        } })),
      box, list);
    if (!entries.length) { append(box, el('p', { class: 'muted', text: 'no events' })); return; }
    ctx.state.timeline = drawTimeline(box, entries, { onSelect: showRaw, onRange: showList });
    window.trailhound.timeline = ctx.state.timeline;
    box.dataset.ready = 'true';
    showList(entries);
  },

  attack(pane, rep, ctx) {
    const cols = rep.matrix.tactics.filter((t) => t.techniques.length);
    const detail = el('div', { class: 'matrix-detail' });
    const showSignals = (tactic, tech) => {
      clear(detail);
      const sigs = rep.signals.filter((s) => s.techniques.includes(tech) && (!tactic || s.tactics.includes(tactic) || !s.tactics.length));
      detail.append(el('h3', { text: `${tech}${tactic ? ' under ' + tactic : ''}: ${sigs.length} signal(s)` }),
        el('ul', {}, sigs.map((s) => el('li', {}, el('span', { class: `badge lv-${s.level}`, text: s.level }), ' ', el('a', { href: '#/case?' + qs({ signal: s.id }), text: s.title }), ' ', el('span', { class: 'mono muted', text: s.id })))));
    };
    const grid = el('div', { class: 'matrix', role: 'table', 'aria-label': 'ATT&CK matrix' });
    for (const c of rep.matrix.tactics) {
      grid.append(el('div', { class: 'tactic' + (c.techniques.length ? '' : ' empty'), role: 'rowgroup' },
        el('div', { class: 'tactic-name', role: 'columnheader', text: c.tactic.replace(/-/g, ' ') }),
        c.techniques.map((t) => el('button', { type: 'button', class: 'technique', dataset: { technique: t.id }, onclick: () => showSignals(c.tactic, t.id) },
          el('span', { text: t.id }), el('span', { class: 'n', text: String(t.signals) })))));
    }
    if (rep.matrix.unmapped && rep.matrix.unmapped.length) {
      grid.append(el('div', { class: 'tactic' }, el('div', { class: 'tactic-name', text: 'no tactic' }),
        rep.matrix.unmapped.map((t) => el('button', { type: 'button', class: 'technique', onclick: () => showSignals('', t.id) }, el('span', { text: t.id }), el('span', { class: 'n', text: String(t.signals) })))));
    }
    append(pane, el('div', { class: 'tools' },
      el('a', { class: 'button', href: '/api/navigator?' + qs(ctx.start), download: '', text: 'Navigator layer of this incident' }),
      el('a', { class: 'button', href: '/api/navigator/rules', download: '', text: 'Navigator layer of the loaded rules (coverage)' })),
    cols.length ? grid : el('p', { class: 'muted', text: 'No signal in scope names an ATT&CK technique.' }), detail);
  },

  resources(pane, rep) {
    const rows = rep.resources.map((r) => {
      const f = flatten(r);
      f.state = r.failed ? 'failed' : r.deleted ? 'deleted' : r.changed ? 'changed, still there' : 'still exists';
      return f;
    });
    append(pane, table(rows, { id: 'resources', caption: 'Resources created or changed', empty: 'The scope created or changed no tracked resource.',
      columns: undefined }));
  },

  data(pane, rep) {
    const d = rep.data || {};
    const s3 = (d.s3 || []).map((b) => ({ account: b.account, bucket: b.bucket, calls: Object.entries(b.calls || {}).map(([k, v]) => `${k} ${v}`).join(', '), objects_read: b.object_count, prefixes: (b.prefixes || []).join(', '), first: b.first, last: b.last }));
    const objects = (d.s3 || []).flatMap((b) => (b.objects || []).map((o) => ({ bucket: b.bucket, key: o.key, reads: o.reads, failed: o.failed || 0 })));
    append(pane, table(s3, { id: 's3', caption: 'S3 buckets', empty: 'no S3 access in scope' }),
      table(objects, { id: 's3-objects', caption: 'S3 objects read', empty: 'no object read' }));
    for (const [k, v] of Object.entries(d)) {
      if (k === 's3') continue;
      append(pane, generic(v, k.replace(/_/g, ' ')));
    }
  },

  'blind-spots'(pane, rep) {
    append(pane, table((rep.blind_spots || []).map((b) => flatten(b)), { id: 'blind-spots', caption: 'What the logs cannot show', empty: 'no blind spot found' }));
  },

  cost(pane, rep) {
    const c = rep.cost_estimate || {};
    append(pane, 
      el('p', { class: 'warn', text: c.disclaimer || '' }),
      el('p', { class: 'muted', text: `Prices: ${c.source || ''} (as of ${c.prices_as_of || '?'}), ${c.currency || 'USD'}; estimate as of ${fmtTime(c.as_of)}.` }),
      costTotals(c),
      table((c.lines || []).map((l) => flatten(l)), { id: 'cost', caption: 'Cost per resource', empty: 'nothing that costs by the hour' }),
      el('h3', { text: 'Assumptions' }), el('ul', {}, (c.assumptions || []).map((a) => el('li', { text: a }))));
  },

  plan(pane, rep, ctx) {
    const plan = rep.remediation_plan || { sections: [] };
    const steps = [];
    for (const s of plan.sections || []) for (const st of s.steps || []) steps.push({ account: s.account, region: s.region, ...flatten(st) });
    const script = el('pre', { class: 'script', 'aria-label': 'remediation script', text: 'loading…' });
    const msg = el('span', { class: 'muted', role: 'status' });
    const url = '/api/plan.sh?' + qs(ctx.start);
    let text = '';
    getText(url + '&inline=1').then((t) => { text = t; script.textContent = visible(t); }).catch((err) => script.replaceWith(errorBox(err)));
    append(pane, el('p', { class: 'warn', text: 'Review before running: trailhound never runs this script. Keys of legitimate owners are deactivated, never deleted.' }),
      el('div', { class: 'tools' },
        el('a', { class: 'button', href: url, download: '', text: 'Download script' }),
        el('button', { type: 'button', text: 'Copy script', onclick: async () => {
          try { await navigator.clipboard.writeText(text); msg.textContent = 'copied'; } catch (err) { msg.textContent = 'copy failed: ' + visible(err.message); }
        } }), msg),
      table(steps, { id: 'plan', caption: 'Steps', empty: 'nothing to clean up', columns: undefined }),
      el('h3', { text: 'Script' }), script);
  },
};

function costTotals(c) {
  const t = c.totals || c.total || null;
  if (!t) return null;
  return el('div', { class: 'totals' }, generic(t, 'totals'));
}

// generic shows a value of unknown shape: a list of objects as a table, an object as
// key/value rows, anything else as text.
function generic(v, caption) {
  if (Array.isArray(v)) {
    if (v.length && v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) return table(v.map((x) => flatten(x)), { caption });
    return el('p', { text: v.join(', ') || 'none' });
  }
  if (v && typeof v === 'object') {
    const rows = Object.entries(flatten(v)).map(([key, value]) => ({ key, value }));
    return table(rows, { caption, columns: ['key', 'value'] });
  }
  return el('p', { text: String(v) });
}

// nodePanel shows a node's events and what can be done from it.
function nodePanel(rep, n, ctx) {
  if (n.kind === 'group') {
    location.hash = ctx.link({ group: [...ctx.expandedGroups, n.id], tab: 'graph' });
    return;
  }
  const es = entriesOf(rep, n);
  const st = startFor(n);
  const [k, v] = st ? Object.entries(st)[0] : [];
  openPanel(`${n.kind}: ${short(n.full || n.label, 80)}`,
    el('p', { class: 'mono wrap', text: n.full || n.label }),
    el('p', { class: 'muted', text: [n.inScope ? 'in scope' : 'outside the scope', n.created ? 'created or obtained in the incident' : '', n.signals ? `${n.signals} event(s) marked by signals` : ''].filter(Boolean).join('; ') }),
    el('div', { class: 'tools' },
      st ? el('a', { class: 'button', id: 'expand-here', href: ctx.link({ expand: [...ctx.expands, `${k}=${v}`], tab: 'graph' }), text: 'Expand from here' }) : null,
      st ? el('a', { class: 'button', href: '#/case?' + qs(st), text: 'Investigate from here' }) : null,
      el('a', { class: 'button', id: 'exclude-here', href: ctx.link({ exclude: [...ctx.excluded, n.id], tab: 'graph' }), text: 'Exclude from scope' })),
    eventsTable(es, `${es.length} event(s)`));
}
