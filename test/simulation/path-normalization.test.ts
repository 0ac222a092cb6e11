// Simulation table for MeshConfig pathNormalization (hardening §A2.1, AZ rows): every HTTP
// connection manager a proxy gets (sidecar inbound, sidecar outbound, gateway) carries the HCM
// fields Istio's buildHTTPConnectionManager writes for the mesh's setting, BASE when the mesh
// config does not say.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import { HCM_FILTER_NAME } from '../../src/xds/resources.js';
import type { HttpConnectionManager } from '../../src/xds/resources.js';
import { FOO_SERVICES, HTTPBIN } from './authz-fixtures.js';
import { GATEWAY_POD, resourcesFor, yaml } from './mesh.js';

const GATEWAY = yaml`
  apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata: { name: gw, namespace: foo }
  spec:
    selector: { istio: ingressgateway }
    servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
  ---
  apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: { name: httpbin, namespace: foo }
  spec:
    hosts: ["*"]
    gateways: [gw]
    http: [{ route: [{ destination: { host: httpbin.foo.svc.cluster.local, port: { number: 8000 } } }] }]
  ---
`;

const meshConfig = (normalization: string) => yaml`
  apiVersion: v1
  kind: ConfigMap
  metadata: { name: istio, namespace: istio-system }
  data:
    mesh: |-
      pathNormalization:
        normalization: ${normalization}
  ---
`;

type Fields = Pick<HttpConnectionManager, 'normalizePath' | 'mergeSlashes' | 'pathWithEscapedSlashesAction'>;

/** The path fields of every HTTP connection manager of the proxy, by listener name. */
function pathFields(res: ProxyResources): Record<string, Fields> {
  const out: Record<string, Fields> = {};
  for (const l of res.listeners) {
    for (const c of l.filterChains) {
      const f = c.filters.find((x) => x.name === HCM_FILTER_NAME);
      if (!f) continue;
      const h = f.typedConfig as unknown as HttpConnectionManager;
      out[l.name] = { normalizePath: h.normalizePath, mergeSlashes: h.mergeSlashes, pathWithEscapedSlashesAction: h.pathWithEscapedSlashesAction };
    }
  }
  return out;
}

const EXPECTED: Record<string, Fields> = {
  DEFAULT: { normalizePath: true, mergeSlashes: undefined, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' },
  NONE: { normalizePath: false, mergeSlashes: undefined, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' },
  BASE: { normalizePath: true, mergeSlashes: undefined, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' },
  MERGE_SLASHES: { normalizePath: true, mergeSlashes: true, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' },
  DECODE_AND_MERGE_SLASHES: { normalizePath: true, mergeSlashes: true, pathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD' },
};

for (const [mode, want] of Object.entries(EXPECTED)) {
  test(`pathNormalization ${mode}: sidecar inbound and outbound and gateway HCMs carry ${JSON.stringify(want)}`, () => {
    const manifests = FOO_SERVICES + GATEWAY + (mode === 'DEFAULT' ? '' : meshConfig(mode));
    const sidecar = pathFields(resourcesFor({ manifests, pods: [HTTPBIN] }, HTTPBIN));
    const gateway = pathFields(resourcesFor({ manifests, pods: [HTTPBIN] }, GATEWAY_POD));
    assert.ok(sidecar['virtualOutbound'], 'the sidecar has its outbound HTTP listener');
    assert.ok(sidecar['inbound_0.0.0.0_8000'], 'the sidecar has its inbound HTTP listener');
    assert.ok(Object.keys(gateway).length > 0, 'the gateway has an HTTP listener');
    for (const [listener, fields] of Object.entries({ ...sidecar, ...gateway })) assert.deepEqual(fields, want, listener);
  });
}

test('pathNormalization: an unknown mode is a positioned config error', () => {
  assert.throws(() => resourcesFor({ manifests: FOO_SERVICES + meshConfig('LOWERCASE'), pods: [HTTPBIN] }, HTTPBIN), /must load without errors/);
});
