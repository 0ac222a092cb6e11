import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readEchoEnv } from './echo-env.js';

test('defaults with an empty environment', () => {
  assert.deepEqual(readEchoEnv({}), {
    host: '127.0.0.1',
    port: 8080,
    logRequests: false,
    echo: {
      service: null, version: null, pod: null, namespace: null, podIP: null, serviceAccount: null,
      labels: {}, proxy: null, defaultForward: null,
    },
  });
});

test('reads the runner-provided variables; flags override HOST and PORT', () => {
  const env = {
    HOST: '127.10.0.17', PORT: '9090', POD_NAME: 'backend-v1-abc', POD_NAMESPACE: 'shop', POD_IP: '127.10.0.17',
    SERVICE_ACCOUNT: 'backend', POD_LABELS: '{"app":"backend","version":"v1"}', HTTP_PROXY: 'http://127.10.0.17:15001',
    ECHO_FORWARD: 'http://ratings:9080/r', ECHO_NAME: 'be', ECHO_VERSION: '2.0', ECHO_LOG: '1',
  };
  const c = readEchoEnv(env);
  assert.equal(c.host, '127.10.0.17');
  assert.equal(c.port, 9090);
  assert.equal(c.logRequests, true);
  assert.equal(c.echo.service, 'be');
  assert.equal(c.echo.version, '2.0');
  assert.equal(c.echo.pod, 'backend-v1-abc');
  assert.equal(c.echo.namespace, 'shop');
  assert.equal(c.echo.podIP, '127.10.0.17');
  assert.equal(c.echo.serviceAccount, 'backend');
  assert.deepEqual(c.echo.labels, { app: 'backend', version: 'v1' });
  assert.equal(c.echo.proxy?.href, 'http://127.10.0.17:15001/');
  assert.equal(c.echo.defaultForward?.href, 'http://ratings:9080/r');

  const flagged = readEchoEnv(env, { host: '0.0.0.0', port: '0' });
  assert.equal(flagged.host, '0.0.0.0');
  assert.equal(flagged.port, 0);
});

test('service and version fall back to the app and version labels; empty variables count as unset', () => {
  const c = readEchoEnv({ POD_LABELS: '{"app":"reviews","version":"v3"}', ECHO_NAME: '', HTTP_PROXY: '', PORT: '' });
  assert.equal(c.echo.service, 'reviews');
  assert.equal(c.echo.version, 'v3');
  assert.equal(c.echo.proxy, null);
  assert.equal(c.port, 8080);
});

test('HTTP_PROXY given as host:port is read as http', () => {
  assert.equal(readEchoEnv({ HTTP_PROXY: '127.10.0.17:15001' }).echo.proxy?.href, 'http://127.10.0.17:15001/');
});

test('bad values fail with a message naming the variable', () => {
  assert.throws(() => readEchoEnv({ POD_LABELS: '{oops' }), /POD_LABELS is not JSON/);
  assert.throws(() => readEchoEnv({ POD_LABELS: '["a"]' }), /POD_LABELS must be a JSON object/);
  assert.throws(() => readEchoEnv({ POD_LABELS: '{"a":1}' }), /POD_LABELS must be a JSON object/);
  assert.throws(() => readEchoEnv({ PORT: '80a' }), /port must be a number/);
  assert.throws(() => readEchoEnv({}, { port: '70000' }), /port must be a number/);
  assert.throws(() => readEchoEnv({ HTTP_PROXY: 'https://proxy:443' }), /HTTP_PROXY must be an http:\/\/ URL/);
  assert.throws(() => readEchoEnv({ ECHO_FORWARD: 'not a url' }), /ECHO_FORWARD: not an absolute URL/);
  assert.throws(() => readEchoEnv({ ECHO_FORWARD: 'ftp://x/' }), /ECHO_FORWARD: only http/);
});
