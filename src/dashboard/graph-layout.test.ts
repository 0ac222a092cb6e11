import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutGraph } from './client/graph-layout.js';

test('columns follow the traffic; a node sits in the column after its furthest caller', () => {
  const nodes = ['gw', 'svc-fe', 'fe', 'svc-be', 'v1', 'v2', 'idle'].map((id, rank) => ({ id, rank }));
  const edges = [
    ['gw', 'svc-fe'], ['svc-fe', 'fe'], ['fe', 'svc-be'], ['svc-be', 'v1'], ['svc-be', 'v2'], ['gw', 'svc-be'],
  ].map(([source, target]) => ({ source: source!, target: target! }));
  const l = layoutGraph(nodes, edges);
  const col = (id: string) => l.positions.get(id)!.layer;
  assert.deepEqual(['gw', 'svc-fe', 'fe', 'svc-be', 'v1', 'v2'].map(col), [0, 1, 2, 3, 4, 4]);
  assert.equal(col('idle'), -1, 'a node without edges goes in the row below');
  assert.ok(l.positions.get('idle')!.y > l.positions.get('v2')!.y);
  assert.notEqual(l.positions.get('v1')!.y, l.positions.get('v2')!.y);
});

test('a cycle ends, within as many columns as nodes', () => {
  const l = layoutGraph([{ id: 'a', rank: 0 }, { id: 'b', rank: 1 }], [{ source: 'a', target: 'b' }, { source: 'b', target: 'a' }]);
  assert.ok([...l.positions.values()].every((p) => p.layer >= 0 && p.layer <= 1));
});
