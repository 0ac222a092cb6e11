// RE2 regular expressions for user-supplied patterns (VirtualService regex matches, Envoy
// safe_regex): linear-time matching with no backtracking, so no pattern can stall the proxy.
// Envoy's safe_regex must match the whole string; compileFullMatch anchors the pattern so.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Re2Instance {
  test(s: string): boolean;
  exec(s: string): RegExpExecArray | null;
}

type Re2Constructor = new (pattern: string, flags?: string) => Re2Instance;

let RE2: Re2Constructor | undefined;

function re2(): Re2Constructor {
  if (!RE2) RE2 = (require('re2-wasm') as { RE2: Re2Constructor }).RE2;
  return RE2;
}

export class RegexError extends Error {}

/** Compiles `pattern` to a full-match predicate; throws RegexError with RE2's reason. */
export function compileFullMatch(pattern: string): (s: string) => boolean {
  let r: Re2Instance;
  try {
    // The `u` flag is required by re2-wasm; RE2 works on Unicode code points anyway.
    r = new (re2())(`^(?:${pattern})$`, 'u');
  } catch (e) {
    throw new RegexError(`invalid regex "${pattern}": ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  return (s) => r.test(s);
}

/** Compiles a pattern for searching/replacing (rewrites); throws RegexError. */
export function compileRe2(pattern: string, flags = 'u'): Re2Instance {
  try {
    return new (re2())(pattern, flags.includes('u') ? flags : `${flags}u`);
  } catch (e) {
    throw new RegexError(`invalid regex "${pattern}": ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
}
