// The applied configuration: generation, last reload, the validation diagnostics (warnings and
// errors with file:line:col and the fix), and every resource the control plane holds, grouped by
// kind, each expandable to its normalised form.

import { h } from './dom.js';
import type { ConfigView } from './types.js';

export function renderConfig(root: HTMLElement, c: ConfigView): void {
  const reload = c.lastReload ? `${c.lastReload.ok ? 'ok' : 'REJECTED'}: ${c.lastReload.message} (${new Date(c.lastReload.at).toLocaleTimeString()})` : 'none since start';
  const diags = c.diagnostics.length
    ? h(
        'table',
        { id: 'diagnostics' },
        h('tr', {}, ...['', 'where', 'code', 'message', 'fix'].map((t) => h('th', {}, t))),
        ...c.diagnostics.map((d) => h('tr', {}, h('td', {}, h('span', { class: `badge ${d.severity}` }, d.severity)), h('td', {}, `${d.file}:${d.line}:${d.col}`), h('td', {}, d.code), h('td', { class: 'wrap' }, d.message), h('td', { class: 'wrap muted' }, d.fix ?? ''))),
      )
    : h('p', { class: 'ok', id: 'diagnostics' }, 'No warnings or errors.');
  const kinds = new Map<string, ConfigView['resources']>();
  for (const r of c.resources) kinds.set(r.kind, [...(kinds.get(r.kind) ?? []), r]);
  const groups = [...kinds.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, list]) =>
      h(
        'div',
        { class: 'panel' },
        h('h3', {}, `${kind} `, h('span', { class: 'muted' }, `(${list.length})`)),
        ...list.map((r) =>
          h('details', { 'data-resource': `${r.kind}/${r.namespace}/${r.name}` }, h('summary', {}, `${r.namespace}/${r.name} `, h('span', { class: 'muted' }, `${r.apiVersion} · ${r.file}:${r.line}`)), h('pre', {}, JSON.stringify(r.spec, null, 2))),
        ),
      ),
    );
  root.replaceChildren(
    h('div', { class: 'panel' }, h('b', {}, `Configuration generation ${c.generation}`), h('span', { class: 'muted' }, ` · snapshot ${c.snapshot} · last reload ${reload}`), h('div', { class: 'muted' }, `files: ${c.files.join(', ') || 'none'}`)),
    h('div', { class: 'panel' }, h('h3', {}, 'Validation'), diags),
    ...groups,
  );
}
