// Live tap (Linkerd's `tap`): pick a pod with a proxy, optionally a method and a path prefix,
// and watch each request its proxy completes: direction, source and destination (pod and
// identity, ✓ when read from the mTLS certificate), method, authority, path, status, latency and
// response flags. Streams /api/tap as Server-Sent Events; keeps the newest 300 rows.

import { h, ms } from './dom.js';
import type { Peer, TapEvent } from './types.js';

const MAX_ROWS = 300;

let source: EventSource | null = null;

export function stopTap(): void {
  source?.close();
  source = null;
}

function peer(p: Peer): HTMLElement {
  const who = p.identity ? p.identity.replace(/^spiffe:\/\//, '') : 'no identity';
  return h('td', { class: 'wrap', title: p.verified ? 'identity from the verified mTLS certificate' : p.identity ? 'identity of the pod at that address (not from a certificate)' : '' }, p.pod || '–', h('br'), h('span', { class: 'muted' }, `${who}${p.verified ? ' ✓' : ''}`));
}

function row(e: TapEvent): HTMLTableRowElement {
  const cls = e.status === 0 || e.status >= 500 ? 'bad' : e.status >= 400 ? 'warn' : 'ok';
  return h(
    'tr',
    { class: 'fresh', 'data-request-id': e.requestId, 'data-path': e.path },
    h('td', {}, new Date(e.startTime).toLocaleTimeString()),
    h('td', {}, e.direction === 'inbound' ? '→ in' : 'out →'),
    peer(e.source),
    peer(e.destination),
    h('td', {}, e.method),
    h('td', {}, e.authority),
    h('td', { class: 'wrap' }, e.path),
    h('td', { class: `num ${cls}` }, e.status || '—'),
    h('td', { class: 'num' }, ms(e.durationMs)),
    h('td', { title: e.details }, e.flags),
  );
}

export function renderTap(root: HTMLElement, pods: string[], initialPod: string | null): void {
  const select = h('select', { id: 'tap-pod' }, ...pods.map((p) => h('option', { value: p, selected: p === initialPod }, p)));
  const method = h('input', { id: 'tap-method', placeholder: 'method (any)', size: 10 });
  const path = h('input', { id: 'tap-path', placeholder: 'path prefix (any)', size: 18 });
  const state = h('span', { class: 'muted', id: 'tap-state' }, 'stopped');
  const tbody = h('tbody', { id: 'tap-rows' });
  const button = h('button', { id: 'tap-toggle', type: 'button' }, 'Start');
  const start = () => {
    stopTap();
    const q = new URLSearchParams({ pod: select.value });
    if (method.value.trim()) q.set('method', method.value.trim().toUpperCase());
    if (path.value.trim()) q.set('path', path.value.trim());
    const es = new EventSource(`/api/tap?${q}`);
    source = es;
    button.textContent = 'Stop';
    button.className = 'stop';
    state.textContent = `connecting to ${select.value}…`;
    es.addEventListener('ready', () => (state.textContent = `tapping ${select.value}`));
    es.addEventListener('request', (m) => {
      tbody.prepend(row(JSON.parse((m as MessageEvent<string>).data) as TapEvent));
      while (tbody.children.length > MAX_ROWS) tbody.lastElementChild!.remove();
    });
    es.addEventListener('dropped', (m) => (state.textContent = `tapping ${select.value} (${(JSON.parse((m as MessageEvent<string>).data) as { dropped: number }).dropped} events dropped: this page fell behind)`));
    es.addEventListener('end', () => stop('the proxy ended the tap'));
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) stop('disconnected');
      else state.textContent = 'reconnecting…';
    };
  };
  const stop = (why = 'stopped') => {
    stopTap();
    button.textContent = 'Start';
    button.className = '';
    state.textContent = why;
  };
  button.addEventListener('click', () => (source ? stop() : start()));
  select.addEventListener('change', () => source && start());
  root.replaceChildren(
    h('div', { class: 'panel controls' }, h('label', {}, 'pod ', select), method, path, button, state),
    h(
      'div',
      { class: 'panel' },
      h('table', {}, h('thead', {}, h('tr', {}, ...['time', 'dir', 'source', 'destination', 'method', 'authority', 'path', 'status', 'latency', 'flags'].map((t) => h('th', {}, t)))), tbody),
    ),
  );
  if (initialPod) start();
}
