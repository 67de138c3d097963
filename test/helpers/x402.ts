/**
 * A real x402 stack on loopback for tests: a facilitator (`@x402/core` `x402Facilitator` with the `@x402/evm` exact
 * scheme, settling through a viem wallet on the test chain) served over HTTP, and a resource server
 * (`@x402/express` `paymentMiddleware` with `HTTPFacilitatorClient`) with one paid route. Records what reaches each.
 */
import express from "express";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createWalletClient, defineChain, http, publicActions, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { x402Facilitator } from "@x402/core/facilitator";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { registerExactEvmScheme as registerFacilitatorScheme } from "@x402/evm/exact/facilitator";
import { registerExactEvmScheme as registerServerScheme } from "@x402/evm/exact/server";
import { toFacilitatorEvmSigner } from "@x402/evm";

/** What the x402 stack needs. */
export interface X402StackOptions {
  rpcUrl: string;
  chainId: number;
  /** Facilitator key (pays settlement gas; fund it). */
  facilitatorKey: string;
  token: string;
  tokenName: string;
  tokenVersion: string;
  payTo: string;
  /** Price of `GET /paid` in base units. */
  amount: bigint;
  maxTimeoutSeconds?: number;
}

/** A running x402 facilitator + resource server. */
export interface X402Stack {
  /** URL of the paid route. */
  paidUrl: string;
  facilitatorUrl: string;
  /** Requests to the paid route that carried a payment header. */
  paidRequests: number;
  /** Calls the facilitator received, by endpoint. */
  facilitatorCalls: { verify: number; settle: number };
  /** Verify / settle answers, in order. */
  answers: unknown[];
  close(): Promise<void>;
}

async function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}` });
    });
  });
}

/** Start the facilitator and the resource server. */
export async function startX402Stack(o: X402StackOptions): Promise<X402Stack> {
  const network = `eip155:${o.chainId}` as const;
  const chain = defineChain({
    id: o.chainId,
    name: "reins-test",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [o.rpcUrl] } },
  });
  const account = privateKeyToAccount(o.facilitatorKey as Hex);
  const wallet = createWalletClient({ account, chain, transport: http(o.rpcUrl) }).extend(publicActions);
  const signer = toFacilitatorEvmSigner({
    address: account.address,
    readContract: (a) => wallet.readContract(a as never),
    verifyTypedData: (a) => wallet.verifyTypedData(a as never),
    writeContract: (a) => wallet.writeContract({ ...(a as object), account, chain } as never),
    sendTransaction: (a) => wallet.sendTransaction({ ...a, account, chain }),
    waitForTransactionReceipt: (a) => wallet.waitForTransactionReceipt(a),
    getCode: (a) => wallet.getCode(a),
  });
  const facilitator = new x402Facilitator();
  registerFacilitatorScheme(facilitator, { signer, networks: network });

  const stack: X402Stack = {
    paidUrl: "",
    facilitatorUrl: "",
    paidRequests: 0,
    facilitatorCalls: { verify: 0, settle: 0 },
    answers: [],
    close: async () => {},
  };

  const fApp = express();
  fApp.use(express.json());
  fApp.get("/supported", (_req, res) => {
    res.json(facilitator.getSupported());
  });
  for (const endpoint of ["verify", "settle"] as const) {
    fApp.post(`/${endpoint}`, async (req, res) => {
      stack.facilitatorCalls[endpoint]++;
      try {
        const { paymentPayload, paymentRequirements } = req.body;
        const answer =
          endpoint === "verify"
            ? await facilitator.verify(paymentPayload, paymentRequirements)
            : await facilitator.settle(paymentPayload, paymentRequirements);
        stack.answers.push({ endpoint, answer });
        res.json(answer);
      } catch (e) {
        stack.answers.push({ endpoint, error: (e as Error).message });
        res.status(500).json({ error: (e as Error).message });
      }
    });
  }
  const f = await listen(fApp);

  const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: f.url }));
  registerServerScheme(resourceServer, { networks: [network] });
  const rApp = express();
  rApp.use((req, _res, next) => {
    if (req.path === "/paid" && Object.keys(req.headers).some((h) => /payment/i.test(h))) stack.paidRequests++;
    next();
  });
  rApp.use(
    paymentMiddleware(
      {
        "GET /paid": {
          accepts: {
            scheme: "exact",
            network,
            payTo: o.payTo,
            price: {
              amount: o.amount.toString(),
              asset: o.token,
              extra: { name: o.tokenName, version: o.tokenVersion },
            },
            maxTimeoutSeconds: o.maxTimeoutSeconds ?? 300,
          },
          description: "a paid test resource",
          mimeType: "application/json",
        },
      },
      resourceServer,
    ),
  );
  rApp.get("/paid", (_req, res) => {
    res.json({ report: "sunny" });
  });
  const r = await listen(rApp);
  stack.paidUrl = `${r.url}/paid`;
  stack.facilitatorUrl = f.url;
  stack.close = async () => {
    await Promise.all([f.server, r.server].map((s) => new Promise((done) => s.close(() => done(undefined)))));
  };
  return stack;
}
