// The router: the terminal step of the HTTP filter chain. It resolves the route's cluster, picks
// a host, sends the request over the cluster's pool and streams the response back, turning every
// failure into a local reply with its Envoy flag (NC, UH, UF, UC, UR, UT). Bodyless idempotent
// requests are retried on a connect failure or on a reset of a reused keep-alive connection
// (the race where the upstream closes an idle connection just as it is reused), on another host
// when there is one; full retry policies arrive with VirtualService `retries`.

import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Timer } from '../../common/clock.js';
import type { DownstreamRequest, ProxyContext } from '../http/connection-manager.js';
import { forwardableResponseHeaders } from '../http/headers.js';
import { localReply } from '../http/local-reply.js';
import type { LocalReply } from '../http/local-reply.js';
import type { Cluster } from '../upstream/cluster.js';
import type { Host } from '../upstream/host.js';
import type { CompiledRoute, RouteAction } from './route-table.js';

type Reply = (r: LocalReply) => void;

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'STRAIT_CONNECT_TIMEOUT']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Istio's default policy allows 2 retries; Strait applies it to the failures above. */
const MAX_RETRIES = 2;
// The proxy sets these itself: its own service time replaces an upstream proxy's.
const SKIP_ALWAYS = new Set(['x-envoy-upstream-service-time']);
const SKIP_WITH_SERVER = new Set(['x-envoy-upstream-service-time', 'server']);

export function routeRequest(d: DownstreamRequest, route: CompiledRoute, ctx: ProxyContext, reply: Reply): void {
  const action = route.action;
  if (action.kind === 'direct') {
    writeDirectResponse(d, action.status, action.body);
    return;
  }
  const clusterName = action.kind === 'cluster' ? action.cluster : pickWeighted(action, ctx.random.next());
  d.info.upstreamCluster = clusterName;
  const cluster = ctx.clusters.get(clusterName);
  if (!cluster) {
    d.cfg.stats.noCluster.value++;
    reply(localReply(503, 'NC', 'cluster_not_found', `cluster "${clusterName}" is not configured on this proxy`));
    return;
  }
  new UpstreamExchange(d, route, cluster, ctx, reply).start();
}

function pickWeighted(a: Extract<RouteAction, { kind: 'weighted' }>, r: number): string {
  let point = r * a.total;
  for (const c of a.clusters) {
    point -= c.weight;
    if (point < 0) return c.name;
  }
  return a.clusters[a.clusters.length - 1]!.name;
}

function writeDirectResponse(d: DownstreamRequest, status: number, body: string): void {
  d.info.responseCodeDetails = 'direct_response';
  const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(body) };
  if (body) headers['content-type'] = 'text/plain';
  if (d.cfg.serverHeaderTransformation !== 'PASS_THROUGH') headers.server = d.cfg.serverName;
  d.res.writeHead(status, headers);
  d.res.end(d.method === 'HEAD' ? undefined : body);
  d.info.bytesSent += d.method === 'HEAD' ? 0 : Buffer.byteLength(body);
  if (d.hasBody) d.req.resume();
}

class UpstreamExchange {
  private upReq: http.ClientRequest | null = null;
  private routeTimer: Timer | null = null;
  private connectTimer: Timer | null = null;
  private attempts = 0;
  private readonly tried: Host[] = [];
  private sentAt = 0;
  private responseStarted = false;

  constructor(
    private readonly d: DownstreamRequest,
    private readonly route: CompiledRoute,
    private readonly cluster: Cluster,
    private readonly ctx: ProxyContext,
    private readonly reply: Reply,
  ) {}

  start(): void {
    const { d } = this;
    d.onDownstreamClose = () => this.cancel();
    if (this.route.timeoutMs > 0) this.routeTimer = this.ctx.clock.setTimer(this.route.timeoutMs, () => this.onRouteTimeout());
    this.attempt();
  }

  private chooseHost(): Host | undefined {
    const c = this.cluster;
    let host = c.chooseHost(this.d.authority);
    // On a retry prefer a host not tried yet, as Istio's previous_hosts predicate does.
    for (let i = 0; host && this.tried.includes(host) && i < c.hosts().length; i++) host = c.chooseHost(this.d.authority);
    return host;
  }

  private attempt(): void {
    const { d, cluster } = this;
    this.attempts++;
    const host = this.chooseHost();
    if (!host) {
      cluster.stats.noHealthyHost.value++;
      this.end();
      this.reply(localReply(503, 'UH', 'no_healthy_upstream', `cluster "${cluster.name}" has no healthy endpoints`));
      return;
    }
    this.tried.push(host);
    d.info.upstreamHost = host.key;
    cluster.stats.rqTotal.value++;
    cluster.stats.rqActive.value++;
    host.activeRequests++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      cluster.stats.rqActive.value--;
      host.activeRequests--;
    };

    const upReq = http.request({
      agent: cluster.pool.agent,
      host: host.address,
      port: host.port,
      method: d.method,
      path: d.fullPath,
      headers: d.headers,
      setHost: false,
      localAddress: cluster.sourceAddress !== undefined && host.address.startsWith('127.') ? cluster.sourceAddress : undefined,
    });
    this.upReq = upReq;
    this.sentAt = this.ctx.clock.monotonic();

    upReq.on('socket', (socket) => {
      const onConnect = () => {
        this.connectTimer?.cancel();
        this.connectTimer = null;
        d.info.upstreamLocalAddress = `${socket.localAddress}:${socket.localPort}`;
      };
      if (socket.connecting) {
        this.connectTimer = this.ctx.clock.setTimer(cluster.connectTimeoutMs, () => {
          const err = Object.assign(new Error('connect timeout'), { code: 'STRAIT_CONNECT_TIMEOUT' });
          upReq.destroy(err);
        });
        socket.once('connect', onConnect);
      } else {
        onConnect();
      }
    });

    upReq.on('response', (upRes) => {
      if (this.upReq !== upReq) return;
      this.onResponse(upRes, release);
    });

    upReq.on('error', (err: NodeJS.ErrnoException) => {
      release();
      if (this.upReq !== upReq) return;
      this.connectTimer?.cancel();
      this.connectTimer = null;
      this.onError(err, upReq.reusedSocket);
    });

    if (!d.hasBody) {
      upReq.end();
    } else {
      const req = d.req;
      req.on('data', (chunk: Buffer) => {
        d.info.bytesReceived += chunk.length;
        if (!upReq.write(chunk)) req.pause();
      });
      upReq.on('drain', () => req.resume());
      req.once('end', () => upReq.end());
    }
  }

  private onResponse(upRes: IncomingMessage, release: () => void): void {
    const { d, cluster } = this;
    this.responseStarted = true;
    d.info.upstreamServiceTime = this.ctx.clock.monotonic() - this.sentAt;
    if (d.done) {
      upRes.resume();
      release();
      return;
    }
    const status = upRes.statusCode ?? 502;
    const cls = Math.floor(status / 100);
    if (cls >= 1 && cls <= 5) cluster.stats.rqXx[cls - 1]!.value++;

    const transform = d.cfg.serverHeaderTransformation;
    const headers = forwardableResponseHeaders(upRes.rawHeaders, transform === 'OVERWRITE' ? SKIP_WITH_SERVER : SKIP_ALWAYS);
    headers.push('x-envoy-upstream-service-time', String(Math.round(d.info.upstreamServiceTime)));
    if (transform === 'OVERWRITE' || (transform === 'APPEND_IF_ABSENT' && upRes.headers.server === undefined)) headers.push('server', d.cfg.serverName);
    d.info.responseHeaders = upRes.headers;
    d.info.responseCodeDetails = 'via_upstream';
    d.res.writeHead(status, headers);

    const res = d.res;
    upRes.on('data', (chunk: Buffer) => {
      d.info.bytesSent += chunk.length;
      if (!res.write(chunk)) upRes.pause();
    });
    res.on('drain', () => upRes.resume());
    upRes.once('end', () => {
      release();
      this.end();
      res.end();
    });
    upRes.once('close', () => {
      if (upRes.complete) return;
      release();
      if (d.done) return;
      // The upstream went away mid-response: reset the downstream too (Envoy does).
      this.end();
      d.info.responseFlags.push('UR');
      d.info.responseCodeDetails = 'upstream_reset_after_response_started{connection_termination}';
      res.destroy();
    });
  }

  private onError(err: NodeJS.ErrnoException, reusedSocket: boolean): void {
    const { d } = this;
    if (d.done || this.responseStarted) return;
    const code = err.code ?? '';
    const connectFailure = CONNECT_ERRORS.has(code);
    const retriable = !d.hasBody && IDEMPOTENT.has(d.method) && (connectFailure || (reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')));
    if (retriable && this.attempts <= MAX_RETRIES) {
      this.cluster.stats.rqRetry.value++;
      this.attempt();
      return;
    }
    this.end();
    if (connectFailure) {
      d.info.upstreamTransportFailureReason = `delayed_connect_error:_${code}`;
      const flag = code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'DF' : 'UF';
      const what = flag === 'DF' ? `cannot resolve "${d.info.upstreamHost}"` : `cannot connect to ${d.info.upstreamHost} (${code})`;
      this.reply(localReply(503, flag, 'upstream_reset_before_response_started{connection_failure}', `${what} for cluster "${this.cluster.name}"`));
    } else {
      this.reply(
        localReply(503, 'UC', 'upstream_reset_before_response_started{connection_termination}', `${d.info.upstreamHost} closed the connection before responding (${code || err.message})`),
      );
    }
  }

  private onRouteTimeout(): void {
    const { d } = this;
    this.routeTimer = null;
    if (d.done) return;
    this.cluster.stats.rqTimeout.value++;
    const up = this.upReq;
    this.end();
    up?.destroy();
    if (d.res.headersSent) {
      d.info.responseFlags.push('UT');
      d.info.responseCodeDetails = 'response_timeout';
      d.res.destroy();
      return;
    }
    this.reply(localReply(504, 'UT', 'response_timeout', `upstream ${d.info.upstreamHost} did not answer within the route timeout of ${this.route.timeoutMs} ms`));
  }

  /** Downstream went away: abandon the upstream request (its connection is not reused). */
  private cancel(): void {
    const up = this.upReq;
    this.end();
    up?.destroy();
  }

  private end(): void {
    this.upReq = null;
    this.routeTimer?.cancel();
    this.routeTimer = null;
    this.connectTimer?.cancel();
    this.connectTimer = null;
  }
}
