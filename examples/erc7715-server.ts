/**
 * Example: an ERC-7715 JSON-RPC endpoint for one Reins account. A dApp POSTs
 * `wallet_requestExecutionPermissions`, `wallet_getGrantedExecutionPermissions`,
 * `wallet_getSupportedExecutionPermissions` or `wallet_revokeExecutionPermission`; the owner key grants through
 * {@link createErc7715Handler}.
 *
 * Run (the account must exist; the funder key pays `handleOps` gas through DirectSender — use BundlerSender with
 * your bundler in production):
 *
 * ```sh
 * RPC_URL=http://127.0.0.1:8545 OWNER_KEY=0x… ACCOUNT=0x… FUNDER_KEY=0x… APPROVE=yes PORT=8715 \
 *   npx tsx examples/erc7715-server.ts
 * curl -s localhost:8715 -d '{"jsonrpc":"2.0","id":1,"method":"wallet_getSupportedExecutionPermissions"}'
 * ```
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { JsonRpcProvider, Wallet } from "ethers";
import {
  DirectSender,
  ReinsOwner,
  clientDeployment,
  createErc7715Handler,
  loadDeployment,
  type Erc7715Handler,
} from "../src/client/index.js";

/** A running example server. */
export interface Erc7715Server {
  url: string;
  close: () => Promise<void>;
}

/** Serve `handler` over HTTP POST (JSON-RPC 2.0, single requests and batches) on `port` (0 = any free port). */
export async function startErc7715Server(handler: Erc7715Handler, port = 0): Promise<Erc7715Server> {
  const server = createServer((req, res) => {
    void (async () => {
      let reply: unknown;
      try {
        const body = JSON.parse(await readBody(req)) as unknown;
        reply = Array.isArray(body) ? await Promise.all(body.map((r) => handler(r))) : await handler(body as never);
      } catch {
        reply = { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } };
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(reply));
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

async function main(): Promise<void> {
  const env = (k: string) =>
    process.env[k] ??
    (() => {
      throw new Error(`set ${k}`);
    })();
  const provider = new JsonRpcProvider(process.env.RPC_URL ?? "http://127.0.0.1:8545", undefined, { cacheTimeout: -1 });
  const deployment = clientDeployment(loadDeployment((await provider.getNetwork()).chainId));
  const owner = new ReinsOwner({
    owner: new Wallet(env("OWNER_KEY"), provider),
    provider,
    deployment,
    sender: new DirectSender(new Wallet(env("FUNDER_KEY"), provider)),
    account: env("ACCOUNT"),
  });
  // The owner's consent: this example prints each request and grants it only when APPROVE=yes (a real wallet asks
  // its user here). The server listens on 127.0.0.1 only.
  const handler = createErc7715Handler(owner, {
    approve: (grants) => {
      for (const g of grants) {
        const t = g.translation;
        console.log(`request: ${t.type} of ${t.amount} (token ${t.token}) for agent ${t.to} until ${t.validUntil}`);
      }
      return process.env.APPROVE === "yes";
    },
  });
  const server = await startErc7715Server(handler, Number(process.env.PORT ?? 8715));
  console.log(`ERC-7715 endpoint for ${owner.account} at ${server.url}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
