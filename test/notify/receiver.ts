/**
 * A local webhook receiver for the notification tests: records every request (headers and raw body), can go down
 * (server closed: connection refused) and come back on the same port.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** The receiver. */
export class Receiver {
  readonly received: Received[] = [];
  private server: Server | undefined;
  port = 0;

  /** Listen (port 0 the first time: a free port; the same port afterwards). */
  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stop listening (and drop open connections). */
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** The parsed bodies received. */
  bodies(): { id: string; type: string; [k: string]: unknown }[] {
    return this.received.map((r) => JSON.parse(r.body) as { id: string; type: string });
  }
}
