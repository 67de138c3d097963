/**
 * Child processes of `reins dev` (anvil, Alto): each is started as the leader of its own process group, so the
 * whole tree (a Node wrapper and the binary it runs) is stopped with one signal; a stop is SIGTERM, then SIGKILL
 * after a grace period. Also: loopback port checks and waiting for a JSON-RPC server to answer.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { FailureError, UsageError } from "../errors.js";

/** The only interface `reins dev` listens on. */
export const LOOPBACK = "127.0.0.1";

/** Keeps the last lines a child wrote, for error messages. */
class Tail {
  private lines: string[] = [];
  push(chunk: Buffer): void {
    for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") this.lines.push(line.trim());
    if (this.lines.length > 40) this.lines.splice(0, this.lines.length - 40);
  }
  last(n: number): string {
    return this.lines.slice(-n).join(" | ");
  }
}

/** A started child process group. */
export class ProcessGroup {
  readonly child: ChildProcess;
  private readonly tail = new Tail();
  /** Resolves when the child has exited and closed its streams. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    cwd: string,
  ) {
    this.child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.on("data", (d: Buffer) => this.tail.push(d));
    this.child.stderr!.on("data", (d: Buffer) => this.tail.push(d));
    this.closed = new Promise((done) => {
      this.child.once("error", (e) => {
        this.tail.push(Buffer.from(e.message));
        done({ code: null, signal: null });
      });
      this.child.once("close", (code, signal) => done({ code, signal }));
    });
  }

  /** The process id (the group id too). */
  get pid(): number {
    if (this.child.pid === undefined) throw new FailureError(`${this.name} could not be started: ${this.output(3)}`);
    return this.child.pid;
  }

  /** Whether the child is still running. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** The last `n` lines of its output, on one line. */
  output(n = 5): string {
    return this.tail.last(n) || "(no output)";
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal); // the whole group: the child leads it
    } catch {
      /* the group is gone */
    }
  }

  /** SIGTERM the group, SIGKILL it after `graceMs`; resolves once the child is gone. Idempotent. */
  async stop(graceMs = 5_000): Promise<void> {
    this.signalGroup("SIGTERM");
    const timer = setTimeout(() => this.signalGroup("SIGKILL"), graceMs);
    await this.closed;
    clearTimeout(timer);
    // The leader is gone; members it left behind (anvil's binary under its Node wrapper) are killed, and the
    // stop returns once the group is empty (or after `graceMs`: a zombie waits for init to reap it).
    this.signalGroup("SIGKILL");
    const deadline = Date.now() + graceMs;
    while (this.groupExists() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  private groupExists(): boolean {
    if (this.child.pid === undefined) return false;
    try {
      process.kill(-this.child.pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "EPERM";
    }
  }

  /** SIGKILL the group at once (synchronous: usable in an `exit` handler). */
  kill(): void {
    this.signalGroup("SIGKILL");
  }
}

/** Refuse a loopback port that something already listens on (exit 2), before anything is started. */
export async function checkPortFree(port: number, flag: string): Promise<void> {
  await new Promise<void>((done, fail) => {
    const srv = createServer();
    srv.once("error", (e: NodeJS.ErrnoException) =>
      fail(
        e.code === "EADDRINUSE"
          ? new UsageError(
              `${flag} ${port}: port ${port} on ${LOOPBACK} is in use (stop what listens there, or pick another ${flag})`,
            )
          : new UsageError(`${flag} ${port}: cannot listen on ${LOOPBACK}:${port}: ${e.message}`),
      ),
    );
    srv.listen(port, LOOPBACK, () => srv.close(() => done()));
  });
}

/** A loopback port that is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, LOOPBACK, () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => done(port));
    });
  });
}

/** One JSON-RPC call with a timeout. */
export async function rpcCall(url: string, method: string, params: unknown[], timeoutMs = 2_000): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

/**
 * Poll `method` on `url` until `ready(result)` holds; fails (exit 1, with the child's last output) when the child
 * exits first or `timeoutMs` passes.
 */
export async function waitForRpc(
  group: ProcessGroup,
  url: string,
  method: string,
  ready: (result: unknown) => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  for (;;) {
    if (!group.running) throw new FailureError(`${group.name} exited during start-up: ${group.output()}`);
    try {
      const result = await rpcCall(url, method, [], 1_000);
      if (ready(result)) return;
      last = `${method} answered ${JSON.stringify(result)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) {
      throw new FailureError(
        `${group.name} did not answer ${method} on ${url} within ${timeoutMs / 1000} s (${last}): ${group.output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
