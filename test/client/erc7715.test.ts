/**
 * ERC-7715 permission requests: each supported type from the specification's request JSON becomes the expected
 * Reins session (checked on chain through the AgentSessions views), the agent pays within it and is refused above
 * it; every unsupported type or rule is a typed refusal with nothing granted; the permissions context round-trips
 * into a paying AgentSession; `wallet_getGrantedExecutionPermissions` follows the chain; an account with a
 * security delay answers "pending".
 *
 * Request JSON. The shape is the current ERC-7715 draft (ethereum/ERCs `ERCS/erc-7715.md`,
 * `wallet_requestExecutionPermissions`: `chainId`, `from`, `to`, `permission { type, isAdjustmentAllowed, data }`,
 * `rules`); the permission and rule objects are the examples of the MetaMask Smart Accounts Kit "Advanced
 * Permissions reference" and "Advanced Permissions rules reference" (docs.metamask.io/smart-accounts-kit/
 * reference/advanced-permissions/permissions and …/rules), serialised as they travel (viem sends bigints as
 * 0x-hex). Substituted for this chain: `chainId`, `to` (the session account), `tokenAddress` (the docs use Sepolia
 * USDC 0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238; here the 6-decimal mock), payee addresses, and
 * `currentTime` (the chain's clock instead of Date.now()).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, parseEther, toQuantity, type Wallet } from "ethers";
import {
  AgentSession,
  ChangeNotReady,
  ConditionFailed,
  DirectSender,
  Erc7715Error,
  PolicyError,
  ReinsOwner,
  ValueExceeded,
  agentSessionFromContext,
  applyPendingPermission,
  createErc7715Handler,
  decodePermissionsContext,
  encodePermissionsContext,
  getGrantedExecutionPermissions,
  requestExecutionPermissions,
  resolvePermissionsContext,
  NO_EXPIRY,
  UINT128_MAX,
  type JsonRpcResponse,
  type PermissionResponse,
} from "../../src/client/index.js";
import { startErc7715Server, type Erc7715Server } from "../../examples/erc7715-server.js";
import { randomWallet } from "../helpers/reins.js";
import { clientWorld, type ClientWorld } from "./fixture.js";

const { ethers, networkHelpers } = await network.create();
const USDC = 10n ** 6n;
const SEPOLIA_USDC = "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238";
const TRANSFER = "0xa9059cbb";

/** The spec's examples for this chain (see the file doc for what is substituted). */
function specExamples(w: ClientWorld, to: string, currentTime: number, payees: string[]) {
  const chainId = toQuantity(w.core.chainId);
  const expiry = currentTime + 604800; // "1 week from now"
  const sub = <T extends Record<string, unknown>>(data: T) =>
    data.tokenAddress === SEPOLIA_USDC ? { ...data, tokenAddress: w.tokenAddress } : data;
  const request = (type: string, data: Record<string, unknown>, rules: unknown[] = []) => ({
    chainId,
    from: w.account,
    to,
    permission: { type, isAdjustmentAllowed: true, data: sub(data) },
    rules: [{ type: "expiry", data: { timestamp: expiry } }, ...rules],
  });
  const payee = { type: "payee", data: { addresses: payees } };
  return {
    expiry,
    // ERC-20 periodic: tokenAddress, periodAmount parseUnits('10', 6), periodDuration 86400.
    erc20Periodic: request(
      "erc20-token-periodic",
      {
        tokenAddress: SEPOLIA_USDC,
        periodAmount: "0x989680",
        periodDuration: 86400,
        justification: "Permission to transfer 10 USDC every day",
      },
      [payee],
    ),
    // ERC-20 allowance: allowanceAmount parseUnits('50', 6), startTime currentTime.
    erc20Allowance: request("erc20-token-allowance", {
      tokenAddress: SEPOLIA_USDC,
      allowanceAmount: "0x2faf080",
      startTime: currentTime,
      justification: "Permission to transfer up to 50 USDC in total",
    }),
    // Native periodic: periodAmount parseEther('0.001'), periodDuration 3600 ("1 hour in seconds").
    nativePeriodic: request(
      "native-token-periodic",
      { periodAmount: toQuantity(parseEther("0.001")), periodDuration: 3600 },
      [payee],
    ),
    // Native allowance: allowanceAmount parseEther('0.05'), startTime currentTime.
    nativeAllowance: request(
      "native-token-allowance",
      { allowanceAmount: toQuantity(parseEther("0.05")), startTime: currentTime },
      [payee],
    ),
    // Native stream (delegation toolkit ERC-7715 guide): 1 wei initial, 1 wei per second, at most 10 wei.
    nativeStream: request(
      "native-token-stream",
      {
        initialAmount: "0x1",
        amountPerSecond: "0x1",
        maxAmount: "0xa",
        startTime: currentTime,
        justification: "Payment for a week long subscription",
      },
      [payee],
    ),
    // ERC-20 stream: the same fields plus tokenAddress (values chosen here: 1 USDC initial, 0.1 per second, 2 max).
    erc20Stream: request("erc20-token-stream", {
      tokenAddress: SEPOLIA_USDC,
      initialAmount: "0xf4240",
      amountPerSecond: "0x186a0",
      maxAmount: "0x1e8480",
      startTime: currentTime,
    }),
    erc20Revocation: request("erc20-token-revocation", {}),
    // The request example of the earlier ERC-7715 revision (ethereum/ERCs ERCS/erc-7715.md at 67332f5d,
    // `wallet_grantPermissions`): signer, top-level expiry, `native-token-transfer` and a `gas-limit` policy.
    ercGrantPermissionsExample: {
      chainId,
      address: w.account,
      expiry: 1577840461,
      signer: { type: "account", data: { address: to } },
      permission: { type: "native-token-transfer", data: { allowance: "0x1DCD6500" } },
      policies: [{ type: "gas-limit", data: { limit: "0x1DCD6500" } }],
    },
  };
}

async function now(): Promise<number> {
  return (await ethers.provider.getBlock("latest"))!.timestamp;
}

/** Grants and proposed grants of `account` on chain (SessionGranted + ChangeProposed logs). */
async function grantsOnChain(w: ClientWorld, account = w.account): Promise<number> {
  const granted = await w.sessions.queryFilter(w.sessions.filters.SessionGranted(account));
  const proposed = await w.sessions.queryFilter(w.sessions.filters.ChangeProposed(account));
  return granted.length + proposed.length;
}

async function refusal(p: Promise<unknown>): Promise<Erc7715Error | PolicyError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Erc7715Error || e instanceof PolicyError) return e;
    throw e;
  }
  throw new Error("expected a typed refusal, but the request was granted");
}

async function rpc(server: Erc7715Server, method: string, params?: unknown): Promise<JsonRpcResponse> {
  const res = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, ...(params === undefined ? {} : { params }) }),
  });
  return (await res.json()) as JsonRpcResponse;
}

function result<T>(r: JsonRpcResponse): T {
  if ("error" in r) throw new Error(`JSON-RPC error ${r.error.code}: ${r.error.message}`);
  return r.result as T;
}

describe("ERC-7715 permission requests", function () {
  let w: ClientWorld;
  let payees: string[];
  let server: Erc7715Server;

  before(async function () {
    w = await clientWorld(ethers);
    payees = w.recipients.slice(0, 2);
    server = await startErc7715Server(createErc7715Handler(w.owner, { approve: () => true }));
  });

  after(async function () {
    await server?.close();
  });

  /** Another account on the same deployment, with its own owner (and security delay). */
  async function newAccount(securityDelay: number): Promise<ClientWorld> {
    const owner = new ReinsOwner({
      owner: randomWallet().connect(ethers.provider),
      provider: ethers.provider,
      deployment: w.deployment,
      sender: new DirectSender(w.core.bundler),
    });
    const { account } = await owner.createAccount({
      securityDelay,
      prefund: { from: w.core.deployer, value: parseEther("10") },
    });
    await (await w.token.mint(account, 1000n * USDC)).wait();
    return { ...w, owner, account };
  }

  function agentKey(): Wallet {
    return randomWallet().connect(ethers.provider);
  }

  async function grant(request: object): Promise<{ response: PermissionResponse; agent: AgentSession; key: Wallet }> {
    const key = agentKey();
    const [response] = await requestExecutionPermissions(w.owner, [{ ...request, to: key.address }]);
    const agent = await agentSessionFromContext(response.context, { agent: key, sender: w.sender });
    return { response, agent, key };
  }

  const usd = (to: string, whole: bigint) => ({
    target: w.tokenAddress,
    data: w.token.interface.encodeFunctionData("transfer", [to, whole * USDC]),
  });

  it("erc20-token-periodic → a period budget of periodAmount over periodDuration, transfer to the payees, expiry; pays within, refused above", async function () {
    const t = await now();
    const ex = specExamples(w, ZeroAddress, t, payees);
    const { response, agent, key } = await grant(ex.erc20Periodic);
    const id = agent.sessionId;

    // The response: the request echoed, the account, the chain, a Reins context and the sliding-window note.
    expect(response.from).to.equal(w.account);
    expect(response.to).to.equal(key.address);
    expect(response.chainId).to.equal(toQuantity(w.core.chainId));
    expect(response.permission.type).to.equal("erc20-token-periodic");
    expect(response.delegationManager).to.equal(w.deployment.sessions);
    expect(response.dependencies).to.deep.equal([]);
    expect(response.reins).to.include({ status: "active", sessionId: id, window: "sliding" });

    // On chain: agent, expiry, budget caps and period, scope.
    const s = await w.sessions.getSession(id, w.account);
    expect(s.agent).to.equal(key.address);
    expect(s.validUntil).to.equal(BigInt(ex.expiry));
    const [b] = await w.sessions.budgetOf(id, w.account, w.tokenAddress);
    expect([b.periodCap, b.period, b.instantThreshold, b.ceiling, b.lifetimeCap]).to.deep.equal([
      10n * USDC,
      86400n,
      10n * USDC,
      10n * USDC,
      UINT128_MAX,
    ]);
    expect(await w.sessions.hasPermission(id, w.account, w.tokenAddress, TRANSFER)).to.equal(true);
    expect(await w.sessions.hasPermission(id, w.account, w.tokenAddress, "0x095ea7b3")).to.equal(false); // approve

    // Pays 6 to a payee at once; 5 more would pass the period cap: queued for the owner, nothing moves.
    expect((await agent.send(usd(payees[0], 6n))).status).to.equal("executed");
    expect(await w.token.balanceOf(payees[0])).to.equal(6n * USDC);
    const over = await agent.send(usd(payees[1], 5n));
    expect(over.status).to.equal("queued");
    if (over.status === "queued") expect([over.tier, over.limit]).to.deep.equal(["approval", 4n * USDC]);
    expect(await w.token.balanceOf(payees[1])).to.equal(0n);
    // A single transfer above periodAmount and a transfer to a non-payee are refused in validation.
    const above = await agent.preflight(usd(payees[0], 11n));
    expect(above.outcome === "refuse" && above.error).to.be.instanceOf(ConditionFailed);
    const stranger = await agent.preflight(usd(w.recipients[2], 1n));
    expect(stranger.outcome === "refuse" && stranger.error).to.be.instanceOf(ConditionFailed);
  });

  it("erc20-token-allowance → a lifetime cap of allowanceAmount from startTime; pays within, refused above even a day later", async function () {
    const t = await now();
    const ex = specExamples(w, ZeroAddress, t, payees);
    const { agent } = await grant(ex.erc20Allowance);
    const s = await w.sessions.getSession(agent.sessionId, w.account);
    expect([s.validAfter, s.validUntil]).to.deep.equal([BigInt(t), BigInt(ex.expiry)]);
    const [b] = await w.sessions.budgetOf(agent.sessionId, w.account, w.tokenAddress);
    expect([b.lifetimeCap, b.periodCap, b.ceiling]).to.deep.equal([50n * USDC, UINT128_MAX, 50n * USDC]);

    const anyone = randomWallet().address; // no payee rule: any recipient
    expect((await agent.send(usd(anyone, 30n))).status).to.equal("executed");
    await networkHelpers.time.increase(2 * 86400);
    const pre = await agent.preflight(usd(anyone, 25n));
    expect(pre).to.deep.include({ outcome: "queue", tier: "approval", limit: 20n * USDC });
    expect((await agent.send(usd(anyone, 20n))).status).to.equal("executed");
    expect(await w.token.balanceOf(anyone)).to.equal(50n * USDC);
  });

  it("native-token-periodic → a native budget per period, plain transfers to each payee; pays within, refused above", async function () {
    const t = await now();
    const ex = specExamples(w, ZeroAddress, t, payees);
    const { agent } = await grant(ex.nativePeriodic);
    const id = agent.sessionId;
    const [b] = await w.sessions.budgetOf(id, w.account, ZeroAddress);
    expect([b.periodCap, b.period, b.ceiling]).to.deep.equal([parseEther("0.001"), 3600n, parseEther("0.001")]);
    for (const p of payees) expect(await w.sessions.hasPermission(id, w.account, p, "0x00000000")).to.equal(true);
    expect(await w.sessions.hasPermission(id, w.account, w.recipients[2], "0x00000000")).to.equal(false);

    const before = await ethers.provider.getBalance(payees[1]);
    expect((await agent.send({ target: payees[1], value: parseEther("0.0006") })).status).to.equal("executed");
    expect((await ethers.provider.getBalance(payees[1])) - before).to.equal(parseEther("0.0006"));
    const over = await agent.send({ target: payees[1], value: parseEther("0.0005") });
    expect(over.status === "queued" && over.tier).to.equal("approval");
    const above = await agent.preflight({ target: payees[0], value: parseEther("0.0011") });
    expect(above.outcome === "refuse" && above.error).to.be.instanceOf(ValueExceeded);
  });

  it("native-token-allowance → a native lifetime cap; pays within, refused above", async function () {
    const t = await now();
    const ex = specExamples(w, ZeroAddress, t, payees);
    const { agent } = await grant(ex.nativeAllowance);
    const [b] = await w.sessions.budgetOf(agent.sessionId, w.account, ZeroAddress);
    expect([b.lifetimeCap, b.periodCap]).to.deep.equal([parseEther("0.05"), UINT128_MAX]);
    expect((await agent.send({ target: payees[0], value: parseEther("0.04") })).status).to.equal("executed");
    const pre = await agent.preflight({ target: payees[0], value: parseEther("0.02") });
    expect(pre).to.deep.include({ outcome: "queue", tier: "approval", limit: parseEther("0.01") });
  });

  it("streams, revocation, unknown types and rules, and inexact requests are typed refusals and grant nothing", async function () {
    const t = await now();
    const to = agentKey().address;
    const ex = specExamples(w, to, t, payees);
    const base = ex.erc20Periodic;
    const cases: [string, object, string, string, Erc7715Error["refusal"] | "policy"][] = [
      ["native-token-stream", ex.nativeStream, "[0].permission.type", "linear", "unsupported permission"],
      [
        "the earlier revision's example (policies)",
        ex.ercGrantPermissionsExample,
        "[0].policies",
        "unknown request field",
        "not expressible",
      ],
      [
        "the earlier revision's native-token-transfer",
        (({ policies: _policies, ...rest }) => rest)(ex.ercGrantPermissionsExample),
        "[0].permission.type",
        "unknown permission type",
        "unsupported permission",
      ],
      ["erc20-token-stream", ex.erc20Stream, "[0].permission.type", "linear", "unsupported permission"],
      ["erc20-token-revocation", ex.erc20Revocation, "[0].permission.type", "any token", "unsupported permission"],
      [
        "unknown type",
        { ...base, permission: { ...base.permission, type: "erc721-token-transfer" } },
        "[0].permission.type",
        "unknown permission type",
        "unsupported permission",
      ],
      [
        "native without payee",
        { ...ex.nativePeriodic, rules: [ex.nativePeriodic.rules[0]] },
        "[0].rules",
        "any address",
        "not expressible",
      ],
      [
        "redeemer other than to",
        { ...base, rules: [...base.rules, { type: "redeemer", data: { addresses: [payees[0]] } }] },
        "[0].rules",
        "redeemer",
        "unsupported rule",
      ],
      [
        "unknown rule (the old ERC's gas-limit policy)",
        { ...base, rules: [...base.rules, { type: "gas-limit", data: { limit: "0x1DCD6500" } }] },
        "[0].rules[2].type",
        "unknown rule type",
        "unsupported rule",
      ],
      [
        "unknown data field",
        { ...base, permission: { ...base.permission, data: { ...base.permission.data, maxPerTransfer: "0x1" } } },
        "[0].permission.data.maxPerTransfer",
        "cannot enforce",
        "not expressible",
      ],
      ["another chain", { ...base, chainId: "0x1" }, "[0].chainId", "not this chain", "wrong target"],
      ["another account", { ...base, from: payees[0] }, "[0].from", "not this wallet", "wrong target"],
      [
        "zero amount",
        { ...base, permission: { ...base.permission, data: { ...base.permission.data, periodAmount: "0x0" } } },
        "[0].permission.data.periodAmount",
        "zero",
        "malformed",
      ],
      [
        "decimal amount (ambiguous units)",
        { ...base, permission: { ...base.permission, data: { ...base.permission.data, periodAmount: "10" } } },
        "[0].permission.data.periodAmount",
        "0x-hex",
        "malformed",
      ],
      [
        "expiry in the past",
        { ...base, rules: [{ type: "expiry", data: { timestamp: t - 10 } }] },
        "",
        "not after now",
        "policy",
      ],
    ];
    const before = await grantsOnChain(w);
    for (const [name, request, field, reason, kind] of cases) {
      const e = await refusal(requestExecutionPermissions(w.owner, [request]));
      if (kind === "policy") {
        expect(e, name).to.be.instanceOf(PolicyError);
      } else {
        expect(e, name).to.be.instanceOf(Erc7715Error);
        expect((e as Erc7715Error).refusal, name).to.equal(kind);
        expect((e as Erc7715Error).field, name).to.equal(field);
      }
      expect(e.message, name).to.contain(reason);
    }
    // A batch with one unsupported request grants none of them (all are checked before the one operation).
    const batch = await refusal(requestExecutionPermissions(w.owner, [base, ex.nativeStream]));
    expect((batch as Erc7715Error).field).to.equal("[1].permission.type");
    // exactPeriodsOnly refuses periodic requests instead of granting the stricter sliding window.
    const strict = await refusal(requestExecutionPermissions(w.owner, [base], { exactPeriodsOnly: true }));
    expect((strict as Erc7715Error).refusal).to.equal("not expressible");
    expect(await grantsOnChain(w)).to.equal(before);

    // Over JSON-RPC: invalid params, with the typed error in data.
    const r = await rpc(server, "wallet_requestExecutionPermissions", [ex.nativeStream]);
    expect("error" in r && r.error.code).to.equal(-32602);
    if ("error" in r) expect(r.error.data).to.deep.include({ name: "Erc7715Error", refusal: "unsupported permission" });
    expect(await grantsOnChain(w)).to.equal(before);
  });

  it("grants that do not fit in one owner operation are refused before sending; a roomier owner grants them at once", async function () {
    const base = specExamples(w, agentKey().address, await now(), payees).erc20Periodic;
    const before = await grantsOnChain(w);
    // Four grants do not fit in one owner operation with DirectSender's fixed 1,000,000 call gas: refused before
    // sending, with the numbers; with an owner built for more gas they are granted together.
    const four = [base, base, base, base];
    const big = await refusal(requestExecutionPermissions(w.owner, four));
    expect((big as Erc7715Error).refusal).to.equal("too large");
    expect(await grantsOnChain(w)).to.equal(before);
    const roomy = new ReinsOwner({
      owner: w.ownerKey,
      provider: ethers.provider,
      deployment: w.deployment,
      sender: w.sender,
      account: w.account,
      gas: { callGasLimit: 3_000_000n },
    });
    const granted = await requestExecutionPermissions(roomy, four, { callGasLimit: 3_000_000n });
    expect(granted.map((g) => g.reins.status)).to.deep.equal(["active", "active", "active", "active"]);
  });

  it("the permissions context round-trips: decode gives account, module and session; the AgentSession from it pays", async function () {
    const t = await now();
    const key = agentKey();
    const ex = specExamples(w, key.address, t, payees);
    // Both method names, over the example HTTP server.
    for (const method of ["wallet_requestExecutionPermissions", "wallet_grantPermissions"]) {
      const [response] = result<PermissionResponse[]>(await rpc(server, method, [ex.erc20Periodic]));
      const decoded = decodePermissionsContext(response.context);
      expect(decoded).to.deep.equal({
        status: "active",
        chainId: w.core.chainId,
        account: w.account,
        sessions: w.deployment.sessions,
        sessionId: response.reins.sessionId,
      });
      expect(encodePermissionsContext(decoded)).to.equal(response.context);
      const agent = new AgentSession({
        agent: key,
        account: decoded.account,
        sessionId: decoded.status === "active" ? decoded.sessionId : "",
        sessions: decoded.sessions,
        sender: w.sender,
      });
      expect((await agent.send(usd(payees[0], 1n))).status).to.equal("executed");
    }
    // Not a Reins context, or another agent's key: typed refusals.
    expect(() => decodePermissionsContext("0x1234")).to.throw(Erc7715Error);
    const [response] = await requestExecutionPermissions(w.owner, [ex.erc20Periodic]);
    const wrong = await refusal(agentSessionFromContext(response.context, { agent: agentKey(), sender: w.sender }));
    expect((wrong as Erc7715Error).refusal).to.equal("bad context");
  });

  it("the older shape (signer + top-level expiry, MetaMask Smart Accounts Kit 0.3.0 docs) grants the same session; a refused consent grants nothing", async function () {
    const t = await now();
    const key = agentKey();
    const ex = specExamples(w, key.address, t, payees);
    // The 0.3.0 "ERC-20 periodic permission" example: expiry and signer at the top level, no `to`, no rules.
    const legacy = {
      chainId: ex.erc20Periodic.chainId,
      expiry: ex.expiry,
      signer: { type: "account", data: { address: key.address } },
      permission: { type: "erc20-token-periodic", data: ex.erc20Periodic.permission.data },
    };
    const [response] = await requestExecutionPermissions(w.owner, [legacy]);
    expect(response.to).to.equal(key.address);
    expect(response.rules).to.deep.equal([{ type: "expiry", data: { timestamp: ex.expiry } }]);
    const s = await w.sessions.getSession(response.reins.sessionId!, w.account);
    expect([s.agent, s.validUntil]).to.deep.equal([key.address, BigInt(ex.expiry)]);
    const contradiction = await refusal(requestExecutionPermissions(w.owner, [{ ...legacy, to: payees[0] }]));
    expect((contradiction as Erc7715Error).field).to.equal("[0].signer");

    // The owner's consent hook sees the translated request and its session config; false answers 4001.
    const before = await grantsOnChain(w);
    const seen: string[] = [];
    const handler = createErc7715Handler(w.owner, {
      approve: (grants) => {
        seen.push(...grants.map((g) => `${g.translation.type}:${g.config.agent}`));
        return false;
      },
    });
    const r = await handler({
      jsonrpc: "2.0",
      id: 1,
      method: "wallet_requestExecutionPermissions",
      params: [ex.erc20Periodic],
    });
    expect("error" in r && r.error.code).to.equal(4001);
    expect(() => createErc7715Handler(w.owner, {} as never)).to.throw(/approve/);
    expect(seen).to.deep.equal([`erc20-token-periodic:${key.address}`]);
    expect(await grantsOnChain(w)).to.equal(before);
  });

  it("wallet_getGrantedExecutionPermissions is read from the chain: types, caps, payees; revoked sessions disappear; budget changes show", async function () {
    const fresh = await newAccount(0); // an account with only these grants
    const srv = await startErc7715Server(createErc7715Handler(fresh.owner, { approve: () => true }));
    try {
      const t = await now();
      const key = agentKey();
      const ex = specExamples(fresh, key.address, t, payees);
      const granted = result<PermissionResponse[]>(
        await rpc(srv, "wallet_requestExecutionPermissions", [ex.erc20Periodic, ex.nativeAllowance]),
      );
      const listed = result<PermissionResponse[]>(await rpc(srv, "wallet_getGrantedExecutionPermissions"));
      expect(listed.map((p) => [p.permission.type, p.context, p.to])).to.deep.equal(
        granted.map((p) => [p.permission.type, p.context, p.to]),
      );
      expect(listed[0].permission.data).to.deep.equal({
        tokenAddress: fresh.tokenAddress,
        periodAmount: "0x989680",
        periodDuration: 86400,
      });
      expect(listed[0].rules).to.deep.equal([
        { type: "expiry", data: { timestamp: ex.expiry } },
        { type: "payee", data: { addresses: payees } },
      ]);
      expect(listed[1].permission.data).to.deep.equal({
        allowanceAmount: toQuantity(parseEther("0.05")),
        startTime: t,
      });

      // Lower the budget directly on chain (not through the handler): the answer shows it.
      const id0 = granted[0].reins.sessionId!;
      await fresh.owner.setBudget(id0, {
        token: fresh.tokenAddress,
        instantThreshold: 4n * USDC,
        ceiling: 4n * USDC,
        periodCap: 4n * USDC,
        lifetimeCap: UINT128_MAX,
        period: 86400,
      });
      const lowered = await getGrantedExecutionPermissions(fresh.sessions, fresh.account);
      expect(lowered[0].permission.data.periodAmount).to.equal(toQuantity(4n * USDC));

      // Shorten the other one's life on chain: the expiry rule follows, the session stays listed.
      await fresh.owner.renewSession(granted[1].reins.sessionId!, BigInt(ex.expiry - 100));
      const renewed = await getGrantedExecutionPermissions(fresh.sessions, fresh.account);
      expect(renewed[1].rules[0]).to.deep.equal({ type: "expiry", data: { timestamp: ex.expiry - 100 } });

      // Revoke one directly on chain, the other through wallet_revokeExecutionPermission.
      await fresh.owner.revokeSession(id0);
      const after = result<PermissionResponse[]>(await rpc(srv, "wallet_getGrantedExecutionPermissions"));
      expect(after.map((p) => p.permission.type)).to.deep.equal(["native-token-allowance"]);
      result(await rpc(srv, "wallet_revokeExecutionPermission", { permissionContext: granted[1].context }));
      expect(result<unknown[]>(await rpc(srv, "wallet_getGrantedExecutionPermissions"))).to.deep.equal([]);
      const all = await getGrantedExecutionPermissions(fresh.sessions, fresh.account, { includeInactive: true });
      expect(all.map((p) => p.reins.status)).to.deep.equal(["revoked", "revoked"]);

      const supported = result<Record<string, { chainIds: string[] }>>(
        await rpc(srv, "wallet_getSupportedExecutionPermissions"),
      );
      expect(Object.keys(supported)).to.have.members([
        "native-token-periodic",
        "erc20-token-periodic",
        "native-token-allowance",
        "erc20-token-allowance",
      ]);
      const unknown = await rpc(srv, "eth_sendTransaction", []);
      expect("error" in unknown && unknown.error.code).to.equal(-32601);
      // The example server answers JSON-RPC batches in order, and a parse error with -32700.
      const batch = (await (
        await fetch(srv.url, {
          method: "POST",
          body: JSON.stringify([
            { jsonrpc: "2.0", id: 1, method: "wallet_getSupportedExecutionPermissions" },
            { jsonrpc: "2.0", id: 2, method: "wallet_getGrantedExecutionPermissions" },
          ]),
        })
      ).json()) as JsonRpcResponse[];
      expect(batch.map((b) => [b.id, "result" in b])).to.deep.equal([
        [1, true],
        [2, true],
      ]);
      const garbled = (await (await fetch(srv.url, { method: "POST", body: "{" })).json()) as JsonRpcResponse;
      expect("error" in garbled && garbled.error.code).to.equal(-32700);
    } finally {
      await srv.close();
    }
  });

  it("an account with a security delay answers pending (readyAt); the grant applies after the delay and the agent pays", async function () {
    const { owner, account } = await newAccount(3600);
    const key = agentKey();
    const t = await now();
    const ex = specExamples({ ...w, account }, key.address, t, payees);

    const [response] = await requestExecutionPermissions(owner, [ex.erc20Periodic]);
    const proposedAt = await now();
    expect(response.reins.status).to.equal("pending");
    expect(response.reins.readyAt).to.equal(String(proposedAt + 3600));
    expect(response.reins.sessionId).to.equal(undefined);
    const pending = decodePermissionsContext(response.context);
    expect(pending).to.include({ status: "pending", account, changeHash: response.reins.changeHash });
    expect((await w.sessions.queryFilter(w.sessions.filters.SessionGranted(account))).length).to.equal(0);
    // The agent cannot use it yet; getGranted lists it as pending.
    const early = await agentSessionFromContext(response.context, { agent: key, sender: w.sender }).catch((e) => e);
    expect(early).to.be.instanceOf(ChangeNotReady);
    const listed = await getGrantedExecutionPermissions(w.sessions, account);
    expect(listed.map((p) => [p.reins.status, p.context])).to.deep.equal([["pending", response.context]]);
    const tooEarly = await applyPendingPermission(w.core.deployer, response.context).catch((e) => e);
    expect(tooEarly).to.be.instanceOf(ChangeNotReady);

    // A second pending grant, cancelled through wallet_revokeExecutionPermission before it is ready.
    const [second] = await requestExecutionPermissions(owner, [ex.erc20Allowance]);
    const handler = createErc7715Handler(owner, { approve: () => true });
    const revoked = await handler({
      jsonrpc: "2.0",
      id: 2,
      method: "wallet_revokeExecutionPermission",
      params: [{ permissionContext: second.context }],
    });
    expect("result" in revoked).to.equal(true);
    expect(await resolvePermissionsContext(ethers.provider, second.context)).to.include({ cancelled: true });
    expect((await getGrantedExecutionPermissions(w.sessions, account)).length).to.equal(1);

    await networkHelpers.time.increase(3600);
    const sessionId = await applyPendingPermission(w.core.deployer, response.context); // anyone may apply
    const resolved = await resolvePermissionsContext(ethers.provider, response.context);
    expect(resolved).to.deep.include({ status: "active", sessionId });
    const agent = await agentSessionFromContext(response.context, { agent: key, sender: w.sender });
    expect(agent.sessionId).to.equal(sessionId);
    expect((await agent.send(usd(payees[0], 3n))).status).to.equal("executed");
    const [b] = await w.sessions.budgetOf(sessionId, account, w.tokenAddress);
    expect(b.periodCap).to.equal(10n * USDC);
    const after = await getGrantedExecutionPermissions(w.sessions, account);
    expect(after.map((p) => p.reins.status)).to.deep.equal(["active"]);
    expect(NO_EXPIRY).to.equal((1n << 48n) - 1n);
  });
});
