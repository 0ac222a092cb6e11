// The identity agent with an injected clock and random: first certificate and its two SDS
// secrets, renewal at ~50 % of the lifetime within the jitter bounds, retry backoff while the CA
// is down, expiry never reached while the CA answers, and ROOTCA following a root rotation (with
// the early renewal onto the new root).

import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { CertificateAuthority } from '../../ca/certificate-authority.js';
import { splitPemCertificates } from '../../ca/pem.js';
import { ManualClockForTest } from '../../common/clock.js';
import { seededRandom } from '../../common/random.js';
import type { Secret } from '../../xds/resources.js';
import { IdentityAgent, ROOT_CA_SECRET, WORKLOAD_CERT_SECRET } from './identity-agent.js';
import { DEFAULT_RENEWAL, renewalTime, retryDelay } from './rotation.js';
import { FakeCaSourceForTest, untilForTest } from './test-support.js';

const HOUR = 3600e3;
const ID = { namespace: 'default', serviceAccount: 'sleep' };

describe('renewal schedule', () => {
  it('renews at 50 % of the lifetime, jittered within ±10 % of that delay', () => {
    const life = 24 * HOUR;
    assert.equal(renewalTime(0, life, { next: () => 0.5 }), 12 * HOUR);
    // The ends of the window: a draw of 0 gives 45 %; the largest draws approach 55 % (a draw
    // of 0.999999 is 1e-7 of the lifetime, 8.6 ms of a day, short of it).
    const near = (at: number, want: number) => assert.ok(Math.abs(at - want) <= 1e-6 * life, `${at} is not ${want}`);
    near(renewalTime(0, life, { next: () => 0 }), 0.45 * life);
    near(renewalTime(0, life, { next: () => 0.999999 }), 0.55 * life);
    const r = seededRandom(7);
    const draws = Array.from({ length: 2000 }, () => renewalTime(1000, 1000 + life, r) - 1000);
    assert.ok(draws.every((d) => d >= 0.45 * life && d <= 0.55 * life), 'every draw within ±10 %');
    // The jitter really spreads proxies out: both ends of the window are used.
    assert.ok(Math.min(...draws) < 0.46 * life && Math.max(...draws) > 0.54 * life, `draws span ${Math.min(...draws) / life}..${Math.max(...draws) / life}`);
  });

  it('backs off exponentially up to the maximum, never past a quarter of the time left', () => {
    const top = { next: () => 0.999999 };
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((a) => Math.round(retryDelay(a, 24 * HOUR, top)));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    assert.ok(retryDelay(3, 24 * HOUR, { next: () => 0 }) >= 2000, 'at least half the ceiling');
    assert.equal(retryDelay(10, 8000, top), 2000);
    assert.equal(retryDelay(10, -1, top) <= DEFAULT_RENEWAL.maxBackoffMs, true);
  });
});

interface Harness {
  clock: ManualClockForTest;
  ca: CertificateAuthority;
  source: FakeCaSourceForTest;
  agent: IdentityAgent;
  installed: (readonly Secret[])[];
  logs: string[];
}

async function harness(seed = 1, ttlSeconds = 0): Promise<Harness> {
  const clock = new ManualClockForTest(Date.UTC(2030, 0, 1));
  const ca = await CertificateAuthority.open({ kind: 'memory' }, { trustDomain: 'cluster.local', clock });
  const source = new FakeCaSourceForTest(ca, ID);
  const installed: (readonly Secret[])[] = [];
  const logs: string[] = [];
  const agent = new IdentityAgent({ source, clock, random: seededRandom(seed), install: async (s) => void installed.push(s), log: (l) => logs.push(l), ttlSeconds });
  return { clock, ca, source, agent, installed, logs };
}

function secret(list: readonly Secret[], name: string): Secret {
  const s = list.find((x) => x.name === name);
  assert.ok(s, `secret ${name}`);
  return s;
}

function leafOf(list: readonly Secret[]): X509Certificate {
  return new X509Certificate(splitPemCertificates(secret(list, WORKLOAD_CERT_SECRET).tlsCertificate!.certificateChain.inlineString!)[0]!);
}

describe('IdentityAgent', () => {
  it('installs `default` (chain + its own key) and `ROOTCA` (the trust bundle)', async () => {
    const h = await harness();
    h.agent.start();
    h.clock.advance(0);
    await untilForTest(() => h.installed.length > 0, 'the first certificate');
    await h.agent.ready;
    const last = h.installed.at(-1)!;
    const leaf = leafOf(last);
    assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/sleep');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(secret(last, WORKLOAD_CERT_SECRET).tlsCertificate!.privateKey.inlineString!)), 'the key is the leaf\'s');
    assert.equal(secret(last, ROOT_CA_SECRET).validationContext!.trustedCa!.inlineString, h.ca.trustBundle().join(''));
    const st = h.agent.status();
    assert.equal(st.state, 'ready');
    assert.equal(st.spiffeId, 'spiffe://cluster.local/ns/default/sa/sleep');
    assert.equal(st.notAfter, '2030-01-02T00:00:00.000Z');
    h.agent.stop();
  });

  it('renews with a new key at ~50 % of the lifetime, not before the jitter window', async () => {
    const h = await harness(3);
    h.agent.start();
    h.clock.advance(0);
    await untilForTest(() => h.installed.length === 1);
    const first = leafOf(h.installed[0]!);
    const next = Date.parse(h.agent.status().nextRenewal!);
    const start = h.clock.now();
    const fraction = (next - (start - 2 * 60_000)) / (24 * HOUR + 2 * 60_000);
    assert.ok(fraction >= 0.45 && fraction <= 0.55, `renews at ${fraction} of the lifetime`);
    h.clock.advance(0.45 * 24 * HOUR - 3 * 60_000);
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.equal(h.source.calls, 1, 'nothing before the window');
    h.clock.advance(next - h.clock.now());
    await untilForTest(() => h.installed.length === 2, 'the renewal');
    const second = leafOf(h.installed[1]!);
    assert.notEqual(second.serialNumber, first.serialNumber);
    assert.ok(!second.publicKey.equals(first.publicKey), 'a new key per renewal');
    h.agent.stop();
  });

  it('retries with backoff while the CA is down and keeps the current certificate', async () => {
    const h = await harness(5);
    h.agent.start();
    h.clock.advance(0);
    await untilForTest(() => h.installed.length === 1);
    h.source.failing = true;
    h.clock.advance(Date.parse(h.agent.status().nextRenewal!) - h.clock.now());
    const gaps: number[] = [];
    for (let i = 0; i < 5; i++) {
      const calls = h.source.calls;
      await untilForTest(() => h.agent.status().failures === i + 1, `failure ${i + 1}`);
      const at = Date.parse(h.agent.status().nextRenewal!);
      gaps.push(at - h.clock.now());
      h.clock.advance(at - h.clock.now());
      await untilForTest(() => h.source.calls === calls + 1 || h.source.calls > calls);
    }
    assert.ok(gaps.every((g, i) => i === 0 || g >= gaps[i - 1]! / 2), `backoff grows: ${gaps.join(', ')}`);
    assert.ok(gaps[4]! > gaps[0]!, `backoff grows: ${gaps.join(', ')}`);
    assert.equal(h.installed.length, 1, 'the certificate in use stays');
    assert.equal(h.agent.status().state, 'retrying');
    assert.match(h.logs.join('\n'), /cannot get a certificate \(attempt 1\): UNAVAILABLE.*valid for \d+s more; retrying in/);
    h.source.failing = false;
    await untilForTest(() => h.installed.length === 2, 'recovery');
    assert.equal(h.agent.status().state, 'ready');
    h.agent.stop();
  });

  it('never lets the certificate expire while the CA answers, over many lifetimes with flaky calls', async () => {
    const h = await harness(11, 3600);
    h.agent.start();
    h.clock.advance(0);
    await untilForTest(() => h.installed.length === 1);
    const flaky = seededRandom(99);
    const end = h.clock.now() + 20 * HOUR;
    while (h.clock.now() < end) {
      // A third of the calls fail; the agent must still renew in time.
      h.source.failNext = flaky.next() < 0.33 ? 1 : 0;
      const before = h.source.calls;
      const next = Date.parse(h.agent.status().nextRenewal!);
      h.clock.advance(Math.max(0, next - h.clock.now()));
      await untilForTest(() => h.source.calls > before && !h.agent['renewing'], 'a renewal attempt');
      const notAfter = Date.parse(h.agent.status().notAfter!);
      assert.ok(notAfter > h.clock.now(), `certificate expired at ${new Date(h.clock.now()).toISOString()}`);
    }
    assert.ok(h.agent.status().renewals >= 30, `renewals: ${h.agent.status().renewals}`);
    h.agent.stop();
  });

  it('follows a root rotation: ROOTCA becomes [new, old] at once, then an early renewal moves to the new root', async () => {
    const h = await harness(13);
    h.agent.start();
    h.clock.advance(0);
    await untilForTest(() => h.installed.length === 1);
    const oldRoot = h.ca.trustBundle()[0]!;
    await h.ca.rotateRoot();
    await untilForTest(() => h.installed.length === 2, 'the new bundle');
    const bundle = secret(h.installed[1]!, ROOT_CA_SECRET).validationContext!.trustedCa!.inlineString!;
    assert.deepEqual(splitPemCertificates(bundle), [...h.ca.trustBundle()]);
    assert.equal(splitPemCertificates(bundle)[1], oldRoot);
    // The early renewal is spread over at most five minutes.
    const early = Date.parse(h.agent.status().nextRenewal!) - h.clock.now();
    assert.ok(early <= 5 * 60_000, `next renewal in ${early} ms`);
    h.clock.advance(5 * 60_000);
    await untilForTest(() => h.installed.length === 3, 'the early renewal');
    const leaf = leafOf(h.installed[2]!);
    assert.ok(leaf.verify(new X509Certificate(h.ca.trustBundle()[0]!).publicKey), 'signed under the new root');
    assert.deepEqual(h.ca.rootStatus().map((r) => r.signing), [true, false]);
    h.agent.stop();
  });

  it('reconnects the trust bundle stream with backoff when it breaks', async () => {
    const h = await harness(17);
    h.agent.start();
    h.clock.advance(0);
    await untilForTest(() => h.installed.length === 1);
    assert.equal(h.source.streamsOpened, 1);
    h.source.breakStreams();
    assert.match(h.logs.at(-1)!, /reconnecting in \d+ms/);
    h.clock.advance(1000);
    assert.equal(h.source.streamsOpened, 2);
    h.agent.stop();
  });
});
