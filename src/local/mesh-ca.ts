// Which CA `strait up` runs, chosen the way an operator of Istio expects (the first that exists):
//
//   1. `--cacerts DIR`: the operator's files in Istio's cacerts layout (ca-cert.pem, ca-key.pem,
//      cert-chain.pem, root-cert.pem), read once and never written;
//   2. a Secret `cacerts` in istio-system among the manifests (Istio's plugged-in CA Secret);
//   3. the CA's own state directory (`--ca-dir`, default $XDG_STATE_HOME/strait/ca): the
//      self-signed root created there on first start (ECDSA P-256, 10 years), kept across runs.
//
// The trust domain is the mesh config's (ConfigMap istio, `trustDomain`, default cluster.local),
// so the identities the CA signs are the ones secure naming and authorization policies expect.
// A changed cacerts Secret is taken on reload with an overlapping trust bundle; anything else
// that changes which CA runs (or the trust domain) needs a restart, and the runner says so.

import { caFilesFromSecret, CaMaterialError, checkCaFiles, readCaDir } from '../ca/ca-material.js';
import type { CaFiles } from '../ca/ca-material.js';
import { defaultCaDir } from '../ca/ca-dir.js';
import { CertificateAuthority } from '../ca/certificate-authority.js';
import type { CaOrigin } from '../ca/certificate-authority.js';
import type { Clock } from '../common/clock.js';
import type { ConfigStore } from '../config/config-store.js';
import { DEFAULT_MESH_CONFIG } from '../config/types.js';

/** Where istiod looks for the plugged-in CA Secret. */
export const CACERTS_SECRET = { namespace: 'istio-system', name: 'cacerts' } as const;

export interface MeshCaSettings {
  /** `--cacerts`: a directory of operator files; wins over everything else. */
  readonly cacertsDir?: string;
  /** `--ca-dir`: the self-signed CA's state directory. */
  readonly caDir?: string;
}

export function meshTrustDomain(store: ConfigStore): string {
  return store.list('MeshConfig')[0]?.spec.trustDomain ?? DEFAULT_MESH_CONFIG.trustDomain;
}

/** The cacerts Secret's files, or undefined when the manifests hold none. */
export function cacertsFromStore(store: ConfigStore): { files: CaFiles; where: string } | undefined {
  const s = store.get('Secret', CACERTS_SECRET.namespace, CACERTS_SECRET.name);
  if (!s) return undefined;
  const where = `Secret ${CACERTS_SECRET.namespace}/${CACERTS_SECRET.name} (${s.source.file})`;
  return { files: caFilesFromSecret(s.data, where), where };
}

export function caOrigin(settings: MeshCaSettings, store: ConfigStore): CaOrigin {
  if (settings.cacertsDir) {
    const files = readCaDir(settings.cacertsDir);
    if (!files) throw new CaMaterialError(`--cacerts ${settings.cacertsDir}: no ca-cert.pem there (Istio's cacerts layout: ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem)`);
    return { kind: 'files', files, where: `--cacerts ${settings.cacertsDir}` };
  }
  const secret = cacertsFromStore(store);
  if (secret) return { kind: 'secret', ...secret };
  return { kind: 'dir', dir: settings.caDir ?? defaultCaDir() };
}

export async function openMeshCa(settings: MeshCaSettings, store: ConfigStore, clock: Clock): Promise<CertificateAuthority> {
  return CertificateAuthority.open(caOrigin(settings, store), { trustDomain: meshTrustDomain(store), clock });
}

/** One line for the runner's output: where the CA's material is and which root signs. */
export function describeCa(ca: CertificateAuthority): string {
  const s = ca.signerStatus();
  const from = s.source === 'self-signed' ? `self-signed root in ${s.dir}` : s.source === 'secret' ? 'the cacerts Secret' : 'operator files (--cacerts)';
  const root = ca.rootStatus()[0];
  return `mesh CA: ${from}, trust domain ${ca.trustDomain}, root ${root?.fingerprint.slice(0, 23)}... valid until ${root?.notAfter.slice(0, 10)}; workload certificates: SPIFFE, ECDSA P-256, 24h`;
}

/**
 * After a reload: a changed cacerts Secret replaces the signer (the old roots stay trusted until
 * every proxy has renewed); returns what to tell the operator, or null when nothing changed.
 */
export async function followCaConfig(ca: CertificateAuthority, settings: MeshCaSettings, store: ConfigStore, clock: Clock, last: { secretText: string }): Promise<string | null> {
  if (meshTrustDomain(store) !== ca.trustDomain) {
    return `the mesh config's trustDomain is now ${meshTrustDomain(store)}, but the CA signs for ${ca.trustDomain} until strait up restarts`;
  }
  if (settings.cacertsDir) return null;
  let secret;
  try {
    secret = cacertsFromStore(store);
  } catch (e) {
    return `${(e as Error).message}; the CA keeps signing with the previous material`;
  }
  const text = secret ? JSON.stringify(secret.files) : '';
  if (text === last.secretText) return null;
  last.secretText = text;
  if (!secret || ca.source !== 'secret') {
    return secret ? `${secret.where} appeared; restart strait up to sign with it` : `Secret ${CACERTS_SECRET.namespace}/${CACERTS_SECRET.name} is gone; the CA keeps signing with it until strait up restarts`;
  }
  try {
    ca.replaceSigner(await checkCaFiles(secret.files, 'secret', secret.where, new Date(clock.now())));
  } catch (e) {
    return `${(e as Error).message}; the CA keeps signing with the previous material`;
  }
  return `${secret.where} changed: the CA signs with the new material; proxies trust old and new roots and move to the new one`;
}

/** The text `followCaConfig` compares with, for the Secret the CA was opened with. */
export function cacertsText(store: ConfigStore): string {
  try {
    const secret = cacertsFromStore(store);
    return secret ? JSON.stringify(secret.files) : '';
  } catch {
    return '';
  }
}
