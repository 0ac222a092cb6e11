// The environment variable that carries a proxy's bootstrap token for the mesh CA (set by the
// local runner, read once and removed by `strait proxy`). Its own module so that reading it does
// not load the CA client's gRPC stack into proxies that have no identity.

export const CA_TOKEN_ENV = 'STRAIT_CA_TOKEN';
