// AppliedConfig with the loader: what `strait apply` / `strait delete` leave a running mesh with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { AppliedConfig } from './applied-config.js';

const svc = (name: string, port: number) => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: ${port} }]
`;

/** Ports of the Services a load with the overlay ends up with, by name. */
async function ports(dir: string, a: AppliedConfig): Promise<Record<string, number>> {
  const r = await loadConfig([dir], a.overlay);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  return Object.fromEntries(r.store.list('Service').map((s) => [s.metadata.name, s.spec.ports[0]!.port]));
}

test('applies replace by kind/namespace/name, later applies win, deletes hide file resources too', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-overlay-'));
  fs.writeFileSync(path.join(dir, 'base.yaml'), `${svc('web', 80)}---\n${svc('db', 5432)}`);
  const a = new AppliedConfig();
  assert.deepEqual(await ports(dir, a), { web: 80, db: 5432 });

  a.commit(a.withApplied('one.yaml', svc('web', 8080), ['Service/default/web']));
  assert.deepEqual(await ports(dir, a), { db: 5432, web: 8080 });

  // Another file taking the same key wins; re-applying the first file takes it back.
  a.commit(a.withApplied('two.yaml', svc('web', 9090), ['Service/default/web']));
  assert.deepEqual((await ports(dir, a)).web, 9090);
  a.commit(a.withApplied('one.yaml', svc('web', 8081), ['Service/default/web']));
  assert.deepEqual((await ports(dir, a)).web, 8081);

  a.commit(a.withDeleted(['Service/default/db', 'Service/default/web']));
  assert.deepEqual(await ports(dir, a), {});
  // A withApplied that is never committed changes nothing.
  a.withApplied('three.yaml', svc('db', 1), ['Service/default/db']);
  assert.deepEqual(await ports(dir, a), {});
  a.commit(a.withApplied('three.yaml', svc('db', 1), ['Service/default/db']));
  assert.deepEqual(await ports(dir, a), { db: 1 });
  fs.rmSync(dir, { recursive: true, force: true });
});
