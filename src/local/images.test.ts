// Image references → built-in programs: registry, tag and digest ignored; unknown images and
// unknown Bookinfo versions have none. And the runner's use of it: Istio's sample manifests in
// examples/ start without commands, any other image without a command is refused with a fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load-config.js';
import { builtinImage, repositoryPath } from './images.js';
import { runnableChecks } from './runner.js';

test('repositoryPath drops registry host, tag, digest and library/', () => {
  const table: [string, string][] = [
    ['strait/echo', 'strait/echo'],
    ['docker.io/istio/examples-bookinfo-reviews-v2:1.20.2', 'istio/examples-bookinfo-reviews-v2'],
    ['istio/examples-bookinfo-reviews-v2@sha256:0123abcd', 'istio/examples-bookinfo-reviews-v2'],
    ['gcr.io/istio/examples-bookinfo-details-v1:1.20.2@sha256:00', 'istio/examples-bookinfo-details-v1'],
    ['localhost/kong/httpbin', 'kong/httpbin'],
    ['registry.local:5000/mccutchen/go-httpbin:v2.15.0', 'mccutchen/go-httpbin'],
    ['Docker.IO/KennethReitz/HttpBin', 'kennethreitz/httpbin'],
    ['docker.io/library/busybox:1.36', 'busybox'],
    ['busybox', 'busybox'],
    ['  strait/echo:latest ', 'strait/echo'],
  ];
  for (const [image, want] of table) assert.equal(repositoryPath(image), want, image);
});

test('built-in images and their strait arguments', () => {
  const table: [string, string[]][] = [
    ['strait/echo', ['echo']],
    ['docker.io/strait/echo:dev', ['echo']],
    ['docker.io/istio/examples-bookinfo-productpage-v1:1.20.2', ['bookinfo', 'productpage']],
    ['docker.io/istio/examples-bookinfo-details-v1:1.20.2', ['bookinfo', 'details', '--version', 'v1']],
    ['docker.io/istio/examples-bookinfo-details-v2:1.20.2', ['bookinfo', 'details', '--version', 'v2']],
    ['docker.io/istio/examples-bookinfo-reviews-v1:1.20.2', ['bookinfo', 'reviews', '--version', 'v1']],
    ['docker.io/istio/examples-bookinfo-reviews-v2:1.20.2', ['bookinfo', 'reviews', '--version', 'v2']],
    ['istio/examples-bookinfo-reviews-v3', ['bookinfo', 'reviews', '--version', 'v3']],
    ['docker.io/istio/examples-bookinfo-ratings-v1:1.20.2', ['bookinfo', 'ratings', '--version', 'v1']],
    ['docker.io/istio/examples-bookinfo-ratings-v2:1.20.2', ['bookinfo', 'ratings', '--version', 'v2']],
    ['docker.io/kong/httpbin:0.1.0', ['httpbin']],
    ['docker.io/mccutchen/go-httpbin:v2.15.0', ['httpbin']],
    ['docker.io/kennethreitz/httpbin', ['httpbin']],
    ['docker.io/istio/tcp-echo-server:1.3', ['tcp-echo']],
    ['istio/tcp-echo-server@sha256:0123abcd', ['tcp-echo']],
  ];
  for (const [image, args] of table) {
    const b = builtinImage(image);
    assert.ok(b, `${image} should be built in`);
    assert.deepEqual(b.args, args, image);
    assert.ok(b.description.length > 0);
  }
  assert.match(builtinImage('istio/examples-bookinfo-reviews-v3')!.description, /red stars/);
});

test('images without a built-in program', () => {
  for (const image of [
    'curlimages/curl', 'docker.io/curlimages/curl:8.9.1', 'nginx', 'strait/echo2', 'httpbin',
    'istio/examples-bookinfo-reviews-v4', 'istio/examples-bookinfo-productpage-v2', 'istio/examples-bookinfo-mongodb',
    'someone/examples-bookinfo-reviews-v1', 'istio/examples-bookinfo-ratings-v-faulty', '', ':', '/',
    'someone/tcp-echo-server', 'istio/tcp-echo',
  ]) {
    assert.equal(builtinImage(image), undefined, image);
  }
});

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

test('runnableChecks: the Istio samples in examples/ (images without commands, sleep with one) are runnable', async () => {
  const { store, diagnostics } = await loadConfig([
    path.join(examples, 'bookinfo/bookinfo.yaml'), path.join(examples, 'httpbin/httpbin.yaml'), path.join(examples, 'sleep/sleep.yaml'),
  ]);
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(store.list('Deployment').length, 8);
  assert.deepEqual(runnableChecks(store), []);
});

test('runnableChecks: Istio\'s tcp-echo sample (image and args, no command) is runnable with its task files', async () => {
  const { store, diagnostics } = await loadConfig(['tcp-echo-services.yaml', 'tcp-echo-all-v1.yaml'].map((f) => path.join(examples, 'tcp-echo', f)));
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  const args = store.list('Deployment').map((d) => d.spec.template.spec.containers[0]!.args);
  assert.deepEqual(args, [['9000,9001,9002', 'one'], ['9000,9001,9002', 'two']]);
  assert.deepEqual(runnableChecks(store), []);
});

test('runnableChecks: an unknown image without a command is an error at the image, listing the built-in images', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-images-'));
  try {
    const file = path.join(dir, 'web.yaml');
    fs.writeFileSync(file, [
      'apiVersion: apps/v1', 'kind: Deployment', 'metadata: {name: web}', 'spec:', '  selector: {matchLabels: {app: web}}',
      '  template:', '    metadata: {labels: {app: web}}', '    spec:', '      containers:', '      - name: web', '        image: nginx:1.27', '',
    ].join('\n'));
    const { store } = await loadConfig([file]);
    const [d, ...rest] = runnableChecks(store);
    assert.equal(rest.length, 0);
    assert.equal(d!.severity, 'error');
    assert.equal(d!.code, 'not-runnable');
    assert.equal(d!.line, 11);
    assert.match(d!.message, /has image "nginx:1\.27" and no command/);
    assert.match(d!.fix!, /add `command:`.*built-in image: strait\/echo, istio\/examples-bookinfo-productpage-v1, .*kennethreitz\/httpbin/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every Bookinfo networking file loads without errors beside the app, the gateway and the DestinationRules', async () => {
  const base = ['bookinfo.yaml', 'networking/bookinfo-gateway.yaml', 'networking/destination-rule-all.yaml'].map((f) => path.join(examples, 'bookinfo', f));
  for (const f of fs.readdirSync(path.join(examples, 'bookinfo/networking')).filter((n) => n.startsWith('virtual-service-'))) {
    const { diagnostics } = await loadConfig([...base, path.join(examples, 'bookinfo/networking', f)]);
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [], f);
  }
});
