// Network ext_authz: config checks (what Istio's CUSTOM builder writes on TCP chains compiles,
// the rest is refused by name) and the decision for one connection with a fake gRPC service: the
// Check it makes, OK / denied / failed / fail-open, the metadata gate, a connection that goes
// away meanwhile, stats (AZ-01, AZ-02: CUSTOM with an envoyExtAuthzGrpc provider on TCP).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AsyncGrpcRequest, AsyncGrpcResult, AsyncHttpClient, AsyncHttpResult } from '../../http/api.js';
import { customTcpFilters } from '../../../controlplane/generate/security/ext-authz.js';
import { newStreamInfo } from '../../../dataplane/http/stream-info.js';
import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import { systemClock } from '../../../common/clock.js';
import { CHECK_PATH, checkTypes } from '../../http/ext_authz/grpc-check.js';
import { normalizeResource } from '../../../xds/codec.js';
import type { TypeUrl } from '../../../xds/resources.js';
import { ConfigError } from '../api.js';
import { compileNetworkExtAuthzConfig, NETWORK_EXT_AUTHZ_TYPE_URL, networkExtAuthzFilterFactory } from './config.js';
import type { NetworkExtAuthzFilter } from './ext-authz-filter.js';

class FakeGrpcService implements AsyncHttpClient {
  readonly calls: { cluster: string; request: AsyncGrpcRequest; timeoutMs: number; signal: AbortSignal }[] = [];
  constructor(private readonly answer: AsyncGrpcResult) {}
  send(): Promise<AsyncHttpResult> {
    return Promise.resolve({ kind: 'failure', reason: 'a gRPC service' });
  }
  grpcUnary(cluster: string, request: AsyncGrpcRequest, timeoutMs: number, signal: AbortSignal): Promise<AsyncGrpcResult> {
    this.calls.push({ cluster, request, timeoutMs, signal });
    return Promise.resolve(this.answer);
  }
}

function answer(o: Record<string, unknown>): AsyncGrpcResult {
  const t = checkTypes().response;
  return { kind: 'ok', message: Buffer.from(t.encode(t.fromObject(o)).finish()) };
}

/** What the control plane writes on a TCP chain for a CUSTOM policy with a gRPC provider: [RBAC shadow, ext_authz]. */
function generated(failOpen = false): Record<string, unknown>[] {
  return customTcpFilters([{ name: 'ext-authz', namespace: 'foo', action: 'CUSTOM', provider: 'sample-ext-authz-grpc', dryRun: false, rules: [{}] }], {
    providers: [{ name: 'sample-ext-authz-grpc', type: 'envoyExtAuthzGrpc', envoyExtAuthzGrpc: { service: 'ext-authz.foo.svc.cluster.local', port: 9000, failOpen, clearRouteCache: false }, path: [] }],
    lookup: (s) => ({ hostname: s }),
    trustDomains: ['cluster.local'],
  }).map((f) => f.typedConfig as unknown as Record<string, unknown>);
}

function setup(result: AsyncGrpcResult, failOpen = false) {
  const stats = new StatsRegistry();
  const service = new FakeGrpcService(result);
  const filter = networkExtAuthzFilterFactory.create(generated(failOpen)[1]!, { clock: systemClock, stats, httpClient: service }) as NetworkExtAuthzFilter;
  const stat = (name: string) => stats.valueOf(`envoy_ext_authz_tcp_${name}`);
  return { filter, service, stat, stats };
}

/** A connection the CUSTOM shadow rule matched (as the network RBAC filter before it records). */
function connection(matched = true): StreamInfo {
  const info = newStreamInfo(0, 0);
  info.downstreamRemoteAddress = '10.0.0.1:40000';
  info.downstreamLocalAddress = '10.0.0.2:3306';
  if (matched) info.dynamicMetadata['envoy.filters.network.rbac'] = { istio_ext_authz_shadow_effective_policy_id: 'istio-ext-authz-sample-ext-authz-grpc-ns[foo]-policy[ext-authz]-rule[0]' };
  return info;
}

const conn = () => ({ signal: new AbortController().signal });

test("config: Istio's TCP CUSTOM filter compiles; statPrefix and grpcService are required; what Strait cannot do is refused", () => {
  const c = compileNetworkExtAuthzConfig(generated()[1]!);
  assert.equal(c.statPrefix, 'tcp.');
  assert.deepEqual(c.service, { cluster: 'outbound|9000||ext-authz.foo.svc.cluster.local', authority: 'ext-authz.foo.svc.cluster.local', timeoutMs: 600_000, metadata: [] });
  assert.equal(c.failureModeAllow, false);
  assert.ok(c.enabled !== null);
  const svc = { envoyGrpc: { clusterName: 'a' } };
  const rejects: [Record<string, unknown>, RegExp][] = [
    [{ grpcService: svc }, /statPrefix: required/],
    [{ statPrefix: 'tcp.' }, /grpcService: required/],
    [{ statPrefix: 'tcp.', grpcService: svc, sendTlsAlertOnDenial: true }, /TLS alert/],
    [{ statPrefix: 'tcp.', grpcService: svc, bootstrapMetadataLabelsKey: 'k' }, /bootstrap metadata/],
    [{ statPrefix: 'tcp.', grpcService: { googleGrpc: {} } }, /Google gRPC client/],
    [{ statPrefix: 'tcp.', grpcService: svc, transportApiVersion: 'V2' }, /only V3/],
    [{ statPrefix: 'tcp.', grpcService: svc, bogus: 1 }, /unknown field "bogus"/],
  ];
  for (const [cfg, why] of rejects) assert.throws(() => compileNetworkExtAuthzConfig({ '@type': NETWORK_EXT_AUTHZ_TYPE_URL, ...cfg }), (e: unknown) => e instanceof ConfigError && why.test(e.message), String(why));
});

test('OK: the Check went to the provider cluster with the connection attributes; the connection goes on', async () => {
  const { filter, service, stat } = setup(answer({ status: { code: 0 } }));
  const info = connection();
  assert.equal(await filter.onNewConnection(info, conn()), undefined);
  const { cluster, request, timeoutMs } = service.calls[0]!;
  assert.equal(cluster, 'outbound|9000||ext-authz.foo.svc.cluster.local');
  assert.equal(request.path, CHECK_PATH);
  assert.equal(timeoutMs, 600_000);
  const t = checkTypes().request;
  const sent = t.toObject(t.decode(request.message)) as { attributes: { source: { address: { socketAddress: { address: string } } }; request?: unknown } };
  assert.equal(sent.attributes.source.address.socketAddress.address, '10.0.0.1');
  assert.equal(sent.attributes.request, undefined, 'a connection has no request attributes');
  assert.equal(stat('total'), 1);
  assert.equal(stat('ok'), 1);
  assert.equal(stat('active'), 0);
  assert.deepEqual(info.responseFlags, []);
});

test('denied: closed with UAEX, ext_authz_denied and ext_authz_close; counted denied and cx_closed', async () => {
  const { filter, stat } = setup(answer({ status: { code: 7 } }));
  const info = connection();
  assert.deepEqual(await filter.onNewConnection(info, conn()), { details: 'ext_authz_close' });
  assert.deepEqual(info.responseFlags, ['UAEX']);
  assert.equal(info.responseCodeDetails, 'ext_authz_denied');
  assert.equal(stat('denied'), 1);
  assert.equal(stat('cx_closed'), 1);
});

test('failed call (transport, grpc-status, bytes that do not decode): closed with ext_authz_error; failure_mode_allow lets it through', async () => {
  for (const r of [{ kind: 'failure', reason: 'ECONNREFUSED' } as AsyncGrpcResult, { kind: 'ok', message: Buffer.from([0x0a, 0xff]) } as AsyncGrpcResult]) {
    const { filter, stat } = setup(r);
    const info = connection();
    assert.deepEqual(await filter.onNewConnection(info, conn()), { details: 'ext_authz_close' });
    assert.equal(info.responseCodeDetails, 'ext_authz_error');
    assert.equal(stat('error'), 1);
  }
  const { filter, stat } = setup({ kind: 'failure', reason: 'no response within 200 ms' }, true);
  assert.equal(await filter.onNewConnection(connection(), conn()), undefined);
  assert.equal(stat('error'), 1);
  assert.equal(stat('failure_mode_allowed'), 1);
  assert.equal(stat('cx_closed'), 0);
});

test('no CUSTOM rule matched the connection: no Check, counted disabled', () => {
  const { filter, service, stat } = setup(answer({ status: { code: 7 } }));
  assert.equal(filter.onNewConnection(connection(false), conn()), undefined);
  assert.equal(service.calls.length, 0);
  assert.equal(stat('disabled'), 1);
});

test('the connection goes away during the Check: the check is cancelled (signal), neither an error nor a close', async () => {
  const { filter, service, stat } = setup({ kind: 'failure', reason: 'the downstream request went away' });
  const ac = new AbortController();
  const pending = filter.onNewConnection(connection(), { signal: ac.signal });
  assert.equal(service.calls[0]!.signal, ac.signal);
  ac.abort();
  assert.equal(await pending, undefined);
  assert.equal(stat('error'), 0);
  assert.equal(stat('active'), 0);
});

test('Envoy stat names: ext_authz.<stat_prefix>.<stat>', async () => {
  const { filter, stats } = setup(answer({ status: { code: 0 } }));
  await filter.onNewConnection(connection(), conn());
  assert.match(stats.envoyText(), /^ext_authz\.tcp\.ok: 1$/m);
  assert.match(stats.envoyText(), /^ext_authz\.tcp\.active: 0$/m);
});

test('the TCP config survives the xDS wire (protobuf round trip) and compiles to the same settings', () => {
  const { '@type': type, ...typed } = generated(true)[1]!;
  const c = compileNetworkExtAuthzConfig(normalizeResource(type as TypeUrl, typed as never) as unknown as Record<string, unknown>);
  assert.equal(c.statPrefix, 'tcp.');
  assert.equal(c.service.cluster, 'outbound|9000||ext-authz.foo.svc.cluster.local');
  assert.equal(c.failureModeAllow, true);
  assert.ok(c.enabled !== null);
});
