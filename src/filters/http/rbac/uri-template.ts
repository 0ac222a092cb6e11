// Envoy's URI template path matcher (envoy.path.match.uri_template.uri_template_matcher,
// UriTemplateMatchConfig.path_template), which Istio emits for AuthorizationPolicy paths with
// `{*}` and `{**}`. The template compiles, as in Envoy, to one RE2 expression matched against the
// path without its query:
//   `*`      one path segment: one or more of RFC 3986 pchar (no `/`);
//   `**`     any text including `/` (zero or more segments); no operator may follow it;
//   `{name}` / `{name=*}` / `{name=**}` / `{name=a/*}`  the same, as a named variable
//            (Strait does not capture: RBAC only asks whether it matches);
//   anything else is a literal, and must be pchar.
// Templates Envoy rejects (bad literal, double slash, operator after `**`, more than 5 variables,
// repeated names) are ConfigErrors.

import { ConfigError } from '../api.js';
import { compileFullMatch } from '../../../common/re2.js';
import { checkFields, checkType, object } from './proto-json.js';
import type { StringPredicate } from './string-matcher.js';

export const URI_TEMPLATE_EXTENSION = 'envoy.path.match.uri_template.uri_template_matcher';
export const URI_TEMPLATE_MATCH_TYPE = 'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig';

// RFC 3986 pchar minus `*` (Envoy's kLiteral), as a regex character class body.
const PCHAR = "a-zA-Z0-9\\-._~%!$&'()+,;:@=";
const PATH_GLOB = `[${PCHAR}]+`;
const TEXT_GLOB = `[${PCHAR}/]*`;
const LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;
const VARIABLE_NAME = /^[a-zA-Z][a-zA-Z0-9_]*$/;

type Token = { kind: 'literal'; text: string } | { kind: 'op'; text: '*' | '**' } | { kind: 'var'; name: string; match: Token[] };

/** A TypedExtensionConfig {name, typedConfig: UriTemplateMatchConfig}, as RBAC's uri_template holds it. */
export function compileUriTemplateExtension(v: unknown, at: string): StringPredicate {
  const o = object(v, at, 'a TypedExtensionConfig object {name, typedConfig}');
  checkFields(o, at, 'TypedExtensionConfig', ['name', 'typedConfig']);
  const cfg = object(o.typedConfig, `${at}.typedConfig`, 'a UriTemplateMatchConfig object');
  if (cfg['@type'] !== URI_TEMPLATE_MATCH_TYPE) throw new ConfigError(`${at}.typedConfig: @type ${JSON.stringify(cfg['@type'])} is not supported (only ${URI_TEMPLATE_MATCH_TYPE})`);
  checkType(cfg, `${at}.typedConfig`, URI_TEMPLATE_MATCH_TYPE);
  checkFields(cfg, `${at}.typedConfig`, 'UriTemplateMatchConfig', ['pathTemplate']);
  if (typeof cfg.pathTemplate !== 'string') throw new ConfigError(`${at}.typedConfig.pathTemplate: expected a string, got ${JSON.stringify(cfg.pathTemplate)}`);
  return compileUriTemplate(cfg.pathTemplate, `${at}.typedConfig.pathTemplate`);
}

/** A path template as a predicate on the request path (the query and fragment are ignored). */
export function compileUriTemplate(template: string, at: string): StringPredicate {
  const full = compileFullMatch(uriTemplateRegex(template, at));
  return (path) => {
    const q = path.indexOf('?');
    const h = path.indexOf('#');
    const end = q < 0 ? h : h < 0 ? q : Math.min(q, h);
    return full(end < 0 ? path : path.slice(0, end));
  };
}

/** The RE2 pattern (without anchors) a template compiles to; exported for tests. */
export function uriTemplateRegex(template: string, at: string): string {
  const fail = (why: string) => new ConfigError(`${at}: invalid path template "${template}": ${why}`);
  if (template.length < 1 || template.length > 256) throw fail('must be 1 to 256 characters');
  if (!/^\/[\x21-\x7e]*$/.test(template)) throw fail('must start with / and hold only printable ASCII');
  const tokens = tokenize(template, fail);
  checkTokens(tokens, fail);
  return tokens.map(toRegex).join('');
}

function tokenize(t: string, fail: (why: string) => ConfigError): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < t.length) {
    const c = t[i]!;
    if (c === '*') {
      const op = t.startsWith('**', i) ? '**' : '*';
      out.push({ kind: 'op', text: op });
      i += op.length;
    } else if (c === '{') {
      const close = t.indexOf('}', i);
      if (close < 0) throw fail('unmatched {');
      const body = t.slice(i + 1, close);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      if (!VARIABLE_NAME.test(name) || name.length > 16) throw fail(`bad variable name "${name}"`);
      let match: Token[] = [];
      if (eq >= 0) {
        const pattern = body.slice(eq + 1);
        if (pattern === '') throw fail(`empty match for variable "${name}"`);
        match = tokenize(pattern, fail);
        if (match.some((m) => m.kind === 'var')) throw fail('nested variables');
        for (let k = 1; k < match.length; k++) {
          if (match[k - 1]!.kind === 'op' && !(match[k]!.kind === 'literal' && (match[k] as { text: string }).text === '/')) throw fail('an operator must be followed by /');
        }
      }
      out.push({ kind: 'var', name, match });
      i = close + 1;
    } else if (c === '/') {
      out.push({ kind: 'literal', text: '/' });
      i++;
    } else {
      let j = i;
      while (j < t.length && t[j] !== '/' && t[j] !== '{' && t[j] !== '*') j++;
      const text = t.slice(i, j);
      if (!LITERAL.test(text)) throw fail(`invalid literal "${text}"`);
      out.push({ kind: 'literal', text });
      i = j;
    }
  }
  return out;
}

function checkTokens(tokens: readonly Token[], fail: (why: string) => ConfigError): void {
  const names = new Set<string>();
  let afterTextGlob = false;
  let prevSlash = false;
  for (const tk of tokens) {
    const ops = tk.kind === 'op' ? [tk] : tk.kind === 'var' ? (tk.match.length ? tk.match.filter((m) => m.kind === 'op') : [{ kind: 'op', text: '*' }]) : [];
    for (const op of ops) {
      if (afterTextGlob) throw fail('no operator may follow **');
      if ((op as { text: string }).text === '**') afterTextGlob = true;
    }
    if (tk.kind === 'var') {
      if (names.has(tk.name)) throw fail(`repeated variable "${tk.name}"`);
      names.add(tk.name);
      if (names.size > 5) throw fail('more than 5 variables');
    }
    const slash = (tk.kind === 'literal' && tk.text === '/') || (tk.kind === 'var' && tk.match[0]?.kind === 'literal' && tk.match[0].text === '/');
    if (slash && prevSlash) throw fail('double slashes are not allowed');
    prevSlash = slash;
  }
}

function toRegex(tk: Token): string {
  switch (tk.kind) {
    case 'literal':
      return tk.text.replace(/[$()+.]/g, (c) => `\\${c}`);
    case 'op':
      return tk.text === '**' ? TEXT_GLOB : PATH_GLOB;
    case 'var':
      return `(?:${tk.match.length ? tk.match.map(toRegex).join('') : PATH_GLOB})`;
  }
}
