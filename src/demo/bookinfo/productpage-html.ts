// productpage's HTML, laid out like Bookinfo's page: the book's title and summary, "Book Details"
// from details, "Book Reviews" from reviews with each rating as star glyphs inside
// `<font color="black|red">` (how Bookinfo colours them), or the error texts Bookinfo shows.
// For tests and scripts the sections also carry machine-readable markers:
// `data-reviews-version="v2"`, `data-star-color="black"`, `data-details-status="200"`.
// Everything that came from another service or the client is escaped.

import type { Product } from './book.js';
import type { Fetched } from './backends.js';
import { escapeHtml as esc } from '../http-kit.js';

export interface PageModel {
  product: Product;
  details: Fetched;
  reviews: Fetched;
  user: string | undefined;
}

export const DETAILS_ERROR_TITLE = 'Error fetching product details!';
export const REVIEWS_ERROR_TITLE = 'Error fetching product reviews!';

const FIELDS: readonly [string, string][] = [
  ['Author', 'author'], ['Year', 'year'], ['Type', 'type'], ['Pages', 'pages'], ['Publisher', 'publisher'],
  ['Language', 'language'], ['ISBN-10', 'ISBN-10'], ['ISBN-13', 'ISBN-13'],
];

export function renderProductPage(m: PageModel): string {
  return layout(`${esc(m.product.title)} - Bookinfo`, m.user, [
    '<div class="product">',
    `<h3 class="title">${esc(m.product.title)}</h3>`,
    `<p>Summary: ${m.product.descriptionHtml}</p>`,
    '</div>',
    '<div class="row">',
    detailsSection(m.details),
    reviewsSection(m.reviews),
    '</div>',
  ]);
}

function detailsSection(f: Fetched): string {
  const open = `<section id="details" data-details-status="${f.status}">`;
  if (f.status !== 200) return `${open}<h4>${DETAILS_ERROR_TITLE}</h4><p>${text(f.body.error)}</p></section>`;
  const rows = FIELDS.filter(([, key]) => f.body[key] !== undefined).map(([label, key]) => `<dt>${label}:</dt><dd>${text(f.body[key])}</dd>`);
  return `${open}<h4>Book Details</h4><dl>${rows.join('')}</dl></section>`;
}

function reviewsSection(f: Fetched): string {
  if (f.status !== 200) {
    return `<section id="reviews" data-reviews-status="${f.status}"><h4>${REVIEWS_ERROR_TITLE}</h4><p>${text(f.body.error)}</p></section>`;
  }
  const list = Array.isArray(f.body.reviews) ? (f.body.reviews as unknown[]) : [];
  const colors = new Set<string>();
  const quotes = list.map((r) => {
    const review = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    const rating = (typeof review.rating === 'object' && review.rating !== null ? review.rating : null) as Record<string, unknown> | null;
    let ratingHtml = '';
    if (rating && typeof rating.stars === 'number') {
      const color = typeof rating.color === 'string' ? rating.color : 'black';
      colors.add(color);
      ratingHtml = stars(rating.stars, color);
    } else if (rating && rating.error !== undefined) {
      ratingHtml = `<p><i>${text(rating.error)}</i></p>`;
    }
    return `<blockquote><p>${text(review.text)}</p><small>${text(review.reviewer)}</small>${ratingHtml}</blockquote>`;
  });
  const version = typeof f.body.version === 'string' ? f.body.version : 'unknown';
  const color = colors.size === 1 ? [...colors][0]! : colors.size === 0 ? 'none' : 'mixed';
  const servedBy = typeof f.body.podname === 'string'
    ? `<dl><dt>Reviews served by:</dt><dd><u>${esc(f.body.podname)}</u></dd></dl>`
    : '';
  return [
    `<section id="reviews" data-reviews-status="200" data-reviews-version="${esc(version)}" data-star-color="${esc(color)}">`,
    '<h4>Book Reviews</h4>',
    ...quotes,
    servedBy,
    '</section>',
  ].join('\n');
}

/** Full stars then empty ones, five in all, in Bookinfo's colour markup. */
function stars(n: number, color: string): string {
  const full = Math.max(0, Math.min(5, Math.trunc(n)));
  const glyphs = '<span class="glyphicon glyphicon-star">&#9733;</span>'.repeat(full)
    + '<span class="glyphicon glyphicon-star-empty">&#9734;</span>'.repeat(5 - full);
  return `<font color="${esc(color)}">${glyphs}</font>`;
}

/** The landing page (`/`): what Bookinfo is and where to go. */
export function renderIndex(user: string | undefined): string {
  return layout('Bookinfo', user, [
    '<h3>Hello! This is a simple bookstore application consisting of four services.</h3>',
    '<p>productpage calls details and reviews; reviews v2 and v3 call ratings (v1 does not).</p>',
    '<ul>',
    '<li><a href="productpage?u=normal">Normal user</a></li>',
    '<li><a href="productpage?u=test">Test user</a></li>',
    '</ul>',
  ]);
}

function layout(title: string, user: string | undefined, body: string[]): string {
  const account = user
    ? `<span class="user">Welcome, ${esc(user)} ( <a href="logout">sign out</a> )</span>`
    : '<form class="login" method="post" action="login"><input name="username" placeholder="User Name"> '
      + '<input name="passwd" type="password" placeholder="Password"> <button type="submit">Sign in</button></form>';
  return [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>${title}</title>`,
    '<link rel="stylesheet" href="static/bookinfo.css">',
    '</head><body>',
    `<nav><a class="brand" href="productpage">BookInfo Sample</a>${account}</nav>`,
    '<main>',
    ...body,
    '</main>',
    '</body></html>',
    '',
  ].join('\n');
}

/** Any value from another service as escaped text. */
function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  return esc(typeof v === 'string' ? v : JSON.stringify(v));
}

/** The one static file the page uses (served at /static/bookinfo.css). */
export const STYLESHEET = [
  'body { font-family: sans-serif; margin: 0; }',
  'nav { background: #222; color: #ddd; padding: 10px 20px; display: flex; justify-content: space-between; }',
  'nav a { color: #fff; text-decoration: none; }',
  'main { padding: 20px; }',
  '.row { display: flex; gap: 40px; }',
  '.row > section { flex: 1; }',
  'blockquote { border-left: 4px solid #ccc; margin: 10px 0; padding-left: 10px; }',
  '.glyphicon { font-size: 1.2em; }',
  '',
].join('\n');
