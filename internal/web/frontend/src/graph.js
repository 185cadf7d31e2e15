import cytoscape from 'cytoscape';
import fcose from 'cytoscape-fcose';
import dagre from 'cytoscape-dagre';
import { short, visible } from './text.js';

cytoscape.use(fcose);
cytoscape.use(dagre);

// Past this many nodes, resources are collapsed per account, region and type, and source
// addresses per /16 (or AS), so that a layout of thousands of nodes stays readable; a
// collapsed node expands on a click.
export const COLLAPSE_AT = 300;

const IDENTITY_KINDS = new Set(['user', 'role', 'session', 'root', 'federated-user', 'principal', 'access-key', 'source-identity']);

// nodeValue is the value a node stands for (its id without the kind).
export function nodeValue(n) {
  return n.id.slice(n.kind.length + 1);
}

// parseResource reads the account, region and type out of a resource node's id
// (resource:TYPE|ACCOUNT|REGION|ID).
export function parseResource(id) {
  const parts = id.slice('resource:'.length).split('|');
  return { type: parts[0], account: parts[1], region: parts[2], rid: parts.slice(3).join('|') };
}

// elements builds the Cytoscape elements of a report's graph: the report's nodes and edges,
// a node per account and region holding resources, marks for attacker-created nodes and
// signals, excluded nodes (and what only they reach) left out, large groups collapsed.
export function elements(report, opts = {}) {
  const excluded = new Set(opts.excluded || []);
  const expandedGroups = new Set(opts.expandedGroups || []);
  const g = report.graph || { nodes: [], edges: [] };
  const nodes = new Map();
  const edges = new Map();
  const created = new Set();
  for (const e of g.edges) if (e.kind === 'created' || e.kind === 'assumed' || e.kind === 'acted-on') created.add(e.to);
  const sigCount = new Map();
  for (const t of report.timeline || []) {
    if (!t.signals || !t.signals.length) continue;
    for (const k of ['principal:', 'user:', 'role:', 'session:', 'root:', 'federated-user:']) sigCount.set(k + t.identity, (sigCount.get(k + t.identity) || 0) + 1);
    if (t.access_key_id) sigCount.set('access-key:' + t.access_key_id, (sigCount.get('access-key:' + t.access_key_id) || 0) + 1);
  }
  // Source addresses carry their AS and country when the events had them (--geoip).
  const geo = new Map();
  for (const t of report.timeline || []) {
    if (!t.source_ip || geo.has(t.source_ip) || !(t.asn || t.country)) continue;
    geo.set(t.source_ip, [t.asn ? 'AS' + t.asn : '', t.as_org || '', t.country || ''].filter(Boolean).join(' '));
  }
  for (let n of g.nodes) {
    if (n.kind === 'ip' && geo.has(nodeValue(n))) n = { ...n, label: n.label + ' ' + geo.get(nodeValue(n)) };
    nodes.set(n.id, { id: n.id, kind: n.kind, full: visible(n.label), label: short(n.label, 42), inScope: !!n.in_scope,
      created: created.has(n.id) && !(n.in_scope && isStart(report, n)), signals: sigCount.get(n.id) || 0, expansion: n.expansion || '' });
  }
  for (const e of g.edges) addEdge(edges, e.from, e.to, e.kind, e.count || 1);
  // Accounts and regions: a resource sits inside the box of its account and region.
  const regionOf = (n) => {
    const r = parseResource(n.id);
    const rid = `region:${r.account}|${r.region}`;
    if (!nodes.has(rid)) nodes.set(rid, { id: rid, kind: 'region', label: r.region === 'global' ? `IAM, account ${r.account}` : `${r.region}, account ${r.account}`, full: `${r.region} in account ${r.account}`, signals: 0 });
    return rid;
  };
  for (const n of g.nodes) if (n.kind === 'resource') nodes.get(n.id).parent = regionOf(n);
  // Exclusion: drop the excluded nodes, then whatever the scope no longer reaches.
  if (excluded.size) {
    for (const id of excluded) nodes.delete(id);
    const starts = [...nodes.values()].filter((n) => n.inScope).map((n) => n.id);
    const adj = new Map();
    for (const e of edges.values()) {
      if (!nodes.has(e.source) || !nodes.has(e.target)) continue;
      (adj.get(e.source) || adj.set(e.source, []).get(e.source)).push(e.target);
      (adj.get(e.target) || adj.set(e.target, []).get(e.target)).push(e.source);
    }
    const seen = new Set(starts);
    const queue = [...starts];
    while (queue.length) for (const m of adj.get(queue.pop()) || []) if (!seen.has(m)) { seen.add(m); queue.push(m); }
    for (const [id, n] of [...nodes]) if (n.kind !== 'region' && !seen.has(id)) nodes.delete(id);
    const used = new Set([...nodes.values()].map((n) => n.parent).filter(Boolean));
    for (const [id, n] of [...nodes]) if (n.kind === 'region' && !used.has(id)) nodes.delete(id);
  }
  for (const n of nodes.values()) if (n.parent && !nodes.has(n.parent)) delete n.parent;
  // Collapse.
  const groupOf = new Map();
  if (nodes.size > (opts.collapseAt || COLLAPSE_AT)) {
    const members = new Map();
    for (const n of nodes.values()) {
      let key = null;
      if (n.kind === 'resource') {
        const r = parseResource(n.id);
        key = `group:${r.type}|${r.account}|${r.region}`;
      } else if (n.kind === 'ip') {
        const v = nodeValue(n);
        key = 'group:ip|' + (v.includes(':') ? v.split(':').slice(0, 2).join(':') + '::/32' : v.split('.').slice(0, 2).join('.') + '.0.0/16');
      }
      if (key && !expandedGroups.has(key)) (members.get(key) || members.set(key, []).get(key)).push(n);
    }
    for (const [key, list] of members) {
      if (list.length < 2) continue;
      const [kind, rest] = key.slice('group:'.length).split(/\|(.*)/s);
      const label = kind === 'ip' ? `${list.length} addresses in ${rest}` : `${list.length} × ${kind} ${rest.split('|').reverse().join(' ')}`;
      nodes.set(key, { id: key, kind: 'group', label: short(label, 60), full: label, members: list.length, signals: 0,
        created: list.some((n) => n.created), inScope: false, parent: list[0].parent });
      for (const n of list) { nodes.delete(n.id); groupOf.set(n.id, key); }
    }
  }
  const out = [];
  for (const n of nodes.values()) {
    const cls = [n.kind];
    if (IDENTITY_KINDS.has(n.kind)) cls.push('identity');
    if (n.inScope) cls.push('in-scope');
    if (n.created) cls.push('created');
    if (n.signals) cls.push('signalled');
    if (n.expansion) cls.push('expanded');
    out.push({ group: 'nodes', data: n, classes: cls.join(' ') });
  }
  const merged = new Map();
  for (const e of edges.values()) {
    const s = groupOf.get(e.source) || e.source;
    const t = groupOf.get(e.target) || e.target;
    if (!nodes.has(s) || !nodes.has(t) || s === t) continue;
    addEdge(merged, s, t, e.kind, e.count);
  }
  for (const e of merged.values()) out.push({ group: 'edges', data: e, classes: e.kind });
  return out;
}

function isStart(report, n) {
  return (report.identities || []).some((i) => i.how === 'starting point' && n.id.endsWith(':' + i.id));
}

function addEdge(m, from, to, kind, count) {
  const id = `${from}\u0000${to}\u0000${kind}`;
  const e = m.get(id);
  if (e) { e.count += count; return; }
  m.set(id, { id, source: from, target: to, kind, count, label: kind });
}

const style = [
  { selector: 'node', style: { 'label': 'data(label)', 'font-size': 9, 'text-valign': 'bottom', 'text-margin-y': 3, 'width': 18, 'height': 18, 'background-color': '#8a99a8', 'color': '#1b2530', 'text-wrap': 'ellipsis', 'text-max-width': 160 } },
  { selector: 'node.identity', style: { 'shape': 'round-rectangle', 'background-color': '#3b7dd8' } },
  { selector: 'node.access-key', style: { 'shape': 'tag', 'background-color': '#6b5bd2' } },
  { selector: 'node.session', style: { 'shape': 'ellipse', 'background-color': '#4aa3c7' } },
  { selector: 'node.role', style: { 'shape': 'hexagon', 'background-color': '#2f8f83' } },
  { selector: 'node.ip', style: { 'shape': 'diamond', 'background-color': '#b07d2b' } },
  { selector: 'node.service', style: { 'shape': 'octagon', 'background-color': '#999' } },
  { selector: 'node.resource', style: { 'shape': 'rectangle', 'background-color': '#c25b56', 'width': 14, 'height': 14 } },
  { selector: 'node.region', style: { 'shape': 'round-rectangle', 'background-color': '#eef1f4', 'background-opacity': 0.6, 'border-width': 1, 'border-color': '#8a99a8', 'text-valign': 'top', 'text-margin-y': -2, 'font-size': 10, 'padding': 8, 'text-max-width': 320 } },
  { selector: 'node.group', style: { 'shape': 'round-rectangle', 'background-color': '#e8a09c', 'width': 26, 'height': 26, 'border-width': 2, 'border-style': 'dashed', 'border-color': '#c25b56' } },
  { selector: 'node.in-scope', style: { 'border-width': 3, 'border-color': '#0d2a4d' } },
  { selector: 'node.created', style: { 'background-color': '#d0312d' } },
  { selector: 'node.signalled', style: { 'underlay-color': '#ff8c00', 'underlay-opacity': 0.45, 'underlay-padding': 6 } },
  { selector: 'node.expanded', style: { 'border-style': 'double' } },
  { selector: 'node:selected', style: { 'overlay-color': '#0b5cad', 'overlay-opacity': 0.25 } },
  { selector: 'edge', style: { 'width': 1.2, 'line-color': '#9aa7b4', 'target-arrow-color': '#9aa7b4', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', 'arrow-scale': 0.7 } },
  { selector: 'edge.created, edge.assumed', style: { 'line-color': '#d0312d', 'target-arrow-color': '#d0312d', 'width': 2 } },
  { selector: 'edge.logged-in-as', style: { 'line-style': 'dashed', 'line-color': '#b07d2b', 'target-arrow-color': '#b07d2b' } },
];

export function layoutOptions(name, n) {
  if (name === 'dagre') return { name: 'dagre', rankDir: 'LR', nodeSep: 12, rankSep: 60, animate: false, fit: true };
  return { name: 'fcose', quality: n > 1500 ? 'draft' : 'proof', randomize: true, animate: false, fit: true, padding: 20,
    nodeRepulsion: 9000, idealEdgeLength: (e) => (e.target().isChild() || e.source().isChild() ? 160 : 70), edgeElasticity: 0.3,
    nestingFactor: 0.1, gravity: 0.05, gravityCompound: 2.0, gravityRangeCompound: 1.0, nodeSeparation: 60, tile: true,
    numIter: n > 1500 ? 1000 : 2500, packComponents: true };
}

// regionLayout places identities, keys and addresses in a spiral on the left (the most
// connected first) and the boxes of the accounts and regions in a grid on the right, each
// box's resources in a column or a small grid: readable for an attacker spraying resources
// over 17 regions, where a force layout piles the boxes onto each other.
function regionLayout(cy, width, height) {
  const pos = {};
  const free = cy.nodes().filter((n) => !n.isParent() && !n.isChild()).sort((a, b) => b.degree() - a.degree());
  free.forEach((n, i) => {
    const r = 55 * Math.sqrt(i), a = i * 2.39996;
    pos[n.id()] = { x: r * Math.cos(a), y: r * Math.sin(a) };
  });
  const left = 55 * Math.sqrt(free.length) + 260;
  const boxes = cy.nodes().filter((n) => n.isParent()).sort((a, b) => (a.id() < b.id() ? -1 : 1));
  const cellW = 165, cellH = 40, gapX = 45, gapY = 60;
  const sizes = boxes.map((b) => {
    const k = b.children().length, cols = k <= 4 ? 1 : Math.ceil(Math.sqrt(k));
    return { cols, w: cols * cellW, h: Math.ceil(k / cols) * cellH };
  });
  // As many columns as keep the grid about as wide as the view is, relative to its height.
  const maxW = Math.max(cellW, ...sizes.map((z) => z.w)) + gapX, maxH = Math.max(cellH, ...sizes.map((z) => z.h)) + gapY;
  const aspect = (width || 1200) / (height || 700);
  const cols = Math.max(1, Math.min(boxes.length, Math.round(Math.sqrt((boxes.length * aspect * maxH) / maxW))));
  const rows = Math.ceil(boxes.length / cols);
  boxes.forEach((b, i) => {
    const z = sizes[i];
    const cx = left + (i % cols) * maxW + maxW / 2, cy0 = (Math.floor(i / cols) - (rows - 1) / 2) * maxH;
    b.children().sort((x, y) => (x.id() < y.id() ? -1 : 1)).forEach((c, j) => {
      pos[c.id()] = { x: cx - z.w / 2 + (j % z.cols) * cellW + cellW / 2, y: cy0 - z.h / 2 + Math.floor(j / z.cols) * cellH + cellH / 2 };
    });
  });
  return { name: 'preset', positions: (n) => pos[n.id()] || { x: 0, y: 0 }, fit: true, padding: 20, animate: false };
}

// draw makes a Cytoscape graph in container and lays it out; it calls onNode with a
// node's data on a click. It returns the Cytoscape instance and the layout time in ms.
export function draw(container, els, opts = {}) {
  const t0 = performance.now();
  const cy = cytoscape({
    container, elements: els, style, wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 4,
    textureOnViewport: els.length > 2000, hideEdgesOnViewport: els.length > 2000,
  });
  const n = cy.nodes().length;
  let name = opts.layout || 'auto';
  if (name === 'auto') name = cy.nodes().some((x) => x.isParent()) ? 'regions' : 'fcose';
  cy.layout(name === 'regions' ? regionLayout(cy, container.clientWidth, container.clientHeight) : layoutOptions(name, n)).run();
  const ms = performance.now() - t0;
  if (opts.onNode) cy.on('tap', 'node', (ev) => opts.onNode(ev.target.data()));
  return { cy, ms };
}
