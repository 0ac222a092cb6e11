// Layered layout of the service graph, left to right in the direction of traffic: a node's
// column is the longest path to it from a node nothing calls (the gateway, unknown callers);
// within a column, nodes sit near the average height of their callers, which keeps most edges
// from crossing. Nodes without edges go in a row below. Cycles are cut at the column count.

export interface LayoutNode {
  readonly id: string;
  readonly rank: number;
}

export interface Layout {
  readonly positions: Map<string, { x: number; y: number; layer: number }>;
  readonly width: number;
  readonly height: number;
}

export function layoutGraph(nodes: readonly LayoutNode[], edges: readonly { source: string; target: string }[], colWidth = 230, rowHeight = 110, margin = 80): Layout {
  const ids = new Set(nodes.map((n) => n.id));
  const es = edges.filter((e) => e.source !== e.target && ids.has(e.source) && ids.has(e.target));
  const connected = new Set(es.flatMap((e) => [e.source, e.target]));
  const layer = new Map<string, number>();
  for (const n of nodes) if (connected.has(n.id)) layer.set(n.id, 0);
  const cap = Math.max(1, connected.size - 1);
  for (let pass = 0; pass < connected.size; pass++) {
    let changed = false;
    for (const e of es) {
      const want = Math.min(cap, layer.get(e.source)! + 1);
      if (layer.get(e.target)! < want) {
        layer.set(e.target, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const layers: string[][] = [];
  for (const [id, l] of layer) (layers[l] ??= []).push(id);
  const rank = new Map(nodes.map((n) => [n.id, n.rank]));
  const y = new Map<string, number>();
  layers.forEach((col, i) => {
    if (!col) return;
    const callers = (id: string) => es.filter((e) => e.target === id && y.has(e.source)).map((e) => y.get(e.source)!);
    const bary = (id: string) => {
      const c = callers(id);
      return c.length ? c.reduce((a, b) => a + b, 0) / c.length : Infinity;
    };
    col.sort((a, b) => (i === 0 ? rank.get(a)! - rank.get(b)! || a.localeCompare(b) : bary(a) - bary(b) || a.localeCompare(b)));
    col.forEach((id, j) => y.set(id, j));
  });
  const tallest = Math.max(1, ...layers.map((c) => c?.length ?? 0));
  const positions = new Map<string, { x: number; y: number; layer: number }>();
  layers.forEach((col, i) => {
    if (!col) return;
    const offset = ((tallest - col.length) * rowHeight) / 2;
    col.forEach((id, j) => positions.set(id, { x: margin + i * colWidth, y: margin + offset + j * rowHeight, layer: i }));
  });
  const isolated = nodes.filter((n) => !connected.has(n.id)).sort((a, b) => a.rank - b.rank || a.id.localeCompare(b.id));
  const bottom = margin + (layers.length > 0 ? tallest * rowHeight : 0);
  isolated.forEach((n, j) => positions.set(n.id, { x: margin + j * (colWidth * 0.75), y: bottom, layer: -1 }));
  const columns = Math.max(layers.length, Math.ceil((isolated.length * 0.75)));
  return { positions, width: margin * 2 + Math.max(0, columns - 1) * colWidth + 60, height: bottom + (isolated.length > 0 ? rowHeight : 0) + margin / 2 };
}
