// The router: the terminal step of the HTTP filter chain. For the matched route it answers
// directly (direct response, redirect) or picks the target cluster (weighted choice), applies the
// route's rewrites and header changes, resolves the timeouts (route, per-try, and the
// x-envoy-upstream-rq-*-timeout-ms overrides), computes the consistent-hash key, fires the
// mirrors, and hands the request to an UpstreamExchange, which owns retries and the upstream
// side (or, for a WebSocket upgrade, to the tunnel in websocket.ts). Every failure becomes a local reply with its Envoy flag.

import type { DownstreamRequest, ProxyContext } from '../http/connection-manager.js';
import { GrpcMessageCounter } from '../http/grpc-message-counter.js';
import { isGrpcRequest } from '../http/grpc.js';
import { localReply, writeLocalReply } from '../http/local-reply.js';
import type { LocalReply } from '../http/local-reply.js';
import { applyToRequest, applyToResponse } from './header-mutation.js';
import type { CompiledMutations } from './header-mutation.js';
import { computeHashKey } from './hash-key.js';
import { sendMirrors } from './mirror.js';
import { RequestBody } from './request-body.js';
import type { CompiledRoute, RedirectTarget, RouteAction } from './route-entry.js';
import { UpstreamExchange } from './upstream-exchange.js';
import { proxyUpgrade } from './websocket.js';
import { PEER_METADATA_HEADER } from '../../telemetry/metrics/peer-exchange.js';

type Reply = (r: LocalReply) => void;

export function routeRequest(d: DownstreamRequest, route: CompiledRoute, ctx: ProxyContext, reply: Reply): void {
  const action = route.action;
  switch (action.kind) {
    case 'direct':
      writeDirectResponse(d, route, action);
      return;
    case 'redirect':
      writeRedirect(d, route, action);
      return;
  }
  let clusterName: string;
  let targetHeaders: CompiledMutations | null = null;
  if (action.kind === 'cluster') {
    clusterName = action.cluster;
  } else {
    const t = pickWeighted(action, ctx.random.next());
    clusterName = t.name;
    targetHeaders = t.headers;
  }
  d.info.upstreamCluster = clusterName;
  const cluster = ctx.clusters.get(clusterName);
  if (!cluster) {
    d.cfg.stats.noCluster.value++;
    reply(localReply(503, 'NC', 'cluster_not_found', `cluster "${clusterName}" is not configured on this proxy`));
    return;
  }

  // Metadata exchange: an in-mesh destination's sidecar learns from it who calls.
  const mx = d.cfg.istioStats?.cfg.exchangeHeader;
  if (mx && cluster.inMesh) d.headers[PEER_METADATA_HEADER] = mx;
  applyRewrite(d, route);
  // Most specific first; a less specific level applies later and may override (Envoy's default).
  const mutations = targetHeaders ? [targetHeaders, ...route.headers] : route.headers;
  for (const m of mutations) if (m.request) applyToRequest(m.request, d.headers);
  if (route.decorator && d.cfg.propagateDecorator) d.headers['x-envoy-decorator-operation'] = route.decorator;

  const timeouts = resolveTimeouts(d, route);
  const hash = route.hash ? computeHashKey(route.hash, d.headers, d.fullPath, d.req.socket.remoteAddress ?? '', ctx.random) : undefined;
  if (d.upgrade) {
    proxyUpgrade(d, cluster, ctx, reply, hash?.key, timeouts.route);
    return;
  }
  const ct = d.headers['content-type'];
  // gRPC: count the request's messages (istio_request_messages_total) as they pass.
  const messages = d.hasBody && isGrpcRequest(typeof ct === 'string' ? ct : undefined) ? new GrpcMessageCounter() : null;
  const body = d.hasBody
    ? new RequestBody(d.req, (n, chunk) => {
        d.info.bytesReceived += n;
        if (messages) {
          messages.push(chunk);
          d.info.grpcRequestMessages = messages.count;
        }
      })
    : null;
  if (route.mirrors) sendMirrors(d, route.mirrors, ctx, body);

  new UpstreamExchange(d, cluster, ctx, reply, {
    timeoutMs: timeouts.route,
    perTryTimeoutMs: timeouts.perTry,
    retry: route.retry,
    hashKey: hash?.key,
    responseMutations: mutations,
    setCookie: hash?.setCookie,
    includeAttemptCount: route.includeAttemptCount,
    body,
  }).start();
}

function pickWeighted(a: Extract<RouteAction, { kind: 'weighted' }>, r: number): Extract<RouteAction, { kind: 'weighted' }>['clusters'][number] {
  let point = r * a.total;
  for (const c of a.clusters) {
    point -= c.weight;
    if (point < 0) return c;
  }
  return a.clusters[a.clusters.length - 1]!;
}

/** Envoy's x-envoy-upstream-rq-timeout-ms and -per-try-timeout-ms overrides, consumed here. */
function resolveTimeouts(d: DownstreamRequest, route: CompiledRoute): { route: number; perTry: number } {
  let routeMs = route.timeoutMs;
  let perTry = route.retry?.perTryTimeoutMs ?? 0;
  const h = d.headers;
  const rq = h['x-envoy-upstream-rq-timeout-ms'];
  if (typeof rq === 'string' && /^\d+$/.test(rq)) routeMs = Number(rq);
  const pt = h['x-envoy-upstream-rq-per-try-timeout-ms'];
  if (typeof pt === 'string' && /^\d+$/.test(pt)) perTry = Number(pt);
  delete h['x-envoy-upstream-rq-timeout-ms'];
  delete h['x-envoy-upstream-rq-per-try-timeout-ms'];
  // A per-try timeout longer than the whole route timeout can never fire.
  if (routeMs > 0 && perTry >= routeMs) perTry = 0;
  if (routeMs > 0) h['x-envoy-expected-rq-timeout-ms'] = String(perTry > 0 ? perTry : routeMs);
  return { route: routeMs, perTry };
}

function applyRewrite(d: DownstreamRequest, route: CompiledRoute): void {
  const rw = route.rewrite;
  if (!rw) return;
  const original = d.fullPath;
  if (rw.prefix && original.startsWith(rw.prefix.from)) {
    d.fullPath = rw.prefix.to + original.slice(rw.prefix.from.length);
    // `/v1/x` with prefix `/v1/` → `` must still be a path.
    if (d.fullPath === '' || d.fullPath.charCodeAt(0) === 63 /* ? */) d.fullPath = `/${d.fullPath}`;
  } else if (rw.regex) {
    const qi = original.indexOf('?');
    const path = qi < 0 ? original : original.slice(0, qi);
    d.fullPath = rw.regex.replace(path) + (qi < 0 ? '' : original.slice(qi));
  }
  if (d.fullPath !== original) d.headers['x-envoy-original-path'] = original;
  if (rw.host !== undefined) {
    d.authority = rw.host;
    d.headers.host = rw.host;
  }
}

function writeDirectResponse(d: DownstreamRequest, route: CompiledRoute, a: Extract<RouteAction, { kind: 'direct' }>): void {
  d.info.responseCodeDetails = a.details;
  const headers: string[] = ['content-length', String(Buffer.byteLength(a.body))];
  if (a.body) headers.push('content-type', 'text/plain');
  if (d.cfg.serverHeaderTransformation !== 'PASS_THROUGH') headers.push('server', d.cfg.serverName);
  if (a.flag) {
    d.info.responseFlags.push(a.flag);
    headers.push('x-strait-flags', a.flag, 'x-strait-details', a.details);
  }
  finishLocal(d, route, a.status, headers, a.body);
}

function writeRedirect(d: DownstreamRequest, route: CompiledRoute, r: RedirectTarget): void {
  const scheme = r.scheme ?? d.info.scheme;
  const { host: origHost, port: origPort } = splitAuthority(d.authority);
  let host = r.host ?? origHost;
  let port = r.port !== undefined ? (r.port === 0 ? '' : String(r.port)) : origPort;
  // Switching scheme drops a port that was the old scheme's default (Envoy).
  if (r.port === undefined && scheme !== d.info.scheme && (origPort === '' || (d.info.scheme === 'http' && origPort === '80') || (d.info.scheme === 'https' && origPort === '443'))) port = '';
  if ((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')) port = '';
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  const qi = d.fullPath.indexOf('?');
  let path = qi < 0 ? d.fullPath : d.fullPath.slice(0, qi);
  let query = qi < 0 ? '' : d.fullPath.slice(qi);
  if (r.path !== undefined) {
    const pq = r.path.indexOf('?');
    path = pq < 0 ? r.path : r.path.slice(0, pq);
    if (pq >= 0) query = r.path.slice(pq);
  } else if (r.prefixRewrite !== undefined) {
    const from = route.matchPrefix;
    if (from !== undefined && path.startsWith(from)) path = r.prefixRewrite + path.slice(from.length);
  }
  if (r.stripQuery) query = '';
  const location = `${scheme}://${host}${port ? `:${port}` : ''}${path}${query}`;
  d.info.responseCodeDetails = 'direct_response';
  const headers = ['location', location, 'content-length', '0'];
  if (d.cfg.serverHeaderTransformation !== 'PASS_THROUGH') headers.push('server', d.cfg.serverName);
  finishLocal(d, route, r.status, headers, '');
}

function finishLocal(d: DownstreamRequest, route: CompiledRoute, status: number, headers: string[], body: string): void {
  // Local responses get the route's response header changes too (Envoy applies them).
  for (const m of route.headers) if (m.response) applyToResponse(m.response, headers);
  d.filters?.runResponseHeaders(status, headers);
  d.info.bytesSent += writeLocalReply(d.res, status, { headers, body }, d.method === 'HEAD');
  // Drain the request body so the connection stays usable for the next request.
  if (d.hasBody) d.req.resume();
}

function splitAuthority(a: string): { host: string; port: string } {
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return { host: a.slice(1, end), port: a.slice(end + 2) };
  }
  const i = a.lastIndexOf(':');
  return i < 0 ? { host: a, port: '' } : { host: a.slice(0, i), port: a.slice(i + 1) };
}

