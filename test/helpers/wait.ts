/**
 * Polling instead of fixed waits: tests wait for the condition they depend on, under a generous deadline, so a
 * loaded machine only makes them slower, never red. On timeout the error names what was awaited.
 */

export interface WaitForOptions {
  /** What is awaited, for the timeout message ("the monitor to log three rpc-error lines"). */
  what: string;
  /** Deadline (default 60 s). */
  timeoutMs?: number;
  /** Pause between checks (default 25 ms). */
  intervalMs?: number;
  /** Extra context appended to the timeout message (e.g. the last lines of a child process). */
  detail?: () => string;
}

/** Thrown by {@link waitFor} when the deadline passes. */
export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WaitTimeoutError";
  }
}

/**
 * Check `condition` until it returns a truthy value (returned), every `intervalMs`, for at most `timeoutMs`.
 * An exception thrown by `condition` ends the wait at once (use it for "the process died while waiting").
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { what, timeoutMs = 60_000, intervalMs = 25, detail }: WaitForOptions,
): Promise<NonNullable<T>> {
  const start = Date.now();
  const deadline = start + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) {
      const extra = detail ? `\n${detail()}` : "";
      throw new WaitTimeoutError(`timed out after ${Date.now() - start} ms waiting for ${what}${extra}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
