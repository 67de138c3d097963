/**
 * Who signs owner operations of the console's account: the account's root validator, read on chain. An
 * `OwnerValidator` root is an ECDSA owner (signed by the browser wallet, `eth_signTypedData_v4`); a
 * `PasskeyValidator` root is a WebAuthn passkey (signed by `navigator.credentials.get` in the page).
 */
import { ZeroHash, getAddress } from "ethers";
import {
  OwnerValidator__factory,
  PasskeyValidator__factory,
  ReinsAccount__factory,
} from "../../types/ethers-contracts/index.js";
import type { ReadContext } from "./reads.js";

/** The owner behind the account's root validator. */
export type RootOwner =
  | {
      kind: "ecdsa";
      /** The root validator (the deployment's OwnerValidator). */
      validator: string;
      /** The owner address (zero while the account does not exist). */
      owner: string;
    }
  | {
      kind: "passkey";
      /** The root validator (a PasskeyValidator). */
      validator: string;
      /** The passkey's P-256 public key, x coordinate. */
      qx: string;
      /** The passkey's P-256 public key, y coordinate. */
      qy: string;
    };

/** A root validator the console cannot sign for: neither the deployment's OwnerValidator nor a PasskeyValidator. */
export class UnsupportedRootError extends Error {
  override readonly name = "UnsupportedRootError" as const;
  constructor(
    /** The account's root validator. */
    readonly validator: string,
  ) {
    super(
      `the account's root validator ${validator} is neither this deployment's OwnerValidator nor a PasskeyValidator: ` +
        "the console cannot have its owner sign",
    );
  }
}

/** Read the account's root validator and its owner (an account not deployed yet: the deployment's OwnerValidator). */
export async function rootOwner(c: ReadContext): Promise<RootOwner> {
  const ecdsa = async (validator: string): Promise<RootOwner> => ({
    kind: "ecdsa",
    validator,
    owner: getAddress(await OwnerValidator__factory.connect(validator, c.provider).ownerOf(c.account)),
  });
  if ((await c.provider.getCode(c.account)) === "0x") return ecdsa(getAddress(c.deployment.ownerValidator));
  const root = getAddress(await ReinsAccount__factory.connect(c.account, c.provider).rootValidator());
  if (root === getAddress(c.deployment.ownerValidator)) return ecdsa(root);
  const [qx, qy] = await PasskeyValidator__factory.connect(root, c.provider)
    .passkeyOf(c.account)
    .catch(() => [ZeroHash, ZeroHash] as const);
  if (qx === ZeroHash) throw new UnsupportedRootError(root);
  return { kind: "passkey", validator: root, qx, qy };
}

/** One line for the pages: the owner address, or the passkey and its validator. */
export function describeOwner(o: RootOwner): string {
  return o.kind === "ecdsa" ? o.owner : `passkey ${o.qx.slice(0, 10)}… (PasskeyValidator ${o.validator})`;
}
