// The echo workload's server (what `image: strait/echo` runs): answers every request with JSON
// describing the request as received and the pod that received it, so demos and end-to-end
// tests can see what the mesh did to their traffic (routing, header mutation, identity).
// Control paths: `/status/<code>`, `/delay/<ms>`; `x-echo-forward` (or the configured default)
// makes it call another URL through its sidecar first and nest the answer. Pure configuration
// in: nothing here reads the environment (see echo-env.ts), so tests build servers directly.

import http from 'node:http';
import type http2 from 'node:http2';
import { systemClock, type Clock } from '../common/clock.js';
import { Forwarder, outboundHeaders, parseForwardUrl, type ForwardResult } from './forward.js';
import { acceptH2cPriorKnowledge } from './h2c.js';
import { headersFromRaw, parseControlPath, splitTarget } from './request-info.js';
import { parseXfcc, xfccIdentity } from './xfcc.js';

export interface EchoOptions {
  /** Reported as `service` (ECHO_NAME). */
  service?: string | null;
  /** Reported as `version` (ECHO_VERSION). */
  version?: string | null;
  pod?: string | null;
  namespace?: string | null;
  podIP?: string | null;
  serviceAccount?: string | null;
  labels?: Readonly<Record<string, string>>;
  /** The sidecar's outbound listener (HTTP_PROXY); forwards connect to it when set. */
  proxy?: URL | null;
  /** Where to forward requests that carry no `x-echo-forward` header (ECHO_FORWARD). */
  defaultForward?: URL | null;
  /** Receives one line per finished request; absent, nothing is logged. */
  log?: (line: string) => void;
  /** Request bodies above this are answered 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Deadline for a forward, connect to last byte. Default 10 s. */
  forwardTimeoutMs?: number;
  /** Time source for /delay and the forward deadline (tests pass a manual clock). */
  clock?: Clock;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;
type Json = Record<string, unknown>;

interface Reply {
  status: number;
  body: Json;
}

export function createEchoServer(opts: EchoOptions = {}): http.Server {
  const clock = opts.clock ?? systemClock;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const forwarder = new Forwarder({ proxy: opts.proxy ?? null, timeoutMs: opts.forwardTimeoutMs, clock });
  const pod: Json = {
    service: opts.service ?? null,
    version: opts.version ?? null,
    pod: opts.pod ?? null,
    namespace: opts.namespace ?? null,
    labels: opts.labels ?? {},
    serviceAccount: opts.serviceAccount ?? null,
    podIP: opts.podIP ?? null,
  };
  const errorReply = (status: number, error: string): Reply => ({ status, body: { ...pod, error } });

  /** Works out the answer; null when the client went away first (nobody to answer). */
  async function respond(req: Req, x: Exchange, signal: AbortSignal): Promise<Reply | null> {
    const body = await readBody(req, maxBody, signal);
    if (body === null) return null;
    x.bodyBytes = body.bytes;
    if (body.tooLarge) return errorReply(413, `request body exceeds ${maxBody} bytes`);

    const control = parseControlPath(x.path);
    if ('error' in control) return errorReply(400, control.error);

    const headers = headersFromRaw(req.rawHeaders);
    let target = opts.defaultForward ?? null;
    // From the raw headers: Node would join two x-echo-forward lines into one parseable URL.
    const asked = headers['x-echo-forward'];
    if (Array.isArray(asked)) return errorReply(400, 'x-echo-forward given more than once');
    if (asked !== undefined) {
      // An explicit empty header switches the default forward off for this request.
      const parsed = asked === '' ? null : parseForwardUrl(asked);
      if (parsed && 'error' in parsed) return errorReply(400, `x-echo-forward: ${parsed.error}`);
      target = parsed;
    }

    if (control.delayMs !== undefined && !(await sleep(clock, control.delayMs, signal))) return null;

    let status = control.status ?? 200;
    let forwarded: ForwardResult | undefined;
    if (target) {
      forwarded = await forwarder.call(target, outboundHeaders(req.headers), signal);
      if (signal.aborted) return null;
      x.forwarded = forwarded;
      if ('error' in forwarded) {
        status = 502;
      } else if (forwarded.status >= 400 && isTrue(req.headers['x-echo-propagate-status'])) {
        // By default an upstream failure is only shown nested: demos want to see the chain.
        status = forwarded.status;
      }
    }

    const xfccHeader = req.headers['x-forwarded-client-cert'];
    const xfcc = typeof xfccHeader === 'string' ? parseXfcc(xfccHeader) : null;
    return {
      status,
      body: {
        ...pod,
        host: req.headers[':authority'] ?? req.headers.host ?? null,
        method: req.method,
        path: x.path,
        query: x.query,
        proto: `HTTP/${req.httpVersion}`,
        headers,
        peer: {
          ...x.peer,
          identity: xfcc ? xfccIdentity(xfcc) : null,
          xfcc,
        },
        bodyBytes: body.bytes,
        ...(forwarded ? { forwarded } : {}),
      },
    };
  }

  const handle = async (req: Req, res: Res): Promise<void> => {
    const started = clock.monotonic();
    const gone = new AbortController();
    const x: Exchange = {
      ...splitTarget(req.url ?? '/'),
      // Read now: an HTTP/2 request's socket is gone by the time the stream has closed.
      peer: { address: req.socket.remoteAddress ?? null, port: req.socket.remotePort ?? null },
      bodyBytes: 0,
    };
    // A broken request stream must not become an uncaught 'error'; it only means "stop".
    req.on('error', () => gone.abort());
    res.on('close', () => {
      // 'close' before end() was called: the client went away (cancels /delay and forwards).
      if (!res.writableEnded) gone.abort();
      opts.log?.(logLine(req.method, x, gone.signal.aborted ? 'aborted' : res.statusCode, clock.monotonic() - started));
    });

    let reply: Reply | null;
    try {
      reply = await respond(req, x, gone.signal);
    } catch (err) {
      reply = errorReply(500, `echo failed: ${(err as Error).message}`);
    }
    if (reply === null || gone.signal.aborted || res.writableEnded) return;
    // Once close() was called, Node keeps an HTTP/1 keep-alive connection open after its response
    // until the keep-alive timeout, holding up the shutdown; ask the client to close instead.
    // (HTTP/2 sessions get a GOAWAY from close() itself, see h2c.ts.)
    if (!server.listening && req.httpVersionMajor === 1) res.setHeader('connection', 'close');
    send(res, reply);
  };
  const handler = (req: Req, res: Res): void => {
    // handle() answers its own errors; this only guards against a failure while writing.
    handle(req, res).catch(() => res.destroy());
  };

  const server = http.createServer(handler);
  acceptH2cPriorKnowledge(server, handler);
  // Left alone, Node answers `Expect: 100-continue` itself and invites a body we would refuse;
  // refuse it before it is sent, and close since that body will then never arrive.
  server.on('checkContinue', (req, res) => {
    if (declaredLength(req) > maxBody) res.setHeader('connection', 'close');
    else res.writeContinue();
    handler(req, res);
  });
  server.on('close', () => forwarder.destroy());
  return server;
}

/** One request's facts, gathered as it is handled; the log line reports them at the end. */
interface Exchange {
  path: string;
  query: Json;
  peer: { address: string | null; port: number | null };
  bodyBytes: number;
  forwarded?: ForwardResult;
}

function send(res: Res, reply: Reply): void {
  // 204 and 304 have no body by definition.
  const text = reply.status === 204 || reply.status === 304 ? '' : JSON.stringify(reply.body);
  const headers: http.OutgoingHttpHeaders = text === ''
    ? {}
    : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  // The union of the HTTP/1 and HTTP/2 responses has no common overload; both accept this call.
  (res as http.ServerResponse).writeHead(reply.status, headers);
  res.end(text);
}

function declaredLength(req: Req): number {
  const cl = req.headers['content-length'];
  return cl === undefined ? 0 : Number(cl);
}

/**
 * Reads the body to its end, counting bytes without keeping them. Resolves as soon as the body
 * is known to exceed `cap` (declared or counted) so the 413 goes out at once, but keeps draining:
 * the client then reads the answer instead of a reset, and a keep-alive connection stays usable.
 * Null if the request broke off first.
 */
function readBody(req: Req, cap: number, signal: AbortSignal): Promise<{ bytes: number; tooLarge: boolean } | null> {
  return new Promise((resolve) => {
    let bytes = 0;
    const declared = declaredLength(req);
    if (declared > cap) resolve({ bytes: declared, tooLarge: true });
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > cap) resolve({ bytes, tooLarge: true });
    });
    req.on('end', () => resolve({ bytes, tooLarge: false }));
    req.on('close', () => resolve(null)); // no-op after 'end': a promise settles once
    signal.addEventListener('abort', () => resolve(null), { once: true });
  });
}

/** Waits `ms`; false (and the timer cancelled) if the client goes away first. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = (): void => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function isTrue(v: string | string[] | undefined): boolean {
  return typeof v === 'string' && (v.toLowerCase() === 'true' || v === '1');
}

function logLine(method: string | undefined, x: Exchange, status: number | string, ms: number): string {
  let line = `${method} ${x.path} ${status} ${x.bodyBytes}B ${ms.toFixed(1)}ms from ${x.peer.address}:${x.peer.port}`;
  if (x.forwarded) {
    const f = x.forwarded;
    line += ` forward ${f.url} ${'error' in f ? `failed: ${f.error}` : f.status}`;
  }
  return line;
}
