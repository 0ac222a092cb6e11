// The node flags proxies are started with: added once, never over a value the user chose, and
// placed before the script by the local runner's command line (node reads its own flags there).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PROXY_NODE_FLAGS, PROXY_V8_RUNTIME_FLAGS, withProxyNodeFlags } from './runtime-flags.js';
import { straitCommand } from '../local/self-command.js';

test('withProxyNodeFlags adds each missing flag and keeps one the user set', () => {
  assert.deepEqual(withProxyNodeFlags([]), [...PROXY_NODE_FLAGS]);
  assert.deepEqual(withProxyNodeFlags(['--import', 'tsx']), ['--import', 'tsx', ...PROXY_NODE_FLAGS]);
  assert.deepEqual(withProxyNodeFlags(['--max-semi-space-size=16']), ['--max-semi-space-size=16']);
  assert.deepEqual(withProxyNodeFlags(withProxyNodeFlags([])), [...PROXY_NODE_FLAGS]);
});

test('a proxy command line puts the heap flags before the script, and node honours them', () => {
  const c = straitCommand(PROXY_NODE_FLAGS);
  assert.deepEqual(c.args.slice(0, PROXY_NODE_FLAGS.length), [...PROXY_NODE_FLAGS]);
  assert.deepEqual(straitCommand().args.slice(0, 1), c.args.slice(PROXY_NODE_FLAGS.length, PROXY_NODE_FLAGS.length + 1));
  // V8 takes the flag: with many young survivors the new space grows to 32 MB by default, and
  // to at most 8 MB (two 4 MB semi-spaces) with it.
  const newSpace = (flags: readonly string[]) => {
    const script = "const v8=require('v8');let a=[];for(let i=0;i<6e6;i++){a.push({i});if(a.length>300000)a=[]}console.log(v8.getHeapSpaceStatistics().find(s=>s.space_name==='new_space').space_size)";
    const r = spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout);
  };
  assert.ok(newSpace([]) > 8 * 1048576);
  assert.ok(newSpace(PROXY_NODE_FLAGS) <= 8 * 1048576);
});

test('the run-time flags bound old-generation growth: dead objects promoted by a churning workload are collected sooner', () => {
  // A ring of live objects whose members die after surviving a few scavenges: what a proxy's
  // connections and requests do. The peak heap is lower when the proxy's run-time flags are set.
  const script = `const v8=require('v8');if(process.argv[1]==='tuned')for(const f of ${JSON.stringify(PROXY_V8_RUNTIME_FLAGS)})v8.setFlagsFromString(f);
    const keep=new Array(1<<18);let peak=0;
    for(let i=0;i<2e7;i++){keep[i&0x3ffff]={i,s:'x'+i};if((i&0xfff)===0)peak=Math.max(peak,v8.getHeapStatistics().used_heap_size)}
    console.log(peak)`;
  const peak = (mode: string) => {
    const r = spawnSync(process.execPath, ['-e', script, mode], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout);
  };
  const plain = peak('plain');
  const tuned = peak('tuned');
  assert.ok(tuned < plain * 0.9, `peak heap ${tuned} with the proxy's flags vs ${plain} without`);
});
