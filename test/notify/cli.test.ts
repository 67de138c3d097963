/**
 * The CLI wiring of notifications, as separate processes against Hardhat's chain served over HTTP: `reins notify`
 * and `reins monitor --webhook` deliver a signed `paused` notification to a local receiver; SIGTERM exits 0; a
 * restarted `reins notify` on the same index sends nothing twice.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { network } from "hardhat";
import { Wallet, parseEther, toBeHex } from "ethers";
import { waitFor } from "../helpers/wait.js";
import { Receiver } from "./receiver.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(REPO_ROOT, "bin", "reins.mjs");
const SECRET = "cli-webhook-secret";

/** A long-running `reins` child: JSON lines of stdout, stderr, resolves on 'close'. */
class Child {
  readonly lines: { event?: string; [k: string]: unknown }[] = [];
  stderr = "";
  stdout = "";
  readonly child: ChildProcess;
  readonly closed: Promise<number | null>;

  constructor(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.REINS_BUNDLER_URL; // operations go straight to handleOps on the dev chain
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: childEnv,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(this);
    let buf = "";
    this.child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      this.stdout += d.toString("utf8");
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(text) as { event?: string });
        } catch {
          /* not a JSON line (e.g. multi-line --json output) */
        }
      }
    });
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString("utf8")));
    this.closed = new Promise((done) =>
      this.child.once("close", (code) => {
        live.delete(this);
        done(code);
      }),
    );
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      this.child.kill(signal);
    }
  }

  /** Poll for `pred`; fails at once if the process ended. */
  async until(pred: () => boolean, what: string): Promise<void> {
    await waitFor(
      () => {
        if (pred()) return true;
        if (this.child.exitCode !== null) throw new Error(`reins exited while waiting for ${what}: ${this.stderr}`);
        return false;
      },
      {
        what,
        detail: () =>
          `${this.lines
            .slice(-5)
            .map((l) => JSON.stringify(l))
            .join("\n")}\n${this.stderr}`,
      },
    );
  }
}

const live = new Set<Child>();

describe("reins notify / reins monitor --webhook (separate processes)", function () {
  this.timeout(180_000);
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let connection: Awaited<ReturnType<typeof network.create>>;
  let dir: string;
  let account: string;
  const receiver = new Receiver();
  const deployer = Wallet.createRandom();
  const owner = Wallet.createRandom();
  const watchdog = Wallet.createRandom();
  let env: NodeJS.ProcessEnv;

  function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const c = new Child(args, dir, env);
    return c.closed.then((code) => ({
      code,
      stdout: c.stdout,
      stderr: c.stderr,
    }));
  }

  async function ok(args: string[]): Promise<string> {
    const r = await run([...args, "--json"]);
    expect(r.code, `reins ${args.join(" ")}\n${r.stderr}`).to.equal(0);
    return r.stdout;
  }

  const paused = () => receiver.bodies().filter((b) => b.type === "paused");
  const hook = () => ["--webhook", receiver.url, "--webhook-secret-env", "TEST_HOOK_SECRET", "--poll-ms", "100"];

  before(async function () {
    server = await network.createServer("default", "127.0.0.1", 0);
    const { address, port } = await server.listen();
    const rpcUrl = `http://${address}:${port}`;
    connection = await network.create({ network: "localhost", chainType: "l1", override: { url: rpcUrl } });
    for (const w of [deployer, owner, watchdog])
      await connection.ethers.provider.send("hardhat_setBalance", [w.address, toBeHex(parseEther("100"))]);
    dir = mkdtempSync(join(tmpdir(), "reins-notify-cli-"));
    writeFileSync(join(dir, "reins.config.json"), JSON.stringify({ tokens: {} }));
    env = {
      REINS_RPC_URL: rpcUrl,
      REINS_DEPLOYER_KEY: deployer.privateKey,
      REINS_OWNER_KEY: owner.privateKey,
      REINS_SENDER_KEY: deployer.privateKey,
      TEST_HOOK_SECRET: SECRET,
    };
    await ok(["deploy"]);
    account = (
      JSON.parse(await ok(["account", "create", "--prefund", "2", "--security-delay", "0s"])) as {
        account: string;
      }
    ).account;
    await receiver.up();
  });

  after(async function () {
    for (const c of live) c.kill("SIGKILL");
    await Promise.all([...live].map((c) => c.closed));
    await receiver.down();
    await connection?.close();
    await server?.close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reins notify: a pause is delivered signed; SIGTERM exits 0; a restart sends nothing twice", async function () {
    const args = ["notify", account, ...hook(), "--index", join(dir, "notify.db"), "--from-block", "0"];
    const n = new Child(args, dir, env);
    await n.until(() => n.lines.some((l) => l.event === "notify-started"), "notify-started");
    await ok(["pause", account]);
    await n.until(() => paused().length === 1, "the paused notification");
    const [r] = receiver.received;
    expect(r.headers["x-reins-signature"]).to.equal(
      `sha256=${createHmac("sha256", SECRET).update(r.body).digest("hex")}`,
    );
    expect(paused()[0]).to.include({ account });
    n.kill("SIGTERM");
    expect(await n.closed, n.stderr).to.equal(0);

    await ok(["unpause", account]);
    const again = new Child(args, dir, env);
    await ok(["pause", account]);
    await again.until(() => paused().length === 2, "the second paused notification");
    again.kill("SIGTERM");
    expect(await again.closed, again.stderr).to.equal(0);
    const ids = paused().map((b) => b.id);
    expect(new Set(ids).size, "no notification twice").to.equal(2);
  });

  it("reins monitor --webhook: the monitor's process delivers notifications too", async function () {
    await ok(["unpause", account]);
    await ok(["watchdog", "add", account, watchdog.address]);
    const before = paused().length;
    const m = new Child(
      ["monitor", account, ...hook(), "--index", join(dir, "monitor.db"), "--state", join(dir, "monitor.json")],
      dir,
      { ...env, REINS_WATCHDOG_KEY: watchdog.privateKey }, // only here: `reins pause` would act as the watchdog
    );
    await m.until(() => m.lines.some((l) => l.event === "notify-started"), "notify-started");
    await ok(["pause", account]);
    await m.until(() => paused().length === before + 1, "the paused notification from the monitor");
    m.kill("SIGTERM");
    expect(await m.closed, m.stderr).to.equal(0);
  });
});
