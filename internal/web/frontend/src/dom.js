import { visible } from './text.js';

// el builds an element. Text children and the text property go through visible() into
// text nodes; no HTML string is ever parsed. Links may only point inside the application
// (#/…) or to its API (/api/…).
export function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = visible(v);
    else if (k === 'rawText') e.textContent = String(v); // text already escaped by the server
    else if (k === 'href') e.setAttribute('href', safeHref(v));
    else if (k === 'title') e.title = visible(v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'value') e.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden') e[k] = !!v;
    else e.setAttribute(k, String(v));
  }
  append(e, ...children);
  return e;
}

export function append(e, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(visible(c)));
  }
  return e;
}

export function safeHref(v) {
  v = String(v);
  if (v.startsWith('#') || v.startsWith('/api/') || v === '/') return v;
  return '#';
}

export function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
}

// token is what state-changing requests carry (the page's meta tag; only this origin can
// read it).
export function token() {
  const m = document.querySelector('meta[name="trailhound-token"]');
  return m ? m.getAttribute('content') : '';
}

export class HTTPError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function check(res) {
  if (res.ok) return res;
  let msg = res.status + ' ' + res.statusText;
  try {
    const body = await res.json();
    if (body && body.error) msg = body.error;
  } catch (_) { /* not JSON */ }
  throw new HTTPError(res.status, msg);
}

export async function getJSON(url) {
  const res = await check(await fetch(url, { credentials: 'same-origin' }));
  return res.json();
}

export async function getText(url) {
  const res = await check(await fetch(url, { credentials: 'same-origin' }));
  return res.text();
}

export async function postJSON(url, body) {
  const res = await check(await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-Trailhound-Token': token() },
    body: JSON.stringify(body),
  }));
  return res.json();
}

// qs builds a query string from an object (arrays repeat the key; empty values are left out).
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => x !== '' && u.append(k, x));
    else if (v !== undefined && v !== null && v !== '') u.append(k, v);
  }
  return u.toString();
}

export function errorBox(err) {
  return el('div', { class: 'error', role: 'alert', text: err && err.message ? err.message : String(err) });
}
