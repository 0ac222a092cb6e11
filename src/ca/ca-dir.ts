// The CA's own state directory (`strait up --ca-dir`), and its default. On first start the new
// self-signed root is written to a temporary sibling and renamed into place in one step, so two
// meshes started at once with the same directory agree on one root: the second rename fails
// (the directory is no longer empty) and that process loads what the first wrote.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CaMaterialError, CACERTS_FILES, readCaDir } from './ca-material.js';
import type { CaFiles, SigningMaterial } from './ca-material.js';

/**
 * `$XDG_STATE_HOME/strait/ca` (default `~/.local/state/strait/ca`): the runner's state outlives a
 * `strait up`, so proxies, certificates issued earlier and tools that trust the root keep working
 * across restarts.
 */
export function defaultCaDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'strait', 'ca');
}

/** Puts a new self-signed root in `dir` unless another process did first; returns the files there. */
export function initCaDir(dir: string, m: SigningMaterial): CaFiles {
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, '.strait-ca-'));
  fs.chmodSync(tmp, 0o700);
  try {
    fs.writeFileSync(path.join(tmp, CACERTS_FILES.caKey), m.keyPem, { mode: 0o600 });
    fs.writeFileSync(path.join(tmp, CACERTS_FILES.caCert), m.certPem, { mode: 0o644 });
    fs.writeFileSync(path.join(tmp, CACERTS_FILES.rootCert), m.roots.join(''), { mode: 0o644 });
    try {
      // rename(2) replaces a missing or empty directory, atomically; a non-empty one refuses.
      fs.renameSync(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const files = readCaDir(dir);
  if (!files) throw new CaMaterialError(`${dir}: the directory is not empty and holds no ${CACERTS_FILES.caCert}; give --ca-dir an empty or a cacerts directory`);
  return files;
}
