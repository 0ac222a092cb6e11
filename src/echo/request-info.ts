// Pure helpers that turn what Node parsed from an inbound request into the echo's JSON fields
// (headers, path, query) and recognise the control paths `/status/<code>` and `/delay/<ms>`.
// Objects built from client input are made with Object.fromEntries over a Map, so a header or
// query key named `__proto__` is kept as data instead of touching the prototype.

export type Multi = string | string[];

/**
 * Headers as received, from Node's rawHeaders rather than its merged `headers` object, because
 * Node drops repeats of some headers (a second `user-agent` or `host`) and joins others: here a
 * header sent once is a string and a repeated one is an array of every value in order. Names
 * are lower-cased; HTTP/2 pseudo-headers (`:path`, ...) are left out, they have their own fields.
 */
export function headersFromRaw(raw: readonly string[]): Record<string, Multi> {
  const map = new Map<string, Multi>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name.startsWith(':')) continue;
    appendMulti(map, name, raw[i + 1]);
  }
  return Object.fromEntries(map);
}

/** Splits a request target into the path and the query parameters (repeated keys → arrays). */
export function splitTarget(target: string): { path: string; query: Record<string, Multi> } {
  let pathAndQuery = target;
  // Absolute form (`GET http://host/p?q HTTP/1.1`) is legal towards a server too; keep its path.
  if (!target.startsWith('/') && target !== '*' && URL.canParse(target)) {
    const url = new URL(target);
    pathAndQuery = url.pathname + url.search;
  }
  const q = pathAndQuery.indexOf('?');
  const path = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
  const map = new Map<string, Multi>();
  if (q !== -1) {
    for (const [k, v] of new URLSearchParams(pathAndQuery.slice(q + 1))) appendMulti(map, k, v);
  }
  return { path, query: Object.fromEntries(map) };
}

function appendMulti(map: Map<string, Multi>, key: string, value: string): void {
  const prev = map.get(key);
  if (prev === undefined) map.set(key, value);
  else if (Array.isArray(prev)) prev.push(value);
  else map.set(key, [prev, value]);
}

export const MAX_DELAY_MS = 60_000;

/** What a control path asks for, or why it is malformed (answered with 400). */
export type Control = { status?: number; delayMs?: number } | { error: string };

export function parseControlPath(path: string): Control {
  if (path.startsWith('/status/')) {
    const arg = path.slice('/status/'.length);
    const code = /^\d{3}$/.test(arg) ? Number(arg) : NaN;
    if (!(code >= 100 && code <= 599)) {
      return { error: `/status/ expects a status code from 100 to 599, got ${JSON.stringify(arg)}` };
    }
    // A 1xx is an interim response in HTTP: sent as the final one, the client would go on waiting
    // for the real answer and the connection would be out of step. Refuse it plainly instead.
    if (code < 200) return { error: `/status/${code}: a 1xx status cannot be the final response` };
    return { status: code };
  }
  if (path.startsWith('/delay/')) {
    const arg = path.slice('/delay/'.length);
    if (!/^\d+$/.test(arg)) {
      return { error: `/delay/ expects whole milliseconds, got ${JSON.stringify(arg)}` };
    }
    return { delayMs: Math.min(Number(arg), MAX_DELAY_MS) };
  }
  return {};
}
