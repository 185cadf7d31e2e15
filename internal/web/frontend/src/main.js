import { el, append, clear } from './dom.js';
import { renderInbox } from './inbox.js';
import { renderCase } from './case.js';
import { elements, draw } from './graph.js';

// The view is in the URL's fragment: #/ (the inbox, with its filters) and #/case?START
// (an incident), so that every view is a permalink and a reload keeps it.

function parseHash() {
  const h = location.hash.replace(/^#/, '') || '/';
  const [path, query] = h.split('?');
  return { path, params: new URLSearchParams(query || '') };
}

let current = null;

async function route() {
  const main = document.getElementById('main');
  const { path, params } = parseHash();
  if (current && current.destroy) current.destroy();
  current = null;
  clear(main);
  document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', a.getAttribute('href') === '#' + (path === '/' ? '/' : path)));
  if (path === '/case') current = await renderCase(main, params);
  else if (path === '/' || path === '') current = await renderInbox(main, params);
  else append(main, el('p', { class: 'error', text: 'no such view: ' + path }));
}

function startForm() {
  const kind = document.getElementById('start-kind');
  const value = document.getElementById('start-value');
  document.getElementById('start-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = value.value.trim();
    if (!v) return;
    location.hash = '#/case?' + new URLSearchParams({ [kind.value]: v }).toString();
  });
}

// The graph builder and layout, for the layout benchmark (internal/web's bench_test.go).
window.trailhoundGraph = { elements, draw };

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', () => {
  startForm();
  route();
});
