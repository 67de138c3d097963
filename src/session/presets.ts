/**
 * Ready-made session configurations. `paymentsSession` is the example used by the demo, the tests and the
 * ERC-7562 scenarios: ERC-20 `transfer` of a 6-decimal token to allow-listed recipients (at most 10^6 tokens per
 * call), native transfers to the same recipients, and budgets with three tiers for both.
 */
import { ZeroAddress, ZeroHash, toBeHex } from "ethers";
import type { IAgentSessions } from "../../types/ethers-contracts/contracts/modules/AgentSessions.js";

export type SessionConfig = IAgentSessions.SessionConfigStruct;

const HOUR = 3_600n;
const DAY = 86_400n;
const USD = 10n ** 6n;
const TRANSFER = "0xa9059cbb"; // transfer(address,uint256)
/** AgentSessions ConditionOp values used here. */
const OP = { AtMost: 2, OneOf: 4 } as const;

/** A value as one 32-byte ABI word (addresses left-padded, as Solidity encodes them). */
const word = (v: bigint | string): string => toBeHex(BigInt(v), 32);

export interface PaymentsSessionParams {
  agent: string;
  /** The 6-decimal token the agent pays with. */
  token: string;
  recipients: string[];
  /** Chain time now (seconds); the session lasts 30 days from it. */
  now: bigint;
}

/** The example payments session (see the module comment). */
export function paymentsSession(p: PaymentsSessionParams): SessionConfig {
  return {
    agent: p.agent,
    validAfter: 0n,
    validUntil: p.now + 30n * DAY,
    maxUses: 1000n,
    maxGasCostPerOp: 10n ** 16n,
    gasBudget: 10n ** 18n,
    allowTry: false,
    allowPaymaster: false,
    queueDelay: HOUR,
    approvalWindow: DAY,
    permissions: [
      {
        target: p.token,
        selector: TRANSFER,
        valueCap: 0n,
        calldataLength: 68n,
        conditions: [
          { op: OP.OneOf, word: 0n, value: ZeroHash, oneOf: p.recipients.map(word) },
          { op: OP.AtMost, word: 1n, value: word(10n ** 12n), oneOf: [] },
        ],
      },
      ...p.recipients.map((r) => ({
        target: r,
        selector: "0x00000000",
        valueCap: 10n ** 18n,
        calldataLength: 0n,
        conditions: [],
      })),
    ],
    budgets: [
      {
        token: p.token,
        instantThreshold: 100n * USD,
        ceiling: 1_000n * USD,
        periodCap: 2_000n * USD,
        lifetimeCap: 10_000n * USD,
        period: DAY,
      },
      {
        token: ZeroAddress,
        instantThreshold: 10n ** 16n,
        ceiling: 10n ** 17n,
        periodCap: 2n * 10n ** 17n,
        lifetimeCap: 10n ** 18n,
        period: DAY,
      },
    ],
  };
}
