// Conformance suite every OutlierDetector passes (ARCHITECTURE.md §4): reports about hosts it
// does not know are ignored, successes never eject, and the lifecycle calls are idempotent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newHost } from '../host.js';
import type { OutlierDetector } from './outlier-detector.js';

export function outlierDetectorConformance(name: string, make: () => OutlierDetector): void {
  test(`${name}: reports about unknown or removed hosts are ignored`, () => {
    const d = make();
    const h = newHost('10.0.0.1', 80);
    d.report(h, { status: 503 });
    d.setHosts([h]);
    d.setHosts([]);
    for (let i = 0; i < 20; i++) d.report(h, { localOrigin: 'connect_failed' });
    assert.equal(h.ejected, false);
  });

  test(`${name}: successes never eject and never announce a change`, () => {
    const d = make();
    const hosts = Array.from({ length: 4 }, (_, i) => newHost(`10.0.0.${i + 1}`, 80));
    let changes = 0;
    d.onChange(() => changes++);
    d.setHosts(hosts);
    d.start();
    for (let i = 0; i < 100; i++) d.report(hosts[i % 4]!, { status: 200 + (i % 300) });
    assert.equal(changes, 0);
    assert.ok(hosts.every((h) => !h.ejected));
    d.stop();
  });

  test(`${name}: start and stop are idempotent, and a stopped detector ejects nothing`, () => {
    const d = make();
    // 20 hosts: enough that Envoy's default 10% cap would admit one ejection.
    const hosts = Array.from({ length: 20 }, (_, i) => newHost(`10.0.1.${i + 1}`, 80));
    let changes = 0;
    d.onChange(() => changes++);
    d.setHosts(hosts);
    d.start();
    d.start();
    d.stop();
    d.stop();
    for (let i = 0; i < 50; i++) d.report(hosts[0]!, { status: 503 });
    assert.equal(hosts[0]!.ejected, false);
    assert.equal(changes, 0);
  });
}
