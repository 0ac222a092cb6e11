// Header changes configured on routes, virtual hosts and weighted clusters (Envoy's
// request/response_headers_to_add and _to_remove; Istio's VirtualService `headers` set/add/remove
// compile to them). Compiled once into a list of operations; applied to the upstream-bound
// request map and to the flat response header list. As in Envoy, removals run before additions,
// and levels apply from the most specific (weighted cluster) to the least (virtual host), so a
// less specific level can override.

import type { HeaderMutations, HeaderValueOption } from '../../xds/resources.js';
import type { HeaderMap } from '../http/headers.js';
import { RouteConfigError } from './route-match.js';

type Action = NonNullable<HeaderValueOption['appendAction']>;

interface Op {
  readonly name: string;
  readonly value: string;
  readonly action: Action;
}

export interface HeaderOps {
  readonly remove: readonly string[];
  readonly add: readonly Op[];
}

/** Headers that cannot be changed this way (pseudo-headers and the Host, as in Envoy). */
const PROTECTED = new Set(['host', ':authority', ':path', ':method', ':scheme']);

function compileOps(at: string, add: readonly HeaderValueOption[] | undefined, remove: readonly string[] | undefined): HeaderOps | null {
  if (!add?.length && !remove?.length) return null;
  const ops = (add ?? []).map((o): Op => {
    const name = o.header?.key?.toLowerCase() ?? '';
    if (!name || PROTECTED.has(name) || name.startsWith(':')) throw new RouteConfigError(`${at}: header "${o.header?.key}" cannot be added`);
    return { name, value: o.header.value ?? '', action: o.appendAction ?? 'APPEND_IF_EXISTS_OR_ADD' };
  });
  const rm = (remove ?? []).map((n) => {
    const name = n.toLowerCase();
    if (PROTECTED.has(name) || name.startsWith(':')) throw new RouteConfigError(`${at}: header "${n}" cannot be removed`);
    return name;
  });
  return { remove: rm, add: ops };
}

export interface CompiledMutations {
  readonly request: HeaderOps | null;
  readonly response: HeaderOps | null;
}

export function compileMutations(at: string, m: HeaderMutations): CompiledMutations | null {
  const request = compileOps(at, m.requestHeadersToAdd, m.requestHeadersToRemove);
  const response = compileOps(at, m.responseHeadersToAdd, m.responseHeadersToRemove);
  return request || response ? { request, response } : null;
}

export function applyToRequest(ops: HeaderOps, h: HeaderMap): void {
  for (const n of ops.remove) delete h[n];
  for (const o of ops.add) {
    const cur = h[o.name];
    switch (o.action) {
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        h[o.name] = o.value;
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (cur !== undefined) h[o.name] = o.value;
        break;
      case 'ADD_IF_ABSENT':
        if (cur === undefined) h[o.name] = o.value;
        break;
      default:
        if (cur === undefined) h[o.name] = o.value;
        else if (Array.isArray(cur)) cur.push(o.value);
        else h[o.name] = [cur, o.value];
    }
  }
}

/** Applies to a flat [name, value, ...] list (what ServerResponse.writeHead takes). */
export function applyToResponse(ops: HeaderOps, flat: string[]): void {
  for (const n of ops.remove) removeFlat(flat, n);
  for (const o of ops.add) {
    const present = indexOfFlat(flat, o.name) >= 0;
    switch (o.action) {
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        removeFlat(flat, o.name);
        flat.push(o.name, o.value);
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (present) {
          removeFlat(flat, o.name);
          flat.push(o.name, o.value);
        }
        break;
      case 'ADD_IF_ABSENT':
        if (!present) flat.push(o.name, o.value);
        break;
      default:
        flat.push(o.name, o.value);
    }
  }
}

export function indexOfFlat(flat: readonly string[], name: string): number {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return i;
  return -1;
}

export function removeFlat(flat: string[], name: string): void {
  for (let i = flat.length - 2; i >= 0; i -= 2) if (flat[i] === name) flat.splice(i, 2);
}
