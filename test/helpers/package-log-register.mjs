// `node --import ./package-log-register.mjs ...`: installs package-log-hook.mjs.
import { register } from 'node:module';

register(new URL('./package-log-hook.mjs', import.meta.url));
