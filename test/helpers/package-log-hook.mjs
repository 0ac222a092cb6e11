// A module-resolution hook for tests: prints `PACKAGE <name>` on stderr for every module
// resolved inside node_modules, so a test can see which packages a process loaded.
// Registered by package-log-register.mjs (node --import).

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(r.url);
  if (m) process.stderr.write(`PACKAGE ${m[1]}\n`);
  return r;
}
