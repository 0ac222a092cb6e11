// Registers every HTTP filter Strait implements; importing this module once makes them
// available to listener configs (src/dataplane/proxy.ts does).
export {};
