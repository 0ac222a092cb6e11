// Unit tests for the visibility rules of sidecar-scope.ts: exportTo values (SE-03, VS-04) and
// Sidecar egress host entries `namespace/host` (SC-01).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MeshService } from '../../registry/registry.js';
import { egressHostMatches, exportedTo } from './sidecar-scope.js';

const EXPORTS: readonly [exportTo: string[], owner: string, client: string, want: boolean][] = [
  [['*'], 'prod', 'default', true],
  [['.'], 'prod', 'prod', true],
  [['.'], 'prod', 'default', false],
  [['default'], 'prod', 'default', true],
  [['team', 'default'], 'prod', 'default', true],
  [['team'], 'prod', 'default', false],
  [['~'], 'prod', 'prod', false],
  [[], 'prod', 'prod', false],
];

for (const [exportTo, owner, client, want] of EXPORTS) {
  test(`exportTo [${exportTo.join(', ')}] of ${owner} reaches ${client}: ${want}`, () => {
    assert.equal(exportedTo(exportTo, owner, client), want);
  });
}

const svc = (hostname: string, namespace: string): MeshService => ({ name: hostname, namespace, hostname, ports: [] });

const EGRESS: readonly [entry: string, service: MeshService, want: boolean][] = [
  ['./*', svc('web.default.svc.cluster.local', 'default'), true],
  ['./*', svc('db.prod.svc.cluster.local', 'prod'), false],
  ['*/*', svc('db.prod.svc.cluster.local', 'prod'), true],
  ['prod/*', svc('db.prod.svc.cluster.local', 'prod'), true],
  ['prod/db.prod.svc.cluster.local', svc('db.prod.svc.cluster.local', 'prod'), true],
  ['prod/web.prod.svc.cluster.local', svc('db.prod.svc.cluster.local', 'prod'), false],
  ['*/*.example.com', svc('api.example.com', 'team'), true],
  ['*/*.example.com', svc('*.wild.example.com', 'team'), true],
  ['*/*.example.com', svc('example.com', 'team'), false],
  ['~/*', svc('web.default.svc.cluster.local', 'default'), false],
  ['team/api.example.com', svc('api.example.com', 'default'), false],
];

for (const [entry, service, want] of EGRESS) {
  test(`SC-01 egress host ${entry} from default names ${service.namespace}/${service.hostname}: ${want}`, () => {
    assert.equal(egressHostMatches(entry, service, 'default'), want);
  });
}
