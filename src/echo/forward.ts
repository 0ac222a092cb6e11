// The echo's outbound call (`x-echo-forward` / ECHO_FORWARD). In the mesh it goes THROUGH the
// workload's sidecar the way any HTTP_PROXY-honouring client does: the TCP connection is to the
// proxy, the request line carries the absolute URL (`GET http://backend:8080/p HTTP/1.1`) and the
// Host header names the real destination, so the sidecar routes it like application traffic.
// Without a proxy it connects straight to the URL's host.

import http from 'node:http';
import { systemClock, type Clock } from '../common/clock.js';

/**
 * Inbound headers copied onto the outbound call: trace context (so the proxies' spans join one
 * trace; Istio requires applications to do this) and the ones Bookinfo's productpage forwards.
 */
export const PROPAGATED_HEADERS: readonly string[] = [
  'x-request-id', 'traceparent', 'tracestate',
  'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'b3',
  'x-ot-span-context',
  'end-user', 'user-agent', 'authorization', 'cookie',
];

export const DEFAULT_FORWARD_TIMEOUT_MS = 10_000;
export const FORWARDED_BODY_CAP = 64 * 1024;

export type ForwardResult =
  | { url: string; status: number; headers: http.IncomingHttpHeaders; body: unknown; truncated?: true }
  | { url: string; error: string };

export interface ForwarderOptions {
  /** HTTP_PROXY: where outbound calls connect; null to connect to the target directly. */
  proxy: URL | null;
  timeoutMs?: number;
  clock?: Clock;
}

/** Parses a forward target; only absolute http URLs make sense (the sidecar originates TLS). */
export function parseForwardUrl(raw: string): URL | { error: string } {
  if (!URL.canParse(raw)) return { error: `not an absolute URL: ${JSON.stringify(raw)}` };
  const url = new URL(raw);
  if (url.protocol !== 'http:') return { error: `only http:// URLs can be forwarded to, got ${JSON.stringify(raw)}` };
  return url;
}

/** The outbound headers for a forward: the propagated ones, plus the next hop of a chain. */
export function outboundHeaders(inbound: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const name of PROPAGATED_HEADERS) {
    const v = inbound[name];
    if (v !== undefined) out[name] = v;
  }
  // `x-echo-forward-next` becomes the next echo's `x-echo-forward`: a test can build A → B → C.
  const next = inbound['x-echo-forward-next'];
  if (typeof next === 'string') out['x-echo-forward'] = next;
  return out;
}

export class Forwarder {
  // Keep-alive, like a real application's client: the sidecar sees one pooled connection, not a
  // fresh one per request.
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly proxy: URL | null;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly proxyAuthorization: string | null = null;

  constructor(opts: ForwarderOptions) {
    this.proxy = opts.proxy;
    if (opts.proxy && (opts.proxy.username || opts.proxy.password)) {
      // Credentials in HTTP_PROXY (http://user:pass@host:port) are sent the standard way.
      const creds = `${decodeURIComponent(opts.proxy.username)}:${decodeURIComponent(opts.proxy.password)}`;
      this.proxyAuthorization = `Basic ${Buffer.from(creds).toString('base64')}`;
    }
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
    this.clock = opts.clock ?? systemClock;
  }

  /** GETs `url`; never rejects: failures come back as `{ url, error }`. */
  call(url: URL, headers: http.OutgoingHttpHeaders, signal: AbortSignal): Promise<ForwardResult> {
    const shown = url.href;
    // Userinfo and fragment never go on the wire.
    const origin = `${url.protocol}//${url.host}`;
    const pathAndQuery = url.pathname + url.search;
    const via = this.proxy;
    const reqHeaders: http.OutgoingHttpHeaders = { ...headers, host: url.host };
    if (this.proxyAuthorization) reqHeaders['proxy-authorization'] = this.proxyAuthorization;
    const connectTo = via ?? url;

    return new Promise((resolve) => {
      let settled = false;
      let req: http.ClientRequest | undefined;
      const settle = (result: ForwardResult): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const fail = (error: string): void => {
        settle({ url: shown, error });
        req?.destroy();
      };
      const onAbort = (): void => fail('the inbound request went away');
      const timer = this.clock.setTimer(this.timeoutMs, () => fail(`timeout after ${this.timeoutMs} ms`));
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) {
        onAbort();
        return;
      }

      const send = (mayRetry: boolean): void => {
        let responded = false;
        let r: http.ClientRequest;
        try {
          r = http.request({
            agent: this.agent,
            // URL keeps IPv6 literals bracketed; a socket address must not be.
            host: connectTo.hostname.replace(/^\[(.*)\]$/, '$1'),
            port: connectTo.port === '' ? 80 : Number(connectTo.port),
            method: 'GET',
            path: via ? origin + pathAndQuery : pathAndQuery,
            headers: reqHeaders,
          }, (res) => {
            responded = true;
            this.readResponse(res, shown, settle, fail);
          });
        } catch (err) {
          // Node validates the request synchronously (e.g. a header value it refuses to send).
          fail(describeError(err as Error));
          return;
        }
        req = r;
        r.on('error', (err: NodeJS.ErrnoException) => {
          // A pooled connection that the peer closed while it sat idle fails on first reuse,
          // before any answer: nothing reached the peer, so a fresh connection may be tried once.
          if (mayRetry && !settled && !responded && r.reusedSocket && err.code === 'ECONNRESET') send(false);
          else fail(describeError(err));
        });
        r.end();
      };
      send(true);
    });
  }

  private readResponse(
    res: http.IncomingMessage,
    url: string,
    settle: (r: ForwardResult) => void,
    fail: (error: string) => void,
  ): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const done = (truncated: boolean): void => {
      if (finished) return;
      finished = true;
      const text = Buffer.concat(chunks).toString('utf8');
      const result: ForwardResult = {
        url,
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: truncated ? text : decodeBody(text, res.headers['content-type']),
      };
      if (truncated) result.truncated = true;
      settle(result);
    };
    res.on('data', (chunk: Buffer) => {
      if (finished) return;
      const room = FORWARDED_BODY_CAP - size;
      if (chunk.length <= room) {
        chunks.push(chunk);
        size += chunk.length;
        return;
      }
      // Enough kept: stop reading rather than drain an arbitrarily large body.
      chunks.push(chunk.subarray(0, room));
      done(true);
      res.destroy();
    });
    res.on('end', () => done(false));
    res.on('error', () => fail('the upstream connection broke while sending the body'));
    res.on('close', () => {
      if (!res.complete) fail('the upstream connection closed before the body ended');
    });
  }

  /** Closes pooled connections (the server shutting down). */
  destroy(): void {
    this.agent.destroy();
  }
}

function decodeBody(text: string, contentType: string | undefined): unknown {
  // application/json and the structured-syntax suffix form (application/problem+json).
  const mime = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mime === 'application/json' || mime.endsWith('+json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Not actually JSON: show it as text rather than hide it.
    }
  }
  return text;
}

function describeError(err: Error & { code?: string }): string {
  return err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
}
