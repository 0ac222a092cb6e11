// The CA's gRPC endpoints with the proxies' client over a real gRPC server on loopback: a valid
// bootstrap token gets a certificate for the identity the token is bound to (whatever the CSR
// says), a wrong, revoked or missing token gets UNAUTHENTICATED with a reason and no
// certificate, a CSR naming another identity is INVALID_ARGUMENT, and the trust bundle stream
// sends the bundle at once and again on a root rotation.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { BootstrapTokens } from '../ca/bootstrap-tokens.js';
import { CertificateAuthority } from '../ca/certificate-authority.js';
import { createCsr, generateKeyPair } from '../ca/x509.js';
import { systemClock } from '../common/clock.js';
import { CaClient } from '../dataplane/identity/ca-client.js';
import { addCaServices } from './ca-server.js';

let server: grpc.Server;
let address: string;
let ca: CertificateAuthority;
let tokens: BootstrapTokens;
const logs: string[] = [];
const issued: string[] = [];

before(async () => {
  ca = await CertificateAuthority.open({ kind: 'memory' }, { trustDomain: 'cluster.local', clock: systemClock });
  tokens = new BootstrapTokens();
  server = new grpc.Server();
  addCaServices(server, { ca, tokens, log: (l) => logs.push(l), onIssued: (who, cert) => issued.push(`${who.holder} ${cert.serial}`) });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  address = `127.0.0.1:${port}`;
});

after(() => {
  server.forceShutdown();
});

async function csr(san?: string): Promise<string> {
  return createCsr(await generateKeyPair(), san);
}

/** Runs `fn` with a client for `token`, closing it afterwards. */
async function withClient<T>(token: string | null, fn: (c: CaClient) => Promise<T>): Promise<T> {
  const c = new CaClient(address, token, systemClock);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

describe('CA gRPC service', () => {
  it('signs for the identity the token is bound to, as Istio orders the chain', async () => {
    const token = tokens.issue({ namespace: 'shop', serviceAccount: 'frontend', holder: 'shop/frontend-abc-0' });
    const chain = await withClient(token, async (c) => c.createCertificate(await csr(), 0));
    assert.equal(chain.length, 2, 'leaf, then the root bundle');
    const leaf = new X509Certificate(chain[0]!);
    assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/frontend');
    assert.equal(chain[1], ca.trustBundle().join(''));
    assert.match(issued.at(-1)!, new RegExp(`^shop/frontend-abc-0 ${leaf.serialNumber}$`, 'i'));
  });

  it('refuses a wrong token with UNAUTHENTICATED and signs nothing', async () => {
    const before = issued.length;
    await assert.rejects(
      withClient('not-a-token', async (c) => c.createCertificate(await csr(), 0)),
      /CA 127\.0\.0\.1:\d+: UNAUTHENTICATED: unknown or revoked token/,
    );
    assert.equal(issued.length, before);
    assert.match(logs.at(-1)!, /ca: refused a request from .*: unknown or revoked token/);
  });

  it('refuses a call without a token, and a revoked token', async () => {
    await assert.rejects(
      withClient(null, async (c) => c.createCertificate(await csr(), 0)),
      /UNAUTHENTICATED: missing authorization: Bearer <token> metadata/,
    );
    const token = tokens.issue({ namespace: 'shop', serviceAccount: 'cart', holder: 'shop/cart-0' });
    tokens.revoke('shop/cart-0');
    await assert.rejects(
      withClient(token, async (c) => c.createCertificate(await csr(), 0)),
      /UNAUTHENTICATED: unknown or revoked token/,
    );
  });

  it('refuses a CSR that asks for another identity with INVALID_ARGUMENT', async () => {
    const token = tokens.issue({ namespace: 'shop', serviceAccount: 'frontend', holder: 'shop/frontend-abc-1' });
    await assert.rejects(
      withClient(token, async (c) => c.createCertificate(await csr('spiffe://cluster.local/ns/istio-system/sa/istiod'), 0)),
      /INVALID_ARGUMENT: .*asks for spiffe:\/\/cluster.local\/ns\/istio-system\/sa\/istiod, but the caller is spiffe:\/\/cluster.local\/ns\/shop\/sa\/frontend/,
    );
  });

  it('streams the trust bundle at once and after a root rotation; a bad token ends the stream', async () => {
    const token = tokens.issue({ namespace: 'shop', serviceAccount: 'frontend', holder: 'shop/frontend-abc-2' });
    const c = new CaClient(address, token, systemClock);
    try {
      const bundles: string[][] = [];
      let waiter: (() => void) | null = null;
      const next = () => new Promise<void>((r) => (waiter = r));
      let first = next();
      const w = c.watchTrustBundle(
        (roots) => {
          bundles.push(roots);
          waiter?.();
        },
        () => undefined,
      );
      await first;
      assert.deepEqual(bundles[0], [...ca.trustBundle()]);
      first = next();
      await ca.rotateRoot();
      await first;
      assert.equal(bundles[1]!.length, 2, 'the new root, then the old one');
      assert.deepEqual(bundles[1], [...ca.trustBundle()]);
      w.cancel();
    } finally {
      c.close();
    }
    const bad = new CaClient(address, 'nope', systemClock);
    try {
      const ended = await new Promise<Error>((resolve) => bad.watchTrustBundle(() => undefined, resolve));
      assert.match(ended.message, /trust bundle stream: UNAUTHENTICATED: unknown or revoked token/);
    } finally {
      bad.close();
    }
  });
});
