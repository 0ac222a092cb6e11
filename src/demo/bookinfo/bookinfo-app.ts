// `strait bookinfo <app> [--version vN]`: builds the server of one Bookinfo service from its
// environment (what the local runner gives a pod: HTTP_PROXY, POD_NAME, and Bookinfo's own
// variables), so the CLI command only listens and waits. Throws with a message naming the
// problem for an unknown app or version or a bad variable.

import type http from 'node:http';
import { envValue, readProxy, type Env } from '../app-env.js';
import { serviceBaseUrl } from './bookinfo-env.js';
import { createDetailsServer, externalBookUrl } from './details.js';
import { createProductpageServer } from './productpage.js';
import { createRatingsServer } from './ratings.js';
import { createReviewsServer, type ReviewsVersion } from './reviews.js';
import { BOOKINFO_VERSIONS, bookinfoVersions } from './versions.js';

export interface BookinfoApp {
  /** `bookinfo reviews v2`: names the program in its messages. */
  name: string;
  server: http.Server;
}

export function createBookinfoApp(app: string, version: string | undefined, env: Env): BookinfoApp {
  const versions = bookinfoVersions(app);
  if (!versions) throw new Error(`unknown Bookinfo app ${JSON.stringify(app)}; one of: ${Object.keys(BOOKINFO_VERSIONS).join(', ')}`);
  const v = version ?? versions[0]!;
  if (!versions.includes(v)) throw new Error(`${app} has versions ${versions.join(', ')}, not ${JSON.stringify(v)}`);
  const proxy = readProxy(env);
  const name = `bookinfo ${app} ${v}`;
  switch (app) {
    case 'productpage':
      return {
        name,
        server: createProductpageServer({
          proxy,
          bases: { details: serviceBaseUrl(env, 'details'), reviews: serviceBaseUrl(env, 'reviews'), ratings: serviceBaseUrl(env, 'ratings') },
        }),
      };
    case 'details': {
      const external = envValue(env, 'ENABLE_EXTERNAL_BOOK_SERVICE') === 'true';
      const url = external ? externalBookUrl(envValue(env, 'DO_NOT_ENCRYPT') === 'true') : undefined;
      // v1 and v2 differ only in the image's default for the lookup, which Strait leaves off.
      return { name, server: createDetailsServer(url ? { external: url instanceof URL ? { url, proxy } : url } : {}) };
    }
    case 'reviews':
      return {
        name,
        server: createReviewsServer({
          version: v as ReviewsVersion,
          ratingsBase: serviceBaseUrl(env, 'ratings'),
          proxy,
          // Bookinfo reports the pod's host name; a local pod's name is POD_NAME.
          podName: envValue(env, 'POD_NAME') ?? envValue(env, 'HOSTNAME') ?? null,
          clusterName: envValue(env, 'CLUSTER_NAME') ?? null,
        }),
      };
    default:
      // v2 reads the same numbers from a database in Bookinfo: one implementation for both.
      return { name, server: createRatingsServer() };
  }
}
