// The proxy's identity agent (what pilot-agent does for Envoy): makes a key pair in this process
// (the private key never leaves it), sends a CSR to the mesh CA with the pod's bootstrap token,
// and installs the answer as the two SDS secrets Istio's config names:
//
//   default  tlsCertificate: { certificateChain: leaf + intermediates, privateKey: PKCS#8 PEM }
//   ROOTCA   validationContext: { trustedCa: every trusted root (the trust bundle) }
//
// It renews at about half the lifetime (rotation.ts), with a new key each time, retries failures
// with backoff while the certificate is still valid, and follows the CA's trust bundle stream so
// ROOTCA changes as soon as a root is rotated, not at the next renewal. When the CA starts
// signing under a new root, it renews early (spread over a few minutes) so the old root can be
// retired soon. Installing goes through a callback (Proxy.setLocalSecrets): listeners and clusters
// that name these secrets pick them up, new handshakes use the new certificate, and connections
// already open keep theirs.

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { fingerprint256, splitPemCertificates } from '../../ca/pem.js';
import { createCsr, generateKeyPair, privateKeyToPem } from '../../ca/x509.js';
import type { KeyKind } from '../../ca/x509.js';
import type { Clock, Timer } from '../../common/clock.js';
import type { Random } from '../../common/random.js';
import type { Secret } from '../../xds/resources.js';
import type { CertificateSource } from './ca-client.js';
import { DEFAULT_RENEWAL, renewalTime, retryDelay } from './rotation.js';
import type { RenewalPolicy } from './rotation.js';

/** Istio's SDS name of the workload certificate. */
export const WORKLOAD_CERT_SECRET = 'default';
/** Istio's SDS name of the trust bundle. */
export const ROOT_CA_SECRET = 'ROOTCA';

/** Longest spread of early renewals after the CA starts signing under a new root. */
const ROOT_CHANGE_SPREAD_MS = 5 * 60_000;

export interface IdentityAgentOptions {
  readonly source: CertificateSource;
  readonly clock: Clock;
  readonly random: Random;
  /** Installs the agent's secrets in the proxy (replacing the previous ones). */
  readonly install: (secrets: readonly Secret[]) => Promise<void>;
  readonly log: (line: string) => void;
  readonly keyKind?: KeyKind;
  /** Lifetime asked of the CA; 0 or absent: the CA's default (24 h). */
  readonly ttlSeconds?: number;
  readonly policy?: RenewalPolicy;
}

export interface IdentityStatus {
  readonly state: 'starting' | 'ready' | 'retrying' | 'expired' | 'stopped';
  readonly spiffeId: string | null;
  readonly serial: string | null;
  readonly notBefore: string | null;
  readonly notAfter: string | null;
  readonly nextRenewal: string | null;
  /** SHA-256 fingerprints of the roots in ROOTCA, signing root first. */
  readonly roots: readonly string[];
  readonly renewals: number;
  readonly failures: number;
  readonly lastError: string | null;
}

interface Held {
  readonly chainPem: string;
  readonly keyPem: string;
  readonly leafPem: string;
  readonly spiffeId: string;
  readonly serial: string;
  readonly notBefore: number;
  readonly notAfter: number;
  /** Fingerprint of the root the CA signed under (the first of the bundle it answered with). */
  readonly root: string;
  /** The trust bundle the CA answered with. */
  readonly bundle: readonly string[];
}

export class IdentityAgent {
  private held: Held | null = null;
  private roots: string[] = [];
  /** The bundle stream is up and has delivered: it, not a renewal's answer, decides ROOTCA. */
  private streamRoots: string[] | null = null;
  private timer: Timer | null = null;
  private nextAt: number | null = null;
  private attempt = 0;
  private watch: { cancel(): void } | null = null;
  private watchTimer: Timer | null = null;
  private watchAttempt = 0;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private renewing = false;
  private renewals = 0;
  private failures = 0;
  private lastError: string | null = null;
  private firstInstalled!: () => void;
  /** Resolves once the first certificate is installed. */
  readonly ready: Promise<void> = new Promise((r) => (this.firstInstalled = r));

  constructor(private readonly opts: IdentityAgentOptions) {}

  private get policy(): RenewalPolicy {
    return this.opts.policy ?? DEFAULT_RENEWAL;
  }

  /** Asks for the first certificate now and follows the trust bundle; returns at once. */
  start(): void {
    this.watchBundle();
    // At once, not through a timer: a proxy on a clock that only tests move still starts.
    void this.renew();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.watchTimer?.cancel();
    this.watch?.cancel();
    this.opts.source.close();
  }

  status(): IdentityStatus {
    const h = this.held;
    const now = this.opts.clock.now();
    const state = this.stopped ? 'stopped' : !h ? (this.failures ? 'retrying' : 'starting') : h.notAfter <= now ? 'expired' : this.attempt > 0 ? 'retrying' : 'ready';
    const iso = (t: number | null | undefined) => (t === null || t === undefined ? null : new Date(t).toISOString());
    return {
      state,
      spiffeId: h?.spiffeId ?? null,
      serial: h?.serial ?? null,
      notBefore: iso(h?.notBefore),
      notAfter: iso(h?.notAfter),
      nextRenewal: iso(this.nextAt),
      roots: this.roots.map(fingerprint256),
      renewals: this.renewals,
      failures: this.failures,
      lastError: this.lastError,
    };
  }

  /** Whether a certificate is installed (cheap: for readiness probes). */
  get hasCertificate(): boolean {
    return this.held !== null;
  }

  /** The certificate chain now installed (leaf first), for admin views; null before the first. */
  certificateChain(): string | null {
    return this.held?.chainPem ?? null;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    // Whole milliseconds, so the time shown in status is exactly when the timer fires.
    const delayMs = Math.ceil(delay);
    this.timer?.cancel();
    this.nextAt = this.opts.clock.now() + delayMs;
    this.timer = this.opts.clock.setTimer(delayMs, () => {
      this.timer = null;
      void this.renew();
    });
  }

  private async renew(): Promise<void> {
    if (this.stopped || this.renewing) return;
    this.renewing = true;
    try {
      const held = await this.fetch();
      if (this.stopped) return;
      await this.serialized(async () => {
        // What status() shows is what the proxy runs: recorded only once installed.
        const roots = this.streamRoots ? this.roots : [...held.bundle];
        await this.install(held, roots);
        this.held = held;
        this.roots = roots;
      });
      this.renewals++;
      this.attempt = 0;
      this.lastError = null;
      this.firstInstalled();
      const at = renewalTime(held.notBefore, held.notAfter, this.opts.random, this.policy);
      this.opts.log(`identity: ${held.spiffeId} serial ${held.serial} valid until ${new Date(held.notAfter).toISOString()}; renewing at ${new Date(at).toISOString()}`);
      this.schedule(Math.max(0, at - this.opts.clock.now()));
    } catch (e) {
      if (this.stopped) return;
      this.failures++;
      this.attempt++;
      this.lastError = (e as Error).message;
      const remaining = this.held ? this.held.notAfter - this.opts.clock.now() : 0;
      const delay = retryDelay(this.attempt, remaining, this.opts.random, this.policy);
      const left = this.held ? (remaining > 0 ? `; the current certificate is valid for ${Math.round(remaining / 1000)}s more` : '; the current certificate has EXPIRED') : '';
      this.opts.log(`identity: cannot get a certificate (attempt ${this.attempt}): ${this.lastError}${left}; retrying in ${Math.round(delay)}ms`);
      this.schedule(delay);
    } finally {
      this.renewing = false;
    }
  }

  private async fetch(): Promise<Held> {
    const keys = await generateKeyPair(this.opts.keyKind ?? 'ec-p256');
    const chain = await this.opts.source.createCertificate(await createCsr(keys), this.opts.ttlSeconds ?? 0);
    const leafPem = splitPemCertificates(chain[0] ?? '')[0];
    const bundle = splitPemCertificates(chain.at(-1) ?? '');
    if (!leafPem || bundle.length === 0) throw new Error('the CA answered without a leaf certificate or a root');
    const leaf = new X509Certificate(leafPem);
    const keyPem = await privateKeyToPem(keys.privateKey);
    // A CA that answers with a certificate for another key is broken; installing it would fail
    // every handshake, so keep the current certificate instead.
    if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('the CA returned a certificate for a different key');
    const uri = /URI:([^,]+)/.exec(leaf.subjectAltName ?? '')?.[1] ?? '';
    return {
      chainPem: chain.slice(0, -1).join(''),
      keyPem,
      leafPem,
      spiffeId: uri,
      serial: leaf.serialNumber.toLowerCase(),
      notBefore: new Date(leaf.validFrom).getTime(),
      notAfter: new Date(leaf.validTo).getTime(),
      root: fingerprint256(bundle[0]!),
      bundle,
    };
  }

  /** Runs installs one at a time: a renewal and a bundle change never interleave. */
  private serialized(fn: () => Promise<void>): Promise<void> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async install(h: Held, roots: readonly string[]): Promise<void> {
    await this.opts.install([
      { name: WORKLOAD_CERT_SECRET, tlsCertificate: { certificateChain: { inlineString: h.chainPem }, privateKey: { inlineString: h.keyPem } } },
      { name: ROOT_CA_SECRET, validationContext: { trustedCa: { inlineString: roots.join('') } } },
    ]);
  }

  private watchBundle(): void {
    if (this.stopped) return;
    this.watch = this.opts.source.watchTrustBundle(
      (roots) => {
        this.watchAttempt = 0;
        void this.onBundle(roots).catch((e: Error) => this.opts.log(`identity: cannot install the new trust bundle: ${e.message}`));
      },
      (err) => {
        this.streamRoots = null;
        if (this.stopped) return;
        this.watchAttempt++;
        const delay = retryDelay(this.watchAttempt, 0, this.opts.random, this.policy);
        this.opts.log(`identity: ${err.message}; reconnecting in ${Math.round(delay)}ms`);
        this.watchTimer = this.opts.clock.setTimer(delay, () => this.watchBundle());
      },
    );
  }

  private onBundle(roots: string[]): Promise<void> {
    const bundle = roots.flatMap(splitPemCertificates);
    if (bundle.length === 0) return Promise.resolve();
    this.streamRoots = bundle;
    return this.serialized(async () => {
      const changed = bundle.join('') !== this.roots.join('');
      if (!this.held) this.roots = bundle;
      if (!changed || !this.held) return;
      this.opts.log(`identity: trust bundle now ${bundle.map(fingerprint256).map((f) => f.slice(0, 11)).join(', ')}`);
      // Signing moved to another root: renew soon, spread out, so the old root can be retired.
      // Decided before the install so that whoever sees the new ROOTCA also sees the new schedule.
      const signing = fingerprint256(bundle[0]!);
      if (signing !== this.held.root && !this.renewing) {
        const lifetime = this.held.notAfter - this.held.notBefore;
        const spread = Math.min(ROOT_CHANGE_SPREAD_MS, lifetime * 0.05);
        const delay = this.opts.random.next() * spread;
        if (this.nextAt === null || this.opts.clock.now() + delay < this.nextAt) this.schedule(delay);
      }
      await this.install(this.held, bundle);
      this.roots = bundle;
    });
  }
}
