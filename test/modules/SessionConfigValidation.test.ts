import { expect } from "chai";
import { network } from "hardhat";
import {
  deploySessionWorld,
  ownerCalls,
  paymentsConfig,
  type SessionConfig,
  type SessionWorld,
} from "../helpers/sessions.js";

const { ethers } = await network.create();

/** ConfigField values of IAgentSessions. */
const FIELD = {
  Agent: 0n,
  ValidUntil: 1n,
  MaxUses: 2n,
  Permissions: 3n,
  ApprovalWindow: 4n,
  Period: 5n,
  InstantThreshold: 6n,
  Conditions: 7n,
  ConditionOp: 8n,
  OneOf: 9n,
  GasBudget: 12n,
} as const;

/** Grant `config` through an owner operation and return the decoded AgentSessions error (the op must fail). */
async function refusal(w: SessionWorld, config: SessionConfig) {
  const { event } = await ownerCalls(w, {
    target: w.sessionsAddress,
    data: w.sessions.interface.encodeFunctionData("grantSession", [config]),
  });
  expect(event.success).to.equal(false);
  const parsed = w.sessions.interface.parseError(event.revertReason!);
  return { name: parsed?.name, field: parsed?.args[0] as bigint };
}

describe("AgentSessions: bad session configurations are refused with the field that is wrong", () => {
  it("each invalid field is named, and nothing is granted", async () => {
    const w = await deploySessionWorld(ethers);
    const good = await paymentsConfig(w);
    const b = good.budgets[0];
    const perm = good.permissions[0];
    const cases: [bigint, SessionConfig][] = [
      [FIELD.Agent, { ...good, agent: ethers.ZeroAddress }],
      [FIELD.ValidUntil, { ...good, validAfter: 100n, validUntil: 100n }],
      [FIELD.MaxUses, { ...good, maxUses: 0n }],
      [FIELD.GasBudget, { ...good, gasBudget: 2n ** 96n }],
      [FIELD.Permissions, { ...good, permissions: [] }],
      [FIELD.ApprovalWindow, { ...good, approvalWindow: 0n }],
      [FIELD.Period, { ...good, budgets: [{ ...b, period: 0n }] }],
      [FIELD.InstantThreshold, { ...good, budgets: [{ ...b, instantThreshold: BigInt(b.ceiling) + 1n }] }],
      [FIELD.InstantThreshold, { ...good, budgets: [{ ...b, instantThreshold: 1n, ceiling: 2n ** 112n }] }],
      [FIELD.Conditions, { ...good, permissions: [{ ...perm, conditions: Array(5).fill(perm.conditions[1]) }] }],
      [FIELD.ConditionOp, { ...good, permissions: [{ ...perm, conditions: [{ ...perm.conditions[1], op: 0 }] }] }],
      [FIELD.OneOf, { ...good, permissions: [{ ...perm, conditions: [{ ...perm.conditions[0], oneOf: [] }] }] }],
    ];
    for (const [field, config] of cases) {
      const { name, field: actual } = await refusal(w, config);
      expect(name, `field ${field}`).to.equal("AgentSessionsInvalidConfig");
      expect(actual, `field ${field}`).to.equal(field);
    }
    expect((await w.sessions.accountConfig(w.accountAddress)).sessionNonce).to.equal(0n);
  });
});
