// The outcomes of JWT verification, named and worded as Envoy's jwt_verify_lib names them
// (google/jwt_verify_lib status.h / status.cc). The wording matters: it is the body of the 401/403
// a client receives and, with spaces turned into underscores, the access log's response code
// details (`jwt_authn_access_denied{Jwt_verification_fails}`), so users and tooling that know
// Istio see the same text. Only the statuses Strait can produce are listed, plus one of its own
// (JwtTooLarge, see jwt.ts).

export const STATUS_TEXT = {
  Ok: 'OK',
  JwtMissed: 'Jwt is missing',
  JwtNotYetValid: 'Jwt not yet valid',
  JwtExpired: 'Jwt is expired',
  JwtBadFormat: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  JwtHeaderParseErrorBadBase64: 'Jwt header is an invalid Base64url encoded',
  JwtHeaderParseErrorBadJson: 'Jwt header is an invalid JSON',
  JwtHeaderBadAlg: 'Jwt header [alg] field is required and must be a string',
  JwtHeaderNotImplementedAlg: 'Jwt header [alg] is not supported',
  JwtHeaderBadKid: 'Jwt header [kid] field is not a string',
  JwtPayloadParseErrorBadBase64: 'Jwt payload is an invalid Base64url encoded',
  JwtEd25519SignatureWrongLength: 'Jwt ED25519 signature is wrong length',
  JwtPayloadParseErrorBadJson: 'Jwt payload is an invalid JSON',
  JwtPayloadParseErrorIssNotString: 'Jwt payload [iss] field is not a string',
  JwtPayloadParseErrorSubNotString: 'Jwt payload [sub] field is not a string',
  JwtPayloadParseErrorIatNotInteger: 'Jwt payload [iat] field is not an integer',
  JwtPayloadParseErrorIatOutOfRange: 'Jwt payload [iat] field is not a positive 64 bit integer',
  JwtPayloadParseErrorNbfNotInteger: 'Jwt payload [nbf] field is not an integer',
  JwtPayloadParseErrorNbfOutOfRange: 'Jwt payload [nbf] field is not a positive 64 bit integer',
  JwtPayloadParseErrorExpNotInteger: 'Jwt payload [exp] field is not an integer',
  JwtPayloadParseErrorExpOutOfRange: 'Jwt payload [exp] field is not a positive 64 bit integer',
  JwtPayloadParseErrorJtiNotString: 'Jwt payload [jti] field is not a string',
  JwtPayloadParseErrorAudNotString: 'Jwt payload [aud] field is not a string or string list',
  JwtSignatureParseErrorBadBase64: 'Jwt signature is an invalid Base64url encoded',
  JwtUnknownIssuer: 'Jwt issuer is not configured',
  JwtAudienceNotAllowed: 'Audiences in Jwt are not allowed',
  JwtVerificationFail: 'Jwt verification fails',
  // Strait's own: Envoy has no per-token size limit (only the header-size limit, 60 KiB by
  // default), and HTTP/2 header lists may be larger than an HTTP/1.1 head.
  JwtTooLarge: 'Jwt is too large',

  JwksParseError: 'Jwks is an invalid JSON',
  JwksNoKeys: 'Jwks does not have [keys] field',
  JwksBadKeys: '[keys] in Jwks is not an array',
  JwksNoValidKeys: "Jwks doesn't have any valid public key",
  JwksKidAlgMismatch: "Jwks doesn't have key to match kid or alg from Jwt",
  JwksRsaParseError: 'Jwks RSA [n] or [e] field is missing or has a parse error',
  JwksEcParseError: 'Jwks EC [x] and [y] fields have a parse error.',
  JwksEcXorYBadBase64: 'Jwks EC [x] or [y] field is an invalid Base64.',
  JwksOKPXBadBase64: 'Jwks OKP [x] field is an invalid Base64.',
  JwksOKPXWrongLength: 'Jwks OKP [x] field is wrong length.',
  JwksFetchFail: 'Jwks remote fetch is failed',
  JwksMissingKty: '[kty] is missing in [keys]',
  JwksBadKty: '[kty] is bad in [keys]',
  JwksNotImplementedKty: '[kty] is not supported in [keys]',
  JwksRSAKeyBadAlg: '[alg] is not started with [RS] or [PS] for an RSA key',
  JwksRSAKeyMissingN: '[n] field is missing for a RSA key',
  JwksRSAKeyBadN: '[n] field is not string for a RSA key',
  JwksRSAKeyMissingE: '[e] field is missing for a RSA key',
  JwksRSAKeyBadE: '[e] field is not string for a RSA key',
  JwksECKeyBadAlg: '[alg] is not started with [ES] for an EC key',
  JwksECKeyBadCrv: '[crv] field is not string for an EC key',
  JwksECKeyAlgOrCrvUnsupported: '[crv] or [alg] field is not supported for an EC key',
  JwksECKeyAlgNotCompatibleWithCrv: '[crv] field specified is not compatible with [alg] for an EC key',
  JwksECKeyMissingX: '[x] field is missing for an EC key',
  JwksECKeyBadX: '[x] field is not string for an EC key',
  JwksECKeyMissingY: '[y] field is missing for an EC key',
  JwksECKeyBadY: '[y] field is not string for an EC key',
  JwksOKPKeyBadAlg: '[alg] is not [EdDSA] for an OKP key',
  JwksOKPKeyMissingCrv: '[crv] field is missing for an OKP key',
  JwksOKPKeyBadCrv: '[crv] field is not string for an OKP key',
  JwksOKPKeyCrvUnsupported: '[crv] field is not supported for an OKP key',
  JwksOKPKeyMissingX: '[x] field is missing for an OKP key',
  JwksOKPKeyBadX: '[x] field is not string for an OKP key',
} as const;

export type Status = keyof typeof STATUS_TEXT;

export function statusText(s: Status): string {
  return STATUS_TEXT[s];
}
