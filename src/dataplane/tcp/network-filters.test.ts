// The network filter runner: filters in order, the first close wins; a synchronous chain answers
// at once, a promise continues the chain when it settles; a throwing or rejecting filter closes
// the connection; the abort signal exists only when asked for and fires when the socket closes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import type { CloseConnection, NetworkFilter, NetworkFilterConnection } from '../../filters/network/api.js';
import { newStreamInfo } from '../http/stream-info.js';
import { runNetworkFilters } from './network-filters.js';

/** Just what the runner reads of a socket: whether it is destroyed and its close event. */
function socket(): net.Socket & { close(): void } {
  const s = Object.assign(new EventEmitter(), { destroyed: false }) as unknown as net.Socket & { close(): void };
  s.close = () => {
    (s as { destroyed: boolean }).destroyed = true;
    s.emit('close');
  };
  return s;
}

const info = newStreamInfo(0, 0);
const close = (details: string): CloseConnection => ({ details });
const seen: string[] = [];
const sync = (name: string, verdict?: CloseConnection): NetworkFilter => ({
  onNewConnection: () => {
    seen.push(name);
    return verdict;
  },
});
const later = (name: string, verdict?: CloseConnection): NetworkFilter => ({
  onNewConnection: () => {
    seen.push(name);
    return Promise.resolve(verdict);
  },
});

test('synchronous filters: the verdict is returned at once, the first close wins', () => {
  seen.length = 0;
  assert.equal(runNetworkFilters([sync('a'), sync('b')], info, socket()), undefined);
  assert.deepEqual(runNetworkFilters([sync('c'), sync('d', close('no')), sync('e')], info, socket()), close('no'));
  assert.deepEqual(seen, ['a', 'b', 'c', 'd']);
});

test('an asynchronous filter: the chain goes on after it settles', async () => {
  seen.length = 0;
  const r = runNetworkFilters([later('a'), sync('b'), later('c', close('denied')), sync('d')], info, socket());
  assert.ok(r instanceof Promise);
  assert.deepEqual(seen, ['a'], 'nothing after the pending filter runs before it settles');
  assert.deepEqual(await r, close('denied'));
  assert.deepEqual(seen, ['a', 'b', 'c']);
});

test('a filter that throws or rejects closes the connection', async () => {
  const throws: NetworkFilter = {
    onNewConnection: () => {
      throw new Error('bug');
    },
  };
  const rejects: NetworkFilter = { onNewConnection: () => Promise.reject(new Error('bug')) };
  assert.deepEqual(runNetworkFilters([throws], info, socket()), { details: 'network_filter_error' });
  assert.deepEqual(await runNetworkFilters([rejects, sync('never')], info, socket()), { details: 'network_filter_error' });
});

test('the abort signal fires when the connection closes while a filter waits (and is already aborted for a closed one)', async () => {
  let conn: NetworkFilterConnection | null = null;
  const waits: NetworkFilter = {
    onNewConnection: (_i, c) => {
      conn = c;
      return new Promise((resolve) => c.signal.addEventListener('abort', () => resolve(undefined)));
    },
  };
  const s = socket();
  const r = runNetworkFilters([waits], info, s);
  assert.equal(conn!.signal.aborted, false);
  s.close();
  assert.equal(await r, undefined);
  assert.equal(conn!.signal.aborted, true);
  const gone = socket();
  gone.close();
  let aborted = false;
  runNetworkFilters([{ onNewConnection: (_i, c) => void (aborted = c.signal.aborted) }], info, gone);
  assert.equal(aborted, true);
});
