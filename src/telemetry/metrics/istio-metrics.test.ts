import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { newStreamInfo } from '../../dataplane/http/stream-info.js';
import type { StreamInfo } from '../../dataplane/http/stream-info.js';
import { StatsRegistry } from '../stats/stats.js';
import { IstioMetrics } from './istio-metrics.js';
import type { ClusterMetadataLookup } from './istio-metrics.js';
import { istioWorkloadMetadata, peerFromMetadata, workloadLabels, workloadNameOf } from './labels.js';
import { compileStatsConfig, statsFilter } from './stats-config.js';
import type { StatsPluginConfig } from './stats-config.js';
import { compileTagExpression } from './tag-expressions.js';
import { decodePeerMetadata, encodePeerMetadata, MAX_EXCHANGED_PEERS } from './peer-exchange.js';

const TD = 'spiffe://cluster.local';
const frontend = workloadLabels({ name: 'frontend-5d8f9c7b6a-0', namespace: 'default', labels: { app: 'frontend', version: 'v1' } }, `${TD}/ns/default/sa/frontend`);
const backend = workloadLabels({ name: 'backend-v2-abcdef1234-0', namespace: 'default', labels: { app: 'backend', version: 'v2' } }, `${TD}/ns/default/sa/backend`);
const gateway = workloadLabels({ name: 'istio-ingressgateway-local-0', namespace: 'istio-system', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } }, `${TD}/ns/istio-system/sa/istio-ingressgateway-service-account`);

const clusters: ClusterMetadataLookup = {
  get: (name) =>
    name === 'outbound|8080||backend.default.svc.cluster.local'
      ? { resource: { metadata: { filterMetadata: { istio: { services: [{ host: 'backend.default.svc.cluster.local', name: 'backend', namespace: 'default' }] } } } } }
      : name === 'PassthroughCluster'
        ? { resource: {} }
        : undefined,
};

function recorder(config: StatsPluginConfig, registry = new StatsRegistry()): { m: IstioMetrics; registry: StatsRegistry } {
  return { m: new IstioMetrics(compileStatsConfig(statsFilter(config).typedConfig, 'test'), registry), registry };
}

function request(over: Partial<StreamInfo> = {}): StreamInfo {
  const i = newStreamInfo(0, 100);
  Object.assign(i, { method: 'GET', path: '/x?y', authority: 'backend:8080', responseCode: 200, endMono: 112, bytesReceived: 10, bytesSent: 300 }, over);
  return i;
}

/** The series of one family whose labels include all of `want`, as exposition lines. */
function series(text: string, family: string, want: Record<string, string>): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${family}{`) && Object.entries(want).every(([k, v]) => l.includes(`${k}="${v}"`)));
}

test('workload labels: Deployment name from the pod name, canonical service/revision, Istio endpoint metadata round trip', () => {
  assert.equal(workloadNameOf('backend-v1-7d4b9c8f6d-x2k9p'), 'backend-v1');
  assert.equal(workloadNameOf('istio-ingressgateway-local-0'), 'istio-ingressgateway');
  assert.equal(workloadNameOf('standalone'), 'standalone');
  assert.deepEqual(backend, { workload: 'backend-v2', namespace: 'default', principal: `${TD}/ns/default/sa/backend`, app: 'backend', version: 'v2', canonicalService: 'backend', canonicalRevision: 'v2', cluster: 'Kubernetes' });
  const bare = workloadLabels({ name: 'job', namespace: 'ns', labels: { 'service.istio.io/canonical-name': 'svc' } }, undefined);
  assert.deepEqual([bare.app, bare.version, bare.canonicalService, bare.canonicalRevision, bare.principal], ['unknown', 'unknown', 'svc', 'latest', 'unknown']);
  assert.equal(istioWorkloadMetadata(backend), 'backend-v2;default;backend;v2;Kubernetes');
  assert.deepEqual(peerFromMetadata({ workload: istioWorkloadMetadata(backend) }, { peer: { app: 'backend', version: 'v2', principal: backend.principal } }), backend);
  // Istio's short form (name;namespace) still names the workload.
  assert.equal(peerFromMetadata({ workload: 'w;ns' }, undefined).canonicalService, 'w');
  assert.equal(peerFromMetadata(undefined, undefined).workload, 'unknown');
});

test('istio.stats config: rejected with reasons (NACK), peers indexed by IP and by unambiguous principal', () => {
  const bad = (value: unknown) => () => compileStatsConfig({ '@type': 'type.googleapis.com/xds.type.v3.TypedStruct', typeUrl: 'type.googleapis.com/stats.PluginConfig', value }, 'listener x');
  assert.throws(bad({ reporter: 'both', local: {} }), /reporter must be "source" or "destination"/);
  assert.throws(bad({ reporter: 'source', local: {}, peers: [{ workload: 'a' }] }), /peers\[0\] needs an ip/);
  assert.throws(bad({ reporter: 'source', local: {}, metrics: [{ name: 'requests' }] }), /"requests" is not a standard metric/);
  assert.throws(() => compileStatsConfig({ '@type': 'type.googleapis.com/other' }, 'x'), /TypedStruct/);
  const two = { ...backend, workload: 'backend-v1', version: 'v1' };
  const c = compileStatsConfig(statsFilter({ reporter: 'destination', local: backend, peers: [{ ip: '127.0.1.2', ...frontend }, { ip: '127.0.1.3', ...backend }, { ip: '127.0.1.4', ...two }] }).typedConfig, 'x');
  assert.equal(c.peersByIp.get('127.0.1.2')?.workload, 'frontend');
  assert.equal(c.peersByPrincipal.get(frontend.principal)?.workload, 'frontend');
  // Two workloads under one service account: the principal alone cannot say which.
  assert.equal(c.peersByPrincipal.has(backend.principal), false);
});

test('MET-01..04 reporter destination: the caller by IP and certificate, mutual_tls or none, the port\'s service', () => {
  const { m, registry } = recorder({ reporter: 'destination', local: backend, service: { host: 'backend.default.svc.cluster.local', name: 'backend', namespace: 'default' }, peers: [{ ip: '127.0.1.2', ...frontend }] });
  const cert = { uriSans: [frontend.principal], dnsSans: [], subject: '', sha256: '', pem: () => '' };
  m.recordHttp(request({ peerCertificate: cert }), '::ffff:127.0.1.2', clusters);
  m.recordHttp(request({ peerCertificate: cert }), '127.0.1.2', clusters);
  m.recordHttp(request({ responseCode: 503, responseFlags: ['UF', 'URX'] }), '127.0.1.2', clusters);
  m.recordHttp(request(), '10.9.9.9', clusters);
  const text = registry.prometheusText();
  const ok = series(text, 'istio_requests_total', { reporter: 'destination', source_workload: 'frontend', source_principal: frontend.principal, destination_principal: backend.principal, connection_security_policy: 'mutual_tls', response_code: '200' });
  assert.equal(ok.length, 1);
  assert.match(ok[0]!, /source_app="frontend",source_version="v1",source_cluster="Kubernetes",destination_workload="backend-v2",destination_workload_namespace="default",.*destination_app="backend",destination_version="v2",destination_service="backend.default.svc.cluster.local",destination_canonical_service="backend",destination_canonical_revision="v2",destination_service_name="backend",destination_service_namespace="default",destination_cluster="Kubernetes",request_protocol="http",response_code="200",grpc_response_status="",response_flags="-",connection_security_policy="mutual_tls"} 2$/);
  // Plaintext: principals unknown, policy none; flags joined as Envoy prints them.
  assert.equal(series(text, 'istio_requests_total', { source_workload: 'frontend', source_principal: 'unknown', destination_principal: 'unknown', connection_security_policy: 'none', response_code: '503', response_flags: 'UF,URX' }).length, 1);
  assert.equal(series(text, 'istio_requests_total', { source_workload: 'unknown', source_workload_namespace: 'unknown' }).length, 1);
  // Histograms: duration 12 ms lands in le=25 and not le=10; body sizes recorded.
  assert.match(text, /# HELP istio_request_duration_milliseconds Request duration/);
  assert.match(text, /# TYPE istio_request_duration_milliseconds histogram/);
  const dur = series(text, 'istio_request_duration_milliseconds_bucket', { source_workload: 'frontend', response_code: '200' });
  assert.ok(dur.some((l) => l.includes('le="10"') && l.endsWith(' 0')));
  assert.ok(dur.some((l) => l.includes('le="25"') && l.endsWith(' 2')));
  assert.equal(series(text, 'istio_response_bytes_sum', { source_workload: 'frontend', response_code: '200' })[0]?.split(' ')[1], '600');
});

test('MET-01 reporter source: the destination from the endpoint metadata and the cluster\'s service; gRPC status and messages', () => {
  const { m, registry } = recorder({ reporter: 'source', local: gateway });
  const md = { istio: { workload: istioWorkloadMetadata(backend) }, strait: { peer: { app: 'backend', version: 'v2', principal: backend.principal } } };
  m.recordHttp(request({ upstreamCluster: 'outbound|8080||backend.default.svc.cluster.local', upstreamMetadata: md }), '1.2.3.4', clusters);
  m.recordHttp(request({ upstreamCluster: 'PassthroughCluster' }), '1.2.3.4', clusters);
  m.recordHttp(request({ responseCode: 404, responseFlags: ['NR'] }), '1.2.3.4', clusters);
  const grpcHeaders = { 'content-type': 'application/grpc' };
  m.recordHttp(request({ requestHeaders: grpcHeaders, grpcStatus: '0', grpcRequestMessages: 1, grpcResponseMessages: 3, upstreamCluster: 'outbound|8080||backend.default.svc.cluster.local', upstreamMetadata: md }), '1.2.3.4', clusters);
  m.recordHttp(request({ requestHeaders: grpcHeaders, responseHeaders: { 'grpc-status': '14' }, upstreamCluster: 'outbound|8080||backend.default.svc.cluster.local', upstreamMetadata: md }), '1.2.3.4', clusters);
  const text = registry.prometheusText();
  const line = series(text, 'istio_requests_total', { reporter: 'source', destination_workload: 'backend-v2', request_protocol: 'http' });
  assert.equal(line.length, 1);
  assert.match(line[0]!, /source_workload="istio-ingressgateway",.*source_principal="spiffe:\/\/cluster.local\/ns\/istio-system\/sa\/istio-ingressgateway-service-account",.*destination_principal="spiffe:\/\/cluster.local\/ns\/default\/sa\/backend",.*destination_service="backend.default.svc.cluster.local",.*connection_security_policy="unknown"/);
  assert.equal(series(text, 'istio_requests_total', { destination_service_name: 'PassthroughCluster', destination_service: 'unknown', source_principal: 'unknown' }).length, 1);
  assert.equal(series(text, 'istio_requests_total', { destination_service: 'unknown', response_flags: 'NR', response_code: '404' }).length, 1);
  assert.equal(series(text, 'istio_requests_total', { request_protocol: 'grpc', grpc_response_status: '0' }).length, 1);
  assert.equal(series(text, 'istio_requests_total', { request_protocol: 'grpc', grpc_response_status: '14' }).length, 1);
  assert.equal(series(text, 'istio_response_messages_total', { grpc_response_status: '0' })[0]?.split(' ')[1], '3');
  assert.equal(series(text, 'istio_request_messages_total', { request_protocol: 'http' }).length, 0);
});

test('MET-06..08 TCP: opened, closed under the final flags, bytes', () => {
  const { m, registry } = recorder({ reporter: 'destination', local: backend, peers: [{ ip: '127.0.1.2', ...frontend }] });
  const info = request({ responseCode: 0 });
  const c = m.openTcp(info, '127.0.1.2', clusters, null);
  c.series.received!.value += 40;
  c.series.sent!.value += 90;
  info.responseFlags.push('UR');
  m.closeTcp(c, info);
  const text = registry.prometheusText();
  assert.equal(series(text, 'istio_tcp_connections_opened_total', { source_workload: 'frontend', request_protocol: 'tcp', response_flags: '-' })[0]?.split(' ')[1], '1');
  assert.equal(series(text, 'istio_tcp_connections_closed_total', { response_flags: 'UR' })[0]?.split(' ')[1], '1');
  assert.equal(series(text, 'istio_tcp_received_bytes_total', { response_flags: '-' })[0]?.split(' ')[1], '40');
  assert.equal(series(text, 'istio_tcp_sent_bytes_total', { response_flags: '-' })[0]?.split(' ')[1], '90');
  assert.doesNotMatch(text, /istio_tcp_[a-z_]+\{[^}]*response_code=/);
});

test('Telemetry overrides in the filter: drop a metric, REMOVE and UPSERT labels, request values capped', () => {
  const { m, registry } = recorder({
    reporter: 'source',
    local: frontend,
    metrics: [
      { name: 'request_bytes', drop: true },
      { name: 'requests_total', tagsToRemove: ['response_code', 'source_version'], dimensions: { request_method: 'request.method', source_app: "'custom'", host: 'request.host' } },
    ],
  });
  for (let i = 0; i < 105; i++) m.recordHttp(request({ authority: `h${i}` }), undefined, clusters);
  m.recordHttp(request({ method: 'POST', authority: 'h0' }), undefined, clusters);
  const text = registry.prometheusText();
  assert.doesNotMatch(text, /istio_request_bytes/);
  const lines = series(text, 'istio_requests_total', {});
  assert.ok(lines.every((l) => !l.includes('response_code=') && !l.includes('source_version=') && l.includes('source_app="custom"')));
  assert.equal(series(text, 'istio_requests_total', { request_method: 'POST', host: 'h0' }).length, 1);
  // 100 distinct hosts, then `other` (5 requests).
  assert.equal(series(text, 'istio_requests_total', { host: 'other' })[0]?.split(' ')[1], '5');
  // Other metrics keep every label.
  assert.ok(series(text, 'istio_response_bytes_count', {}).every((l) => l.includes('response_code="200"')));
});

test('tag expressions: literals, attributes, headers; others unsupported', () => {
  const i = request({ requestHeaders: { 'x-tenant': 'acme', 'user-agent': 'curl' } });
  const v = (e: string) => compileTagExpression(e).value(i);
  assert.equal(v("'v1'"), 'v1');
  assert.equal(v('"v1"'), 'v1');
  assert.equal(v('request.method'), 'GET');
  assert.equal(v('request.host'), 'backend:8080');
  assert.equal(v('request.url_path'), '/x');
  assert.equal(v("request.headers['x-tenant']"), 'acme');
  assert.equal(v('string(response.code)'), '200');
  assert.equal(compileTagExpression('request.method').fromRequest, false);
  assert.equal(compileTagExpression('request.path').fromRequest, true);
  const bad = compileTagExpression('request.size > 10 ? "big" : "small"');
  assert.deepEqual([bad.supported, bad.value(i)], [false, 'unknown']);
});

test('exposition passes promtool check metrics: no parse errors, no lint problems for istio_ families but Istio\'s own milliseconds unit', (t) => {
  if (spawnSync('promtool', ['--version']).status !== 0) {
    t.skip('promtool not installed (scripts/install-system-deps.sh installs prometheus)');
    return;
  }
  const { m, registry } = recorder({ reporter: 'destination', local: backend, peers: [{ ip: '127.0.1.2', ...frontend }] });
  m.recordHttp(request({ responseFlags: ['DC'] }), '127.0.1.2', clusters);
  m.openTcp(request(), '127.0.1.2', clusters, null);
  registry.scope('cluster', { cluster_name: 'outbound|80||a"b' }).counter('upstream_rq_total').value++;
  const r = spawnSync('promtool', ['check', 'metrics'], { input: registry.prometheusText(), encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  assert.notEqual(r.status, 1, out);
  assert.doesNotMatch(out, /error/i);
  // Istio's own name is in milliseconds; promtool's unit advice is the one lint note allowed.
  const istioNotes = out.split('\n').filter((l) => l.startsWith('istio_') && !l.includes('use base unit "seconds" instead of "milliseconds"'));
  assert.deepEqual(istioNotes, []);
});

test('metadata exchange: a source reporter\'s header names it to the destination, which trusts the certificate for the principal only', () => {
  const sender = compileStatsConfig(statsFilter({ reporter: 'source', local: frontend }).typedConfig, 'out');
  assert.ok(sender.exchangeHeader);
  // Istio's shape: a base64 protobuf Struct with the node-metadata keys.
  const decoded = decodePeerMetadata(sender.exchangeHeader);
  assert.deepEqual(decoded, { ...frontend, principal: 'unknown' });
  assert.equal(compileStatsConfig(statsFilter({ reporter: 'destination', local: backend }).typedConfig, 'in').exchangeHeader, null);
  assert.equal(decodePeerMetadata('not base64 protobuf!'), null);
  assert.equal(decodePeerMetadata(encodePeerMetadata({ ...frontend, namespace: '' })), null);

  const { m, registry } = recorder({ reporter: 'destination', local: backend, service: { host: 'backend.default.svc.cluster.local', name: 'backend', namespace: 'default' } });
  const cert = (principal: string) => ({ uriSans: [principal], dnsSans: [], subject: '', sha256: '', pem: () => '' });
  // Over mTLS: the workload from the header, the principal from the certificate.
  m.recordHttp(request({ peerCertificate: cert(frontend.principal), downstreamPeerMetadata: sender.exchangeHeader }), '10.1.1.1', clusters);
  m.recordHttp(request({ peerCertificate: cert(frontend.principal), downstreamPeerMetadata: sender.exchangeHeader }), '10.1.1.2', clusters);
  // Plaintext: the header alone, principal unknown.
  m.recordHttp(request({ downstreamPeerMetadata: sender.exchangeHeader }), '10.1.1.1', clusters);
  // A header naming a namespace other than the certificate's is not believed.
  m.recordHttp(request({ peerCertificate: cert(`${TD}/ns/other/sa/x`), downstreamPeerMetadata: sender.exchangeHeader }), '10.1.1.1', clusters);
  // Garbage: looked up as if there were no header.
  m.recordHttp(request({ downstreamPeerMetadata: 'garbage' }), '10.1.1.1', clusters);
  const text = registry.prometheusText();
  assert.equal(series(text, 'istio_requests_total', { source_workload: 'frontend', source_app: 'frontend', source_version: 'v1', source_principal: frontend.principal, connection_security_policy: 'mutual_tls' })[0]?.split(' ')[1], '2');
  assert.equal(series(text, 'istio_requests_total', { source_workload: 'frontend', source_principal: 'unknown', connection_security_policy: 'none' })[0]?.split(' ')[1], '1');
  assert.equal(series(text, 'istio_requests_total', { source_workload: 'unknown', source_workload_namespace: 'other', source_principal: `${TD}/ns/other/sa/x` }).length, 1);
  assert.equal(series(text, 'istio_requests_total', { source_workload: 'unknown', source_workload_namespace: 'unknown', connection_security_policy: 'none' }).length, 1);
});

test('metadata exchange: distinct header values a proxy remembers are bounded', () => {
  const { m, registry } = recorder({ reporter: 'destination', local: backend });
  for (let i = 0; i < MAX_EXCHANGED_PEERS + 50; i++) {
    m.recordHttp(request({ downstreamPeerMetadata: encodePeerMetadata({ ...frontend, workload: `w${i}` }) }), '10.1.1.1', clusters);
  }
  const text = registry.prometheusText();
  assert.equal(series(text, 'istio_requests_total', { reporter: 'destination' }).length, MAX_EXCHANGED_PEERS + 1);
  assert.equal(series(text, 'istio_requests_total', { source_workload: 'unknown' })[0]?.split(' ')[1], '50');
});
