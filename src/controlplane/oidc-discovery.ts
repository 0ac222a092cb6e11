// OpenID Connect discovery of key sets for RequestAuthentication rules that name only an issuer
// (RA-04): istiod reads `<issuer>/.well-known/openid-configuration` and uses its `jwks_uri`;
// so does the control plane here, and the generators then write that URI as if the rule had
// said it. Lookups run in the background: a rule whose URI is not known yet gets an empty key
// set (its tokens are refused, fail closed), and the snapshot is rebuilt once the URI arrives.
// Found URIs are refreshed every 20 minutes (Istio's JWT key refresh interval); a failed lookup
// is retried with back-off, and a URI found before is kept while the issuer is unreachable.

import type { Clock, Timer } from '../common/clock.js';

export interface OidcDiscoveryOptions {
  readonly clock: Clock;
  /** Called when an issuer's jwks_uri is found or changes (rebuild and push). */
  readonly onChange: () => void;
  readonly log: (line: string) => void;
  /** The HTTP GET (tests substitute nothing: they serve real documents); default global fetch. */
  readonly fetch?: typeof fetch;
  /** Default 20 minutes. */
  readonly refreshMs?: number;
  /** First retry after a failure; doubles up to refreshMs. Default 5 s. */
  readonly retryMs?: number;
  /** Per lookup. Default 5 s (Istio's JWKS fetch timeout). */
  readonly timeoutMs?: number;
}

interface Entry {
  uri?: string;
  inFlight: boolean;
  failures: number;
  timer: Timer | null;
}

/** Bodies over this are not discovery documents. */
const MAX_DOCUMENT_BYTES = 256 * 1024;

export class OidcDiscovery {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: OidcDiscoveryOptions) {}

  /**
   * The jwks_uri known for each of `issuers`; starts lookups for issuers not seen before and
   * forgets those no rule names any more.
   */
  resolve(issuers: ReadonlySet<string>): ReadonlyMap<string, string> {
    for (const [issuer, e] of this.entries) {
      if (issuers.has(issuer)) continue;
      e.timer?.cancel();
      this.entries.delete(issuer);
    }
    const known = new Map<string, string>();
    for (const issuer of issuers) {
      let e = this.entries.get(issuer);
      if (!e) {
        e = { inFlight: false, failures: 0, timer: null };
        this.entries.set(issuer, e);
        void this.lookup(issuer, e);
      }
      if (e.uri) known.set(issuer, e.uri);
    }
    return known;
  }

  /** Stops every timer (shutdown). */
  close(): void {
    for (const e of this.entries.values()) e.timer?.cancel();
    this.entries.clear();
  }

  private async lookup(issuer: string, e: Entry): Promise<void> {
    if (e.inFlight) return;
    e.inFlight = true;
    let found: string | undefined;
    try {
      found = await this.fetchJwksUri(issuer);
    } catch (err) {
      e.failures++;
      this.opts.log(`oidc: cannot discover the key set of issuer ${issuer}: ${(err as Error).message}${e.uri ? ` (keeping ${e.uri})` : '; its tokens are refused until it answers'}`);
    } finally {
      e.inFlight = false;
    }
    if (this.entries.get(issuer) !== e) return; // forgotten meanwhile
    const refresh = this.opts.refreshMs ?? 20 * 60_000;
    if (found !== undefined) {
      e.failures = 0;
      const changed = found !== e.uri;
      e.uri = found;
      if (changed) {
        this.opts.log(`oidc: issuer ${issuer} publishes its keys at ${found}`);
        this.opts.onChange();
      }
    }
    const wait = e.failures === 0 ? refresh : Math.min(refresh, (this.opts.retryMs ?? 5_000) * 2 ** (e.failures - 1));
    e.timer = this.opts.clock.setTimer(wait, () => {
      e.timer = null;
      void this.lookup(issuer, e);
    });
  }

  private async fetchJwksUri(issuer: string): Promise<string> {
    let base: URL;
    try {
      base = new URL(issuer);
    } catch {
      throw new Error('the issuer is not a URL, so it has no discovery document; give the rule jwksUri or jwks');
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`the issuer's scheme ${base.protocol} is not http(s)`);
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await (this.opts.fetch ?? fetch)(url, { redirect: 'error', signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5_000) });
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    const text = await res.text();
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`${url} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error(`${url} is not JSON`);
    }
    const uri = (doc as { jwks_uri?: unknown } | null)?.jwks_uri;
    if (typeof uri !== 'string' || !URL.canParse(uri) || !/^https?:$/.test(new URL(uri).protocol)) throw new Error(`${url} has no http(s) jwks_uri`);
    return uri;
  }
}
