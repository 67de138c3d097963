/**
 * {@link startConsole}: the owner console's HTTP server on 127.0.0.1. It serves the bundled page (Vite build in
 * `dist/console/`) and a JSON API: `GET /api/info|account|sessions|activity|inbox` (chain reads on the server),
 * `POST /api/prepare {action}` (an unsigned owner operation and its EIP-712 typed data) and
 * `POST /api/submit {id, signature}` or `{id, assertion}` (an ECDSA owner's signature, or a passkey owner's WebAuthn
 * assertion over the userOpHash; checked, then sent once through the bundler or the relayer key).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Provider } from "ethers";
import type { ReinsDeployment } from "../client/owner.js";
import type { OperationSender } from "../client/transport/sender.js";
import { ActionRefused, ConsoleActions, parseAction } from "./actions.js";
import type { ConsoleData } from "./data.js";
import { accountView, activityView, inboxView, sessionsView, type ReadContext } from "./reads.js";
import { describeOwner, rootOwner } from "./owner.js";
import { parseAssertion } from "./passkey.js";
import { TokenBook } from "./tokens.js";

/** Options of {@link startConsole}. */
export interface ConsoleOptions {
  provider: Provider;
  deployment: ReinsDeployment & { breaker?: string };
  /** The account the console shows. */
  account: string;
  /** Where owner operations go: a bundler, or `handleOps` from a relayer key (never the owner key). */
  sender: OperationSender;
  /** History source (events, spend per day, queue). */
  data: ConsoleData;
  /** Tokens listed under balances. */
  tokens?: { symbol: string; address: string }[];
  /** Port on 127.0.0.1 (0 = a free port). */
  port: number;
  /** The built page (default: `dist/console` of this checkout or package). */
  staticDir?: string;
}

/** A running console. */
export interface RunningConsole {
  url: string;
  port: number;
  server: Server;
  /** Stop listening and close open connections. */
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

/** The default folder of the built page: `dist/console` next to `src/` (sources) or `dist/src/` (built). */
export function defaultStaticDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, "..", "..", "dist", "console"), path.resolve(here, "..", "..", "console")];
  return candidates.find((d) => existsSync(path.join(d, "index.html"))) ?? candidates[0];
}

const json = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(json(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new ActionRefused(413, "bad input", "request body larger than 64 KiB");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw new ActionRefused(400, "bad input", "the request body is not JSON");
  }
}

/** Start the console; resolves once it listens. */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const ctx: ReadContext = {
    provider: options.provider,
    deployment: options.deployment,
    entryPoint: options.sender.entryPoint,
    account: options.account,
    tokens: new TokenBook(options.provider, options.tokens ?? []),
    data: options.data,
  };
  const actions = new ConsoleActions(ctx, options.sender);
  const staticDir = path.resolve(options.staticDir ?? defaultStaticDir());
  const chainId = await options.sender.chainId();

  const api: Record<string, () => Promise<unknown>> = {
    "/api/info": async () => {
      const owner = await rootOwner(ctx);
      return {
        account: options.account,
        owner: describeOwner(owner),
        /** How the page has the owner sign: the wallet (`ecdsa`) or `navigator.credentials.get` (`passkey`). */
        ownerKind: owner.kind,
        rootValidator: owner.validator,
        chainId: chainId.toString(),
        entryPoint: options.sender.entryPoint,
        relay: "estimate" in options.sender && options.sender.estimate ? "bundler" : "relayer",
      };
    },
    "/api/account": () => accountView(ctx),
    "/api/sessions": () => sessionsView(ctx),
    "/api/activity": () => activityView(ctx),
    "/api/inbox": () => inboxView(ctx),
  };

  let port = options.port;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    // DNS rebinding: a page of another site that resolves its name to 127.0.0.1 must not read the account.
    const host = (req.headers.host ?? "").toLowerCase();
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      return send(res, 421, { error: `unexpected Host ${host}: open http://127.0.0.1:${port}/`, code: "bad host" });
    }
    if (url.pathname.startsWith("/api/")) {
      try {
        // A cross-site form can POST text/plain without a preflight; the API only takes JSON.
        if (req.method === "POST" && !/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
          throw new ActionRefused(415, "bad input", "POST bodies must be application/json");
        }
        if (req.method === "GET" && api[url.pathname]) return send(res, 200, await api[url.pathname]());
        if (req.method === "POST" && url.pathname === "/api/prepare") {
          const body = (await readBody(req)) as { action?: unknown };
          return send(res, 200, await actions.prepare(parseAction(body.action)));
        }
        if (req.method === "POST" && url.pathname === "/api/submit") {
          const body = (await readBody(req)) as { id?: unknown; signature?: unknown; assertion?: unknown };
          if (typeof body.id !== "string" || (typeof body.signature !== "string" && body.assertion === undefined)) {
            throw new ActionRefused(400, "bad input", "expected {id, signature} or {id, assertion}");
          }
          const proof =
            typeof body.signature === "string"
              ? { signature: body.signature }
              : { assertion: parseAssertion(body.assertion) };
          return send(res, 200, await actions.submit(body.id, proof));
        }
        return send(res, 404, { error: "not found", code: "not found" });
      } catch (e) {
        if (e instanceof ActionRefused) return send(res, e.status, { error: e.message, code: e.code });
        return send(res, 500, { error: (e as Error).message?.split("\n")[0] ?? String(e), code: "internal" });
      }
    }
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "method not allowed" });
    const rel = url.pathname === "/" ? "index.html" : decodeURIComponent(url.pathname.slice(1));
    const file = path.resolve(staticDir, rel);
    if (!file.startsWith(staticDir + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" });
      return res.end(
        existsSync(path.join(staticDir, "index.html"))
          ? "not found"
          : `the console page is not built (${staticDir}): run npm run build`,
      );
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, { error: String(e) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  port = typeof address === "object" && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
