// productpage against real details, reviews (v1, v2, v3) and ratings servers behind a fake
// sidecar, and against canned failures: the page, the star colours per reviews version, header
// propagation, login → end-user, the reviews timeout with one retry, error texts, the JSON API.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { closeForTest, listenForTest, requestForTest } from '../../echo/test-support.js';
import { createDetailsServer } from './details.js';
import { createProductpageServer, type ProductpageOptions } from './productpage.js';
import { createRatingsServer } from './ratings.js';
import { createReviewsServer, type ReviewsVersion } from './reviews.js';
import { answerForTest, fakeSidecarForTest, hangForTest } from './test-support.js';

const servers: http.Server[] = [];
async function serve(s: http.Server): Promise<string> {
  servers.push(s);
  return listenForTest(s);
}

const bases = { details: new URL('http://details:9080'), reviews: new URL('http://reviews:9080'), ratings: new URL('http://ratings:9080') };
const sidecar = await fakeSidecarForTest({});
const reviewsUrl: Record<ReviewsVersion, string> = { v1: '', v2: '', v3: '' };
for (const version of ['v1', 'v2', 'v3'] as const) {
  reviewsUrl[version] = await serve(createReviewsServer({ version, ratingsBase: bases.ratings, proxy: sidecar.url, podName: `reviews-${version}-0` }));
}
const detailsUrl = await serve(createDetailsServer());
const ratingsUrl = await serve(createRatingsServer());
function healthy(reviews: ReviewsVersion = 'v1'): void {
  sidecar.routes.set('details:9080', detailsUrl);
  sidecar.routes.set('reviews:9080', reviewsUrl[reviews]);
  sidecar.routes.set('ratings:9080', ratingsUrl);
}
healthy();

async function productpage(opts: Partial<ProductpageOptions> = {}): Promise<string> {
  return serve(createProductpageServer({ proxy: sidecar.url, bases, ...opts }));
}
const page = await productpage();

after(async () => {
  for (const s of servers) await closeForTest(s);
  await sidecar.close();
});

test('/productpage renders the book, its details and reviews (v1: no stars)', async () => {
  healthy('v1');
  const r = await requestForTest(`${page}/productpage`);
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/html/);
  assert.match(r.text, /<h3 class="title">The Comedy of Errors<\/h3>/);
  assert.match(r.text, /data-details-status="200"/);
  assert.match(r.text, /<dt>Publisher:<\/dt><dd>PublisherA<\/dd>/);
  assert.match(r.text, /<dt>ISBN-10:<\/dt><dd>1234567890<\/dd>/);
  assert.match(r.text, /An extremely entertaining play by Shakespeare/);
  assert.match(r.text, /data-reviews-version="v1" data-star-color="none"/);
  assert.doesNotMatch(r.text, /<font color=/);
  assert.match(r.text, /Reviews served by:<\/dt><dd><u>reviews-v1-0<\/u>/);
  assert.match(r.text, /<form class="login" method="post" action="login">/);
});

test('stars per reviews version: v2 black, v3 red (5 and 4 of 5), as Bookinfo colours them', async () => {
  for (const [version, color] of [['v2', 'black'], ['v3', 'red']] as const) {
    healthy(version);
    const html = (await requestForTest(`${page}/productpage`)).text;
    assert.match(html, new RegExp(`data-reviews-version="${version}" data-star-color="${color}"`));
    const fonts = html.match(/<font color="[a-z]+">.*?<\/font>/g) ?? [];
    assert.equal(fonts.length, 2, version);
    assert.ok(fonts.every((f) => f.startsWith(`<font color="${color}">`)));
    assert.equal(fonts[0]!.match(/glyphicon-star"/g)!.length, 5);
    assert.equal(fonts[1]!.match(/glyphicon-star"/g)!.length, 4);
    assert.equal(fonts[1]!.match(/glyphicon-star-empty"/g)!.length, 1);
  }
  healthy();
});

test('ratings down behind reviews v2: "Ratings service is currently unavailable" on the page', async () => {
  healthy('v2');
  sidecar.routes.set('ratings:9080', answerForTest(500));
  try {
    const html = (await requestForTest(`${page}/productpage`)).text;
    assert.equal(html.match(/<p><i>Ratings service is currently unavailable<\/i><\/p>/g)?.length, 2);
    assert.match(html, /data-reviews-version="v2"/);
    assert.doesNotMatch(html, /<font color=/);
  } finally {
    healthy();
  }
});

test('calls go through the sidecar to details:9080 and reviews:9080 with the propagated headers, never an inbound end-user', async () => {
  healthy('v1');
  const headers = {
    'x-request-id': 'req-42', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'k=v',
    'x-b3-traceid': '463ac35c9f6413ad', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-parentspanid': '0020000000000001', 'x-b3-sampled': '1', 'x-b3-flags': '0',
    'x-ot-span-context': 'ot', 'user-agent': 'browser/1', cookie: 'theme=dark', authorization: 'Bearer abc', jwt: 'jwt-token',
    'end-user': 'mallory', 'x-other': 'dropped',
  };
  const before = sidecar.calls.length;
  await requestForTest(`${page}/productpage`, { headers });
  const calls = sidecar.calls.slice(before);
  const details = calls.find((c) => c.authority === 'details:9080')!;
  const reviews = calls.find((c) => c.authority === 'reviews:9080')!;
  assert.equal(details.path, '/details/0');
  assert.equal(reviews.path, '/reviews/0');
  for (const call of [details, reviews]) {
    for (const [k, v] of Object.entries(headers)) {
      if (k === 'end-user' || k === 'x-other') assert.equal(call.headers[k], undefined, `${k} must not be forwarded`);
      else assert.equal(call.headers[k], v, `${k} to ${call.authority}`);
    }
  }
});

test('login sets the user cookie; the page welcomes the user and reviews gets end-user; logout clears it', async () => {
  healthy('v1');
  const login = await requestForTest(`${page}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=jason&passwd=secret' });
  assert.equal(login.status, 302);
  assert.equal(login.headers.location, '/productpage');
  const setCookie = String(login.headers['set-cookie']);
  assert.match(setCookie, /^user=jason; Path=\/; HttpOnly/);
  const cookie = setCookie.split(';')[0]!;

  const before = sidecar.calls.length;
  const r = await requestForTest(`${page}/productpage`, { headers: { cookie } });
  assert.match(r.text, /Welcome, jason \( <a href="logout">sign out<\/a> \)/);
  assert.doesNotMatch(r.text, /class="login"/);
  const reviews = sidecar.calls.slice(before).find((c) => c.authority === 'reviews:9080')!;
  assert.equal(reviews.headers['end-user'], 'jason');
  assert.equal(reviews.headers.cookie, 'user=jason', 'the cookie itself is forwarded too, as Bookinfo does');

  const logout = await requestForTest(`${page}/logout`, { headers: { cookie } });
  assert.equal(logout.status, 302);
  assert.match(String(logout.headers['set-cookie']), /^user=; Path=\/; Max-Age=0/);

  // Names are escaped in the page; unusable names sign out instead of logging in.
  const odd = await requestForTest(`${page}/productpage`, { headers: { cookie: 'user=%3Cb%3Ex%3C%2Fb%3E' } });
  assert.match(odd.text, /Welcome, &#60;b&#62;x&#60;\/b&#62;/);
  const empty = await requestForTest(`${page}/login`, { method: 'POST', body: 'username=' });
  assert.match(String(empty.headers['set-cookie']), /Max-Age=0/);
  const control = await requestForTest(`${page}/productpage`, { headers: { cookie: 'user=a%0Ab' } });
  assert.match(control.text, /class="login"/, 'a name with a newline is nobody');
});

test('reviews: one retry after a failure; the second answer is used', async () => {
  healthy('v2');
  let n = 0;
  sidecar.routes.set('reviews:9080', (call, res) => {
    n++;
    if (n === 1) return answerForTest(503)(call, res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: '0', version: 'v2', reviews: [{ reviewer: 'Reviewer1', text: 't', rating: { stars: 3, color: 'black' } }] }));
  });
  try {
    const html = (await requestForTest(`${page}/productpage`)).text;
    assert.equal(n, 2);
    assert.match(html, /data-reviews-version="v2"/);
  } finally {
    healthy();
  }
});

test('reviews timing out twice (3 s each in Bookinfo, injected 100 ms here): two attempts, then Bookinfo\'s error text', async () => {
  const impatient = await productpage({ reviewsTimeoutMs: 100, detailsTimeoutMs: 100 });
  healthy();
  sidecar.routes.set('reviews:9080', hangForTest());
  try {
    const before = sidecar.to('reviews:9080').length;
    const r = await requestForTest(`${impatient}/productpage`);
    assert.equal(r.status, 200);
    assert.equal(sidecar.to('reviews:9080').length - before, 2, 'one try and one retry');
    assert.match(r.text, /<h4>Error fetching product reviews!<\/h4><p>Sorry, product reviews are currently unavailable for this book.<\/p>/);
    assert.match(r.text, /data-reviews-status="500"/);
    assert.match(r.text, /<dt>Publisher:<\/dt>/, 'details still shown');

    // details: a single attempt, no retry.
    sidecar.routes.set('reviews:9080', reviewsUrl.v1);
    sidecar.routes.set('details:9080', hangForTest());
    const d0 = sidecar.to('details:9080').length;
    const r2 = await requestForTest(`${impatient}/productpage`);
    assert.equal(sidecar.to('details:9080').length - d0, 1);
    assert.match(r2.text, /<h4>Error fetching product details!<\/h4><p>Sorry, product details are currently unavailable for this book.<\/p>/);
    assert.match(r2.text, /data-reviews-version="v1"/, 'reviews still shown');
  } finally {
    healthy();
  }
});

test('the JSON API: products, details, reviews (upstream status kept), ratings', async () => {
  healthy('v3');
  const products = await requestForTest(`${page}/api/v1/products`);
  assert.equal(products.status, 200);
  assert.equal(products.json[0].title, 'The Comedy of Errors');
  assert.equal(products.json[0].id, 0);
  assert.equal((await requestForTest(`${page}/api/v1/products/0`)).json.publisher, 'PublisherA');
  const reviews = await requestForTest(`${page}/api/v1/products/0/reviews`);
  assert.equal(reviews.json.version, 'v3');
  assert.equal(reviews.json.reviews[0].rating.color, 'red');
  assert.deepEqual((await requestForTest(`${page}/api/v1/products/0/ratings`)).json, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });

  sidecar.routes.set('reviews:9080', answerForTest(503));
  try {
    const down = await requestForTest(`${page}/api/v1/products/0/reviews`);
    assert.equal(down.status, 503);
    assert.deepEqual(down.json, { error: 'Sorry, product reviews are currently unavailable for this book.' });
  } finally {
    healthy();
  }
  const bad = await requestForTest(`${page}/api/v1/products/abc`);
  assert.equal(bad.status, 400, 'details\' own 400 is passed on');
  assert.deepEqual(bad.json, { error: 'Sorry, product details are currently unavailable for this book.' });
});

test('index, health, static, and bad input answered without crashing', async () => {
  assert.match((await requestForTest(`${page}/`)).text, /href="productpage\?u=normal"/);
  const health = await requestForTest(`${page}/health`);
  assert.equal(health.status, 200);
  assert.equal(health.text, 'Product page is healthy');
  const css = await requestForTest(`${page}/static/bookinfo.css`);
  assert.equal(css.status, 200);
  assert.match(String(css.headers['content-type']), /^text\/css/);
  assert.equal((await requestForTest(`${page}/static/nope.js`)).status, 404);
  assert.equal((await requestForTest(`${page}/nope`)).status, 404);
  assert.equal((await requestForTest(`${page}/productpage`, { method: 'DELETE' })).status, 405);
  assert.equal((await requestForTest(`${page}/login`)).status, 405);
  assert.equal((await requestForTest(`${page}/login`, { method: 'POST', body: 'username=' + 'x'.repeat(20_000) })).status, 413);
  assert.equal((await requestForTest(`${page}/api/v1/products/%E0%A4%A`)).status, 400);
  assert.equal((await requestForTest(`${page}/productpage`, { headers: { cookie: '=;;user;%%%;user="%ZZ"' } })).status, 200);
  assert.equal((await requestForTest(`${page}/health`)).status, 200, 'still serving');
});
