/**
 * The command line is turned into a checked, typed input before anything acts: bad input exits 2 with one line on
 * stderr and not a single JSON-RPC request. The RPC here is a local HTTP server that counts the requests it gets
 * (and answers none usefully), so "nothing sent" means "nothing even asked".
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { killAllCli, lines, runReins } from "../helpers/cli.js";

describe("reins CLI: bad input exits 2 before any RPC call", function () {
  let server: Server;
  let requests = 0;
  let rpcUrl: string;
  let dir: string;
  const key = Wallet.createRandom().privateKey;
  const acc = Wallet.createRandom().address;
  const sid = `0x${"11".repeat(32)}`;

  before(async function () {
    server = createServer((req, res) => {
      requests++;
      res.writeHead(500).end();
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
    rpcUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    dir = mkdtempSync(join(tmpdir(), "reins-cli-input-"));
    writeFileSync(join(dir, "bad-rules.json"), JSON.stringify({ "no-such-rule": {} }));
  });

  after(async function () {
    killAllCli();
    await new Promise((done) => server?.close(done));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const keys = {
    REINS_OWNER_KEY: key,
    REINS_AGENT_KEY: key,
    REINS_SENDER_KEY: key,
    REINS_WATCHDOG_KEY: key,
    REINS_GUARDIAN_KEY: key,
  };
  const cases: { args: string[]; env?: Record<string, string>; unset?: string[]; message: RegExp }[] = [
    { args: ["session", "revoke", acc, "0x12"], message: /session id: not a 32-byte hex id: 0x12$/ },
    { args: ["queue", "approve", acc, "nothex"], message: /queue id: not a 32-byte hex id: nothex$/ },
    { args: ["change", "apply", acc, "0x1"], message: /change hash: not a 32-byte hex id/ },
    { args: ["account", "status", "0x1234"], message: /account: not an address: 0x1234$/ },
    { args: ["agent", "pay", acc, sid, "ETH", "0xnot", "1"], message: /recipient: not an address: 0xnot$/ },
    { args: ["agent", "pay", acc, sid, "ETH", acc, "1e5"], message: /amount: not a decimal amount: 1e5$/ },
    { args: ["watchdog", "add", acc, "0xbad"], message: /watchdog: not an address: 0xbad$/ },
    {
      args: ["session", "grant", acc, "--agent", acc, "--allow-transfer", "ETH:*", "--max-uses", "many"],
      message: /--max-uses: expected a whole number, got many$/,
    },
    {
      args: ["session", "grant", acc, "--agent", acc, "--allow-transfer", "ETH:*", "--valid-for", "100000d"],
      message: /--valid-for 100000d is more than 365d \(273\.8 years\): pass --allow-long/,
    },
    { args: ["session", "renew", acc, sid, "--valid-for", "0s"], message: /--valid-for: must be more than zero/ },
    { args: ["budget", "set", acc, sid, "TUSD:instant=abc"], message: /budget TUSD: instant is not a decimal amount/ },
    {
      args: ["fleet", "set", acc, "TUSD:instant=5"],
      message: /fleet TUSD: unknown field "instant=5" \(fields: period, lifetime\)$/,
    },
    { args: ["account", "create", "--security-delay", "1y"], message: /--security-delay: bad duration 1y/ },
    { args: ["account", "create", "--guardian", "0x1"], message: /--guardian: not an address: 0x1$/ },
    { args: ["account", "create", "--prefund=-1"], message: /--prefund: not a decimal amount: -1$/ },
    {
      args: ["queue", "execute", acc, sid],
      unset: ["REINS_SENDER_KEY"],
      message: /environment variable REINS_SENDER_KEY \(transaction sender private key\) is not set$/,
    },
    {
      args: ["unpause", acc],
      env: { REINS_OWNER_KEY: "0x1234" },
      message: /environment variable REINS_OWNER_KEY does not hold a valid private key$/,
    },
    { args: ["account", "status", acc, "--rpc", "ftp://x"], message: /--rpc: must be http\(s\): ftp:\/\/x$/ },
    {
      args: ["account", "status", acc],
      env: { REINS_TOKENS: "TUSD=nope" },
      message: /REINS_TOKENS: expected SYMBOL=0xaddress\[:decimals\], got TUSD=nope$/,
    },
    { args: ["monitor", acc, "--poll-ms", "5"], message: /--poll-ms: expected an integer ≥ 10, got 5$/ },
    { args: ["monitor", acc, "--tighten-factor", "0.5"], message: /--tighten-factor needs --envelope$/ },
    { args: ["monitor", acc, "--rules", "bad-rules.json"], message: /no-such-rule.*unknown rule/ },
    {
      args: ["monitor", acc],
      unset: ["REINS_WATCHDOG_KEY"],
      message: /REINS_WATCHDOG_KEY \(watchdog private key\) is not set/,
    },
    { args: ["dev", "--chain-id", "0"], message: /--chain-id: expected a positive integer/ },
    { args: ["dev", "--port", "70000"], message: /--port: expected a port 0…65535/ },
    { args: ["dev", "--port", "5000", "--bundler-port", "5000"], message: /--port and --bundler-port are both 5000$/ },
    { args: ["dev", "--rpc", "http://127.0.0.1:1"], message: /reins dev starts its own chain and bundler: --rpc/ },
  ];

  it(`${cases.length} kinds of bad input: exit 2, one line naming the problem, no RPC request`, async function () {
    const runs = await Promise.all(
      cases.map((c) => {
        const env: Record<string, string> = { REINS_RPC_URL: rpcUrl, ...keys, ...(c.env ?? {}) };
        for (const name of c.unset ?? []) delete env[name];
        return runReins(c.args, { cwd: dir, env, unset: ["REINS_BUNDLER_URL", ...(c.unset ?? [])] });
      }),
    );
    runs.forEach((r, i) => {
      const what = `reins ${cases[i].args.join(" ")}`;
      const errs = lines(r.stderr);
      expect(errs, `${what}: stderr`).to.have.length(1);
      expect(errs[0], what)
        .to.match(/^reins: /)
        .and.match(cases[i].message);
      expect(r.code, `${what}: ${errs[0]}`).to.equal(2);
    });
    expect(requests, "JSON-RPC requests received").to.equal(0);
  });
});
