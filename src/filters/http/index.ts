// Every HTTP filter Strait implements, registered by type URL. Importing this module once (the
// proxy does, before compiling listeners) makes them all available to the connection manager;
// ES modules run once, so importing it again is harmless. A new filter adds its factory here.

import { registerHttpFilter } from './registry.js';
import { corsFilterFactory } from './cors/config.js';
import { faultFilterFactory } from './fault/config.js';
import { rbacFilterFactory } from './rbac/config.js';
import { jwtAuthnFilterFactory } from './jwt_authn/config.js';
import { extAuthzFilterFactory } from './ext_authz/config.js';

// Order does not matter: a filter's place in a chain comes from the HCM's http_filters list.
registerHttpFilter(faultFilterFactory);
registerHttpFilter(corsFilterFactory);
registerHttpFilter(jwtAuthnFilterFactory);
registerHttpFilter(rbacFilterFactory);
registerHttpFilter(extAuthzFilterFactory);
