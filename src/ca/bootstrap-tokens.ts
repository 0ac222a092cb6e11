// Bootstrap tokens: how a proxy proves who it is before it gets a certificate. The local runner
// issues one random token per pod, bound to the pod's namespace and service account, and hands it
// to that pod's proxy only (an environment variable of the process). The CA service looks the
// token up and signs for the bound identity, never for what the CSR says. The role Kubernetes
// service-account tokens play for istiod, without a Kubernetes API to review them.

import { createHash, randomBytes } from 'node:crypto';
import type { WorkloadIdentity } from './spiffe.js';
import { checkIdentity } from './spiffe.js';

export interface TokenBinding extends WorkloadIdentity {
  /** Who holds it, for logs and status (`namespace/pod`). */
  readonly holder: string;
}

export class BootstrapTokens {
  // Keyed by the token's SHA-256, never the token itself: a lookup reveals nothing through timing
  // about how much of a guessed token was right, and a dump of this map holds no usable token.
  private readonly byHash = new Map<string, TokenBinding>();
  private readonly byHolder = new Map<string, string>();

  /** A new 256-bit token for `holder`, replacing any earlier token of the same holder. */
  issue(binding: TokenBinding): string {
    const bad = checkIdentity(binding);
    if (bad) throw new Error(`cannot issue a token for ${binding.holder}: ${bad}`);
    this.revoke(binding.holder);
    const token = randomBytes(32).toString('base64url');
    const h = hash(token);
    this.byHash.set(h, binding);
    this.byHolder.set(binding.holder, h);
    return token;
  }

  /** The binding of a token; undefined for an unknown or revoked one. */
  authenticate(token: string): TokenBinding | undefined {
    if (token.length === 0 || token.length > 256) return undefined;
    return this.byHash.get(hash(token));
  }

  /** Ends a holder's token (its pod stopped). */
  revoke(holder: string): void {
    const h = this.byHolder.get(holder);
    if (h === undefined) return;
    this.byHolder.delete(holder);
    this.byHash.delete(h);
  }

  get size(): number {
    return this.byHash.size;
  }
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
