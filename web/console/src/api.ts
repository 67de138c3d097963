/** The console server's JSON API. */

/** An error answer of the server: its message is meant for the person. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function answer<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as { error?: string; code?: string };
  if (!res.ok) throw new ApiError(res.status, body.code ?? "error", body.error ?? `HTTP ${res.status}`);
  return body as T;
}

/** GET `/api/<what>`. */
export async function getJson<T>(what: string): Promise<T> {
  return answer<T>(await fetch(`/api/${what}`, { cache: "no-store" }));
}

/** POST JSON to `/api/<what>`. */
export async function postJson<T>(what: string, body: unknown): Promise<T> {
  return answer<T>(
    await fetch(`/api/${what}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
}

/** `/api/info`. */
export interface Info {
  account: string;
  /** The owner address (ECDSA), or a description of the passkey. */
  owner: string;
  /** How owner operations are signed: the browser wallet (`ecdsa`) or a passkey (`passkey`). */
  ownerKind: "ecdsa" | "passkey";
  rootValidator: string;
  chainId: string;
  entryPoint: string;
  relay: "bundler" | "relayer";
}

/** An amount as the server sends it. */
export interface AmountView {
  token: string;
  symbol: string;
  decimals: number;
  raw: string;
  text: string;
}
