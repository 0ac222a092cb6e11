// Test doubles for the identity agent: a CertificateSource backed by a real in-memory CA (so the
// agent parses real certificates) whose calls can be made to fail, and a wait bounded by
// event-loop turns for the agent's asynchronous key generation and signing.

import type { CertificateAuthority } from '../../ca/certificate-authority.js';
import type { WorkloadIdentity } from '../../ca/spiffe.js';
import type { CertificateSource } from './ca-client.js';

export class FakeCaSourceForTest implements CertificateSource {
  /** Calls answered so far (successful or not). */
  calls = 0;
  /** Whether the next calls fail (a CA that is down). */
  failing = false;
  /** Makes the next N calls fail, then succeed again. */
  failNext = 0;
  private readonly streams = new Set<{ onBundle: (roots: string[]) => void; onEnd: (e: Error) => void }>();
  streamsOpened = 0;

  constructor(
    readonly ca: CertificateAuthority,
    readonly identity: WorkloadIdentity,
  ) {
    ca.onBundleChange((b) => {
      for (const s of this.streams) s.onBundle([...b]);
    });
  }

  async createCertificate(csrPem: string, ttlSeconds: number): Promise<string[]> {
    this.calls++;
    if (this.failing || this.failNext > 0) {
      if (this.failNext > 0) this.failNext--;
      throw new Error('UNAVAILABLE: the CA is down (test)');
    }
    return [...(await this.ca.sign({ csrPem, identity: this.identity, ttlSeconds })).certChain];
  }

  watchTrustBundle(onBundle: (roots: string[]) => void, onEnd: (e: Error) => void): { cancel(): void } {
    const s = { onBundle, onEnd };
    this.streams.add(s);
    this.streamsOpened++;
    queueMicrotask(() => onBundle([...this.ca.trustBundle()]));
    return { cancel: () => this.streams.delete(s) };
  }

  /** Breaks every open bundle stream (the control plane went away). */
  breakStreams(): void {
    for (const s of [...this.streams]) {
      this.streams.delete(s);
      s.onEnd(new Error('UNAVAILABLE (test)'));
    }
  }

  close(): void {
    this.streams.clear();
  }
}

/** Lets I/O and the thread pool run until `cond` holds, bounded by event-loop turns. */
export async function untilForTest(cond: () => boolean, what = 'the condition'): Promise<void> {
  for (let turns = 0; !cond(); turns++) {
    if (turns > 200_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
