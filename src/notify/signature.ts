/**
 * Webhook signatures: `X-Reins-Signature: sha256=<hex HMAC-SHA256 of the raw body with the shared secret>`, the
 * scheme GitHub and Stripe receivers already know. {@link verifySignature} is what a receiver runs.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Header carrying the body's HMAC. */
export const SIGNATURE_HEADER = "X-Reins-Signature";
/** Header carrying the delivery time (unix seconds). */
export const TIMESTAMP_HEADER = "X-Reins-Timestamp";
/** Header carrying the notification id (the same on every retry: receivers dedupe on it). */
export const EVENT_ID_HEADER = "X-Reins-Event-Id";

/** `sha256=<hex>` of `body` under `secret`. */
export function signBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Whether `header` is the signature of `body` under `secret` (constant-time comparison). */
export function verifySignature(body: string | Buffer, secret: string, header: string | undefined): boolean {
  if (typeof header !== "string") return false;
  const expected = Buffer.from(signBody(body, secret));
  const got = Buffer.from(header);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
