// The mesh's certificate authority: signs workload certificates from CSRs for an identity the
// caller has already proven (src/xds/ca-server.ts authenticates; this module never looks at who
// is asking), and keeps the trust bundle every proxy verifies peers against.
//
// Root rotation keeps the mesh talking: rotateRoot() makes a new root the signer and puts it in
// front of the old one in the bundle ([new, old]), so certificates from either root verify
// everywhere while workloads renew onto the new one; retireRoots() then drops the old root, once
// no certificate it issued is still in use (rootStatus() counts them).

import { X509Certificate } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { CaMaterialError, checkCaFiles, createSelfSignedRoot, readCaDir, writeCaDir } from './ca-material.js';
import type { CaFiles, CaSource, SigningMaterial } from './ca-material.js';
import { checkCsr } from './csr.js';
import { spiffeId } from './spiffe.js';
import type { WorkloadIdentity } from './spiffe.js';
import { initCaDir } from './ca-dir.js';
import { fingerprint256 } from './pem.js';
import { randomSerial, signingAlgorithm, x509 } from './x509.js';

export const DEFAULT_WORKLOAD_TTL_SECONDS = 24 * 3600;
export const MAX_WORKLOAD_TTL_SECONDS = 90 * 24 * 3600;
/** Leaf certificates start this much in the past, for clocks that disagree a little. */
const CLOCK_SKEW_MS = 2 * 60_000;

export interface CertificateAuthorityOptions {
  readonly trustDomain: string;
  readonly clock: Clock;
  /** Lifetime of a workload certificate when the request names none (Istio: 24 h). */
  readonly defaultTtlSeconds?: number;
  /** The longest lifetime a request may ask for (Istio: 90 days); longer requests are refused. */
  readonly maxTtlSeconds?: number;
}

/** Where the CA's signing material comes from (precedence is the caller's: see openCa). */
export type CaOrigin =
  /** Files an operator names (Istio's cacerts layout); never written to. */
  | { readonly kind: 'files'; readonly files: CaFiles; readonly where: string }
  /** A `cacerts` Secret from the manifests. */
  | { readonly kind: 'secret'; readonly files: CaFiles; readonly where: string }
  /** The CA's own directory: loaded if it holds cacerts files, else a new self-signed root is written there. */
  | { readonly kind: 'dir'; readonly dir: string }
  /** A self-signed root kept in memory only (tests, throwaway meshes). */
  | { readonly kind: 'memory' };

export interface SignRequest {
  readonly csrPem: string;
  /** The caller's authenticated identity: the only source of the certificate's SAN. */
  readonly identity: WorkloadIdentity;
  /** Requested lifetime; 0 or absent: the default. */
  readonly ttlSeconds?: number;
}

export interface IssuedCertificate {
  /** Istio's response order: the leaf, each intermediate, then the trust bundle (one PEM string, all roots). */
  readonly certChain: readonly string[];
  readonly spiffeId: string;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyDescription: string;
  /** SHA-256 fingerprint of the root the leaf chains to. */
  readonly rootFingerprint: string;
}

export interface RootStatus {
  readonly fingerprint: string;
  readonly subject: string;
  readonly notAfter: string;
  /** The root the current signer chains to. */
  readonly signing: boolean;
  /** Unexpired workload certificates this CA issued under this root (since it started). */
  readonly outstanding: number;
}

/** A request the CA refuses because of what it asks (bad CSR, too long a lifetime). */
export class SignRequestError extends Error {}

interface Issued {
  readonly root: string;
  readonly notAfter: number;
}

export class CertificateAuthority {
  private signer: SigningMaterial;
  private signerCert: x509.X509Certificate;
  private bundle: string[];
  /** Fingerprints of roots kept only for overlap after a rotation: what retireRoots() drops. */
  private readonly overlap = new Set<string>();
  private readonly issued = new Map<string, Issued>();
  private readonly listeners = new Set<(bundle: readonly string[]) => void>();

  private constructor(
    material: SigningMaterial,
    readonly opts: CertificateAuthorityOptions,
    /** Directory a self-signed CA persists rotations to; null when in memory or operator-supplied. */
    private readonly dir: string | null,
    extraRoots: readonly string[] = [],
  ) {
    this.signer = material;
    this.signerCert = new x509.X509Certificate(material.certPem);
    this.bundle = dedupe([...material.roots, ...extraRoots]);
    const own = new Set(material.roots.map(fingerprint256));
    for (const r of this.bundle) if (!own.has(fingerprint256(r))) this.overlap.add(fingerprint256(r));
  }

  /** Opens a CA from one origin; checks operator material and creates a self-signed root where needed. */
  static async open(origin: CaOrigin, opts: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const now = new Date(opts.clock.now());
    switch (origin.kind) {
      case 'files':
      case 'secret':
        return new CertificateAuthority(await checkCaFiles(origin.files, origin.kind, origin.where, now), opts, null);
      case 'memory':
        return new CertificateAuthority(await createSelfSignedRoot(opts.trustDomain, opts.clock), opts, null);
      case 'dir': {
        let files = readCaDir(origin.dir);
        if (!files) files = initCaDir(origin.dir, await createSelfSignedRoot(opts.trustDomain, opts.clock));
        const m = await checkCaFiles(files, 'self-signed', origin.dir, now);
        if (m.chain.length > 0) {
          // An operator's intermediate placed in the directory: used as is, never rotated here.
          return new CertificateAuthority({ ...m, source: 'files' }, opts, null);
        }
        // Our own root: root-cert.pem also lists roots still trusted from earlier rotations.
        return new CertificateAuthority({ ...m, roots: [m.certPem] }, opts, origin.dir, m.roots);
      }
    }
  }

  get trustDomain(): string {
    return this.opts.trustDomain;
  }

  get source(): CaSource {
    return this.signer.source;
  }

  /** Every trusted root, the signing one first (what ROOTCA holds). */
  trustBundle(): readonly string[] {
    return this.bundle;
  }

  /** Called with the new bundle whenever it changes (rotation, retirement, new signer). */
  onBundleChange(fn: (bundle: readonly string[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async sign(req: SignRequest): Promise<IssuedCertificate> {
    const uri = spiffeId(this.opts.trustDomain, req.identity);
    const ttlSeconds = this.ttlFor(req.ttlSeconds ?? 0);
    let csr;
    try {
      csr = await checkCsr(req.csrPem, uri);
    } catch (e) {
      throw new SignRequestError((e as Error).message);
    }
    const now = this.opts.clock.now();
    // Taken before the first await below, so a rotation meanwhile cannot mix two signers' parts.
    const signer = this.signer;
    const signerCert = this.signerCert;
    const bundle = this.bundle;
    const notAfter = Math.min(now + ttlSeconds * 1000, signer.notAfter.getTime());
    if (notAfter <= now) throw new Error(`the CA certificate expired on ${signer.notAfter.toISOString()}`);
    const serial = randomSerial();
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      // No subject, as Istio's workload certificates: the identity is the (critical) URI SAN.
      subject: '',
      issuer: signerCert.subjectName,
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(notAfter),
      publicKey: csr.publicKey,
      signingKey: signer.key,
      signingAlgorithm: signingAlgorithm(signer.key),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: uri }], true),
        await x509.AuthorityKeyIdentifierExtension.create(signerCert),
      ],
    });
    const root = fingerprint256(signer.roots[0]!);
    this.prune(now);
    this.issued.set(serial, { root, notAfter });
    return {
      certChain: [leaf.toString('pem') + '\n', ...signer.chain, bundle.join('')],
      spiffeId: uri,
      serial,
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      keyDescription: csr.keyDescription,
      rootFingerprint: root,
    };
  }

  private ttlFor(requested: number): number {
    const max = this.opts.maxTtlSeconds ?? MAX_WORKLOAD_TTL_SECONDS;
    if (!Number.isFinite(requested) || requested < 0) throw new SignRequestError(`requested lifetime ${requested}s is not a positive number of seconds`);
    if (requested > max) throw new SignRequestError(`requested lifetime ${requested}s is longer than the maximum ${max}s`);
    return requested === 0 ? Math.min(this.opts.defaultTtlSeconds ?? DEFAULT_WORKLOAD_TTL_SECONDS, max) : requested;
  }

  /**
   * A new self-signed root becomes the signer; the bundle becomes [new, ...old], so peers keep
   * accepting certificates from the old root until retireRoots(). Persisted before it is used.
   */
  async rotateRoot(): Promise<RootStatus> {
    if (this.signer.source !== 'self-signed') {
      throw new CaMaterialError(`the CA signs with operator-supplied material (${this.signer.source}); rotate it by replacing the cacerts files or Secret`);
    }
    const next = await createSelfSignedRoot(this.opts.trustDomain, this.opts.clock);
    const old = this.bundle;
    for (const r of old) this.overlap.add(fingerprint256(r));
    this.install(next, dedupe([next.certPem, ...old]));
    return this.rootStatus()[0]!;
  }

  /**
   * Switches to new operator material (a changed cacerts Secret or files) with the same overlap:
   * its roots first, then the roots trusted so far.
   */
  replaceSigner(material: SigningMaterial): void {
    const own = new Set(material.roots.map(fingerprint256));
    const old = this.bundle.filter((r) => !own.has(fingerprint256(r)));
    for (const r of old) this.overlap.add(fingerprint256(r));
    for (const fp of own) this.overlap.delete(fp);
    this.install(material, dedupe([...material.roots, ...old]));
  }

  /** Drops the roots kept for overlap; returns their fingerprints. */
  retireRoots(): string[] {
    if (this.overlap.size === 0) return [];
    const retired = [...this.overlap];
    this.overlap.clear();
    this.install(this.signer, this.bundle.filter((r) => !retired.includes(fingerprint256(r))));
    return retired;
  }

  private install(material: SigningMaterial, bundle: string[]): void {
    if (this.dir && material.source === 'self-signed') writeCaDir(this.dir, { ...material, roots: bundle });
    this.signer = material;
    this.signerCert = new x509.X509Certificate(material.certPem);
    this.bundle = bundle;
    for (const fn of this.listeners) fn(bundle);
  }

  /** The trust bundle's roots, with how many live certificates each still backs. */
  rootStatus(): RootStatus[] {
    this.prune(this.opts.clock.now());
    const signing = fingerprint256(this.signer.roots[0]!);
    return this.bundle.map((pem) => {
      const c = new X509Certificate(pem);
      const fp = c.fingerprint256;
      let outstanding = 0;
      for (const i of this.issued.values()) if (i.root === fp) outstanding++;
      return { fingerprint: fp, subject: c.subject.replace(/\n/g, ', '), notAfter: new Date(c.validTo).toISOString(), signing: fp === signing, outstanding };
    });
  }

  signerStatus(): { source: CaSource; subject: string; fingerprint: string; notAfter: string; dir: string | null } {
    const c = new X509Certificate(this.signer.certPem);
    return { source: this.signer.source, subject: c.subject.replace(/\n/g, ', '), fingerprint: c.fingerprint256, notAfter: this.signer.notAfter.toISOString(), dir: this.dir };
  }

  private prune(now: number): void {
    for (const [serial, i] of this.issued) if (i.notAfter <= now) this.issued.delete(serial);
  }
}

function dedupe(pems: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of pems) {
    const fp = fingerprint256(p);
    if (!seen.has(fp)) {
      seen.add(fp);
      out.push(p);
    }
  }
  return out;
}
