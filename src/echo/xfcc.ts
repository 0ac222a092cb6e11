// Parser for the `x-forwarded-client-cert` (XFCC) header that a sidecar adds after terminating
// mTLS, so the echo workload can report who called it (`peer.identity`).
//
// Envoy's format: elements separated by `,` (one per proxy hop that appended one), each element a
// list of `Key=value` pairs separated by `;`. Values containing `,`, `;` or `=` are double-quoted,
// and a quote inside a quoted value is escaped with a backslash, e.g.
//   By=spiffe://cluster.local/ns/a/sa/b;Hash=ab12;Subject="CN=x,O=y";URI=spiffe://cluster.local/ns/c/sa/d
// The header comes from the network, so the parser is lenient: it never throws, skips pairs with
// no key, and lets an unterminated quote run to the end of the header.

/** One XFCC element: lower-cased keys → the values in order (`DNS` may repeat). */
export type XfccElement = Record<string, string[]>;

export function parseXfcc(header: string): XfccElement[] {
  const elements: XfccElement[] = [];
  // A Map, not a plain object, while building: a key such as `__proto__` must stay data.
  let pairs = new Map<string, string[]>();
  let key = '';
  let value = '';
  let inValue = false; // after the pair's first unquoted `=`
  let inQuotes = false;
  let quoted = false; // the value had a quoted part: keep its spaces as they are

  const endPair = (): void => {
    const k = key.trim().toLowerCase();
    if (k !== '') {
      const v = quoted ? value : value.trim();
      const list = pairs.get(k);
      if (list) list.push(v);
      else pairs.set(k, [v]);
    }
    key = '';
    value = '';
    inValue = false;
    quoted = false;
  };
  const endElement = (): void => {
    endPair();
    if (pairs.size > 0) elements.push(Object.fromEntries(pairs));
    pairs = new Map();
  };

  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (inQuotes) {
      if (c === '\\' && i + 1 < header.length) value += header[++i];
      else if (c === '"') inQuotes = false;
      else value += c;
    } else if (c === ',') {
      endElement();
    } else if (c === ';') {
      endPair();
    } else if (!inValue) {
      if (c === '=') inValue = true;
      else key += c;
    } else if (c === '"') {
      // Spaces before the opening quote are padding, not part of the value.
      if (!quoted && value.trim() === '') value = '';
      inQuotes = true;
      quoted = true;
    } else if (!(quoted && (c === ' ' || c === '\t'))) {
      value += c;
    }
  }
  endElement();
  return elements;
}

/**
 * The caller's SPIFFE identity: the `URI` of the last element. Envoy appends the element for the
 * hop it terminated at the end (APPEND_FORWARD), so the last one describes our direct peer; earlier
 * ones describe clients further away.
 */
export function xfccIdentity(elements: readonly XfccElement[]): string | null {
  const last = elements[elements.length - 1];
  return last?.['uri']?.[0] ?? null;
}
