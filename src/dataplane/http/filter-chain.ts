// Runs an HCM's HTTP filters for one request (ARCHITECTURE.md §4): request phases in order,
// awaiting only when a phase returns a promise; a LocalReply stops the chain. Response-header
// phases run in reverse order for whichever response is written (upstream or local), and onLog
// for every filter that saw the request. Created only for listeners that have filters, so a
// plain route-and-forward request allocates nothing here.

import type { FilterRequest, FilterResponseHeaders, FilterStream, HttpFilter } from '../../filters/http/api.js';
import type { CompiledRoute } from '../router/route-table.js';
import { indexOfFlat, removeFlat } from '../router/header-mutation.js';
import type { DownstreamRequest } from './connection-manager.js';
import type { LocalReply } from './local-reply.js';
import type { StreamInfo } from './stream-info.js';

class DownstreamView implements FilterRequest {
  constructor(private readonly d: DownstreamRequest) {}
  get method(): string {
    return this.d.method;
  }
  get scheme(): string {
    return this.d.info.scheme;
  }
  get authority(): string {
    return this.d.authority;
  }
  set authority(v: string) {
    this.d.authority = v;
    this.d.headers.host = v;
  }
  get path(): string {
    return this.d.fullPath;
  }
  set path(v: string) {
    this.d.fullPath = v;
  }
  get headers() {
    return this.d.headers;
  }
  get remoteAddress(): string {
    return this.d.req.socket.remoteAddress ?? '';
  }
  get ignorePathParameters(): boolean {
    return this.d.cfg.routeTable.ignorePathParameters;
  }
}

class FlatHeaders implements FilterResponseHeaders {
  constructor(private readonly flat: string[]) {}
  get(name: string): string | undefined {
    const i = indexOfFlat(this.flat, name.toLowerCase());
    return i < 0 ? undefined : this.flat[i + 1];
  }
  set(name: string, value: string): void {
    const n = name.toLowerCase();
    removeFlat(this.flat, n);
    this.flat.push(n, value);
  }
  add(name: string, value: string): void {
    this.flat.push(name.toLowerCase(), value);
  }
  remove(name: string): void {
    removeFlat(this.flat, name.toLowerCase());
  }
}

export class FilterChainRun implements FilterStream {
  readonly request: FilterRequest;
  private abort: AbortController | null = null;
  private ran = 0;
  route: CompiledRoute | null = null;
  /** A filter asked for the route to be picked again after the filters (clearRouteCache). */
  routeCacheCleared = false;

  constructor(private readonly d: DownstreamRequest, private readonly filters: readonly HttpFilter[]) {
    this.request = new DownstreamView(d);
  }

  get info(): StreamInfo {
    return this.d.info;
  }

  get signal(): AbortSignal {
    if (!this.abort) {
      this.abort = new AbortController();
      if (this.d.done) this.abort.abort();
    }
    return this.abort.signal;
  }

  perRoute<T>(filterName: string): T | undefined {
    return this.route?.perFilter?.get(filterName) as T | undefined;
  }

  clearRouteCache(): void {
    this.routeCacheCleared = true;
  }

  /** Runs request phases; resolves to a LocalReply when a filter answers, else undefined. */
  runRequest(): LocalReply | undefined | Promise<LocalReply | undefined> {
    for (let i = this.ran; i < this.filters.length; i++) {
      const f = this.filters[i]!;
      this.ran = i + 1;
      if (!f.onRequestHeaders) continue;
      let r: ReturnType<NonNullable<HttpFilter['onRequestHeaders']>>;
      try {
        r = f.onRequestHeaders(this);
      } catch (e) {
        return internalError(e);
      }
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        return (r as Promise<LocalReply | void>).then(
          (v) => (v ? v : this.d.done ? undefined : this.runRequest()),
          (e) => internalError(e),
        );
      }
      if (r) return r as LocalReply;
    }
    return undefined;
  }

  /** Lets filters that saw the request edit the response head, last filter first. */
  runResponseHeaders(status: number, flat: string[]): void {
    const view = new FlatHeaders(flat);
    for (let i = this.ran - 1; i >= 0; i--) {
      try {
        this.filters[i]!.onResponseHeaders?.(this, status, view);
      } catch {
        // A filter bug must not break the response; the request still completes.
      }
    }
  }

  downstreamClosed(): void {
    this.abort?.abort();
  }

  log(): void {
    for (let i = this.ran - 1; i >= 0; i--) {
      try {
        this.filters[i]!.onLog?.(this);
      } catch {
        // logging must never fail a request
      }
    }
  }
}

function internalError(e: unknown): LocalReply {
  return { status: 500, flag: '', details: 'filter_error', message: `an HTTP filter failed: ${(e as Error)?.message ?? e}` };
}
