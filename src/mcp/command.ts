/**
 * `reins mcp`: serve ONE agent session as an MCP server, over stdio (default) or Streamable HTTP bound to
 * 127.0.0.1 (`--http <port>`). The session key comes from the environment (`REINS_AGENT_KEY` or
 * `--agent-key-env`), the chain, deployment record, bundler and token list exactly as for `reins agent pay`.
 * stdout carries the protocol in stdio mode: everything else goes to stderr.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { getAddress } from "ethers";
import { str, type Invocation } from "../cli/args.js";
import { CliContext, parseAddress, parseId } from "../cli/context.js";
import { UsageError } from "../cli/errors.js";
import { AgentRuntime, StartupError } from "./runtime.js";
import { createReinsMcpServer } from "./server.js";

const log = (line: string) => process.stderr.write(`reins mcp: ${line}\n`);

/** Largest JSON-RPC body the HTTP transport reads (tool arguments are small). */
const MAX_BODY = 256 * 1024;

async function setup(inv: Invocation): Promise<{ ctx: CliContext; runtime: AgentRuntime }> {
  const ctx = new CliContext(inv);
  const account = parseAddress(str(inv, "account") ?? process.env.REINS_ACCOUNT, "--account (or REINS_ACCOUNT)");
  const rawSession = str(inv, "session") ?? process.env.REINS_SESSION_ID;
  if (!rawSession) throw new UsageError("--session (or REINS_SESSION_ID) is required");
  const sessionId = parseId(rawSession, "--session");
  // Addresses only from the token list: decimals are always read on chain.
  const registry = ctx.registry();
  const tokens = Object.entries(registry).map(([symbol, t]) => ({
    symbol,
    address: getAddress(t.address),
    decimals: -1,
  }));
  await ctx.account(account);
  const { reins } = await ctx.deployment();
  const envName = str(inv, "agent-key-env") ?? "REINS_AGENT_KEY";
  const agent = await ctx.key(envName, "agent");
  const sender = await ctx.sender(agent);
  let runtime: AgentRuntime;
  try {
    runtime = await AgentRuntime.create({
      agent,
      provider: await ctx.provider(),
      account,
      sessionId,
      deployment: reins,
      sender,
      transport: ctx.bundlerUrl ? "bundler" : "direct",
      tokens,
    });
  } catch (e) {
    if (e instanceof StartupError) throw new UsageError(e.message);
    throw e;
  }
  for (const [symbol, t] of Object.entries(registry)) {
    const onChain = runtime.knownTokens().find((k) => k.symbol === symbol);
    if (t.decimals !== undefined && onChain && onChain.decimals !== t.decimals) {
      throw new UsageError(
        `--token ${symbol}: given ${t.decimals} decimals, the token says ${onChain.decimals} on chain`,
      );
    }
  }
  return { ctx, runtime };
}

/** Wait for SIGINT / SIGTERM (or `extra`), then run `close`. */
function untilStopped(close: () => Promise<void>, extra?: (stop: () => void) => void): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      close()
        .catch(() => undefined)
        .then(() => resolve(0));
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    extra?.(stop);
  });
}

/** `reins mcp`. Resolves with the exit code when the client disconnects (stdio) or on SIGINT/SIGTERM. */
export async function mcp(inv: Invocation): Promise<number> {
  const httpRaw = str(inv, "http");
  let port: number | undefined;
  if (httpRaw !== undefined) {
    port = Number(httpRaw);
    if (!/^\d{1,5}$/.test(httpRaw) || port > 65535)
      throw new UsageError(`--http: expected a port number, got ${httpRaw}`);
  }
  const { ctx, runtime } = await setup(inv);
  const where = `session ${runtime.sessionId} of ${runtime.account} (agent ${runtime.agentAddress}, ${runtime.transport}) on chain ${await ctx.chainId()}`;

  if (port === undefined) {
    const server = createReinsMcpServer(runtime, log);
    const transport = new StdioServerTransport();
    await server.connect(transport);
    log(`serving ${where} over stdio (ready ${Math.round(performance.now())} ms after process start)`);
    return untilStopped(
      async () => {
        await server.close();
        ctx.close();
      },
      (stop) => {
        server.server.onclose = stop;
        process.stdin.once("end", stop);
      },
    );
  }

  // Streamable HTTP on loopback: one MCP session (server + transport) per client, all over the same runtime.
  const transports = new Map<string, StreamableHTTPServerTransport>();
  let allowedHosts: string[] = [];
  const http = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`HTTP error: ${(e as Error).message}`);
      if (!res.headersSent) reply(res, 500, "internal error");
    });
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/mcp") return reply(res, 404, "not found: the endpoint is /mcp");
    if (!allowedHosts.includes(req.headers.host ?? "")) return reply(res, 403, "forbidden host");
    const sid = req.headers["mcp-session-id"];
    const existing = typeof sid === "string" ? transports.get(sid) : undefined;
    if (req.method === "POST") {
      const body = await readJson(req);
      if (body === undefined) return reply(res, 400, "bad JSON body");
      if (existing) return existing.handleRequest(req, res, body);
      if (sid !== undefined) return reply(res, 404, "unknown MCP session");
      if (!isInitializeRequest(body)) return reply(res, 400, "no MCP session: send initialize first");
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableDnsRebindingProtection: true,
        allowedHosts,
        onsessioninitialized: (id) => {
          transports.set(id, transport);
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) transports.delete(transport.sessionId);
      };
      await createReinsMcpServer(runtime, log).connect(transport);
      return transport.handleRequest(req, res, body);
    }
    if (req.method === "GET" || req.method === "DELETE") {
      if (!existing) return reply(res, sid === undefined ? 400 : 404, "unknown or missing MCP session");
      return existing.handleRequest(req, res);
    }
    return reply(res, 405, "method not allowed");
  };
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", () => resolve());
  });
  const actual = (http.address() as AddressInfo).port;
  allowedHosts = [`127.0.0.1:${actual}`, `localhost:${actual}`];
  log(
    `serving ${where} on http://127.0.0.1:${actual}/mcp (ready ${Math.round(performance.now())} ms after process start)`,
  );
  return untilStopped(async () => {
    for (const t of transports.values()) await t.close().catch(() => undefined);
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections();
    await closed;
    ctx.close();
  });
}

function reply(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.destroy();
        resolve(undefined);
      } else chunks.push(c);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        resolve(undefined);
      }
    });
    req.on("error", () => resolve(undefined));
  });
}
