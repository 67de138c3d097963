/**
 * `npm run demo`: the whole Reins story on Hardhat's in-process chain, printed as a narrative, written with the
 * published library only (`deployReins`, {@link ReinsOwner}, {@link AgentSession}, the policy builder, the typechain
 * factories): deploy → account → session → instant payments → queued payment → owner approval → prompt-injected
 * drain attempts (all refused) → watchdog pause → owner revokes → the circuit breaker trips by itself on a new
 * session → the owner rotates its key → guardians recover a lost owner key → summary table.
 * The script itself only moves the chain's clock and mints the demo token (MockERC20 has open minting).
 */
import { network } from "hardhat";
import { Interface, SigningKey, Wallet, concat, formatUnits, parseEther } from "ethers";
import {
  AgentSession,
  AgentSessions__factory,
  CircuitBreaker__factory,
  DETERMINISTIC_DEPLOYER,
  DirectSender,
  ENTRYPOINT_V08,
  GuardianRecovery__factory,
  MODULE_TYPE_EXECUTOR,
  MockERC20__factory,
  OwnerValidator__factory,
  ReinsError,
  ReinsOwner,
  accountInterface,
  clientDeployment,
  policy,
  type Call,
  type SendResult,
  type TokenRegistry,
} from "../src/index.js";
import { deployReins } from "../src/deploy/deploy.js";

const { ethers, networkHelpers } = await network.create();
const HOUR = 3600;
const DAY = 86_400;
const TUSD = 10n ** 6n;
const usd = (v: bigint) => `${formatUnits(v, 6)} TUSD`;
const rows: { step: string; outcome: string }[] = [];
const say = (s: string) => console.log(s);
const record = (step: string, outcome: string) => {
  rows.push({ step, outcome });
  say(`   → ${outcome}`);
};
const short = (hex: string) => `${hex.slice(0, 10)}…`;

/** Record `step` with what the chain says to an operation that should be refused: the client's typed error. */
async function refused(step: string, prefix: string, agent: AgentSession, calls: Call | Call[]): Promise<void> {
  try {
    const r = await agent.send(calls);
    record(step, `${prefix}not refused (!): ${r.status}`);
  } catch (e) {
    if (!(e instanceof ReinsError)) throw e;
    record(step, `${prefix}${e.name} (${e.rule})`);
    say(`     ${e.message}`);
  }
}

const [deployer, bundler, keeper, watchdog] = await ethers.getSigners();

say("Reins demo: an AI agent pays inside limits the chain enforces\n");
say("1. Deploy EntryPoint v0.8 and the Reins contracts at their deterministic addresses (deployReins)");
const deployed = await deployReins(deployer, { deploymentsDir: null });
const deployment = clientDeployment({
  chainId: deployed.chainId,
  deterministicDeployer: DETERMINISTIC_DEPLOYER,
  entryPoint: deployed.entryPoint,
  contracts: deployed.addresses,
});
const token = await new MockERC20__factory(deployer).deploy("Test USD", "TUSD", 6);
const tokenAddress = await token.getAddress();
const tokens: TokenRegistry = { TUSD: { address: tokenAddress, decimals: 6 } };
const sender = new DirectSender(bundler);
const newKey = () => Wallet.createRandom().connect(ethers.provider);
const ownerKey = newKey();
const agentKey = newKey();
const guardians = [newKey(), newKey(), newKey()];
const owner = new ReinsOwner({ owner: ownerKey, provider: ethers.provider, deployment, sender });
// securityDelay 0: loosening changes (the grants below) apply at once on this demo chain; the default is one day.
const { account } = await owner.createAccount({
  securityDelay: 0,
  guardians: { guardians: guardians.map((g) => g.address), threshold: 2, recoveryDelay: "1d", lockDuration: "2d" },
  prefund: { from: deployer, value: parseEther("10") },
});
await (await token.mint(account, 10_000n * TUSD)).wait();
say(`   EntryPoint ${ENTRYPOINT_V08}\n   account    ${account} (deployed by its first UserOperation)`);
const start = await token.balanceOf(account);
const transfer = (to: string, whole: bigint): Call => ({
  target: tokenAddress,
  data: token.interface.encodeFunctionData("transfer", [to, whole * TUSD]),
});

/** Grant a TUSD payments session to `to` with the builder; returns the agent's handle on it. */
async function grantPayments(to: string[], gas?: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }) {
  const config = await policy()
    .agent(agentKey.address)
    .validFor("30d")
    .maxUses(1000)
    .gas({ perOp: "0.01", total: "1" })
    .queue({ delay: "1h", approvalWindow: "24h" })
    .allowTransfer("TUSD", { to, max: "1000000" })
    .budget("TUSD", { instant: "100", ceiling: "1000", perPeriod: "2000", period: "24h", lifetime: "10000" })
    .build({ provider: ethers.provider, account, tokens });
  const sessionId = await owner.grantSession(config);
  const handle = (g?: typeof gas) =>
    new AgentSession({ agent: agentKey, account, sessionId, sessions: deployment.sessions, sender, gas: g });
  return { sessionId, agent: handle(), withGas: handle };
}

const queuedId = (r: SendResult) => {
  if (r.status !== "queued") throw new Error(`expected a queued request, got ${r.status}`);
  return r.requestId;
};

const recipients = [newKey().address, newKey().address, newKey().address];
say("\n2. The owner grants the agent a session: transfers of TUSD to 3 allow-listed recipients;");
say("   instant ≤ 100, delayed ≤ 1,000 (1 h), above → owner approval; 2,000 per day, 10,000 lifetime");
const first = await grantPayments(recipients);
record("grant session", `session ${short(first.sessionId)} for agent ${short(agentKey.address)}`);

say("\n3. The agent pays small amounts at once");
for (const amount of [25n, 40n]) {
  const r = await first.agent.send(transfer(recipients[0], amount));
  record(`agent pays ${amount} TUSD`, r.status === "executed" ? `executed (gas ${r.gasUsed})` : r.status);
}

say("\n4. A larger payment (500 TUSD) is queued for an hour; anyone can run it afterwards");
const queued = queuedId(await first.agent.send(transfer(recipients[1], 500n)));
record("agent pays 500 TUSD", `queued as request ${short(queued)} (tier: delayed)`);
await networkHelpers.time.increase(HOUR + 1);
await first.agent.executeQueued(queued, keeper);
record("after 1 h, anyone executes it", `executed: recipient holds ${usd(await token.balanceOf(recipients[1]))}`);

say("\n5. 1,500 TUSD is above the ceiling: it waits for the owner, who approves");
const big = queuedId(await first.agent.send(transfer(recipients[2], 1_500n)));
record("agent pays 1,500 TUSD", "queued for owner approval (tier: approval)");
await owner.approveQueued(big);
record("owner approves", `executed at once: recipient holds ${usd(await token.balanceOf(recipients[2]))}`);

say("\n6. The agent is prompt-injected and tries to drain the account");
const attacker = newKey().address;
const attempts: [string, AgentSession, Call | Call[]][] = [
  ["transfer to the attacker", first.agent, transfer(attacker, 1n)],
  [
    "approve the attacker, then pull",
    first.agent,
    { target: tokenAddress, data: token.interface.encodeFunctionData("approve", [attacker, 10n ** 12n]) },
  ],
  ["send ETH to the attacker", first.agent, { target: attacker, value: 10n ** 18n }],
  [
    "install its own executor (self-call)",
    first.agent,
    {
      target: account,
      data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, attacker, "0x"]),
    },
  ],
  [
    "call the session module itself",
    first.agent,
    {
      target: deployment.sessions,
      data: owner.sessions.interface.encodeFunctionData("revokeSession", [first.sessionId]),
    },
  ],
  [
    "withdraw the EntryPoint deposit",
    first.agent,
    {
      target: ENTRYPOINT_V08,
      data: new Interface(["function withdrawTo(address,uint256)"]).encodeFunctionData("withdrawTo", [attacker, 1n]),
    },
  ],
  [
    "gas drain (maxFeePerGas 100,000 gwei)",
    first.withGas({ maxFeePerGas: 10n ** 14n, maxPriorityFeePerGas: 10n ** 14n }),
    transfer(recipients[0], 1n),
  ],
];
for (const [what, agent, calls] of attempts) await refused(`attack: ${what}`, "refused: ", agent, calls);

say("\n7. The watchdog pauses every agent session; the owner keeps control");
await owner.setWatchdog(watchdog.address);
await (await AgentSessions__factory.connect(deployment.sessions, watchdog).pause(account, true)).wait();
await refused("watchdog pauses", "next agent op: ", first.agent, transfer(recipients[0], 1n));
const ownerPay = await owner.execute(transfer(recipients[0], 1n));
record("owner pays while paused", ownerPay.success ? "executed" : "failed");

say("\n8. The owner revokes the session and unpauses");
await owner.revokeSession(first.sessionId);
await owner.unpause();
await refused("revoke + unpause", "agent op now: ", first.agent, transfer(recipients[0], 1n));

say("\n9. A new session with an automatic circuit breaker: at most 2 first-time recipients per hour");
const breaker = CircuitBreaker__factory.connect(deployed.addresses.CircuitBreaker, ethers.provider);
const fresh = [newKey().address, newKey().address, newKey().address];
const second = await grantPayments(fresh);
await owner.execute([
  {
    target: deployment.sessions,
    data: owner.sessions.interface.encodeFunctionData("setBreaker", [await breaker.getAddress()]),
  },
  {
    target: await breaker.getAddress(),
    data: breaker.interface.encodeFunctionData("configure", [{ window: HOUR, maxOps: 20, maxNewRecipients: 2 }]),
  },
]);
for (const [i, to] of fresh.entries()) {
  const r = await second.agent.send(transfer(to, 5n));
  const receipt = await ethers.provider.getTransactionReceipt(r.txHash);
  const trip = receipt!.logs
    .filter((l) => l.address.toLowerCase() === deployed.addresses.CircuitBreaker.toLowerCase())
    .map((l) => breaker.interface.parseLog(l))
    .find((p) => p?.name === "BreakerTripped");
  record(
    `agent pays new recipient #${i + 1}`,
    trip
      ? `breaker tripped: rule ${["spend velocity", "operations", "new recipients"][Number(trip.args.rule)]}, ${trip.args.value} > ${trip.args.limit}; account paused, payment not made`
      : "executed",
  );
}
record("paused?", String(await owner.sessions.isPaused(account)));

say("\n10. The owner rotates its key, then loses the new one; 2 of 3 guardians recover the account");
const ownerValidator = OwnerValidator__factory.connect(deployment.ownerValidator, ethers.provider);
const rotated = newKey();
await owner.execute({
  target: deployment.ownerValidator,
  data: ownerValidator.interface.encodeFunctionData("setOwner", [rotated.address]),
});
record("owner rotates its key", `owner is now ${short(await ownerValidator.ownerOf(account))}`);
const recovery = GuardianRecovery__factory.connect(deployment.recovery!, keeper);
const newOwnerKey = newKey();
const digest = await recovery.recoveryDigest(account, newOwnerKey.address);
const sigs = [guardians[0], guardians[2]]
  .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
  .map((g) => concat([g.address, new SigningKey(g.privateKey).sign(digest).serialized]));
const balanceBefore = await token.balanceOf(account);
await (await recovery.proposeRecovery(account, newOwnerKey.address, sigs)).wait();
await networkHelpers.time.increase(DAY + 1);
await (await recovery.completeRecovery(account)).wait();
const recoveredOwner = new ReinsOwner({ owner: newOwnerKey, provider: ethers.provider, deployment, sender, account });
const recovered = await recoveredOwner.execute({ target: recipients[0], value: 1n });
record(
  "guardians recover (after 1 day)",
  `new owner's first op: ${recovered.success ? "executed" : "failed"}; sessions revoked; funds intact: ${usd(balanceBefore)} → ${usd(await token.balanceOf(account))}`,
);

const end = await token.balanceOf(account);
const [, budget] = await owner.sessions.budgetOf(first.sessionId, account, tokenAddress);
say("\nSummary");
console.table(rows);
say(
  `TUSD that left the account: ${usd(start - end)} (agent: 565 instant+delayed + 10 before the breaker, 1,500 owner-approved, 1 owner)`,
);
say(
  `First session's budget left in its current day: ${usd(budget)} of 2,000 (never exceeded); the attacker received ${usd(await token.balanceOf(attacker))}`,
);
