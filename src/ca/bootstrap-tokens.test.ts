// Bootstrap tokens: random, bound to one identity, replaced on re-issue, gone on revoke.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BootstrapTokens } from './bootstrap-tokens.js';
import { parseSpiffeId, spiffeId } from './spiffe.js';

describe('BootstrapTokens', () => {
  it('authenticates the token it issued to its binding, and nothing else', () => {
    const t = new BootstrapTokens();
    const a = t.issue({ namespace: 'default', serviceAccount: 'sleep', holder: 'default/sleep-0' });
    const b = t.issue({ namespace: 'foo', serviceAccount: 'httpbin', holder: 'foo/httpbin-0' });
    assert.notEqual(a, b);
    assert.ok(a.length >= 43, 'at least 256 bits of base64url');
    assert.deepEqual(t.authenticate(a), { namespace: 'default', serviceAccount: 'sleep', holder: 'default/sleep-0' });
    assert.equal(t.authenticate(b)?.namespace, 'foo');
    assert.equal(t.authenticate(''), undefined);
    assert.equal(t.authenticate(a.slice(0, -1)), undefined);
    assert.equal(t.authenticate('x'.repeat(10_000)), undefined);
  });

  it('re-issuing for a holder ends its old token; revoke ends the current one', () => {
    const t = new BootstrapTokens();
    const first = t.issue({ namespace: 'default', serviceAccount: 'sleep', holder: 'p' });
    const second = t.issue({ namespace: 'default', serviceAccount: 'sleep', holder: 'p' });
    assert.equal(t.authenticate(first), undefined);
    assert.ok(t.authenticate(second));
    t.revoke('p');
    assert.equal(t.authenticate(second), undefined);
    assert.equal(t.size, 0);
  });

  it('refuses to bind names that are not Kubernetes names', () => {
    assert.throws(() => new BootstrapTokens().issue({ namespace: 'a/b', serviceAccount: 's', holder: 'h' }), /DNS label/);
  });
});

describe('SPIFFE ids', () => {
  it('formats and parses the Istio form', () => {
    assert.equal(spiffeId('cluster.local', { namespace: 'istio-system', serviceAccount: 'istio-ingressgateway-service-account' }), 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account');
    assert.deepEqual(parseSpiffeId('spiffe://cluster.local/ns/default/sa/sleep'), { trustDomain: 'cluster.local', identity: { namespace: 'default', serviceAccount: 'sleep' } });
    assert.equal(parseSpiffeId('spiffe://cluster.local/ns/default/sa/sleep/extra'), undefined);
    assert.equal(parseSpiffeId('https://cluster.local/ns/default/sa/sleep'), undefined);
    assert.throws(() => spiffeId('Cluster Local', { namespace: 'a', serviceAccount: 'b' }), /trust domain/);
  });
});
