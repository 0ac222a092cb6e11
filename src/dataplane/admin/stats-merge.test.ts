// Stats of `strait proxy --workers N`: each worker's exposition, added up series by series.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatsRegistry } from '../../telemetry/stats/stats.js';
import { mergeEnvoyText, mergePrometheusText } from './stats-merge.js';

function worker(requests: number, active: number, latencies: number[]): StatsRegistry {
  const r = new StatsRegistry();
  const s = r.scope('http', { http_conn_manager_prefix: 'edge' });
  s.counter('downstream_rq_total').value = requests;
  s.gauge('downstream_cx_active').value = active;
  r.scope('server', {}, '').gauge('live').value = 1;
  const h = r.labelled('histogram', 'istio_request_duration_milliseconds', { response_code: '200' }, 'Duration');
  for (const v of latencies) h.record(v);
  return r;
}

test('counters, gauges and histograms add up; live is live only when every worker is', () => {
  const a = worker(10, 2, [1, 30]);
  const b = worker(5, 1, [700]);
  const both = worker(15, 3, [1, 30, 700]);
  assert.equal(mergePrometheusText([a.prometheusText(), b.prometheusText()]), both.prometheusText());
  assert.equal(mergeEnvoyText([a.envoyText(), b.envoyText()]), both.envoyText());
  const down = worker(0, 0, []);
  down.scope('server', {}, '').gauge('live').value = 0;
  assert.match(mergePrometheusText([a.prometheusText(), down.prometheusText()]), /^envoy_server_live 0$/m);
  assert.match(mergeEnvoyText([a.envoyText(), down.envoyText()]), /^server\.live: 0$/m);
});

test('a series only one worker has is kept', () => {
  const a = worker(1, 0, []);
  const b = worker(1, 0, []);
  b.scope('cluster', { cluster_name: 'only-b' }).counter('upstream_rq_total').value = 4;
  assert.match(mergePrometheusText([a.prometheusText(), b.prometheusText()]), /^envoy_cluster_upstream_rq_total\{cluster_name="only-b"\} 4$/m);
  assert.match(mergeEnvoyText([a.envoyText(), b.envoyText()]), /^cluster\.only-b\.upstream_rq_total: 4$/m);
});
