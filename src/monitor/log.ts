/**
 * Structured JSON-lines logging for the Reins monitor: one object per line, `{ts, level, event, ...fields}`,
 * bigints written as decimal strings.
 */

export type Level = "debug" | "info" | "warn" | "error";

/** A log line before `ts` is added. */
export interface LogFields {
  level: Level;
  event: string;
  [field: string]: unknown;
}

/** Where log lines go. */
export type LogSink = (line: LogFields & { ts: string }) => void;

/** JSON.stringify with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** Sink that writes one JSON line per entry to a stream (stdout by default). */
export function streamSink(stream: NodeJS.WritableStream = process.stdout): LogSink {
  return (line) => {
    stream.write(toJson(line) + "\n");
  };
}

/** Logger bound to a sink; adds the ISO timestamp. */
export class JsonLogger {
  constructor(private readonly sink: LogSink = streamSink()) {}

  log(fields: LogFields): void {
    this.sink({ ts: new Date().toISOString(), ...fields });
  }
  info(event: string, fields: Record<string, unknown> = {}): void {
    this.log({ level: "info", event, ...fields });
  }
  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.log({ level: "warn", event, ...fields });
  }
  error(event: string, fields: Record<string, unknown> = {}): void {
    this.log({ level: "error", event, ...fields });
  }
}
