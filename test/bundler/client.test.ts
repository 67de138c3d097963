/**
 * Unit tests of the bundler client without a bundler: error parsing on JSON-RPC errors captured from Alto
 * 0.0.20 (see alto-simpleaccount.test.ts, which prints them), and the transport policy (timeouts, retries)
 * against a scripted HTTP server on loopback.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { Interface } from "ethers";
import { BundlerClient } from "../../src/bundler/client.js";
import {
  BundlerRpcError,
  BundlerTransportError,
  UserOperationRejected,
  UserOperationTimeout,
  parseBundlerError,
  type JsonRpcErrorObject,
} from "../../src/bundler/errors.js";

/** Real Alto 0.0.20 answers, captured from the end-to-end test against EntryPoint v0.8 + SimpleAccount. */
const ALTO = {
  /** eth_sendUserOperation, op signed by a key that is not the owner. */
  aa24: {
    code: -32507,
    message: "UserOperation reverted with reason: AA24 signature error",
  },
  /** eth_sendUserOperation, 7-byte signature: ECDSA.recover reverts with ECDSAInvalidSignatureLength(7). */
  aa23: {
    code: -32500,
    message:
      "UserOperation reverted with reason: AA23 reverted 0xfce698f70000000000000000000000000000000000000000000000000000000000000007",
  },
  /** eth_estimateUserOperationGas, executeBatch whose second call reverts: ExecuteError(1, Error("only callable from SenderCreator")). */
  callReverted: {
    code: -32521,
    message:
      "UserOperation reverted during simulation with reason: 0x5a15467500000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000040000000000000000000000000000000000000000000000000000000000000006408c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000206f6e6c792063616c6c61626c652066726f6d2053656e64657243726561746f7200000000000000000000000000000000000000000000000000000000",
  },
  /** An unknown method. */
  unknownMethod: {
    code: -32602,
    message: "Method not supported",
  },
} satisfies Record<string, JsonRpcErrorObject>;

const ECDSA = new Interface(["error ECDSAInvalidSignatureLength(uint256 length)"]);
const ACCOUNT = new Interface(["error ExecuteError(uint256 index, bytes reason)"]);

class InvalidSignatureLength extends Error {
  override readonly name = "InvalidSignatureLength" as const;
  constructor(readonly length: bigint) {
    super(`signature is ${length} bytes`);
  }
}

const decodeEcdsa = (data: string): Error | undefined => {
  const parsed = ECDSA.parseError(data);
  return parsed?.name === "ECDSAInvalidSignatureLength" ? new InvalidSignatureLength(parsed.args[0]) : undefined;
};

describe("bundler error parsing (Alto responses)", () => {
  it("reads AA24 from an invalid-signature rejection", () => {
    const err = parseBundlerError("eth_sendUserOperation", ALTO.aa24);
    expect(err).to.be.instanceOf(UserOperationRejected);
    const rej = err as UserOperationRejected;
    expect(rej.name).to.equal("UserOperationRejected");
    expect(rej.aaCode).to.equal("AA24");
    expect(rej.code).to.equal(-32507);
    expect(rej.reason).to.equal("AA24 signature error");
    expect(rej.revertData).to.equal(undefined);
    expect(rej.method).to.equal("eth_sendUserOperation");
  });

  it("maps -32507 without an AA code in the message to AA24", () => {
    const rej = parseBundlerError("eth_sendUserOperation", { code: -32507, message: "Invalid UserOp signature" });
    expect((rej as UserOperationRejected).aaCode).to.equal("AA24");
    const pm = parseBundlerError("eth_sendUserOperation", { code: -32507, message: "Invalid UserOp paymasterData" });
    expect((pm as UserOperationRejected).aaCode).to.equal("AA34");
  });

  it("extracts the inner revert bytes of AA23 and runs decodeRevert on them", () => {
    const rej = parseBundlerError("eth_sendUserOperation", ALTO.aa23, decodeEcdsa) as UserOperationRejected;
    expect(rej).to.be.instanceOf(UserOperationRejected);
    expect(rej.aaCode).to.equal("AA23");
    expect(rej.revertData).to.equal(ECDSA.encodeErrorResult("ECDSAInvalidSignatureLength", [7]));
    expect(rej.decoded).to.be.instanceOf(InvalidSignatureLength);
    expect((rej.decoded as InvalidSignatureLength).length).to.equal(7n);
    expect(rej.reason).to.match(/^AA23 reverted 0xfce698f7/);
  });

  it("leaves `decoded` empty when the decoder does not know the bytes, or throws", () => {
    const unknown = parseBundlerError("eth_sendUserOperation", ALTO.aa23, () => undefined) as UserOperationRejected;
    expect(unknown.decoded).to.equal(undefined);
    expect(unknown.revertData).to.be.a("string");
    const throwing = parseBundlerError("eth_sendUserOperation", ALTO.aa23, () => {
      throw new Error("decoder bug");
    }) as UserOperationRejected;
    expect(throwing).to.be.instanceOf(UserOperationRejected);
    expect(throwing.decoded).to.equal(undefined);
  });

  it("extracts execution-phase revert bytes (no AA code) from a -32521 rejection", () => {
    const rej = parseBundlerError("eth_estimateUserOperationGas", ALTO.callReverted) as UserOperationRejected;
    expect(rej).to.be.instanceOf(UserOperationRejected);
    expect(rej.aaCode).to.equal(undefined);
    const parsed = ACCOUNT.parseError(rej.revertData!);
    expect(parsed?.name).to.equal("ExecuteError");
    expect(parsed?.args[0]).to.equal(1n);
  });

  it("prefers hex revert bytes from error.data over the message", () => {
    const data = "0xdeadbeef00";
    const rej = parseBundlerError("eth_sendUserOperation", {
      code: -32500,
      message: "AA23 reverted 0x1111111111",
      data: { revertData: data },
    }) as UserOperationRejected;
    expect(rej.revertData).to.equal(data);
  });

  it("does not mistake an address in the message for revert data", () => {
    const rej = parseBundlerError("eth_sendUserOperation", {
      code: -32500,
      message: "AA10 sender already constructed 0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108",
    }) as UserOperationRejected;
    expect(rej.aaCode).to.equal("AA10");
    expect(rej.revertData).to.equal(undefined);
  });

  it("keeps non-rejection errors as plain BundlerRpcError", () => {
    const err = parseBundlerError("eth_foo", ALTO.unknownMethod);
    expect(err).to.be.instanceOf(BundlerRpcError);
    expect(err).to.not.be.instanceOf(UserOperationRejected);
    expect(err.name).to.equal("BundlerRpcError");
    expect(err.code).to.equal(-32602);
  });
});

type Handler = (body: { id: number; method: string }, res: ServerResponse) => void;

/** A loopback HTTP server whose answer to each request is scripted by the test. */
async function scripted(handler: Handler): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      hits++;
      handler(JSON.parse(raw) as { id: number; method: string }, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

describe("BundlerClient transport", () => {
  it("retries HTTP 5xx with backoff, then succeeds", async () => {
    let n = 0;
    const srv = await scripted((body, res) => {
      if (++n < 3) return json(res, 503, { message: "busy" });
      json(res, 200, { jsonrpc: "2.0", id: body.id, result: ["0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108"] });
    });
    try {
      const client = new BundlerClient(srv.url, { retries: 3, retryDelayMs: 5 });
      expect(await client.supportedEntryPoints()).to.have.length(1);
      expect(srv.hits()).to.equal(3);
    } finally {
      await srv.close();
    }
  });

  it("gives up after the retries with a BundlerTransportError carrying the status", async () => {
    const srv = await scripted((_body, res) => json(res, 502, {}));
    try {
      const client = new BundlerClient(srv.url, { retries: 2, retryDelayMs: 1 });
      let err: unknown;
      await client.supportedEntryPoints().catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(BundlerTransportError);
      expect((err as BundlerTransportError).status).to.equal(502);
      expect(srv.hits()).to.equal(3);
    } finally {
      await srv.close();
    }
  });

  it("never retries a JSON-RPC error answer, even with HTTP 500", async () => {
    const srv = await scripted((body, res) => json(res, 500, { jsonrpc: "2.0", id: body.id, error: ALTO.aa24 }));
    try {
      const client = new BundlerClient(srv.url, { retries: 5, retryDelayMs: 1 });
      let err: unknown;
      await client.request("eth_sendUserOperation", []).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(UserOperationRejected);
      expect(srv.hits()).to.equal(1);
    } finally {
      await srv.close();
    }
  });

  it("aborts a request that exceeds its timeout", async () => {
    const srv = await scripted(() => {
      /* never answers */
    });
    try {
      const client = new BundlerClient(srv.url, { timeoutMs: 50, retries: 1, retryDelayMs: 1 });
      const t0 = performance.now();
      let err: unknown;
      await client.supportedEntryPoints().catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(BundlerTransportError);
      expect((err as Error).message).to.match(/timed out after 50 ms/);
      expect(srv.hits()).to.equal(2);
      expect(performance.now() - t0).to.be.lessThan(2_000);
    } finally {
      await srv.close();
    }
  });

  it("retries a refused connection, then reports it", async () => {
    const srv = await scripted(() => undefined);
    const url = srv.url;
    await srv.close(); // nothing listens on this port any more
    const client = new BundlerClient(url, { retries: 1, retryDelayMs: 1 });
    let err: unknown;
    await client.supportedEntryPoints().catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(BundlerTransportError);
    expect((err as BundlerTransportError).status).to.equal(undefined);
  });

  it("waitForUserOperationReceipt polls until a receipt appears, and times out otherwise", async () => {
    let polls = 0;
    const receipt = {
      userOpHash: "0x01",
      entryPoint: "0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108",
      sender: "0x0000000000000000000000000000000000000001",
      nonce: "0x5",
      actualGasCost: "0x10",
      actualGasUsed: "0x20",
      success: true,
      logs: [],
      receipt: { transactionHash: "0xaa", blockHash: "0xbb", blockNumber: "0x7", gasUsed: "0x30", status: "success" },
    };
    const srv = await scripted((body, res) =>
      json(res, 200, {
        jsonrpc: "2.0",
        id: body.id,
        result: ++polls < 3 || body.method !== "eth_getUserOperationReceipt" ? null : receipt,
      }),
    );
    try {
      const client = new BundlerClient(srv.url);
      const r = await client.waitForUserOperationReceipt("0x01", { timeoutMs: 5_000, pollMs: 5 });
      expect(polls).to.equal(3);
      expect(r.nonce).to.equal(5n);
      expect(r.actualGasUsed).to.equal(32n);
      expect(r.receipt.blockNumber).to.equal(7n);
      polls = -1_000_000;
      let err: unknown;
      await client.waitForUserOperationReceipt("0x02", { timeoutMs: 60, pollMs: 10 }).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(UserOperationTimeout);
      expect((err as UserOperationTimeout).userOpHash).to.equal("0x02");
    } finally {
      await srv.close();
    }
  });
});
