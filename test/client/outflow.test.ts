/**
 * The client's `outflow` (src/client/actions/assessTier.ts) mirrors `CallPolicy.outflow` exactly: same kind, token,
 * amount and counterparty for every interpreted selector, and the same refusals for short, over-long and forged
 * call data and for unbounded grants. Compared against the contract through a harness.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, dataSlice, toBeHex } from "ethers";
import { CallDataRefused, outflow } from "../../src/client/actions/assessTier.js";
import { randomWallet } from "../helpers/reins.js";

const { ethers } = await network.create();
const word = (v: bigint | string) => toBeHex(BigInt(v), 32);
const KINDS = ["none", "transfer", "approval", "permit2-approval"];

describe("Reins client: outflow interpretation mirrors CallPolicy.outflow", () => {
  it("agrees with the contract on every interpreted selector and its malformed variants", async () => {
    const harness = await ethers.deployContract("CallPolicyHarness");
    const account = randomWallet().address;
    const target = randomWallet().address;
    const other = randomWallet().address;
    const shapes: [string, number, boolean][] = [
      ["0xa9059cbb", 2, false],
      ["0x1296ee62", 2, false],
      ["0x23b872dd", 3, false],
      ["0xd8fbe994", 3, false],
      ["0x42842e0e", 3, false],
      ["0x095ea7b3", 2, false],
      ["0x39509351", 2, false],
      ["0x3177029f", 2, false],
      ["0xcae9ca51", 3, true],
      ["0x4000aea0", 3, true],
      ["0xc1d34b89", 4, true],
      ["0xb88d4fde", 4, true],
      ["0xf242432a", 5, true],
      ["0xd505accf", 7, false],
      ["0x87517c45", 4, false],
      ["0x36c78516", 4, false],
      ["0xa22cb465", 2, false],
      ["0xb8c43d4d", 8, false],
      ["0x2b67b570", 4, false],
      ["0x2eb2c2d6", 5, false],
      ["0x12345678", 2, false],
    ];
    let compared = 0;
    for (const [sel, head, hasBytes] of shapes) {
      for (const first of [account, other]) {
        for (const second of [0n, 1n, 5n]) {
          const words = Array.from({ length: head }, (_, i) =>
            i === 0 ? word(first) : i === 1 ? word(second === 5n ? other : second) : word(7n + BigInt(i)),
          );
          if (hasBytes) words[head - 1] = word(32n * BigInt(head));
          const canonical = concat([
            sel,
            ...words,
            ...(hasBytes ? [word(3n), word("0x" + "ab".repeat(3) + "00".repeat(29))] : []),
          ]);
          const variants = [
            canonical,
            dataSlice(canonical, 0, (canonical.length - 2) / 2 - 1),
            concat([canonical, "0x00"]),
          ];
          if (hasBytes) {
            const forged = [...words];
            forged[head - 1] = word(32n * BigInt(head) + 32n);
            variants.push(concat([sel, ...forged, word(0n), word(0n)]));
          }
          for (const data of variants) {
            let contract: { kind: string; token: string; amount: bigint; counterparty: string } | string;
            try {
              const o = await harness.outflow(account, target, data);
              contract = {
                kind: KINDS[Number(o.kind)],
                token: o.token,
                amount: o.amount,
                counterparty: o.counterparty,
              };
            } catch (e) {
              const name = harness.interface.parseError((e as { data: string }).data)?.name;
              contract =
                name === "CallPolicyNonCanonical"
                  ? "non-canonical"
                  : name === "CallPolicyUnboundedGrant"
                    ? "unbounded-grant"
                    : String(name);
            }
            let client: typeof contract;
            try {
              client = outflow(account, target, data);
            } catch (e) {
              client = (e as CallDataRefused).rule;
            }
            expect(client, `${sel} ${data.length}`).to.deep.equal(contract);
            compared++;
          }
        }
      }
    }
    expect(compared).to.be.greaterThan(300);
  });
});
