// The Bookinfo services and versions Strait has built in: one table for the image mapping
// (src/local/images.ts) and the `strait bookinfo` command, so they cannot disagree. Plain data,
// cheap for the runner to import.

export const BOOKINFO_VERSIONS = {
  productpage: ['v1'],
  details: ['v1', 'v2'],
  reviews: ['v1', 'v2', 'v3'],
  // Bookinfo's ratings v2 reads its numbers from MongoDB or MySQL; those hold the same two
  // ratings, so the built-in v2 answers what v1 does, without a database.
  ratings: ['v1', 'v2'],
} as const satisfies Readonly<Record<string, readonly string[]>>;

export type BookinfoAppName = keyof typeof BOOKINFO_VERSIONS;

/** The versions of `app`, or undefined when it is not a Bookinfo service (`toString` is not). */
export function bookinfoVersions(app: string): readonly string[] | undefined {
  return Object.hasOwn(BOOKINFO_VERSIONS, app) ? BOOKINFO_VERSIONS[app as BookinfoAppName] : undefined;
}
