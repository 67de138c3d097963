/**
 * `npm run demo`: the whole Reins story on Hardhat's in-process chain, printed as a narrative.
 * deploy → account → session → instant payments → queued payment → owner approval → prompt-injected
 * drain attempts (all refused) → watchdog pause → owner revokes → the circuit breaker trips by itself on a new
 * session → the owner rotates its key → guardians recover a lost owner key → summary table.
 */
import { network } from "hardhat";
import { formatUnits } from "ethers";
import { AbiCoder, concat } from "ethers";
import { accountInterface, MODULE_TYPE_EXECUTOR } from "../src/account/encoding.js";
import { ENTRYPOINT_V08 } from "../src/infra/singletons.js";
import { packUserOp } from "../src/userop/userop.js";
import {
  DAY,
  HOUR,
  agentOp,
  deploySessionWorld,
  grant,
  ownerCalls,
  parseEvents,
  paymentsConfig,
  sendAgent,
  transferCall,
  type SessionWorld,
} from "../test/helpers/sessions.js";
import { buildOp, handleOps, randomWallet, signAsOwner, signDigest, userOpEvents } from "../test/helpers/reins.js";

const { ethers, networkHelpers } = await network.create();
const usd = (v: bigint) => `${formatUnits(v, 6)} TUSD`;
const rows: { step: string; outcome: string }[] = [];
const say = (s: string) => console.log(s);
const record = (step: string, outcome: string) => {
  rows.push({ step, outcome });
  say(`   → ${outcome}`);
};

async function refusedReason(w: SessionWorld, op: Awaited<ReturnType<typeof agentOp>>): Promise<string> {
  try {
    await w.core.entryPoint.handleOps.staticCall([packUserOp(op)], randomWallet().address);
    return "not refused (!)";
  } catch (e) {
    const data = (e as { data?: string }).data ?? "";
    const outer = w.core.entryPoint.interface.parseError(data);
    if (!outer) return "reverted";
    if (outer.name === "FailedOpWithRevert") {
      const inner = w.sessions.interface.parseError(outer.args.inner);
      return inner ? `${inner.name}(${inner.args.map(String).join(", ")})` : outer.args.reason;
    }
    return outer.args.reason ?? outer.name;
  }
}

say("Reins demo: an AI agent pays inside limits the chain enforces\n");
say("1. Deploy EntryPoint v0.8 (canonical address), Reins account implementation, factory and modules");
const w = await deploySessionWorld(ethers);
say(`   EntryPoint ${ENTRYPOINT_V08}\n   account    ${w.accountAddress} (deployed by its first UserOperation)`);
const start = await w.token.balanceOf(w.accountAddress);

say("\n2. The owner grants the agent a session: transfers of TUSD to 3 allow-listed recipients;");
say("   instant ≤ 100, delayed ≤ 1,000 (1 h), above → owner approval; 2,000 per day, 10,000 lifetime");
const sessionId = await grant(w, await paymentsConfig(w));
record("grant session", `session ${sessionId.slice(0, 10)}… for agent ${w.agent.address.slice(0, 10)}…`);

say("\n3. The agent pays small amounts at once");
for (const amount of [25n, 40n]) {
  const { events } = await sendAgent(w, [
    await agentOp(w, sessionId, transferCall(w, w.recipients[0], amount * 10n ** 6n)),
  ]);
  record(`agent pays ${amount} TUSD`, events[0].success ? `executed (gas ${events[0].actualGasUsed})` : "failed");
}

say("\n4. A larger payment (500 TUSD) is queued for an hour; anyone can run it afterwards");
const q = await sendAgent(w, [await agentOp(w, sessionId, transferCall(w, w.recipients[1], 500n * 10n ** 6n))]);
const queued = parseEvents(w, q.receipt).find((e) => e.name === "OperationScheduled")!;
record("agent pays 500 TUSD", `queued as request ${String(queued.args.id).slice(0, 10)}… (tier: delayed)`);
await networkHelpers.time.increase(HOUR + 1n);
await (
  await w.timelock.execute(
    w.accountAddress,
    queued.args.id as string,
    queued.args.mode as string,
    queued.args.executionCalldata as string,
  )
).wait();
record("after 1 h, anyone executes it", `executed: recipient holds ${usd(await w.token.balanceOf(w.recipients[1]))}`);

say("\n5. 1,500 TUSD is above the ceiling: it waits for the owner, who approves");
const big = await sendAgent(w, [await agentOp(w, sessionId, transferCall(w, w.recipients[2], 1_500n * 10n ** 6n))]);
const bigReq = parseEvents(w, big.receipt).find((e) => e.name === "OperationScheduled")!;
record("agent pays 1,500 TUSD", "queued for owner approval (tier: approval)");
await ownerCalls(w, {
  target: await w.timelock.getAddress(),
  data: w.timelock.interface.encodeFunctionData("approve", [bigReq.args.id as string]),
});
await (
  await w.timelock.execute(
    w.accountAddress,
    bigReq.args.id as string,
    bigReq.args.mode as string,
    bigReq.args.executionCalldata as string,
  )
).wait();
record("owner approves", `executed at once: recipient holds ${usd(await w.token.balanceOf(w.recipients[2]))}`);

say("\n6. The agent is prompt-injected and tries to drain the account");
const attacker = randomWallet().address;
const attempts: [string, Awaited<ReturnType<typeof agentOp>>][] = [
  ["transfer to the attacker", await agentOp(w, sessionId, transferCall(w, attacker, 10n ** 6n))],
  [
    "approve the attacker, then pull",
    await agentOp(w, sessionId, {
      target: w.tokenAddress,
      data: w.token.interface.encodeFunctionData("approve", [attacker, 10n ** 12n]),
    }),
  ],
  ["send ETH to the attacker", await agentOp(w, sessionId, { target: attacker, value: 10n ** 18n })],
  [
    "install its own executor (self-call)",
    await agentOp(w, sessionId, {
      target: w.accountAddress,
      data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, attacker, "0x"]),
    }),
  ],
  [
    "call the session module itself",
    await agentOp(w, sessionId, {
      target: w.sessionsAddress,
      data: w.sessions.interface.encodeFunctionData("revokeSession", [sessionId]),
    }),
  ],
  [
    "withdraw the EntryPoint deposit",
    await agentOp(w, sessionId, {
      target: ENTRYPOINT_V08,
      data: w.core.entryPoint.interface.encodeFunctionData("withdrawTo", [attacker, 1n]),
    }),
  ],
  [
    "gas drain (maxFeePerGas 100,000 gwei)",
    await agentOp(w, sessionId, transferCall(w, w.recipients[0], 1n), {
      maxFeePerGas: 10n ** 14n,
      maxPriorityFeePerGas: 10n ** 14n,
    }),
  ],
];
for (const [what, op] of attempts) record(`attack: ${what}`, `refused: ${await refusedReason(w, op)}`);

say("\n7. The watchdog pauses every agent session; the owner keeps control");
const watchdog = (await ethers.getSigners())[5];
await ownerCalls(w, {
  target: w.sessionsAddress,
  data: w.sessions.interface.encodeFunctionData("setWatchdog", [watchdog.address, true]),
});
await (await w.sessions.connect(watchdog).pause(w.accountAddress, true)).wait();
record(
  "watchdog pauses",
  `next agent op: ${await refusedReason(w, await agentOp(w, sessionId, transferCall(w, w.recipients[0], 1n)))}`,
);
const ownerPay = await ownerCalls(w, transferCall(w, w.recipients[0], 1n));
record("owner pays while paused", ownerPay.event.success ? "executed" : "failed");

say("\n8. The owner revokes the session and unpauses");
await ownerCalls(w, [
  { target: w.sessionsAddress, data: w.sessions.interface.encodeFunctionData("revokeSession", [sessionId]) },
  { target: w.sessionsAddress, data: w.sessions.interface.encodeFunctionData("unpause") },
]);
record(
  "revoke + unpause",
  `agent op now: ${await refusedReason(w, await agentOp(w, sessionId, transferCall(w, w.recipients[0], 1n)))}`,
);

say("\n9. A new session with an automatic circuit breaker: at most 2 first-time recipients per hour");
const breaker = await ethers.deployContract("CircuitBreaker", [w.sessionsAddress]);
const session2 = await grant(w, await paymentsConfig(w));
await ownerCalls(w, [
  {
    target: w.sessionsAddress,
    data: w.sessions.interface.encodeFunctionData("setBreaker", [await breaker.getAddress()]),
  },
  {
    target: await breaker.getAddress(),
    data: breaker.interface.encodeFunctionData("configure", [{ window: HOUR, maxOps: 20n, maxNewRecipients: 2n }]),
  },
]);
// recipients 0 and 1 were paid before, recipient 2 too (approved payment); pay fresh allow-listed ones instead
const fresh = [randomWallet().address, randomWallet().address, randomWallet().address];
await ownerCalls(w, {
  target: w.sessionsAddress,
  data: w.sessions.interface.encodeFunctionData("addPermission", [
    session2,
    {
      target: w.tokenAddress,
      selector: w.token.interface.getFunction("transfer")!.selector,
      valueCap: 0n,
      calldataLength: 68n,
      conditions: [],
    },
  ]),
});
for (const [i, to] of fresh.entries()) {
  const { receipt } = await sendAgent(w, [await agentOp(w, session2, transferCall(w, to, 5n * 10n ** 6n))]);
  const trip = receipt.logs.map((l) => breaker.interface.parseLog(l)).find((p) => p?.name === "BreakerTripped");
  record(
    `agent pays new recipient #${i + 1}`,
    trip
      ? `breaker tripped: rule ${["spend velocity", "operations", "new recipients"][Number(trip.args.rule)]}, ${trip.args.value} > ${trip.args.limit}; account paused, payment not made`
      : "executed",
  );
}
record("paused?", String(await w.sessions.isPaused(w.accountAddress)));

say("\n10. The owner rotates its key, then loses the new one; 2 of 3 guardians recover the account");
const recovery = await ethers.deployContract("GuardianRecovery");
const guardians = [randomWallet(), randomWallet(), randomWallet()];
const install = AbiCoder.defaultAbiCoder().encode(
  ["address[]", "uint8", "uint32", "uint32", "uint32", "tuple(address target, bytes data)[]"],
  [
    guardians.map((g) => g.address),
    2,
    DAY,
    DAY,
    2n * DAY,
    [
      [w.sessionsAddress, w.sessions.interface.encodeFunctionData("revokeAllSessions")],
      [await w.timelock.getAddress(), w.timelock.interface.encodeFunctionData("cancelAll")],
    ],
  ],
);
const rotated = randomWallet();
await ownerCalls(w, [
  {
    target: w.accountAddress,
    data: accountInterface.encodeFunctionData("installModule", [
      MODULE_TYPE_EXECUTOR,
      await recovery.getAddress(),
      install,
    ]),
  },
  {
    target: await w.core.ownerValidator.getAddress(),
    data: w.core.ownerValidator.interface.encodeFunctionData("setOwner", [rotated.address]),
  },
]);
record(
  "owner rotates its key",
  `owner is now ${(await w.core.ownerValidator.ownerOf(w.accountAddress)).slice(0, 10)}…`,
);
const newOwner = randomWallet();
const digest = await recovery.recoveryDigest(w.accountAddress, newOwner.address);
const sigs = [guardians[0], guardians[2]]
  .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
  .map((g) => concat([g.address, signDigest(g, digest)]));
const balanceBefore = await w.token.balanceOf(w.accountAddress);
await (await recovery.proposeRecovery(w.accountAddress, newOwner.address, sigs)).wait();
await networkHelpers.time.increase(DAY + 1n);
await (await recovery.completeRecovery(w.accountAddress)).wait();
const ov = await w.core.ownerValidator.getAddress();
const check = signAsOwner(
  w.core,
  await buildOp(
    w.core,
    w.accountAddress,
    ov,
    accountInterface.encodeFunctionData("execute", [
      ethers.ZeroHash,
      concat([w.recipients[0], ethers.toBeHex(1n, 32)]),
    ]),
  ),
  newOwner,
);
const recovered = userOpEvents(w.core, await handleOps(w.core, [check]))[0];
record(
  "guardians recover (after 1 day)",
  `new owner's first op: ${recovered.success ? "executed" : "failed"}; sessions revoked; funds intact: ${usd(balanceBefore)} → ${usd(await w.token.balanceOf(w.accountAddress))}`,
);

const end = await w.token.balanceOf(w.accountAddress);
const [, budget] = await w.sessions.budgetOf(sessionId, w.accountAddress, w.tokenAddress);
say("\nSummary");
console.table(rows);
say(
  `TUSD that left the account: ${usd(start - end)} (agent: 565 instant+delayed + 10 before the breaker, 1,500 owner-approved, 1 owner)`,
);
say(
  `First session's budget left in its current day: ${usd(budget)} of 2,000 (never exceeded); the attacker received ${usd(await w.token.balanceOf(attacker))}`,
);
