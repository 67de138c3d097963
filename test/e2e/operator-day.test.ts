/**
 * An operator's whole day from the CLI (issue 17), on a separate chain process and through a real bundler:
 * `reins dev` starts anvil (chain id 84532) and Alto, and every step is `node bin/reins.mjs …` as its own process
 * with the environment `reins dev` printed (REINS_BUNDLER_URL set: every account operation goes through Alto).
 * Each command's exit code and first output line are checked. The test itself only moves anvil's clock
 * (evm_increaseTime / evm_mine) and mints test tokens to the account (MockERC20 has open minting); it never
 * operates the account. At the end, SIGINT to `reins dev` must stop anvil and Alto: no process, no open port.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { closed, jsonLines, killAllCli, lines, runReins, spawnReins, type CliRun } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

const CHAIN_ID = 84532;
const HEX32 = "0x[0-9a-f]{64}";
const ADDR = "0x[0-9a-fA-F]{40}";

interface DevReady {
  event: "ready";
  chainId: number;
  rpcUrl: string;
  bundlerUrl: string;
  record: string;
  token: { symbol: string; address: string; decimals: number };
  env: Record<string, string>;
  addresses: Record<string, string>;
  pids: { anvil: number; alto: number };
}

/** Whether a process id is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether something accepts connections on 127.0.0.1:port. */
async function listening(port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return new Promise((done) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}

describe("e2e: an operator's day with the reins CLI (reins dev: anvil + Alto, separate processes)", function () {
  this.timeout(300_000);
  let dir: string;
  let dev: ChildProcess | undefined;
  let devStderr = "";
  let ready: DevReady;
  let provider: JsonRpcProvider;
  const bob = Wallet.createRandom().address;
  const carol = Wallet.createRandom().address;
  const eve = Wallet.createRandom().address;
  const guardian2 = Wallet.createRandom();
  const newOwner = Wallet.createRandom();

  const reins = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
    runReins(args, { cwd: dir, env: { ...ready.env, ...env }, unset: [], timeoutMs: 90_000 });

  /** Exit 0; the first stdout line matches `first`. Returns the run. */
  async function ok(args: string[], first: RegExp, env: Record<string, string> = {}): Promise<CliRun> {
    const r = await reins(args, env);
    expect(r.code, `reins ${args.join(" ")}\n${r.stderr}`).to.equal(0);
    expect(lines(r.stdout)[0], `reins ${args.join(" ")}: first line`).to.match(first);
    return r;
  }

  /** Exit `code`, exactly one stderr line matching `pattern`, and no new block (nothing sent). */
  async function refused(args: string[], code: number, pattern: RegExp, env: Record<string, string> = {}) {
    const before = await provider.getBlockNumber();
    const r = await reins(args, env);
    const errs = lines(r.stderr);
    expect(errs, `reins ${args.join(" ")}: stderr`).to.have.length(1);
    expect(errs[0])
      .to.match(/^reins: /)
      .and.match(pattern);
    expect(r.code, `reins ${args.join(" ")}: ${errs[0]}`).to.equal(code);
    expect(await provider.getBlockNumber(), `reins ${args.join(" ")}: nothing sent`).to.equal(before);
    return errs[0];
  }

  const advance = async (seconds: number) => {
    await provider.send("evm_increaseTime", [seconds]);
    await provider.send("evm_mine", []);
  };

  const mint = async (to: string, whole: bigint) => {
    const minter = new Wallet(ready.env.REINS_DEPLOYER_KEY, provider);
    const token = new Contract(ready.token.address, ["function mint(address,uint256)"], minter);
    await (await token.getFunction("mint")(to, whole * 10n ** 6n)).wait();
  };

  const capture = (r: CliRun, pattern: RegExp): string => {
    const m = pattern.exec(r.stdout);
    expect(m, `${pattern} in ${r.stdout}`).to.not.equal(null);
    return m![1];
  };

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "reins-e2e-"));
    const started = Date.now();
    dev = spawnReins(["dev", "--chain-id", String(CHAIN_ID), "--port", "0", "--bundler-port", "0", "--json"], {
      cwd: dir,
      detached: true, // its own group, like a shell job: Ctrl-C reaches reins dev only
    });
    dev.stderr!.on("data", (d: Buffer) => (devStderr += d.toString("utf8")));
    const out = jsonLines(dev);
    let code: number | null | undefined;
    void closed(dev).then((c) => (code = c));
    const line = await waitFor(
      () => {
        if (code !== undefined) throw new Error(`reins dev exited with ${code}: ${devStderr}`);
        return out.find((l) => l.event === "ready");
      },
      { what: "reins dev to be ready", timeoutMs: 180_000, intervalMs: 100, detail: () => devStderr },
    );
    ready = line as unknown as DevReady;
    console.log(`      reins dev ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    provider = new JsonRpcProvider(ready.rpcUrl, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 });
  });

  after(async function () {
    provider?.destroy();
    if (dev && dev.exitCode === null && dev.signalCode === null) {
      dev.kill("SIGTERM");
      // A generous deadline for the orderly stop (it stops anvil and Alto first); past it, force it and still wait
      // for the close, so nothing outlives the test.
      const stopped = await Promise.race([
        closed(dev).then(() => true),
        new Promise((r) => setTimeout(r, 60_000, false)),
      ]);
      if (!stopped) {
        dev.kill("SIGKILL");
        // anvil and Alto may hold the pipes open: stop them too before waiting for the close
        if (ready) for (const pid of [ready.pids.anvil, ready.pids.alto]) if (alive(pid)) process.kill(-pid, "SIGKILL");
        await closed(dev);
      }
    }
    killAllCli();
    if (ready) for (const pid of [ready.pids.anvil, ready.pids.alto]) if (alive(pid)) process.kill(-pid, "SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let account: string;
  let sessionId: string;
  let openSession: string;

  it("deploy: the dev chain already has Reins at its deterministic addresses, a rerun deploys nothing", async function () {
    expect(ready.chainId).to.equal(CHAIN_ID);
    expect(ready.record).to.match(/84532\.json$/);
    expect(ready.env.REINS_BUNDLER_URL).to.equal(ready.bundlerUrl);
    await ok(["deploy"], new RegExp(`^nothing deployed: every Reins contract is already on chain ${CHAIN_ID}$`));
  });

  it("account create with two guardians (2 of 2), prefunded; session grant with an allow-list and budgets", async function () {
    const create = await ok(
      [
        "account", "create", "--prefund", "1", "--security-delay", "0s",
        "--guardian", `${ready.addresses.guardian},${guardian2.address}`, "--threshold", "2", "--recovery-delay", "1d",
      ],
      new RegExp(`^account:\\s+(${ADDR})$`),
    ); // prettier-ignore
    account = capture(create, new RegExp(`^account:\\s+(${ADDR})$`, "m"));
    expect(create.stdout).to.match(/GuardianRecovery \(2 of 2\)/);
    await mint(account, 100_000n);
    const grant = await ok(
      [
        "session", "grant", account, "--agent", ready.addresses.agent, "--valid-for", "7d",
        "--allow-transfer", `TUSD:${bob},${carol}`, "--budget", "TUSD:instant=50,ceiling=500,period=10000/24h,lifetime=50000",
      ],
      new RegExp(`^session:\\s+${HEX32}$`),
    ); // prettier-ignore
    sessionId = capture(grant, new RegExp(`^session:\\s+(${HEX32})$`, "m"));
  });

  let delayed: string;
  let approval: string;
  let toCancel: string;

  it("agent pay: instant, delayed, approval tier and refused (exit 3, nothing sent)", async function () {
    const pay = (to: string, amount: string) => ["agent", "pay", account, sessionId, "TUSD", to, amount];
    await ok(pay(bob, "10"), new RegExp(`^executed: paid 10 TUSD to ${bob} \\(tx ${HEX32}\\)$`));
    const d = await ok(pay(bob, "200"), /^queued \(delayed\): 200 TUSD to .* is over the limit of 50 TUSD; request/);
    delayed = capture(d, new RegExp(`request (${HEX32})`));
    const a = await ok(
      pay(carol, "2000"),
      /^queued \(approval\): 2000 TUSD to .* over the limit of 500 TUSD; .*queue approve/,
    );
    approval = capture(a, new RegExp(`request (${HEX32})`));
    const c = await ok(pay(carol, "300"), /^queued \(delayed\): 300 TUSD/);
    toCancel = capture(c, new RegExp(`request (${HEX32})`));
    await refused(pay(eve, "10"), 3, /^reins: refused: condition: call 0 breaks argument condition 0/);
    await refused(pay(bob, "0.0000001"), 2, /more than 6 decimals/);
  });

  it("queue list, approve (runs at once), execute (after the delay; before it: exit 2), cancel", async function () {
    const list = await ok(["queue", "list", account], /^id\s+state\s+tier\s+approved\s+ready at\s+expires at\s+what$/);
    expect(lines(list.stdout)).to.have.length(4);
    expect(list.stdout).to.match(new RegExp(`${approval}\\s+scheduled\\s+approval\\s+false`));
    await ok(
      ["queue", "approve", account, approval],
      new RegExp(`^approved and executed: transfer 2000 TUSD to ${carol} \\(tx`),
    );
    await refused(["queue", "execute", account, delayed], 2, /is not ready before .*; nothing sent$/);
    await ok(["queue", "cancel", account, toCancel], new RegExp(`^cancelled ${toCancel} \\(tx ${HEX32}\\)$`));
    await advance(3601);
    await ok(["queue", "execute", account, delayed], new RegExp(`^executed: transfer 200 TUSD to ${bob} \\(tx`));
    await refused(["queue", "execute", account, delayed], 2, /is executed/);
    await ok(["queue", "list", account], /^no pending queued operations/);
  });

  it("an account with a security delay: grant → change list → apply (after the delay)", async function () {
    const create = await ok(
      ["account", "create", "--salt", "2", "--prefund", "0.5", "--security-delay", "1h"],
      new RegExp(`^account:\\s+(${ADDR})$`),
    );
    const delayedAccount = capture(create, new RegExp(`^account:\\s+(${ADDR})$`, "m"));
    const grant = await ok(
      ["session", "grant", delayedAccount, "--agent", ready.addresses.agent, "--allow-transfer", `TUSD:${bob}`, "--budget", "TUSD:instant=5"],
      /^grant pending the security delay until .* \(change 0x[0-9a-f]{64}\); then run: reins change apply /,
    ); // prettier-ignore
    const change = capture(grant, new RegExp(`\\(change (${HEX32})\\)`));
    const list = await ok(["change", "list", delayedAccount], /^change\s+ready at\s+state\s+what$/);
    expect(lines(list.stdout)[1]).to.match(
      new RegExp(`^${change}\\s+\\S+\\s+waiting\\s+grant a session to ${ready.addresses.agent}`),
    );
    await refused(["change", "apply", delayedAccount, change], 2, /not ready|security delay/);
    await advance(3601);
    expect(lines((await ok(["change", "list", delayedAccount], /^change/)).stdout)[1]).to.match(/\sready\s/);
    await ok(["change", "apply", delayedAccount, change], new RegExp(`^change:\\s+${change}: applied$`));
    await ok(["change", "list", delayedAccount], /^no pending changes for /);
  });

  it("watchdog add, pause (watchdog key: the agent is refused), unpause (owner)", async function () {
    await ok(["watchdog", "add", account, ready.addresses.watchdog], new RegExp(`is now a watchdog of ${account}`));
    await ok(["pause", account], new RegExp(`^agents of ${account} paused by the watchdog \\(tx`));
    await refused(["agent", "pay", account, sessionId, "TUSD", bob, "1"], 3, /^reins: refused: paused: /);
    await ok(["unpause", account], new RegExp(`^agents of ${account} unpaused \\(tx`));
    await ok(["agent", "pay", account, sessionId, "TUSD", bob, "1"], /^executed: paid 1 TUSD/);
  });

  it("reins monitor: no alert for an allow-listed payee, pauses on a payment to a recipient on no allow-list", async function () {
    const open = await ok(
      ["session", "grant", account, "--agent", ready.addresses.agent, "--allow-transfer", "TUSD:*", "--budget", "TUSD:instant=20"],
      new RegExp(`^session:\\s+${HEX32}$`),
    ); // prettier-ignore
    openSession = capture(open, new RegExp(`^session:\\s+(${HEX32})$`, "m"));
    const monitor = spawnReins(["monitor", account, "--state", join(dir, "monitor.json"), "--poll-ms", "100"], {
      cwd: dir,
      env: ready.env,
      unset: [],
    });
    const log = jsonLines(monitor);
    let stderr = "";
    monitor.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const exited = closed(monitor);
    const seen = (pred: (l: Record<string, unknown>) => boolean, what: string) =>
      waitFor(() => log.find(pred), { what, timeoutMs: 60_000, intervalMs: 100, detail: () => stderr });
    try {
      const seeded = await seen((l) => l.event === "seeded-recipients", "seeded-recipients");
      expect(seeded.recipients).to.include.members([bob, carol]);
      await seen((l) => l.event === "cursor-initialised", "cursor-initialised");
      await ok(["agent", "pay", account, sessionId, "TUSD", carol, "3"], /^executed: paid 3 TUSD/);
      await seen((l) => l.event === "saw" && l.name === "SpendRecorded" && l.amountUnits === "3 TUSD", "the spend");
      expect(log.filter((l) => l.event === "alert")).to.deep.equal([]);
      await ok(["agent", "pay", account, openSession, "TUSD", eve, "4"], /^executed: paid 4 TUSD/);
      const alert = await seen((l) => l.event === "alert", "an alert");
      expect(alert.rule).to.equal("new-recipient");
      await seen((l) => l.event === "paused", "the pause");
      await refused(["agent", "pay", account, sessionId, "TUSD", bob, "1"], 3, /^reins: refused: paused: /);
    } finally {
      monitor.kill("SIGTERM");
    }
    expect(await exited).to.equal(0);
    await ok(["unpause", account], /unpaused/);
  });

  it("session renew and revoke; the revoked session is refused", async function () {
    await ok(["session", "renew", account, sessionId, "--valid-for", "30d"], /^session valid until \S+: applied \(tx/);
    await ok(["session", "revoke", account, openSession], new RegExp(`^session ${openSession} revoked \\(tx`));
    await refused(["agent", "pay", account, openSession, "TUSD", eve, "1"], 3, /^reins: refused: revoked/);
  });

  it("recovery sign ×2 → propose → complete (after the delay); the old agent and the old owner are refused", async function () {
    const sigs: string[] = [];
    for (const key of [ready.env.REINS_GUARDIAN_KEY, guardian2.privateKey]) {
      const r = await ok(["recovery", "sign", account, "--new-owner", newOwner.address], /^0x[0-9a-f]+$/, {
        REINS_GUARDIAN_KEY: key,
      });
      sigs.push("--sig", lines(r.stdout)[0]);
    }
    await ok(
      ["recovery", "propose", account, "--new-owner", newOwner.address, ...sigs],
      new RegExp(`^recovery of ${account} to ${newOwner.address} proposed; completable from `),
    );
    await refused(["recovery", "complete", account], 2, /before|not ready|completable/);
    await advance(86_401);
    await ok(
      ["recovery", "complete", account],
      new RegExp(`^recovery complete: the owner of ${account} is now ${newOwner.address} \\(tx`),
    );
    await refused(["agent", "pay", account, sessionId, "TUSD", bob, "1"], 3, /^reins: refused: revoked/);
    await refused(["unpause", account], 2, /REINS_OWNER_KEY is .*, but the owner of .* is /);
  });

  it("bad input to reins dev exits 2 with one line before anything starts; a port in use is named", async function () {
    let server: Server | undefined;
    try {
      server = createServer();
      await new Promise<void>((done) => server!.listen(0, "127.0.0.1", () => done()));
      const port = (server.address() as { port: number }).port;
      const cases: [string[], RegExp][] = [
        [["--port", String(port)], new RegExp(`^reins: --port ${port}: port ${port} on 127\\.0\\.0\\.1 is in use`)],
        [["--port", "0", "--bundler-port", String(port)], new RegExp(`^reins: --bundler-port ${port}: port ${port} .* is in use`)],
        [["--chain-id", "0"], /^reins: --chain-id: expected a positive integer/],
        [["--chain-id", "0x14a34"], /^reins: --chain-id: expected a positive integer/],
        [["--port", "70000"], /^reins: --port: expected a port 0…65535/],
        [["--rpc", "http://127.0.0.1:1"], /^reins: reins dev starts its own chain and bundler: --rpc does not apply/],
        [["--bogus"], /^reins: Unknown option '--bogus'/],
      ]; // prettier-ignore
      const runs = await Promise.all(cases.map(([args]) => reins(["dev", ...args])));
      runs.forEach((r, i) => {
        const errs = lines(r.stderr);
        expect(errs, `reins dev ${cases[i][0].join(" ")}`).to.have.length(1);
        expect(errs[0]).to.match(cases[i][1]);
        expect(r.code).to.equal(2);
        expect(r.stdout).to.equal("");
      });
    } finally {
      server?.close();
    }
  });

  it("SIGINT (Ctrl-C) to reins dev stops anvil and Alto: exit 0, no process left, ports closed", async function () {
    const rpcPort = Number(new URL(ready.rpcUrl).port);
    const bundlerPort = Number(new URL(ready.bundlerUrl).port);
    expect(alive(ready.pids.anvil) && alive(ready.pids.alto)).to.equal(true);
    dev!.kill("SIGINT");
    expect(await closed(dev!)).to.equal(0);
    expect(devStderr).to.match(/SIGINT: stopping anvil and Alto/);
    // The groups are gone: the leaders and every member (anvil's native binary under its Node wrapper).
    for (const pid of [ready.pids.anvil, ready.pids.alto]) {
      expect(alive(pid), `pid ${pid}`).to.equal(false);
      // A killed member may linger as a zombie until init reaps it: poll (no fixed sleep).
      await waitFor(() => !alive(-pid), { what: `process group ${pid} to be empty`, timeoutMs: 10_000 });
    }
    expect(await listening(rpcPort), "anvil's port").to.equal(false);
    expect(await listening(bundlerPort), "Alto's port").to.equal(false);
  });
});
