// What an allowed check may change, applied as Envoy's ext_authz filter applies it: header
// mutations by HeaderValueOption append action (on the upstream request, and later on the
// response the client gets), request headers removed (never pseudo-headers or Host), and query
// parameters set or removed. Values were validated when the answer was read (grpc-check.ts).

import type { FilterRequest, FilterResponseHeaders } from '../api.js';
import type { HeaderMap } from '../../../dataplane/http/headers.js';
import { ADD_IF_ABSENT, APPEND_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS, OVERWRITE_IF_EXISTS_OR_ADD } from './grpc-check.js';
import type { HeaderMutation } from './grpc-check.js';

/** Pseudo-headers and Host make the request: the service may neither set nor remove them (Envoy's isRemovableHeader). */
function protectedName(name: string): boolean {
  return name.length === 0 || name.charCodeAt(0) === 58 /* ':' */ || name === 'host';
}

export function appendHeader(h: HeaderMap, name: string, value: string): void {
  const cur = h[name];
  if (cur === undefined) h[name] = value;
  else if (Array.isArray(cur)) cur.push(value);
  else h[name] = [cur, value];
}

export function removeRequestHeader(h: HeaderMap, name: string): void {
  if (!protectedName(name)) delete h[name];
}

/** One mutation on the upstream request's headers. */
export function mutateRequestHeader(h: HeaderMap, m: HeaderMutation): void {
  if (protectedName(m.name)) return;
  const cur = h[m.name];
  switch (m.action) {
    case APPEND_IF_EXISTS_OR_ADD:
      if (m.combine && cur !== undefined) {
        // appendCopy: one entry, values joined by a comma.
        if (Array.isArray(cur)) cur[0] = `${cur[0]},${m.value}`;
        else h[m.name] = `${cur},${m.value}`;
      } else appendHeader(h, m.name, m.value);
      return;
    case ADD_IF_ABSENT:
      if (cur === undefined) h[m.name] = m.value;
      return;
    case OVERWRITE_IF_EXISTS_OR_ADD:
      h[m.name] = m.value;
      return;
    case OVERWRITE_IF_EXISTS:
      if (cur !== undefined) h[m.name] = m.value;
      return;
  }
}

/** One mutation on the head of the response the client gets. */
export function mutateResponseHeader(h: FilterResponseHeaders, m: HeaderMutation): void {
  switch (m.action) {
    case APPEND_IF_EXISTS_OR_ADD: {
      const cur = m.combine ? h.get(m.name) : undefined;
      if (cur !== undefined) h.set(m.name, `${cur},${m.value}`);
      else h.add(m.name, m.value);
      return;
    }
    case ADD_IF_ABSENT:
      if (h.get(m.name) === undefined) h.add(m.name, m.value);
      return;
    case OVERWRITE_IF_EXISTS_OR_ADD:
      h.set(m.name, m.value);
      return;
    case OVERWRITE_IF_EXISTS:
      if (h.get(m.name) !== undefined) h.set(m.name, m.value);
      return;
  }
}

/**
 * query_parameters_to_set / _to_remove on the request's :path. Parameters keep their order and
 * their encoding; a set parameter replaces the first of its name (dropping repeats) or is added
 * at the end; keys and values from the service are percent-encoded.
 */
export function mutateQuery(r: FilterRequest, set: readonly (readonly [string, string])[], remove: readonly string[]): void {
  if (set.length === 0 && remove.length === 0) return;
  const q = r.path.indexOf('?');
  const base = q < 0 ? r.path : r.path.slice(0, q);
  const params: [string, string | null][] = [];
  if (q >= 0) {
    for (const part of r.path.slice(q + 1).split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      params.push(eq < 0 ? [part, null] : [part.slice(0, eq), part.slice(eq + 1)]);
    }
  }
  const keyOf = (raw: string): string => {
    try {
      return decodeURIComponent(raw.replace(/\+/g, ' '));
    } catch {
      return raw;
    }
  };
  let out = params.filter(([k]) => !remove.includes(keyOf(k)));
  for (const [k, v] of set) {
    const i = out.findIndex(([x]) => keyOf(x) === k);
    const entry: [string, string] = [encodeURIComponent(k), encodeURIComponent(v)];
    if (i < 0) out.push(entry);
    else {
      out[i] = entry;
      out = out.filter(([x], j) => j <= i || keyOf(x) !== k);
    }
  }
  r.path = out.length ? `${base}?${out.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join('&')}` : base;
}
