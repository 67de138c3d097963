/**
 * Preload (`NODE_OPTIONS=--require <this file>`) that keeps every TCP server in the process on loopback.
 *
 * Some tools (the Alto bundler among them) hard-code a wildcard listen address. In tests every server must
 * be reachable from this machine only, so wildcard hosts ("0.0.0.0", "::", or no host at all) passed to
 * `net.Server.prototype.listen` are rewritten to 127.0.0.1. Explicit non-wildcard hosts and IPC paths
 * (Unix sockets, named pipes) are left untouched.
 */
"use strict";

const net = require("node:net");

const LOOPBACK = "127.0.0.1";
const WILDCARDS = new Set(["0.0.0.0", "::", "[::]", "::0", ""]);

const isWildcard = (host) => host === undefined || host === null || WILDCARDS.has(String(host));

const originalListen = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first] = args;
  if (first !== null && typeof first === "object" && !Array.isArray(first)) {
    // listen(options[, callback]); options with `path` are IPC, options with `handle`/`fd` are inherited sockets.
    if (first.path === undefined && first.handle === undefined && first.fd === undefined && isWildcard(first.host)) {
      args[0] = { ...first, host: LOOPBACK };
    }
  } else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback])
    if (typeof args[1] === "string" || args[1] === undefined || args[1] === null) {
      if (isWildcard(args[1])) args[1] = LOOPBACK;
    } else {
      // listen(port, backlog?, callback?) or listen(port, callback): insert the host.
      args.splice(1, 0, LOOPBACK);
    }
  } else if (first === undefined || typeof first === "function") {
    // listen() or listen(callback): random port on every interface by default.
    args.unshift(0, LOOPBACK);
    if (args[2] === undefined) args.splice(2, 1);
  }
  return originalListen.apply(this, args);
};
