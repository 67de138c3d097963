/**
 * Payments inside a queued execution: an ERC-20 `transfer(to, amount)` or a plain ETH transfer, for the Inbox.
 */
import { ZeroAddress, dataLength, getAddress, Interface } from "ethers";
import type { Call } from "../account/encoding.js";

const erc20 = new Interface(["function transfer(address to, uint256 amount)"]);

/** The payment a call makes (`undefined` for any other call). */
export function transferOf(call: Call): { token: string; to: string; amount: bigint } | undefined {
  const data = call.data ?? "0x";
  if (data.toLowerCase().startsWith("0xa9059cbb") && dataLength(data) === 68) {
    const [to, value] = erc20.decodeFunctionData("transfer", data);
    return { token: getAddress(call.target), to: getAddress(to as string), amount: value as bigint };
  }
  if (data === "0x" && BigInt(call.value ?? 0n) > 0n) {
    return { token: ZeroAddress, to: getAddress(call.target), amount: BigInt(call.value ?? 0n) };
  }
  return undefined;
}
