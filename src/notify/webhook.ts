/**
 * One webhook delivery: POST the stored JSON body with the signature, timestamp and event id headers. A 2xx
 * answer is a delivery; anything else (no connection, timeout, another status) is a failure to retry.
 */
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody } from "./signature.js";

/** Why a delivery failed (the receiver did not accept it). */
export class WebhookDeliveryError extends Error {
  override readonly name = "WebhookDeliveryError" as const;
  constructor(
    message: string,
    /** The HTTP status, when the receiver answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Where and how to deliver. */
export interface WebhookTarget {
  url: string;
  /** Shared secret of the HMAC. */
  secret: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

/** POST `body` (already JSON) as notification `id`; resolves on 2xx, else throws {@link WebhookDeliveryError}. */
export async function deliver(target: WebhookTarget, id: string, body: string, nowMs = Date.now()): Promise<void> {
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "reins-notify/1",
        [SIGNATURE_HEADER]: signBody(body, target.secret),
        [TIMESTAMP_HEADER]: String(Math.floor(nowMs / 1000)),
        [EVENT_ID_HEADER]: id,
      },
      body,
      signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
    });
  } catch (e) {
    const err = e as { message?: string; cause?: { code?: string; message?: string } };
    const why = err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
    throw new WebhookDeliveryError(`POST ${target.url}: ${why}`);
  }
  // Drain the body so the connection can be reused.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299)
    throw new WebhookDeliveryError(`POST ${target.url}: HTTP ${res.status}`, res.status);
}
