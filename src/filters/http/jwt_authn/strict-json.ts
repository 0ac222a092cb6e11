// Finds repeated member names in a JSON text that JSON.parse already accepted. JSON.parse keeps
// the last of two equal names silently; another parser may keep the first, so a token carrying
// `"sub":"alice","sub":"admin"` could mean two different people to the proxy and to the upstream
// (RFC 8725 §2.4). The scan is iterative (no recursion), so deep nesting cannot overflow the
// stack, and linear in the text.

/** True when some object in `text` (valid JSON) has two members with the same decoded name. */
export function hasDuplicateKeys(text: string): boolean {
  // One entry per open container: a Set of the names seen for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
    } else if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      if (expectKey) {
        // Decode escapes so "a" and "\u0061" count as the same name.
        const name = JSON.parse(text.slice(start, i + 1)) as string;
        const seen = stack[stack.length - 1]!;
        if (seen.has(name)) return true;
        seen.add(name);
        expectKey = false;
      }
    }
  }
  return false;
}
