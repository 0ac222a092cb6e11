// Container images Strait can run without a `command`: well-known images are mapped to built-in
// `strait` subcommands, so Istio's own sample manifests (Bookinfo, httpbin, tcp-echo) run
// unchanged as local processes. The registry host, tag and digest are ignored:
// `docker.io/istio/x:1.20.2`, `istio/x` and `gcr.io/y/istio/x@sha256:...` all name the same
// program here.
//
// Images whose manifests carry their own command (Istio's sleep/curl samples: `curlimages/curl`
// with `command: ["/bin/sleep", "infinity"]`) need nothing built in: the command runs as is.

import { bookinfoVersions } from '../demo/bookinfo/versions.js';

export interface BuiltinImage {
  /** Arguments after `strait` (the runner adds `--exit-on-stdin-close` and the container's args). */
  readonly args: string[];
  readonly description: string;
}

/** What the fix of a "not runnable" diagnostic lists: every image family this file knows. */
export const BUILTIN_IMAGE_NAMES: readonly string[] = [
  'strait/echo',
  'istio/examples-bookinfo-productpage-v1',
  'istio/examples-bookinfo-details-v1|v2',
  'istio/examples-bookinfo-reviews-v1|v2|v3',
  'istio/examples-bookinfo-ratings-v1|v2',
  'mccutchen/go-httpbin',
  'kong/httpbin',
  'kennethreitz/httpbin',
  'istio/tcp-echo-server',
  'istio-testing/ext-authz',
];

const BOOKINFO_WHAT: Readonly<Record<string, string>> = {
  productpage: 'Bookinfo productpage (calls details and reviews)',
  details: 'Bookinfo details',
  reviews: 'Bookinfo reviews',
  ratings: 'Bookinfo ratings',
};

const REVIEWS_WHAT: Readonly<Record<string, string>> = {
  v1: 'no stars',
  v2: 'black stars from ratings',
  v3: 'red stars from ratings',
};

const HTTPBIN_REPOSITORIES = new Set(['mccutchen/go-httpbin', 'kong/httpbin', 'kennethreitz/httpbin']);

/** The built-in program for an image reference, or undefined when Strait has none. */
export function builtinImage(image: string): BuiltinImage | undefined {
  const repo = repositoryPath(image);
  if (repo === 'strait/echo') return { args: ['echo'], description: 'the Strait echo workload' };
  if (HTTPBIN_REPOSITORIES.has(repo)) return { args: ['httpbin'], description: 'httpbin (the endpoints Istio tasks use)' };
  // The ports and the prefix come from the container's args (`["9000,9001,9002", "one"]`), which
  // the runner appends, exactly as the image's entrypoint receives them.
  if (repo === 'istio/tcp-echo-server') return { args: ['tcp-echo'], description: 'Istio\'s TCP echo server (echoes each line after a prefix)' };
  // samples/extauthz: gcr.io/istio-testing/ext-authz (and the same image under istio/).
  if (repo === 'istio-testing/ext-authz' || repo === 'istio/ext-authz') return { args: ['ext-authz'], description: 'Istio\'s sample external authorizer (allows `x-ext-authz: allow`)' };
  return bookinfo(repo);
}

function bookinfo(repo: string): BuiltinImage | undefined {
  // Only Istio's own repository: a same-named image elsewhere may be a different program.
  const m = /^istio\/examples-bookinfo-([a-z]+)-(v\d+)$/.exec(repo);
  if (!m) return undefined;
  const app = m[1]!;
  const version = m[2]!;
  if (!bookinfoVersions(app)?.includes(version)) return undefined;
  // productpage has one version and takes no --version.
  const args = app === 'productpage' ? ['bookinfo', app] : ['bookinfo', app, '--version', version];
  const what = app === 'reviews' ? `${BOOKINFO_WHAT[app]} ${version} (${REVIEWS_WHAT[version]})` : `${BOOKINFO_WHAT[app]} ${version}`;
  return { args, description: what };
}

/**
 * The repository path of an image reference, lower-cased, without registry host, tag or digest:
 * `docker.io/istio/examples-bookinfo-reviews-v2:1.20.2` → `istio/examples-bookinfo-reviews-v2`.
 * Docker Hub's implicit `library/` namespace is dropped too (`library/busybox` → `busybox`).
 */
export function repositoryPath(image: string): string {
  let ref = image.trim().toLowerCase();
  const at = ref.indexOf('@');
  if (at !== -1) ref = ref.slice(0, at);
  const parts = ref.split('/');
  // A first component with a dot or a port, or `localhost`, is a registry host (Docker's rule).
  if (parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === 'localhost')) parts.shift();
  const last = parts.length - 1;
  const colon = parts[last]!.indexOf(':');
  if (colon !== -1) parts[last] = parts[last]!.slice(0, colon);
  if (parts.length === 2 && parts[0] === 'library') parts.shift();
  return parts.join('/');
}
