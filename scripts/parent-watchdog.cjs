/**
 * Preload (`NODE_OPTIONS=--require <this file>`) that ends the process when the process that started it is
 * gone. The test harness sets `REINS_PARENT_PID` when it spawns a long-lived helper (the Alto bundler), so
 * even a test runner killed with SIGKILL, which cannot run any cleanup, leaves no orphan behind.
 */
"use strict";

const parentPid = Number(process.env.REINS_PARENT_PID);

if (Number.isInteger(parentPid) && parentPid > 1) {
  const timer = setInterval(() => {
    try {
      process.kill(parentPid, 0); // signal 0: existence check only
    } catch (e) {
      if (e && e.code === "EPERM") return; // exists, owned by someone else
      // Not process.exit(): the host program may hook or delay it. Nobody is left to wait for a graceful
      // shutdown, so kill our own process group when we lead one, else just this process.
      try {
        process.kill(-process.pid, "SIGKILL");
      } catch {
        process.kill(process.pid, "SIGKILL");
      }
    }
  }, 500);
  timer.unref(); // never keeps the process alive by itself
}
