import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClockForTest } from '../../../common/clock.js';
import { seededRandom } from '../../../common/random.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import type { OutlierDetection } from '../../../xds/resources.js';
import { ConfigError } from '../../config/durations.js';
import { newHost } from '../host.js';
import type { Host } from '../host.js';
import { ConsecutiveErrorsDetector } from './consecutive-errors.js';
import { outlierConfig } from './outlier-config.js';
import { InertOutlierDetector } from './outlier-detector.js';
import type { Outcome } from './outlier-detector.js';
import { outlierDetectorConformance } from './outlier-detector.test-suite.js';

function setup(od: OutlierDetection, hostCount = 10, seed = 7) {
  const clock = new ManualClockForTest();
  const stats = new StatsRegistry();
  const d = new ConsecutiveErrorsDetector(outlierConfig('c', od)!, clock, seededRandom(seed), stats.scope('cluster', { cluster_name: 'c' }));
  const hosts = Array.from({ length: hostCount }, (_, i) => newHost(`10.0.0.${i + 1}`, 80));
  let changes = 0;
  d.onChange(() => changes++);
  d.setHosts(hosts);
  d.start();
  const stat = (name: string) => stats.valueOf(`envoy_cluster_outlier_detection_${name}`, { cluster_name: 'c' });
  const report = (h: Host, o: Outcome, times = 1) => {
    for (let i = 0; i < times; i++) d.report(h, o);
  };
  return { clock, stats, d, hosts, stat, report, changes: () => changes };
}

outlierDetectorConformance('consecutive errors', () => setup({}, 0).d);
outlierDetectorConformance('inert', () => new InertOutlierDetector());

test('five consecutive 5xx eject a host (Envoy defaults); a success in between starts over', () => {
  const { hosts, report, stat, changes } = setup({});
  const [a, b] = hosts as [Host, Host];
  report(a, { status: 500 }, 4);
  report(a, { status: 200 });
  report(a, { status: 500 }, 4);
  assert.equal(a.ejected, false);
  report(a, { status: 500 });
  assert.equal(a.ejected, true);
  assert.equal(b.ejected, false);
  assert.equal(changes(), 1);
  assert.equal(stat('ejections_active'), 1);
  assert.equal(stat('ejections_detected_consecutive_5xx'), 1);
  assert.equal(stat('ejections_enforced_consecutive_5xx'), 1);
  assert.equal(stat('ejections_enforced_total'), 1);
});

test('an ejected host returns at the first sweep after baseEjectionTime, not before', () => {
  const { clock, hosts, report, stat, changes } = setup({ consecutive5xx: 1, interval: '10s', baseEjectionTime: '30s' });
  const a = hosts[0]!;
  clock.advance(1000);
  report(a, { status: 503 });
  assert.equal(a.ejected, true);
  clock.advance(29_000); // t = 30 s: sweep sees 29 s of ejection
  assert.equal(a.ejected, true);
  clock.advance(10_000); // t = 40 s
  assert.equal(a.ejected, false);
  assert.equal(stat('ejections_active'), 0);
  assert.equal(changes(), 2);
});

test('each ejection in a row lasts one base time longer; healthy sweeps shrink the multiplier again', () => {
  const { clock, hosts, report } = setup({ consecutive5xx: 1, interval: '10s', baseEjectionTime: '30s' });
  const a = hosts[0]!;
  const ejectAndMeasure = () => {
    report(a, { status: 500 });
    assert.equal(a.ejected, true);
    let ms = 0;
    while (a.ejected) {
      clock.advance(10_000);
      ms += 10_000;
    }
    return ms;
  };
  assert.equal(ejectAndMeasure(), 30_000);
  assert.equal(ejectAndMeasure(), 60_000);
  assert.equal(ejectAndMeasure(), 90_000);
  // Three healthy sweeps bring the multiplier from 3 to 0: the next ejection is a first one.
  clock.advance(30_000);
  assert.equal(ejectAndMeasure(), 30_000);
});

test('ejection time stops growing at max_ejection_time (300 s)', () => {
  const { clock, hosts, report } = setup({ consecutive5xx: 1, interval: '1s', baseEjectionTime: '200s' });
  const a = hosts[0]!;
  report(a, { status: 500 });
  clock.advance(200_000);
  assert.equal(a.ejected, false);
  report(a, { status: 500 });
  clock.advance(299_000);
  assert.equal(a.ejected, true);
  clock.advance(1_000);
  assert.equal(a.ejected, false);
});

test('maxEjectionPercent: the default 10% ejects nothing among 3 hosts, and counts the overflow', () => {
  const { hosts, report, stat } = setup({ consecutive5xx: 2 }, 3);
  report(hosts[0]!, { status: 500 }, 2);
  assert.equal(hosts[0]!.ejected, false);
  assert.equal(stat('ejections_detected_consecutive_5xx'), 1);
  assert.equal(stat('ejections_overflow'), 1);
});

test('maxEjectionPercent 50 of 4 hosts: two ejected, the third detection overflows', () => {
  const { hosts, report, stat } = setup({ consecutive5xx: 1, maxEjectionPercent: 50 }, 4);
  for (const h of hosts.slice(0, 3)) report(h, { status: 502 });
  assert.deepEqual(hosts.map((h) => h.ejected), [true, true, false, false]);
  assert.equal(stat('ejections_overflow'), 1);
  assert.equal(stat('ejections_active'), 2);
});

test('gateway failures are detected but not enforced by default; with enforcement 502/503/504 in a row eject', () => {
  const off = setup({ consecutive5xx: 100, consecutiveGatewayFailure: 3 });
  off.report(off.hosts[0]!, { status: 503 }, 3);
  assert.equal(off.hosts[0]!.ejected, false);
  assert.equal(off.stat('ejections_detected_consecutive_gateway_failure'), 1);
  assert.equal(off.stat('ejections_enforced_consecutive_gateway_failure'), 0);

  const on = setup({ consecutive5xx: 100, consecutiveGatewayFailure: 3, enforcingConsecutiveGatewayFailure: 100 });
  const a = on.hosts[0]!;
  on.report(a, { status: 502 }, 2);
  on.report(a, { status: 500 }); // a 5xx that is not a gateway error breaks the run
  on.report(a, { status: 504 }, 2);
  assert.equal(a.ejected, false);
  on.report(a, { status: 503 });
  assert.equal(a.ejected, true);
  assert.equal(on.stat('ejections_enforced_consecutive_gateway_failure'), 1);
  assert.equal(on.stat('ejections_enforced_total'), 1);
});

test('without split mode, connect failures and resets count as 503 and timeouts as 504', () => {
  const { hosts, report, stat } = setup({ consecutive5xx: 3, consecutiveGatewayFailure: 3, enforcingConsecutiveGatewayFailure: 100, maxEjectionPercent: 100 });
  const [a, b] = hosts as [Host, Host];
  report(a, { localOrigin: 'connect_failed' });
  report(a, { localOrigin: 'reset' });
  report(a, { status: 500 });
  assert.equal(a.ejected, true);
  assert.equal(stat('ejections_enforced_consecutive_5xx'), 1);
  report(b, { localOrigin: 'timeout' }, 3);
  assert.equal(b.ejected, true);
  // The gateway detector fired first; the 5xx one found the host already out.
  assert.equal(stat('ejections_enforced_consecutive_gateway_failure'), 1);
});

test('split mode: local-origin failures have their own counter, which any response resets', () => {
  const { hosts, report, stat } = setup({ splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailure: 2, consecutive5xx: 2, maxEjectionPercent: 100 });
  const [a, b] = hosts as [Host, Host];
  report(a, { localOrigin: 'connect_failed' });
  report(a, { status: 500 }); // connected: the local-origin run is broken, the 5xx run starts
  report(a, { localOrigin: 'timeout' });
  assert.equal(a.ejected, false);
  report(a, { localOrigin: 'reset' });
  assert.equal(a.ejected, true);
  assert.equal(stat('ejections_enforced_consecutive_local_origin_failure'), 1);
  // Local-origin failures do not feed the 5xx counter in split mode.
  report(b, { status: 500 });
  report(b, { localOrigin: 'connect_failed' });
  report(b, { status: 500 });
  assert.equal(b.ejected, true);
  assert.equal(stat('ejections_enforced_consecutive_5xx'), 1);
});

test('enforcing 50%: detections are all counted, about half of them eject', () => {
  const { clock, hosts, report, stat } = setup({ consecutive5xx: 1, enforcingConsecutive5xx: 50, maxEjectionPercent: 100, interval: '1s', baseEjectionTime: '1s' }, 10, 3);
  for (let round = 0; round < 40; round++) {
    for (const h of hosts) report(h, { status: 500 });
    clock.advance(100_000);
  }
  const detected = stat('ejections_detected_consecutive_5xx')!;
  const enforced = stat('ejections_enforced_consecutive_5xx')!;
  assert.equal(detected, 400);
  assert.ok(enforced > 150 && enforced < 250, `${enforced} of ${detected} enforced`);
});

test('a host that leaves takes its ejection with it; re-announced under the same key it keeps it', () => {
  const { d, hosts, report, stat } = setup({ consecutive5xx: 1, maxEjectionPercent: 100 }, 4);
  report(hosts[0]!, { status: 500 });
  report(hosts[1]!, { status: 500 });
  assert.equal(stat('ejections_active'), 2);
  const reweighted = newHost(hosts[1]!.address, hosts[1]!.port, 5);
  d.setHosts([reweighted, hosts[2]!, hosts[3]!]);
  assert.equal(stat('ejections_active'), 1);
  assert.equal(reweighted.ejected, true);
});

test('configuration is validated with the field named', () => {
  assert.throws(() => outlierConfig('c', { maxEjectionPercent: 101 }), (e: Error) => e instanceof ConfigError && /maxEjectionPercent: must be a percentage/.test(e.message));
  assert.throws(() => outlierConfig('c', { interval: '0s' }), /interval: must be greater than 0/);
  assert.throws(() => outlierConfig('c', { baseEjectionTime: 'soon' }), /baseEjectionTime: invalid duration/);
  assert.throws(() => outlierConfig('c', { consecutive5xx: -1 }), /consecutive5xx/);
  assert.throws(() => outlierConfig('c', { enforcingSuccessRate: 100 }), /success-rate outlier detection is not supported/);
  assert.equal(outlierConfig('c', undefined), null);
  const d = outlierConfig('c', {})!;
  assert.deepEqual([d.consecutive5xx, d.intervalMs, d.baseEjectionMs, d.maxEjectionPercent, d.enforcingGatewayFailure], [5, 10_000, 30_000, 10, 0]);
});
