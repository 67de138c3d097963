/**
 * Indexer/notifier test world: the client fixture (Reins deployment, an account with a TUSD payments session)
 * plus a scripted mix of agent and owner activity, and a provider wrapper that counts `eth_getLogs` calls.
 */
import type { Provider } from "ethers";
import type { AgentSession } from "../../src/client/index.js";
import { clientWorld, grantPayments, pay, type ClientWorld } from "../client/fixture.js";
import type { Ethers } from "../helpers/reins.js";

export const TUSD = 10n ** 6n;

/** The client world with its agent session and the block the account was created in. */
export interface IndexWorld extends ClientWorld {
  agent: AgentSession;
  startBlock: bigint;
}

/** Deploy, create the account, grant the payments session. */
export async function indexWorld(ethers: Ethers): Promise<IndexWorld> {
  const startBlock = BigInt(await ethers.provider.getBlockNumber());
  const w = await clientWorld(ethers);
  const agent = await grantPayments(w);
  return { ...w, agent, startBlock };
}

/** Agent payments of every tier, an approval, a cancellation, a pause and an unpause. */
export async function mixedActivity(w: IndexWorld): Promise<{ approvalId: string; delayedId: string }> {
  await w.agent.send(pay(w, w.recipients[0], 10n));
  const delayed = await w.agent.send(pay(w, w.recipients[1], 500n));
  const approval = await w.agent.send(pay(w, w.recipients[2], 1_500n));
  if (delayed.status !== "queued" || approval.status !== "queued") throw new Error("expected two queued requests");
  await w.owner.approveQueued(approval.requestId);
  await w.owner.cancelQueued(delayed.requestId);
  await w.owner.pause();
  await w.owner.unpause();
  await w.agent.send(pay(w, w.recipients[0], 20n));
  return { approvalId: approval.requestId, delayedId: delayed.requestId };
}

/** A provider that forwards everything to `inner` and counts `getLogs` calls. */
export function countingProvider(inner: Provider): { provider: Provider; calls: () => number } {
  let n = 0;
  const provider = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === "getLogs")
        return (...args: unknown[]) => {
          n++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { provider, calls: () => n };
}

/** A provider whose `getLogs` refuses ranges of more than `maxBlocks` blocks (like hosted RPCs do). */
export function capRange(inner: Provider, maxBlocks: number): Provider {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === "getLogs")
        return (filter: { fromBlock: number; toBlock: number }) => {
          if (filter.toBlock - filter.fromBlock + 1 > maxBlocks)
            return Promise.reject(new Error(`query exceeds max block range ${maxBlocks}`));
          return inner.getLogs(filter);
        };
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
