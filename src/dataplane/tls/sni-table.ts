// Picks a filter chain by SNI server name, as Envoy's filter_chain_match.server_names: an exact
// name first, then the longest matching `*.suffix` wildcard, then the chain without names.

export class SniTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly wildcards: [string, T][] = [];
  private fallback: T | undefined;

  add(serverNames: readonly string[], value: T): void {
    if (serverNames.length === 0) {
      if (this.fallback !== undefined) throw new Error('two filter chains without server names');
      this.fallback = value;
      return;
    }
    for (const raw of serverNames) {
      const n = raw.toLowerCase();
      if (n.startsWith('*.')) {
        if (this.wildcards.some(([s]) => s === n.slice(1))) throw new Error(`server name ${raw} appears in two filter chains`);
        this.wildcards.push([n.slice(1), value]);
      } else {
        if (this.exact.has(n)) throw new Error(`server name ${raw} appears in two filter chains`);
        this.exact.set(n, value);
      }
    }
    this.wildcards.sort((a, b) => b[0].length - a[0].length);
  }

  match(serverName: string | undefined | false | null): T | undefined {
    if (!serverName) return this.fallback;
    const n = serverName.toLowerCase();
    const e = this.exact.get(n);
    if (e !== undefined) return e;
    for (const [suffix, v] of this.wildcards) if (n.length > suffix.length && n.endsWith(suffix)) return v;
    return this.fallback;
  }
}
