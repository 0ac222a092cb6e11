// The one book Bookinfo knows (product 0, Shakespeare's "The Comedy of Errors"): what productpage
// shows, what details answers, the two reviews and their default ratings. Plain data, shared by
// the four Bookinfo services so their answers agree.

export interface Product {
  readonly id: number;
  readonly title: string;
  /** Trusted markup, rendered as is. */
  readonly descriptionHtml: string;
}

export const PRODUCTS: readonly Product[] = [
  {
    id: 0,
    title: 'The Comedy of Errors',
    descriptionHtml:
      '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of ' +
      "<b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical comedies, with a major part " +
      'of the humour coming from slapstick and mistaken identity, in addition to puns and word play.',
  },
];

/** The details service's answer for a product id (the same book for every id, as in Bookinfo). */
export function bookDetails(id: number): Record<string, unknown> {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

/** A product id in a path: a non-negative whole number, or undefined (answered 400). */
export function productId(raw: string): number | undefined {
  return /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
}

/** The ISBN details v2 looks up in the external book service (a one-author edition). */
export const EXTERNAL_ISBN = '0486424618';

export const REVIEWERS = ['Reviewer1', 'Reviewer2'] as const;
export type Reviewer = (typeof REVIEWERS)[number];

export const REVIEW_TEXT: Readonly<Record<Reviewer, string>> = {
  Reviewer1: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!',
  Reviewer2: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.',
};

export const DEFAULT_RATINGS: Readonly<Record<Reviewer, number>> = { Reviewer1: 5, Reviewer2: 4 };
