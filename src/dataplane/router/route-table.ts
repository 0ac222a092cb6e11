// A RouteConfiguration compiled for the request path. Virtual hosts are found by Envoy's domain
// search order (exact, then the longest suffix wildcard, then the longest prefix wildcard, then
// `*`) with map lookups, never a scan over all hosts; within a virtual host routes are tried in
// order and the first match wins, as in Envoy — through an index when a host has many routes
// (route-index.ts), which skips routes whose literal path cannot match without changing which
// route wins. Everything is validated here, at config time: a
// route this module cannot compile rejects the whole configuration (the proxy NACKs it).

import type { RouteConfiguration, VirtualHost } from '../../xds/resources.js';
import { compileRoute, compileVirtualHostContext } from './route-entry.js';
import type { CompiledRoute, VirtualHostContext } from './route-entry.js';
import { RouteConfigError } from './route-match.js';
import type { HeaderLookup } from './route-match.js';
import type { StreamInfo } from '../http/stream-info.js';
import { INDEX_MIN_ROUTES, RouteIndex } from './route-index.js';

export type { CompiledRoute, RouteAction } from './route-entry.js';
export type { HeaderLookup } from './route-match.js';
export { RouteConfigError, compileStringMatcher } from './route-match.js';

export interface CompiledVirtualHost extends VirtualHostContext {
  readonly routes: readonly CompiledRoute[];
  /** Set when the host has enough routes for an index to pay. */
  readonly index?: RouteIndex | null;
}

export interface RouteMatchResult {
  readonly vhost: CompiledVirtualHost;
  readonly route: CompiledRoute;
}

export class RouteTable {
  private readonly exact = new Map<string, CompiledVirtualHost>();
  private readonly suffixes = new Map<string, CompiledVirtualHost>();
  private readonly suffixLengths: number[];
  private readonly prefixes = new Map<string, CompiledVirtualHost>();
  private readonly prefixLengths: number[];
  private readonly star: CompiledVirtualHost | undefined;

  constructor(
    readonly name: string,
    vhosts: readonly CompiledVirtualHost[],
    domains: readonly (readonly string[])[],
    /** ignore_path_parameters_in_path_matching: the connection manager matches (and RBAC checks) the path without `;` parameters. */
    readonly ignorePathParameters = false,
  ) {
    let star: CompiledVirtualHost | undefined;
    vhosts.forEach((vh, i) => {
      for (const raw of domains[i]!) {
        const d = raw.toLowerCase();
        const clash = (map: Map<string, CompiledVirtualHost>, key: string) => {
          if (map.has(key)) throw new RouteConfigError(`route config ${name}: domain "${raw}" appears in two virtual hosts (${map.get(key)!.name}, ${vh.name})`);
          map.set(key, vh);
        };
        if (d === '*') {
          if (star) throw new RouteConfigError(`route config ${name}: two virtual hosts have domain "*"`);
          star = vh;
        } else if (d.startsWith('*')) clash(this.suffixes, d.slice(1));
        else if (d.endsWith('*')) clash(this.prefixes, d.slice(0, -1));
        else if (d.includes('*')) throw new RouteConfigError(`route config ${name}: domain "${raw}" has a wildcard in the middle`);
        else clash(this.exact, d);
      }
    });
    this.star = star;
    this.suffixLengths = [...new Set([...this.suffixes.keys()].map((k) => k.length))].sort((a, b) => b - a);
    this.prefixLengths = [...new Set([...this.prefixes.keys()].map((k) => k.length))].sort((a, b) => b - a);
  }

  findVirtualHost(authority: string): CompiledVirtualHost | undefined {
    const host = authority.toLowerCase();
    const exact = this.exact.get(host);
    if (exact) return exact;
    // A wildcard must match at least one character (Envoy): hence the strict length checks.
    for (const len of this.suffixLengths) {
      if (host.length > len) {
        const vh = this.suffixes.get(host.slice(host.length - len));
        if (vh) return vh;
      }
    }
    for (const len of this.prefixLengths) {
      if (host.length > len) {
        const vh = this.prefixes.get(host.slice(0, len));
        if (vh) return vh;
      }
    }
    return this.star;
  }

  match(authority: string, fullPath: string, path: string, query: string, header: HeaderLookup, info: StreamInfo | null = null): RouteMatchResult | undefined {
    const vhost = this.findVirtualHost(authority);
    if (!vhost) return undefined;
    const routes = vhost.routes;
    const index = vhost.index;
    if (index) {
      const i = index.first(fullPath, path, (k) => routes[k]!.matches(fullPath, path, query, header, info));
      return i < 0 ? undefined : { vhost, route: routes[i]! };
    }
    for (const route of routes) {
      if (route.matches(fullPath, path, query, header, info)) return { vhost, route };
    }
    return undefined;
  }

  /** Every virtual host, once each (tests instrument their routes). */
  vhostsForTest(): CompiledVirtualHost[] {
    return [...new Set([...this.exact.values(), ...this.suffixes.values(), ...this.prefixes.values(), ...(this.star ? [this.star] : [])])];
  }

  static empty(name: string): RouteTable {
    return new RouteTable(name, [], []);
  }
}

export function compileRouteConfiguration(rc: RouteConfiguration): RouteTable {
  if (!rc.name) throw new RouteConfigError('route configuration without a name');
  const vhosts = (rc.virtualHosts ?? []).map((vh) => compileVirtualHost(rc.name, vh));
  return new RouteTable(rc.name, vhosts, (rc.virtualHosts ?? []).map((vh) => vh.domains ?? []), rc.ignorePathParametersInPathMatching === true);
}

function compileVirtualHost(rcName: string, vh: VirtualHost): CompiledVirtualHost {
  if (!vh.name) throw new RouteConfigError(`route config ${rcName}: virtual host without a name`);
  if (!vh.domains?.length) throw new RouteConfigError(`route config ${rcName}: virtual host ${vh.name} has no domains`);
  const where = `${rcName}/${vh.name}`;
  const ctx = compileVirtualHostContext(where, vh);
  const routes = (vh.routes ?? []).map((r, i) => compileRoute(where, r, i, ctx));
  return { ...ctx, routes, index: routes.length >= INDEX_MIN_ROUTES ? new RouteIndex(routes) : null };
}
