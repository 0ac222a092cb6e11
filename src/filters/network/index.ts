// Every network filter Strait implements, registered by type URL. The config compiler imports
// this module once; a new network filter adds its factory here.

import { registerNetworkFilter } from './registry.js';
import { networkRbacFilterFactory } from './rbac/config.js';
import { networkExtAuthzFilterFactory } from './ext_authz/config.js';

registerNetworkFilter(networkRbacFilterFactory);
registerNetworkFilter(networkExtAuthzFilterFactory);
