// Bookinfo details: the book's JSON, bad ids, and the optional external lookup (through the
// sidecar, plain HTTP only).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeForTest, listenForTest, requestForTest } from '../../echo/test-support.js';
import { createDetailsServer, externalBookUrl, fromExternal } from './details.js';
import { answerForTest, fakeSidecarForTest } from './test-support.js';

const v1 = createDetailsServer();
const base = await listenForTest(v1);
after(() => closeForTest(v1));

const BOOK = {
  id: 0, author: 'William Shakespeare', year: 1595, type: 'paperback', pages: 200, publisher: 'PublisherA',
  language: 'English', 'ISBN-10': '1234567890', 'ISBN-13': '123-1234567890',
};

test('GET /details/0 answers the book; /health is 200', async () => {
  const r = await requestForTest(`${base}/details/0`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, BOOK);
  assert.deepEqual((await requestForTest(`${base}/health`)).json, { status: 'Details is healthy' });
});

test('bad input: non-numeric id 400 with Bookinfo\'s message; unknown path 404; POST 405', async () => {
  const r = await requestForTest(`${base}/details/zero`);
  assert.equal(r.status, 400);
  assert.deepEqual(r.json, { error: 'please provide numeric product id' });
  assert.equal((await requestForTest(`${base}/details/%ZZ`)).status, 400);
  assert.equal((await requestForTest(`${base}/nope`)).status, 404);
  assert.equal((await requestForTest(`${base}/details/0`, { method: 'POST', body: 'x' })).status, 405);
});

test('external lookup: plain HTTP through the sidecar, mapped to details\' shape, trace headers only', async () => {
  const volume = {
    items: [{
      volumeInfo: {
        authors: ['William Shakespeare'], publishedDate: '2002-02-04', printType: 'BOOK', pageCount: 80, publisher: 'Dover Publications',
        language: 'en', industryIdentifiers: [{ type: 'ISBN_13', identifier: '9780486424613' }, { type: 'ISBN_10', identifier: '0486424618' }],
      },
    }],
  };
  const sidecar = await fakeSidecarForTest({ 'www.googleapis.com': answerForTest(200, volume) });
  const url = externalBookUrl(true);
  assert.ok(url instanceof URL);
  const v2 = createDetailsServer({ external: { url, proxy: sidecar.url } });
  const b2 = await listenForTest(v2);
  try {
    const r = await requestForTest(`${b2}/details/0`, { headers: { 'x-request-id': 'ext-1', cookie: 'user=jason' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      id: 0, author: 'William Shakespeare', year: '2002-02-04', type: 'paperback', pages: 80, publisher: 'Dover Publications',
      language: 'English', 'ISBN-10': '0486424618', 'ISBN-13': '9780486424613',
    });
    const call = sidecar.to('www.googleapis.com')[0]!;
    assert.equal(call.path, '/books/v1/volumes?q=isbn:0486424618');
    assert.equal(call.headers['x-request-id'], 'ext-1');
    assert.equal(call.headers.cookie, undefined, 'cookies are not sent to an outside service');

    sidecar.routes.set('www.googleapis.com', answerForTest(503));
    const down = await requestForTest(`${b2}/details/0`);
    assert.equal(down.status, 400);
    assert.match(down.json.error, /answered 503/);
  } finally {
    await closeForTest(v2);
    await sidecar.close();
  }
});

test('external lookup over HTTPS is refused with the reason (no CONNECT through the sidecar)', async () => {
  const url = externalBookUrl(false);
  assert.ok(!(url instanceof URL));
  const s = createDetailsServer({ external: url });
  const b = await listenForTest(s);
  try {
    const r = await requestForTest(`${b}/details/0`);
    assert.equal(r.status, 400);
    assert.match(r.json.error, /DO_NOT_ENCRYPT=true/);
  } finally {
    await closeForTest(s);
  }
});

test('fromExternal tolerates missing or odd fields', () => {
  assert.deepEqual(fromExternal(1, null), { error: 'the external book service did not return a book' });
  assert.deepEqual(fromExternal(1, { items: [] }), { error: 'the external book service did not return a book' });
  const d = fromExternal(1, { items: [{ volumeInfo: { printType: 'MAGAZINE', language: 'fr' } }] });
  assert.equal(d.type, 'unknown');
  assert.equal(d.language, 'unknown');
  assert.equal(d['ISBN-10'], null);
});
