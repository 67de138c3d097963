/**
 * ERC-4337 v0.8 UserOperations: the unpacked form that clients and bundlers speak, the packed form that
 * `EntryPoint.handleOps` takes, the EIP-712 hash that EntryPoint v0.8 signs over, and the JSON-RPC encoding.
 * One module, shared by the client, the tests and the scripts.
 */
import {
  type Authorization,
  AbiCoder,
  concat,
  dataLength,
  dataSlice,
  getAddress,
  keccak256,
  toBeHex,
  toUtf8Bytes,
  zeroPadValue,
  type BigNumberish,
} from "ethers";

/** A UserOperation in the unpacked form used by ERC-4337 JSON-RPC (v0.7 and v0.8). */
export interface UserOperation {
  sender: string;
  nonce: bigint;
  /** Factory address for a first operation that deploys the account, else undefined. */
  factory?: string;
  factoryData?: string;
  callData: string;
  callGasLimit: bigint;
  verificationGasLimit: bigint;
  preVerificationGas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  paymaster?: string;
  paymasterVerificationGasLimit?: bigint;
  paymasterPostOpGasLimit?: bigint;
  paymasterData?: string;
  signature: string;
  /**
   * EIP-7702 accounts only: the implementation the sender delegates to. The EntryPoint hashes
   * `delegate ‖ factoryData` in place of the initCode when `factory` is {@link EIP7702_INITCODE_MARKER}; set this so
   * the hash and the typed data computed here match (the delegation may not exist yet when the op is signed).
   */
  eip7702Delegate?: string;
  /**
   * EIP-7702 accounts only: the EOA's signed authorisation to delegate to `eip7702Delegate`, carried with the
   * operation so the bundle transaction sets the delegation (ERC-7769's `eip7702Auth`). Not part of the hash.
   */
  eip7702Auth?: Authorization;
}

/**
 * EntryPoint v0.8's EIP-7702 initCode marker, as the `factory` of an operation: `0x7702` padded to 20 bytes. With
 * it, `factoryData` (if any) is called on the delegated sender itself before validation (Reins: the EOA's signed
 * `initializeWithSignature`).
 */
export const EIP7702_INITCODE_MARKER = "0x7702000000000000000000000000000000000000";

/** Whether an initCode carries the EIP-7702 marker (its first 20 bytes are `0x7702` and zeros). */
export function isEip7702InitCode(initCode: string): boolean {
  return dataLength(initCode) >= 20 && dataSlice(initCode, 0, 20).toLowerCase() === EIP7702_INITCODE_MARKER;
}

/** The bytes the EntryPoint hashes as the initCode: for EIP-7702, `delegate ‖ initCode[20:]`. */
function initCodeForHash(initCode: string, delegate: string | undefined): string {
  if (!isEip7702InitCode(initCode)) return initCode;
  if (!delegate) throw new Error("EIP-7702 operation: pass its delegate (eip7702Delegate) to hash it");
  return concat([getAddress(delegate), dataSlice(initCode, 20)]);
}

/** The struct `EntryPoint.handleOps` takes (`PackedUserOperation`). */
export interface PackedUserOperation {
  sender: string;
  nonce: bigint;
  initCode: string;
  callData: string;
  accountGasLimits: string;
  preVerificationGas: bigint;
  gasFees: string;
  paymasterAndData: string;
  signature: string;
}

const abi = AbiCoder.defaultAbiCoder();

/** Two 128-bit values packed into one bytes32 (high ‖ low), as EntryPoint v0.7+ does. */
export function packUint128Pair(high: BigNumberish, low: BigNumberish): string {
  return concat([zeroPadValue(toBeHex(high), 16), zeroPadValue(toBeHex(low), 16)]);
}

/** The v0.7+ `initCode` of an operation: `factory ‖ factoryData`, or `0x` without a factory. */
export function initCodeOf(op: UserOperation): string {
  return op.factory ? concat([op.factory, op.factoryData ?? "0x"]) : "0x";
}

/** The packed `paymasterAndData`: paymaster ‖ verification gas (16 bytes) ‖ post-op gas (16 bytes) ‖ data, or `0x`. */
export function paymasterAndDataOf(op: UserOperation): string {
  if (!op.paymaster) return "0x";
  return concat([
    op.paymaster,
    zeroPadValue(toBeHex(op.paymasterVerificationGasLimit ?? 0n), 16),
    zeroPadValue(toBeHex(op.paymasterPostOpGasLimit ?? 0n), 16),
    op.paymasterData ?? "0x",
  ]);
}

/** The `PackedUserOperation` the EntryPoint v0.8 takes (`handleOps`, hashing) from an unpacked operation. */
export function packUserOp(op: UserOperation): PackedUserOperation {
  return {
    sender: getAddress(op.sender),
    nonce: op.nonce,
    initCode: initCodeOf(op),
    callData: op.callData,
    accountGasLimits: packUint128Pair(op.verificationGasLimit, op.callGasLimit),
    preVerificationGas: op.preVerificationGas,
    gasFees: packUint128Pair(op.maxPriorityFeePerGas, op.maxFeePerGas),
    paymasterAndData: paymasterAndDataOf(op),
    signature: op.signature,
  };
}

/** The unpacked (ERC-4337 RPC) form of a `PackedUserOperation`: the inverse of {@link packUserOp}. */
export function unpackUserOp(p: PackedUserOperation): UserOperation {
  const op: UserOperation = {
    sender: getAddress(p.sender),
    nonce: BigInt(p.nonce),
    callData: p.callData,
    verificationGasLimit: BigInt(dataSlice(p.accountGasLimits, 0, 16)),
    callGasLimit: BigInt(dataSlice(p.accountGasLimits, 16, 32)),
    preVerificationGas: BigInt(p.preVerificationGas),
    maxPriorityFeePerGas: BigInt(dataSlice(p.gasFees, 0, 16)),
    maxFeePerGas: BigInt(dataSlice(p.gasFees, 16, 32)),
    signature: p.signature,
  };
  if (dataLength(p.initCode) >= 20) {
    op.factory = getAddress(dataSlice(p.initCode, 0, 20));
    op.factoryData = dataSlice(p.initCode, 20);
  }
  if (dataLength(p.paymasterAndData) >= 52) {
    op.paymaster = getAddress(dataSlice(p.paymasterAndData, 0, 20));
    op.paymasterVerificationGasLimit = BigInt(dataSlice(p.paymasterAndData, 20, 36));
    op.paymasterPostOpGasLimit = BigInt(dataSlice(p.paymasterAndData, 36, 52));
    op.paymasterData = dataSlice(p.paymasterAndData, 52);
  }
  return op;
}

const PACKED_USEROP_TYPEHASH = keccak256(
  toUtf8Bytes(
    "PackedUserOperation(address sender,uint256 nonce,bytes initCode,bytes callData,bytes32 accountGasLimits," +
      "uint256 preVerificationGas,bytes32 gasFees,bytes paymasterAndData)",
  ),
);
const DOMAIN_TYPEHASH = keccak256(
  toUtf8Bytes("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
);

/** EntryPoint v0.8's `getUserOpHash`: an EIP-712 digest over the packed op (signature excluded). */
export function getUserOpHash(
  op: UserOperation | PackedUserOperation,
  entryPoint: string,
  chainId: bigint,
  eip7702Delegate?: string,
): string {
  const p = "initCode" in op ? op : packUserOp(op);
  const delegate = eip7702Delegate ?? ("initCode" in op ? undefined : (op.eip7702Delegate ?? op.eip7702Auth?.address));
  const structHash = keccak256(
    abi.encode(
      ["bytes32", "address", "uint256", "bytes32", "bytes32", "bytes32", "uint256", "bytes32", "bytes32"],
      [
        PACKED_USEROP_TYPEHASH,
        p.sender,
        p.nonce,
        keccak256(initCodeForHash(p.initCode, delegate)),
        keccak256(p.callData),
        p.accountGasLimits,
        p.preVerificationGas,
        p.gasFees,
        keccak256(p.paymasterAndData),
      ],
    ),
  );
  const domainSeparator = keccak256(
    abi.encode(
      ["bytes32", "bytes32", "bytes32", "uint256", "address"],
      [DOMAIN_TYPEHASH, keccak256(toUtf8Bytes("ERC4337")), keccak256(toUtf8Bytes("1")), chainId, entryPoint],
    ),
  );
  return keccak256(concat(["0x1901", domainSeparator, structHash]));
}

/** The EIP-712 domain, types and message of an operation, as `eth_signTypedData_v4` and ethers' `signTypedData` take them. */
export interface UserOperationTypedData {
  domain: { name: "ERC4337"; version: "1"; chainId: string; verifyingContract: string };
  /** Without `EIP712Domain` (ethers adds it); {@link userOperationTypedDataJson} adds it for wallets. */
  types: { PackedUserOperation: { name: string; type: string }[] };
  primaryType: "PackedUserOperation";
  /** The packed fields; integers as decimal strings (JSON-safe for wallets). */
  message: {
    sender: string;
    nonce: string;
    initCode: string;
    callData: string;
    accountGasLimits: string;
    preVerificationGas: string;
    gasFees: string;
    paymasterAndData: string;
  };
}

/**
 * EntryPoint v0.8's userOpHash as EIP-712 typed data: a wallet that signs this (`eth_signTypedData_v4`, ethers
 * `Signer.signTypedData`, a hardware or KMS signer) produces a signature over exactly {@link getUserOpHash}, which
 * is what Reins' owner validator checks. Browser wallets show the fields instead of an opaque hash.
 */
export function userOperationTypedData(
  op: UserOperation | PackedUserOperation,
  entryPoint: string,
  chainId: bigint,
  eip7702Delegate?: string,
): UserOperationTypedData {
  const p = "initCode" in op ? op : packUserOp(op);
  const delegate = eip7702Delegate ?? ("initCode" in op ? undefined : (op.eip7702Delegate ?? op.eip7702Auth?.address));
  return {
    domain: { name: "ERC4337", version: "1", chainId: chainId.toString(), verifyingContract: getAddress(entryPoint) },
    types: {
      PackedUserOperation: [
        { name: "sender", type: "address" },
        { name: "nonce", type: "uint256" },
        { name: "initCode", type: "bytes" },
        { name: "callData", type: "bytes" },
        { name: "accountGasLimits", type: "bytes32" },
        { name: "preVerificationGas", type: "uint256" },
        { name: "gasFees", type: "bytes32" },
        { name: "paymasterAndData", type: "bytes" },
      ],
    },
    primaryType: "PackedUserOperation",
    message: {
      sender: getAddress(p.sender),
      nonce: BigInt(p.nonce).toString(),
      // EIP-7702: the EntryPoint hashes `delegate ‖ initCode[20:]` in this field's place (same digest).
      initCode: initCodeForHash(p.initCode, delegate),
      callData: p.callData,
      accountGasLimits: p.accountGasLimits,
      preVerificationGas: BigInt(p.preVerificationGas).toString(),
      gasFees: p.gasFees,
      paymasterAndData: p.paymasterAndData,
    },
  };
}

/** {@link userOperationTypedData} as the JSON string `eth_signTypedData_v4` takes (with the `EIP712Domain` type). */
export function userOperationTypedDataJson(
  op: UserOperation | PackedUserOperation,
  entryPoint: string,
  chainId: bigint,
) {
  const t = userOperationTypedData(op, entryPoint, chainId);
  return JSON.stringify({
    ...t,
    types: {
      EIP712Domain: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
        { name: "verifyingContract", type: "address" },
      ],
      ...t.types,
    },
  });
}

/** Anything that signs a raw 32-byte digest (ethers `Wallet.signingKey.sign`, or `BaseWallet`). */
export interface DigestSigner {
  /** Sign a 32-byte digest (no message prefix); returns the 65-byte signature. */
  signDigest(digest: string): Promise<string> | string;
}

/** Nonce with an ERC-7579 validator in the key: `validator (20 bytes) ‖ extra key (4 bytes) ‖ sequence (8 bytes)`. */
export function encodeNonce(validator: string, sequence: bigint, extraKey = 0): bigint {
  return (BigInt(getAddress(validator)) << 96n) | (BigInt(extraKey) << 64n) | sequence;
}

/** The 192-bit nonce key for a validator (what `EntryPoint.getNonce(sender, key)` takes). */
export function nonceKey(validator: string, extraKey = 0): bigint {
  return (BigInt(getAddress(validator)) << 32n) | BigInt(extraKey);
}

const hex = (v: bigint) => toBeHex(v);

/** JSON-RPC encoding (hex quantities) for `eth_sendUserOperation` / `eth_estimateUserOperationGas`. */
export function toRpcUserOp(op: UserOperation): Record<string, string> {
  const out: Record<string, string> = {
    sender: getAddress(op.sender),
    nonce: hex(op.nonce),
    callData: op.callData,
    callGasLimit: hex(op.callGasLimit),
    verificationGasLimit: hex(op.verificationGasLimit),
    preVerificationGas: hex(op.preVerificationGas),
    maxFeePerGas: hex(op.maxFeePerGas),
    maxPriorityFeePerGas: hex(op.maxPriorityFeePerGas),
    signature: op.signature,
  };
  if (op.factory) {
    out.factory = getAddress(op.factory);
    out.factoryData = op.factoryData ?? "0x";
  }
  if (op.paymaster) {
    out.paymaster = getAddress(op.paymaster);
    out.paymasterVerificationGasLimit = hex(op.paymasterVerificationGasLimit ?? 0n);
    out.paymasterPostOpGasLimit = hex(op.paymasterPostOpGasLimit ?? 0n);
    out.paymasterData = op.paymasterData ?? "0x";
  }
  return out;
}

/** The most an operation can make its sender pay: `maxFeePerGas × (all gas limits)`. */
export function maxOperationCost(op: UserOperation): bigint {
  const gas =
    op.verificationGasLimit +
    op.callGasLimit +
    op.preVerificationGas +
    (op.paymasterVerificationGasLimit ?? 0n) +
    (op.paymasterPostOpGasLimit ?? 0n);
  return gas * op.maxFeePerGas;
}
