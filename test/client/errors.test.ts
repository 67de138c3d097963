import { readFileSync } from "node:fs";
import { expect } from "chai";
import { AbiCoder } from "ethers";
import {
  AgentSessions__factory,
  CallPolicy__factory,
  IEntryPoint__factory,
} from "../../types/ethers-contracts/index.js";
import {
  BUDGET_LIMIT_CODES,
  BudgetExceeded,
  GasBudgetExceeded,
  InvalidCallData,
  ModeNotAllowed,
  PaymasterNotAllowed,
  ReinsError,
  ScopeViolation,
  SessionExpired,
  SignatureRejected,
  UnknownSession,
  UsageExceeded,
  ValueExceeded,
  ForbiddenTarget,
  decodeReinsError,
  reinsRevertDecoder,
} from "../../src/client/index.js";
import { parseBundlerError, UserOperationRejected } from "../../src/bundler/errors.js";

const sessions = AgentSessions__factory.createInterface();
const ep = IEntryPoint__factory.createInterface();
const token = "0x00000000000000000000000000000000000000A1";
const inner = (name: string, args: unknown[]) => sessions.encodeErrorResult(name, args);
const withRevert = (data: string) => ep.encodeErrorResult("FailedOpWithRevert", [0, "AA23 reverted", data]);

describe("Reins client: typed errors", function () {
  it("mirrors the contract's BudgetLimit enum by name, member for member and in order", function () {
    const source = readFileSync("contracts/interfaces/IAgentSessions.sol", "utf8");
    const body = /enum BudgetLimit \{([^}]*)\}/.exec(source)?.[1];
    expect(body, "enum BudgetLimit in IAgentSessions.sol").to.be.a("string");
    const members = body!
      .split(",")
      .map((m) => m.trim())
      .filter((m) => m.length > 0);
    expect(Object.keys(BUDGET_LIMIT_CODES)).to.deep.equal(members);
  });

  it("decodes every BudgetExceeded limit into its readable name", function () {
    const names = ["instant threshold", "ceiling", "period", "lifetime", "fleet period", "fleet lifetime"];
    names.forEach((which, i) => {
      const e = decodeReinsError(inner("AgentSessionsBudgetExceeded", [token, i, 7n, 5n]));
      expect(e).to.be.instanceOf(BudgetExceeded);
      expect([(e as BudgetExceeded).which, (e as BudgetExceeded).amount, (e as BudgetExceeded).limit]).to.deep.equal([
        which,
        7n,
        5n,
      ]);
    });
  });

  it("decodes validation errors nested in FailedOpWithRevert", function () {
    const cases: [string, unknown[], new (...a: never[]) => ReinsError][] = [
      ["AgentSessionsScopeViolation", [2n, token, "0x12345678"], ScopeViolation],
      ["AgentSessionsValueExceeded", [0n, 10n, 5n], ValueExceeded],
      ["AgentSessionsForbiddenTarget", [0n, token], ForbiddenTarget],
      ["AgentSessionsGasBudgetExceeded", [10n, 5n, 5n], GasBudgetExceeded],
      ["AgentSessionsUsageExceeded", [3n], UsageExceeded],
      ["AgentSessionsPaymasterNotAllowed", [token], PaymasterNotAllowed],
      ["AgentSessionsUnknownSession", ["0x" + "ab".repeat(32)], UnknownSession],
      ["AgentSessionsModeNotAllowed", ["0x" + "ff".padEnd(64, "0")], ModeNotAllowed],
      ["AgentSessionsInvalidCallData", [], InvalidCallData],
    ];
    for (const [name, args, cls] of cases) {
      const e = decodeReinsError(withRevert(inner(name, args)));
      expect(e, name).to.be.instanceOf(cls);
    }
    const sv = decodeReinsError(withRevert(inner("AgentSessionsScopeViolation", [2n, token, "0x12345678"])));
    expect([(sv as ScopeViolation).index, (sv as ScopeViolation).selector]).to.deep.equal([2n, "0x12345678"]);
    const cp = CallPolicy__factory.createInterface().encodeErrorResult("CallPolicyInvalidCallData", []);
    expect(decodeReinsError(withRevert(cp))).to.be.instanceOf(InvalidCallData);
  });

  it("maps AA22 to SessionExpired and AA24 to SignatureRejected", function () {
    expect(decodeReinsError(ep.encodeErrorResult("FailedOp", [0, "AA22 expired or not due"]))).to.be.instanceOf(
      SessionExpired,
    );
    expect(decodeReinsError(ep.encodeErrorResult("FailedOp", [0, "AA24 signature error"]))).to.be.instanceOf(
      SignatureRejected,
    );
    const other = decodeReinsError(ep.encodeErrorResult("FailedOp", [0, "AA21 didn't pay prefund"]));
    expect(other.name).to.equal("EntryPointRejected");
  });

  it("plugs into the bundler client's decodeRevert and decodes its rejections", function () {
    const data = inner("AgentSessionsScopeViolation", [0n, token, "0x095ea7b3"]);
    const rejected = parseBundlerError(
      "eth_sendUserOperation",
      { code: -32500, message: `AA23 reverted ${data}` },
      reinsRevertDecoder,
    );
    expect(rejected).to.be.instanceOf(UserOperationRejected);
    expect((rejected as UserOperationRejected).decoded).to.be.instanceOf(ScopeViolation);
    expect(decodeReinsError(rejected)).to.be.instanceOf(ScopeViolation);
    const sig = parseBundlerError("eth_sendUserOperation", {
      code: -32507,
      message: "Invalid UserOperation signature",
    });
    expect(decodeReinsError(sig)).to.be.instanceOf(SignatureRejected);
  });

  it("falls back to a ReinsError with the raw error name and arguments", function () {
    const e = decodeReinsError(AbiCoder.defaultAbiCoder().encode(["uint256"], [1]));
    expect(e.name).to.equal("ReinsError");
    const unmapped = decodeReinsError(inner("AgentSessionsCalldataLength", [0n, 3n, 68n]));
    expect(unmapped.name).to.equal("CalldataLengthViolation");
    expect(reinsRevertDecoder("0xdeadbeef")).to.equal(undefined);
  });
});
