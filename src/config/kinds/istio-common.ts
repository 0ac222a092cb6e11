// Message types shared by Istio's networking resources (istio/api networking/v1alpha3), described
// once here: StringMatch (in the variants Strait implements for each place it appears),
// Destination, Percent, durations and header operations. Field lists follow the .proto files
// exactly, so that no valid Istio field is ever reported as unknown; the API versions v1,
// v1beta1 and v1alpha3 serve the same schema.

import { field, int, listOf, mapOf, num, obj, required, str, unsupported } from '../schema.js';
import type { FieldSpec, ObjectOf, Schema } from '../schema.js';
import { checkDns1123Label } from '../names.js';

export const ISTIO_NETWORKING_VERSIONS = ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'] as const;

/** Go/protobuf durations as Istio's CRDs accept them: "5s", "1.5s", "100ms", "1m30s". */
export const duration = (): Schema<string> =>
  str({
    expected: 'a duration',
    rule: (v) => (/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/.test(v) ? undefined : 'a duration such as 5s, 1.5s, 250ms or 1m30s'),
  });

export const percentSchema = obj(
  { value: field(num()) },
  {
    refine(p, r) {
      if (p.value !== undefined && (p.value < 0 || p.value > 100)) r.error(['value'], 'invalid-value', `${p.value} is out of range: a percentage is between 0 and 100`, 'write a number between 0 and 100');
    },
  },
);

type MatchKind = 'exact' | 'prefix' | 'regex';

export type StringMatchFields = {
  exact: FieldSpec<string>;
  prefix: FieldSpec<string>;
  regex: FieldSpec<string>;
};

/**
 * A StringMatch where only the `implemented` kinds are supported; the others are valid Istio and
 * produce an unsupported-field warning. `allowEmpty` is for header matches, where `{}` means
 * "the header is present".
 */
export function stringMatch(implemented: readonly MatchKind[], allowEmpty = false) {
  const f = (k: MatchKind, note?: string): FieldSpec<string> => (implemented.includes(k) ? field(str()) : unsupported(str(), note));
  const fields: StringMatchFields = {
    exact: f('exact'),
    prefix: f('prefix'),
    // Istio regexes are RE2; Strait will compile them with re2-wasm, never with RegExp.
    regex: f('regex', 'RE2 regex matching arrives later'),
  };
  const groups = [['exact', 'prefix', 'regex'] as const];
  return obj(fields, allowEmpty ? { atMostOne: groups } : { exactlyOne: groups });
}

/** Every kind of StringMatch, for places where the whole match is unsupported. */
export const anyStringMatch = stringMatch(['exact', 'prefix', 'regex']);
export const anyHeaderMatch = stringMatch(['exact', 'prefix', 'regex'], true);

export type CheckedStringMatch = ObjectOf<StringMatchFields>;

/** HTTP header names as match keys and header-operation keys: RFC 9110 tokens. */
export function checkHeaderName(k: string): string | undefined {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k) ? undefined : 'an HTTP header name (letters, digits and !#$%&\'*+-.^_`|~)';
}

export const destinationSchema = obj({
  host: required(str({ nonEmpty: true, rule: (v) => (v === '*' ? 'a service host name; "*" is not allowed' : undefined) })),
  subset: field(str({ rule: checkDns1123Label }), 'needs a DestinationRule, which Strait does not implement yet'),
  port: field(obj({ number: field(int({ min: 1, max: 65535 })) })),
});

const headerOperations = obj({
  set: field(mapOf(str(), { keyRule: checkHeaderName })),
  add: field(mapOf(str(), { keyRule: checkHeaderName })),
  remove: field(listOf(str())),
});

export const headersSchema = obj({ request: field(headerOperations), response: field(headerOperations) });

export const tlsModes = ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'] as const;
