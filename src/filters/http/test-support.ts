// Test helpers shared by every HTTP filter's unit tests (excluded from the build by name): a
// FilterStream that needs no socket, a response-header map, and `exchange()`, which drives one
// filter through its phases the way the connection manager does (request headers, awaited if
// they return a promise; the response phase for whichever response is written, the upstream's
// or the filter's own local reply; then onLog). Tests then assert on what a user would see:
// status, headers, response flags and details.

import type { FilterRequest, FilterResponseHeaders, FilterStream, HttpFilter, LocalReply } from './api.js';
import type { HeaderMap } from '../../dataplane/http/headers.js';
import { newStreamInfo } from '../../dataplane/http/stream-info.js';
import type { StreamInfo } from '../../dataplane/http/stream-info.js';

export interface FakeStreamOptions {
  method?: string;
  scheme?: string;
  authority?: string;
  path?: string;
  /** Request headers, lower-case names. */
  headers?: HeaderMap;
  remoteAddress?: string;
  /** Compiled per-route configs by filter name (what `compilePerRoute` returned). */
  perRoute?: Readonly<Record<string, unknown>>;
  /** Epoch ms for info.startTime (use the test's clock.now()). */
  startTime?: number;
}

/** A FilterStream for one request, with a downstream that can be made to go away. */
export class FakeFilterStream implements FilterStream {
  readonly request: FilterRequest;
  readonly info: StreamInfo;
  private readonly downstream = new AbortController();
  private readonly perRouteConfigs: Map<string, unknown>;
  /** How many times a filter read `signal` (the real stream allocates its AbortController lazily). */
  signalReads = 0;

  constructor(opts: FakeStreamOptions = {}) {
    const method = opts.method ?? 'GET';
    const authority = opts.authority ?? 'example.com';
    const headers: HeaderMap = { host: authority, ...opts.headers };
    this.request = {
      method,
      scheme: opts.scheme ?? 'http',
      authority,
      path: opts.path ?? '/',
      headers,
      remoteAddress: opts.remoteAddress ?? '127.0.0.1',
    };
    const start = opts.startTime ?? 1_700_000_000_000;
    this.info = newStreamInfo(start, start);
    this.info.method = method;
    this.info.path = this.request.path;
    this.info.authority = authority;
    this.info.scheme = this.request.scheme;
    this.perRouteConfigs = new Map(Object.entries(opts.perRoute ?? {}));
  }

  get signal(): AbortSignal {
    this.signalReads++;
    return this.downstream.signal;
  }

  perRoute<T>(filterName: string): T | undefined {
    return this.perRouteConfigs.get(filterName) as T | undefined;
  }

  /** Set when the filter asked for the route to be picked again. */
  routeCacheCleared = false;

  clearRouteCache(): void {
    this.routeCacheCleared = true;
  }

  setPerRoute(filterName: string, compiled: unknown): void {
    this.perRouteConfigs.set(filterName, compiled);
  }

  /** The downstream closes the connection (aborts `signal`). */
  disconnect(): void {
    this.downstream.abort();
  }
}

/** Response headers as an ordered list of [name, value], names lower-cased like the real one. */
export class FakeResponseHeaders implements FilterResponseHeaders {
  readonly entries: [string, string][];

  constructor(initial: Readonly<Record<string, string>> | readonly (readonly [string, string])[] = {}) {
    const list = Array.isArray(initial) ? initial : Object.entries(initial);
    this.entries = list.map(([k, v]) => [k.toLowerCase(), v]);
  }

  get(name: string): string | undefined {
    const n = name.toLowerCase();
    return this.entries.find(([k]) => k === n)?.[1];
  }

  getAll(name: string): string[] {
    const n = name.toLowerCase();
    return this.entries.filter(([k]) => k === n).map(([, v]) => v);
  }

  set(name: string, value: string): void {
    this.remove(name);
    this.entries.push([name.toLowerCase(), value]);
  }

  add(name: string, value: string): void {
    this.entries.push([name.toLowerCase(), value]);
  }

  remove(name: string): void {
    const n = name.toLowerCase();
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]![0] === n) this.entries.splice(i, 1);
  }

  names(): string[] {
    return this.entries.map(([k]) => k);
  }
}

/** What the upstream answers when the filter lets the request through. */
export interface FakeUpstreamResponse {
  status: number;
  headers?: Readonly<Record<string, string>>;
}

export interface Exchange {
  /** The filter's local reply, or undefined when the request went upstream. */
  readonly reply: LocalReply | undefined;
  /** Whether the request reached the (fake) upstream. */
  readonly forwarded: boolean;
  /** Status and headers as the downstream receives them, after onResponseHeaders. */
  readonly status: number;
  readonly headers: FakeResponseHeaders;
  /** The local reply's exact body when it sets one (a preflight's empty body, a gRPC trailers-only answer). */
  readonly body: string | undefined;
}

/**
 * Runs `filter` for one request as the connection manager does. A LocalReply's flag and details
 * are recorded on `s.info` as the connection manager records them.
 */
export async function exchange(filter: HttpFilter, s: FakeFilterStream, upstream: FakeUpstreamResponse = { status: 200 }): Promise<Exchange> {
  const reply = (await filter.onRequestHeaders?.(s)) ?? undefined;
  let status: number;
  let headers: FakeResponseHeaders;
  let body: string | undefined;
  if (reply) {
    if (reply.flag) s.info.responseFlags.push(reply.flag);
    s.info.responseCodeDetails = reply.details;
    status = reply.status;
    headers = new FakeResponseHeaders(reply.headers ?? []);
    body = reply.body;
  } else {
    status = upstream.status;
    headers = new FakeResponseHeaders(upstream.headers ?? {});
    if (!s.info.responseCodeDetails) s.info.responseCodeDetails = 'via_upstream';
  }
  filter.onResponseHeaders?.(s, status, headers);
  s.info.responseCode = status;
  filter.onLog?.(s);
  return { reply, forwarded: reply === undefined, status, headers, body };
}

/** Resolves once pending promise callbacks have run (lets a test observe "still waiting"). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
