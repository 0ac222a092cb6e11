// A JwtRequirement compiled into a tree of verifiers (Envoy's jwt_authn Verifier):
//
//   provider_name / provider_and_audiences   tokens at that provider's locations must verify
//   requires_any                             passes when one child passes; else the last failure
//   requires_all                             passes when every child passes; else the first failure
//   allow_missing                            a token, if present, must verify with its issuer's provider
//   allow_missing_or_failed                  always passes; verified tokens still count
//   (unset)                                  passes
//
// Inside requires_any, Envoy moves the allow_missing / allow_missing_or_failed child to the end
// (one of them; allow_missing_or_failed wins) and lets it see the locations of the list's
// provider children; elsewhere those two see no provider and so find no token. Istio's
// RequestAuthentication is `requires_any: [provider, allow_missing]`: no token passes with no
// identity, and a bad token fails with the provider's reason (RA-09).
//
// Children run one after another (Envoy starts them together and keeps the first answer; with
// verification outcomes independent of order, the answer is the same, and header side effects
// are never applied twice).

import { authenticate } from './authenticator.js';
import type { MaybePromise, VerifyContext } from './authenticator.js';
import { Extractor } from './extractor.js';
import { AudienceChecker } from './provider.js';
import type { Provider, ProviderIndex } from './provider.js';
import type { Status } from './status.js';

/** A JwtRequirement in compiled-config form (config.ts parses the proto3 JSON into this). */
export type Requirement =
  | { readonly kind: 'provider'; readonly provider: string; readonly audiences: readonly string[] | null }
  | { readonly kind: 'any'; readonly of: readonly Requirement[] }
  | { readonly kind: 'all'; readonly of: readonly Requirement[] }
  | { readonly kind: 'allowMissing' }
  | { readonly kind: 'allowMissingOrFailed' }
  | { readonly kind: 'none' };

export interface Verifier {
  verify(ctx: VerifyContext): MaybePromise<Status>;
}

class ProviderVerifier implements Verifier {
  private readonly audiences: AudienceChecker | null;
  constructor(
    private readonly provider: Provider,
    audiences: readonly string[] | null,
    private readonly extractor: Extractor,
    private readonly index: ProviderIndex,
  ) {
    this.audiences = audiences && audiences.length > 0 ? new AudienceChecker(audiences) : null;
  }
  verify(ctx: VerifyContext): MaybePromise<Status> {
    this.extractor.sanitizeHeaders(ctx.req.headers);
    const tokens = this.extractor.extract(ctx.req);
    return authenticate(ctx, tokens, { provider: this.provider, audiences: this.audiences, allowFailed: false, allowMissing: false, index: this.index });
  }
}

class AllowVerifier implements Verifier {
  constructor(
    private readonly allowFailed: boolean,
    private readonly extractor: Extractor,
    private readonly index: ProviderIndex,
  ) {}
  verify(ctx: VerifyContext): MaybePromise<Status> {
    this.extractor.sanitizeHeaders(ctx.req.headers);
    const tokens = this.extractor.extract(ctx.req);
    return authenticate(ctx, tokens, { provider: null, audiences: null, allowFailed: this.allowFailed, allowMissing: true, index: this.index });
  }
}

class AnyVerifier implements Verifier {
  constructor(private readonly children: readonly Verifier[]) {}
  verify(ctx: VerifyContext): MaybePromise<Status> {
    const step = (i: number, last: Status): MaybePromise<Status> => {
      if (i >= this.children.length) return last;
      const r = this.children[i]!.verify(ctx);
      const next = (st: Status): MaybePromise<Status> => (st === 'Ok' ? 'Ok' : step(i + 1, st));
      return typeof r === 'string' ? next(r) : r.then(next);
    };
    return step(0, 'Ok');
  }
}

class AllVerifier implements Verifier {
  constructor(private readonly children: readonly Verifier[]) {}
  verify(ctx: VerifyContext): MaybePromise<Status> {
    const step = (i: number): MaybePromise<Status> => {
      if (i >= this.children.length) return 'Ok';
      const r = this.children[i]!.verify(ctx);
      const next = (st: Status): MaybePromise<Status> => (st === 'Ok' ? step(i + 1) : st);
      return typeof r === 'string' ? next(r) : r.then(next);
    };
    return step(0);
  }
}

const ALLOW_ALL: Verifier = { verify: () => 'Ok' };

/**
 * Compiles a requirement. Provider names must exist in `index` (config.ts checks them first).
 * `parentProviders`: the providers an allow_missing* child of requires_any extracts for.
 */
export function buildVerifier(r: Requirement, index: ProviderIndex, parentProviders: readonly Provider[] = []): Verifier {
  switch (r.kind) {
    case 'provider': {
      const p = index.all.get(r.provider)!;
      return new ProviderVerifier(p, r.audiences, new Extractor([p.locations]), index);
    }
    case 'allowMissing':
    case 'allowMissingOrFailed':
      return new AllowVerifier(r.kind === 'allowMissingOrFailed', new Extractor(parentProviders.map((p) => p.locations)), index);
    case 'all':
      return new AllVerifier(r.of.map((c) => buildVerifier(c, index)));
    case 'none':
      return ALLOW_ALL;
    case 'any': {
      const regular: Verifier[] = [];
      const used: Provider[] = [];
      let bypass: Requirement | null = null;
      for (const c of r.of) {
        if (c.kind === 'allowMissing' || c.kind === 'allowMissingOrFailed') {
          if (bypass === null || bypass.kind === 'allowMissing') bypass = c;
          continue;
        }
        if (c.kind === 'provider') used.push(index.all.get(c.provider)!);
        regular.push(buildVerifier(c, index));
      }
      if (bypass) regular.push(buildVerifier(bypass, index, used));
      return new AnyVerifier(regular);
    }
  }
}
