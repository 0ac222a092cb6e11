// Which CA `strait up` runs: --cacerts files first, then Secret istio-system/cacerts, then the
// self-signed root in its state directory (kept across starts); the mesh config's trust domain;
// and a changed cacerts Secret followed on reload with the old roots still trusted.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createSelfSignedRoot } from '../ca/ca-material.js';
import type { SigningMaterial } from '../ca/ca-material.js';
import { tempDirForTest as newTempDir } from '../ca/test-support.js';
import { fingerprint256 } from '../ca/pem.js';
import { systemClock } from '../common/clock.js';
import { ConfigStore } from '../config/config-store.js';
import { loadConfigText } from '../config/load-config.js';
import { cacertsText, describeCa, followCaConfig, openMeshCa } from './mesh-ca.js';

const dirs: string[] = [];
function tempDirForTest(): string {
  const d = newTempDir();
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function store(yaml: string): ConfigStore {
  const { resources, diagnostics } = loadConfigText(yaml, 'mesh.yaml');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  return new ConfigStore(resources);
}

function cacertsSecret(m: SigningMaterial): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1
kind: Secret
metadata: { name: cacerts, namespace: istio-system }
data:
  ca-cert.pem: ${b64(m.certPem)}
  ca-key.pem: ${b64(m.keyPem)}
  root-cert.pem: ${b64(m.certPem)}
`;
}

const meshConfig = (td: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |
    trustDomain: ${td}
`;

describe('the mesh CA of strait up', () => {
  it('creates a self-signed root in its state directory once, and reuses it on the next start', async () => {
    const dir = path.join(tempDirForTest(), 'ca');
    const first = await openMeshCa({ caDir: dir }, ConfigStore.empty(), systemClock);
    assert.equal(first.source, 'self-signed');
    assert.equal(first.trustDomain, 'cluster.local');
    assert.ok(fs.existsSync(path.join(dir, 'ca-key.pem')));
    assert.equal((fs.statSync(path.join(dir, 'ca-key.pem')).mode & 0o777).toString(8), '600');
    const again = await openMeshCa({ caDir: dir }, ConfigStore.empty(), systemClock);
    assert.deepEqual(again.trustBundle(), first.trustBundle());
    assert.match(describeCa(again), new RegExp(`^mesh CA: self-signed root in ${dir}, trust domain cluster.local, root [0-9A-F:]+\\.\\.\\. valid until \\d{4}-\\d\\d-\\d\\d`));
  });

  it('signs for the mesh config trust domain', async () => {
    const ca = await openMeshCa({ caDir: path.join(tempDirForTest(), 'ca') }, store(meshConfig('example.org')), systemClock);
    assert.equal(ca.trustDomain, 'example.org');
  });

  it('takes the cacerts Secret over its own directory, and --cacerts files over the Secret', async () => {
    const fromSecret = await createSelfSignedRoot('cluster.local', systemClock);
    const fromFiles = await createSelfSignedRoot('cluster.local', systemClock);
    const s = store(cacertsSecret(fromSecret));
    const bySecret = await openMeshCa({ caDir: path.join(tempDirForTest(), 'ca') }, s, systemClock);
    assert.equal(bySecret.source, 'secret');
    assert.equal(bySecret.trustBundle()[0], fromSecret.certPem);
    const filesDir = tempDirForTest();
    fs.writeFileSync(path.join(filesDir, 'ca-cert.pem'), fromFiles.certPem);
    fs.writeFileSync(path.join(filesDir, 'ca-key.pem'), fromFiles.keyPem);
    const byFiles = await openMeshCa({ cacertsDir: filesDir, caDir: path.join(tempDirForTest(), 'ca') }, s, systemClock);
    assert.equal(byFiles.source, 'files');
    assert.equal(byFiles.trustBundle()[0], fromFiles.certPem);
    await assert.rejects(openMeshCa({ cacertsDir: tempDirForTest() }, s, systemClock), /--cacerts .*: no ca-cert.pem there/);
  });

  it('follows a changed cacerts Secret with an overlapping bundle, and says what it cannot follow', async () => {
    const a = await createSelfSignedRoot('cluster.local', systemClock);
    const b = await createSelfSignedRoot('cluster.local', systemClock);
    const first = store(cacertsSecret(a));
    const ca = await openMeshCa({}, first, systemClock);
    const last = { secretText: cacertsText(first) };
    assert.equal(await followCaConfig(ca, {}, first, systemClock, last), null, 'nothing changed');
    const note = await followCaConfig(ca, {}, store(cacertsSecret(b)), systemClock, last);
    assert.match(note!, /Secret istio-system\/cacerts \(mesh.yaml\) changed: the CA signs with the new material/);
    assert.deepEqual(ca.trustBundle().map(fingerprint256), [fingerprint256(b.certPem), fingerprint256(a.certPem)]);
    assert.match((await followCaConfig(ca, {}, ConfigStore.empty(), systemClock, last))!, /is gone; the CA keeps signing with it until strait up restarts/);
    assert.match((await followCaConfig(ca, {}, store(meshConfig('example.org')), systemClock, last))!, /trustDomain is now example.org, but the CA signs for cluster.local until strait up restarts/);
  });
});
