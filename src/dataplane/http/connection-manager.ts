// Envoy's HTTP connection manager for one listener: takes each downstream request, normalises
// its target (origin-form, or absolute-form when the proxy is a workload's HTTP_PROXY), applies
// the request-id and forwarding-header policy, finds the route and hands the request to the
// router. It also writes local replies and, when the exchange ends however it ends, the access
// log line and stats. It reads its config object once per request; a config push swaps the
// object without touching requests in flight.

import { randomUUID } from 'node:crypto';
import { ServerResponse } from 'node:http';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Socket } from 'node:net';
import type { Clock } from '../../common/clock.js';
import type { Random } from '../../common/random.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { forwardableHeaders, countHeader, firstHeader } from './headers.js';
import type { HeaderMap } from './headers.js';
import type { HcmConfig } from './hcm-config.js';
import { localCertificateUri, localPrincipalOf, peerCertificateOf } from '../tls/peer-certificate.js';
import { applyClientCertHeader } from './client-cert-header.js';
import { grpcLocalReply, isGrpcRequest } from './grpc.js';
import { localReply, localReplyHead, writeLocalReply } from './local-reply.js';
import type { LocalReply } from './local-reply.js';
import { FilterChainRun } from './filter-chain.js';
import type { CompiledRoute } from '../router/route-table.js';
import { newStreamInfo } from './stream-info.js';
import type { StreamInfo } from './stream-info.js';
import { routeRequest } from '../router/router.js';
import { normalizeRequestPath, removePathParameters } from './path-normalization.js';
import { trustedXffAddress } from './trusted-client.js';
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER } from '../../telemetry/metrics/peer-exchange.js';
import { finishSpan, startSpan } from '../../telemetry/tracing/http-tracing.js';
import type { ProxySpan } from '../../telemetry/tracing/span.js';
import type { TapHub } from './tap.js';
import type { DownstreamIncoming, DownstreamResponse } from './downstream.js';
import { writeAccessLogs } from '../../telemetry/access-log/access-logs.js';

export interface ProxyContext {
  readonly clusters: ClusterManager;
  readonly clock: Clock;
  readonly random: Random;
  /** Live tap (admin /tap); its `subscribers` is null while nobody taps. */
  readonly tap?: TapHub;
}

/** One downstream request as the router sees it. */
export interface DownstreamRequest {
  readonly req: DownstreamIncoming;
  readonly res: DownstreamResponse;
  readonly info: StreamInfo;
  readonly cfg: HcmConfig;
  /** :authority as forwarded (filters and rewrites may change it). */
  authority: string;
  /** :path with the query, as forwarded (filters and rewrites may change it). */
  fullPath: string;
  readonly method: string;
  /** Headers to send upstream (hop-by-hop removed, forwarding headers applied). */
  readonly headers: HeaderMap;
  /** False when HTTP/1.1 framing says there is no body (no Content-Length, no Transfer-Encoding). */
  readonly hasBody: boolean;
  /** Set once the exchange has ended (response finished or either side gone). */
  done: boolean;
  /** Called by the router to abort the upstream side when the downstream goes away. */
  onDownstreamClose: (() => void) | null;
  /** The HTTP filters' run for this request; null when the listener has no filters. */
  filters: FilterChainRun | null;
  /** An HTTP/1.1 upgrade (WebSocket): the raw downstream connection and the upgrade token. */
  readonly upgrade: { readonly socket: Socket; readonly protocol: string } | null;
  /** Set once an upgrade was accepted upstream: the connection is a tunnel from then on. */
  upgraded: boolean;
  /** This hop's span when the request is traced and sampled (telemetry/tracing/). */
  readonly span: ProxySpan | null;
}

// Names the proxy sets itself; incoming copies are dropped before forwarding.
const MANAGED = new Set(['host', 'x-request-id', 'x-forwarded-proto']);
// Inbound (istio.stats reporter destination) also consumes the caller's metadata exchange headers.
const MANAGED_INBOUND = new Set([...MANAGED, PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER]);

export class HttpConnectionManager {
  /** The response the request path last started tracking (guarded() reads it after a throw). */
  private tracked: DownstreamResponse | null = null;

  constructor(public config: HcmConfig, private readonly ctx: ProxyContext) {}

  get clock(): Clock {
    return this.ctx.clock;
  }

  onConnection = (socket: Socket): void => {
    const stats = this.config.stats;
    stats.cxTotal.value++;
    stats.cxActive.value++;
    socket.once('close', () => {
      stats.cxActive.value--;
    });
  };

  /**
   * An HTTP/1.1 request with Upgrade (Node hands these over with the raw socket). WebSocket is
   * routed like any request and becomes a tunnel once the upstream answers 101, when the HCM
   * enables it (Istio always does); other upgrade types are refused as Envoy refuses them.
   */
  handleUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    // Whatever happens, this connection is not reused for another request.
    res.shouldKeepAlive = false;
    res.once('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    if (head.length > 0) socket.unshift(head);
    const protocol = String(req.headers.upgrade ?? '').toLowerCase();
    this.guarded(req, res, { socket, protocol });
  };

  handle = (req: DownstreamIncoming, res: DownstreamResponse): void => {
    this.guarded(req, res, null);
  };

  /**
   * A bug in the request path must cost one request, never the proxy and every other connection
   * it carries: the exception becomes a 500 local reply (or a reset once the response started)
   * and a `downstream_cx_protocol_error`-style count the operator can see.
   */
  private guarded(req: DownstreamIncoming, res: DownstreamResponse, upgrade: DownstreamRequest['upgrade']): void {
    this.tracked = null;
    try {
      this.handleRequest(req, res, upgrade);
    } catch (e) {
      const stats = this.config.stats;
      stats.internalErrors.value++;
      // Before the request was tracked, nothing else will end its count.
      if (this.tracked !== res) stats.rqActive.value--;
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const why = `the proxy failed on this request: ${(e as Error).message ?? String(e)}`.slice(0, 300);
      const reply = localReply(500, '', 'internal_error', why);
      const head = localReplyHead(reply, {});
      writeLocalReply(res, reply.status, head, req.method === 'HEAD');
    }
  }

  private handleRequest(req: DownstreamIncoming, res: DownstreamResponse, upgrade: DownstreamRequest['upgrade']): void {
    const cfg = this.config;
    const { clock } = this.ctx;
    const info = newStreamInfo(clock.now(), clock.monotonic());
    cfg.stats.rqTotal.value++;
    cfg.stats.rqActive.value++;

    const socket = req.socket;
    info.downstreamLocalAddress = `${socket.localAddress}:${socket.localPort}`;
    info.downstreamRemoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    info.method = req.method ?? 'GET';
    // HTTP/2 arrives through the compatibility API (TLS listeners): same shape, a few differences.
    const h2 = req.httpVersionMajor === 2;
    info.protocol = h2 ? 'HTTP/2' : `HTTP/${req.httpVersion}`;
    const encrypted = (socket as Socket & { encrypted?: boolean }).encrypted === true;
    if (encrypted) {
      info.requestedServerName = (socket as Socket & { servername?: string | false }).servername || '';
      info.peerCertificate = peerCertificateOf(socket);
      info.localPrincipal = localPrincipalOf(socket);
    }

    const raw = req.rawHeaders;
    const target = req.url ?? '/';
    let fullPath = target;
    let authority = (h2 ? firstHeader(req.headers[':authority']) : undefined) ?? firstHeader(req.headers.host) ?? '';
    let scheme = encrypted ? 'https' : 'http';
    let bad: LocalReply | null = null;
    if (target.charCodeAt(0) !== 47 /* '/' */) {
      const abs = ABSOLUTE_FORM.exec(target);
      if (abs) {
        // RFC 9112 §3.2.2: the authority of an absolute-form target wins over Host.
        scheme = abs[1]!.toLowerCase();
        authority = abs[2]!;
        fullPath = abs[3] || '/';
      } else if (!(target === '*' && info.method === 'OPTIONS')) {
        bad = localReply(400, 'DPE', 'http1.invalid_url', `request target "${target.slice(0, 100)}" is neither a path nor an absolute URL`);
      }
    }
    if (countHeader(raw, 'host') > 1) bad = localReply(400, 'DPE', 'http1.duplicate_host', 'the request has more than one Host header');
    if (!authority && !bad) bad = localReply(400, 'DPE', 'missing_host_header', 'the request has no Host header or authority');
    if (raw.length / 2 > cfg.maxHeadersCount && !bad) {
      bad = localReply(431, 'DPE', 'http1.too_many_headers', `the request has more than ${cfg.maxHeadersCount} headers`);
    }

    // Path normalisation comes before anything reads the path (routing, filters, the upstream).
    let redirectTo: string | null = null;
    if (!bad && fullPath.charCodeAt(0) === 47 /* '/' */) {
      const n = normalizeRequestPath(cfg.pathNormalization, fullPath);
      if (typeof n === 'string') fullPath = n;
      else if (n.kind === 'redirect') redirectTo = n.path;
      else {
        cfg.stats.failedPathNormalization.value++;
        bad = localReply(400, '', 'path_normalization_failed', `request path "${fullPath.slice(0, 100)}" cannot be normalised (normalize_path refuses %00; path_with_escaped_slashes_action REJECT_REQUEST refuses %2F and %5C)`);
      }
    }

    info.authority = authority;
    info.scheme = scheme;
    info.path = fullPath;

    const inbound = cfg.istioStats?.cfg.reporter === 'destination';
    const headers = forwardableHeaders(raw, inbound ? MANAGED_INBOUND : MANAGED);
    if (inbound) {
      const mx = req.headers[PEER_METADATA_HEADER];
      if (typeof mx === 'string') info.downstreamPeerMetadata = mx;
    }
    headers.host = authority;
    this.applyRequestId(cfg, headers, req);
    // Read before this hop appends its own peer to X-Forwarded-For.
    const client = trustedXffAddress(headers['x-forwarded-for'], cfg.useRemoteAddress, cfg.xffNumTrustedHops);
    if (client !== null) info.downstreamRemoteAddress = net.isIPv6(client) ? `[${client}]:0` : `${client}:0`;
    this.applyForwardedHeaders(cfg, headers, req, scheme);
    if (cfg.clientCert.forward !== 'SANITIZE' || headers['x-forwarded-client-cert'] !== undefined) {
      applyClientCertHeader(cfg.clientCert, headers, info.peerCertificate, info.peerCertificate ? localCertificateUri(socket) : undefined);
    }
    // Envoy's %REQ(...)% sees the headers after the connection manager's own changes.
    info.requestHeaders = headers;
    // Tracing: sample, propagate the context upstream, open this hop's span if sampled.
    const span = cfg.tracing ? startSpan(cfg.tracing, headers, !(cfg.useRemoteAddress && !isInternal(socket.remoteAddress)), info.startTime, info.startMono) : null;

    let hasBody: boolean;
    if (h2) {
      // An HTTP/2 request without a body ends its stream with the headers.
      hasBody = !(req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders;
      if (hasBody && req.headers['content-length'] === undefined) headers['transfer-encoding'] = 'chunked';
    } else {
      hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
      if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
    }

    if (upgrade?.protocol === 'websocket') {
      // Hop-by-hop, so dropped above; a WebSocket upgrade carries them to the upstream.
      headers.connection = 'upgrade';
      headers.upgrade = 'websocket';
    }
    const d: DownstreamRequest = { req, res, info, cfg, authority, fullPath, method: info.method, headers, hasBody, done: false, onDownstreamClose: null, filters: null, upgrade, upgraded: false, span };
    if (cfg.filters) d.filters = new FilterChainRun(d, cfg.filters);

    res.once('close', () => this.finish(d));
    this.tracked = res;
    if (!bad && upgrade && (upgrade.protocol !== 'websocket' || !cfg.allowWebsocket)) {
      bad = localReply(403, '', 'upgrade_failed', `upgrade to "${upgrade.protocol}" is not enabled on this listener (HttpConnectionManager upgradeConfigs)`);
    }
    if (bad) {
      this.reply(d, bad);
      return;
    }
    if (redirectTo !== null) {
      this.redirectNormalized(d, redirectTo);
      return;
    }
    if (cfg.routeConfigMissing) {
      this.reply(d, localReply(404, 'NR', 'route_configuration_not_found', `route configuration "${cfg.rdsName}" has not been received from the control plane`));
      return;
    }
    // ignore_path_parameters_in_path_matching: routes see the path without `;` parameters; the
    // upstream still gets them.
    const matchPath = cfg.routeTable.ignorePathParameters ? removePathParameters(fullPath) : fullPath;
    const qi = matchPath.indexOf('?');
    const path = qi < 0 ? matchPath : matchPath.slice(0, qi);
    const query = qi < 0 ? '' : matchPath.slice(qi + 1);
    const lookup = (name: string): string | undefined => {
      if (name.charCodeAt(0) === 58 /* ':' */) {
        if (name === ':method') return info.method;
        if (name === ':authority') return authority;
        if (name === ':scheme') return scheme;
        if (name === ':path') return fullPath;
      }
      const v = headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const first = cfg.routeTable.match(authority, matchPath, path, query, lookup)?.route ?? null;
    const chosen = (route: CompiledRoute | null): CompiledRoute | null => {
      if (route) {
        info.routeName = route.name;
        if (span) span.decorator = route.decorator;
      }
      return route;
    };
    const fc = d.filters;
    if (!fc) {
      const route = chosen(first);
      if (route) routeRequest(d, route, this.ctx, (r) => this.reply(d, r));
      else this.noRoute(d, authority, path);
      return;
    }
    // Envoy runs the decoder filters without a route too, and only its router answers 404 NR:
    // a request that authentication or authorization refuses gets their 401/403 either way.
    fc.route = chosen(first);
    const finish = (lr: LocalReply | undefined): void => {
      if (d.done) return;
      if (lr) return this.reply(d, lr);
      // A filter that learned something routes may match on (jwt_authn's verified claims)
      // cleared the route cache: pick again, now with the request's dynamic metadata.
      const route = fc.routeCacheCleared ? chosen(cfg.routeTable.match(authority, matchPath, path, query, lookup, info)?.route ?? null) : first;
      if (route) routeRequest(d, route, this.ctx, (r) => this.reply(d, r));
      else this.noRoute(d, authority, path);
    };
    const r = fc.runRequest();
    if (r && typeof (r as Promise<unknown>).then === 'function') void (r as Promise<LocalReply | undefined>).then(finish);
    else finish(r as LocalReply | undefined);
  }

  /** The router's 404 NR, saying whether the host or the path found nothing. */
  private noRoute(d: DownstreamRequest, authority: string, path: string): void {
    const cfg = d.cfg;
    cfg.stats.noRoute.value++;
    const vhost = cfg.routeTable.findVirtualHost(authority);
    const why = vhost
      ? `no route of virtual host "${vhost.name}" matches path "${path}"`
      : `no virtual host of route configuration "${cfg.routeTable.name}" matches host "${authority}"`;
    this.reply(d, localReply(404, 'NR', 'route_not_found', why));
  }


  /**
   * UNESCAPE_AND_REDIRECT: 307 to the normalised path (Envoy's details are those of a failed
   * normalisation). gRPC clients do not follow redirects, so they get Envoy's 400 instead.
   */
  private redirectNormalized(d: DownstreamRequest, location: string): void {
    const ct = d.headers['content-type'];
    if (isGrpcRequest(typeof ct === 'string' ? ct : undefined)) {
      d.cfg.stats.failedPathNormalization.value++;
      this.reply(d, localReply(400, '', 'path_normalization_failed', `request path "${d.fullPath.slice(0, 100)}" has escaped slashes and gRPC cannot follow the redirect to "${location}"`));
      return;
    }
    d.cfg.stats.redirectedWithNormalizedPath.value++;
    this.reply(d, localReply(307, '', 'path_normalization_failed', `request path "${d.fullPath.slice(0, 100)}" has escaped slashes; use "${location}"`, { headers: [['location', location]] }));
  }

  private applyRequestId(cfg: HcmConfig, headers: HeaderMap, req: DownstreamIncoming): void {
    const existing = firstHeader(req.headers['x-request-id']);
    // Envoy treats loopback and private peers as internal; an external client's id is replaced
    // at the edge unless preserve_external_request_id is set.
    const external = cfg.useRemoteAddress && !isInternal(req.socket.remoteAddress);
    if (existing && (!external || cfg.preserveExternalRequestId)) {
      headers['x-request-id'] = existing;
    } else if (cfg.generateRequestId) {
      headers['x-request-id'] = randomUUID();
    } else if (existing) {
      headers['x-request-id'] = existing;
    }
  }

  private applyForwardedHeaders(cfg: HcmConfig, headers: HeaderMap, req: DownstreamIncoming, scheme: string): void {
    if (cfg.useRemoteAddress) {
      const remote = req.socket.remoteAddress ?? '';
      const xff = headers['x-forwarded-for'];
      const prior = Array.isArray(xff) ? xff.join(',') : xff;
      headers['x-forwarded-for'] = prior ? `${prior},${remote}` : remote;
      headers['x-forwarded-proto'] = scheme;
    } else {
      headers['x-forwarded-proto'] = firstHeader(req.headers['x-forwarded-proto']) ?? scheme;
    }
  }

  /** Sends a local reply unless a response already started (then the stream is reset). */
  reply(d: DownstreamRequest, r: LocalReply): void {
    const { res, info, cfg } = d;
    if (r.flag) info.responseFlags.push(r.flag);
    info.responseCodeDetails = r.details;
    if (d.done) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const extra: Record<string, string> = {};
    if (cfg.serverHeaderTransformation !== 'PASS_THROUGH') extra.server = cfg.serverName;
    const rid = d.headers['x-request-id'];
    if (typeof rid === 'string') extra['x-request-id'] = rid;
    const ct = d.headers['content-type'];
    const reply = isGrpcRequest(typeof ct === 'string' ? ct : undefined) ? grpcLocalReply(r) : r;
    const head = localReplyHead(reply, extra);
    d.filters?.runResponseHeaders(reply.status, head.headers);
    info.bytesSent += writeLocalReply(res, reply.status, head, d.method === 'HEAD');
    // Drain the request body so the connection stays usable for the next request.
    if (d.hasBody && !d.req.readableEnded) d.req.resume();
  }

  private finish(d: DownstreamRequest): void {
    if (d.done) return;
    d.done = true;
    const { res, info, cfg } = d;
    const onClose = d.onDownstreamClose;
    d.onDownstreamClose = null;
    d.filters?.downstreamClosed();
    if (d.upgraded) {
      // A WebSocket tunnel ends when either side closes it; that is its normal end.
      if (onClose) onClose();
    } else if (!res.writableFinished) {
      // The downstream went away before the whole response was written.
      if (!info.responseFlags.includes('DC')) info.responseFlags.push('DC');
      if (!info.responseCodeDetails || !res.headersSent) info.responseCodeDetails = 'downstream_remote_disconnect';
      if (onClose) onClose();
    }
    info.endMono = this.ctx.clock.monotonic();
    info.responseCode = d.upgraded ? 101 : res.headersSent ? res.statusCode : 0;
    if (info.responseHeaders === null && res.headersSent) info.responseHeaders = res.getHeaders();
    cfg.stats.rqActive.value--;
    const cls = Math.floor(info.responseCode / 100);
    if (cls >= 1 && cls <= 5) cfg.stats.rqXx[cls - 1]!.value++;
    d.filters?.log();
    if (d.span && cfg.tracing) finishSpan(cfg.tracing, d.span, info, info.endMono);
    cfg.istioStats?.recordHttp(info, d.req.socket.remoteAddress, this.ctx.clusters);
    writeAccessLogs(cfg.accessLogs, info);
    if (this.ctx.tap?.subscribers) this.ctx.tap.publish(info, cfg.statPrefix, d.req.socket);
  }
}

const ABSOLUTE_FORM = /^(https?):\/\/([^/?#]+)([^#]*)/i;

function isInternal(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  if (a === '::1' || a.startsWith('127.') || a.startsWith('10.') || a.startsWith('192.168.')) return true;
  if (a.startsWith('172.')) {
    const second = Number(a.split('.')[1]);
    return second >= 16 && second <= 31;
  }
  return a.startsWith('fd') || a.startsWith('fc');
}
