// How to start another `strait` subcommand as a child process: the same Node binary and the same
// entry script, whether Strait runs from dist/ (built) or from src/ through tsx (development).

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `nodeFlags` go to node itself, before the script (a proxy's heap flags, runtime-flags.ts). */
export function straitCommand(nodeFlags: readonly string[] = []): { command: string; args: string[] } {
  const js = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  if (fs.existsSync(js)) return { command: process.execPath, args: [...nodeFlags, js] };
  const ts = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
  return { command: process.execPath, args: [...nodeFlags, '--import', 'tsx', ts] };
}
