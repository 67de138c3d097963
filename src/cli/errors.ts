/**
 * CLI errors and exit codes. Every failure ends the process with ONE line on stderr and a code that means
 * something: 1 on-chain or runtime failure, 2 bad input or usage, 3 refused by the account's policy.
 */

/** Exit codes of `reins`. */
export const EXIT = { ok: 0, failure: 1, usage: 2, refused: 3 } as const;

/** Bad command line or input (unknown account, bad address, too many decimals, wrong network…): exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly exitCode = EXIT.usage;
}

/** The account's policy refuses the operation (scope, budget, paused, revoked…): exit 3. */
export class RefusedError extends Error {
  override readonly name = "RefusedError";
  readonly exitCode = EXIT.refused;
  constructor(
    message: string,
    /** Machine-readable description for `--json`. */
    readonly report: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Runtime or on-chain failure (RPC down, reverted transaction…): exit 1. */
export class FailureError extends Error {
  override readonly name = "FailureError";
  readonly exitCode = EXIT.failure;
}

/** One line: the first line of a message, whitespace collapsed. */
export function oneLine(message: string): string {
  const first = message.split("\n").find((l) => l.trim() !== "") ?? message;
  return first.replace(/\s+/g, " ").trim();
}
