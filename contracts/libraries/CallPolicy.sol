// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC7579Utils, Execution} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";

/**
 * @title CallPolicy
 * @notice Decoding of agent UserOperation call data and extraction of calldata-visible ERC-20 spend.
 * @dev Agent operations must be exactly `executeUserOp.selector ‖ abi.encodeCall(execute, (mode, payload))` in
 * canonical ABI form (payload offset 0x40, no bytes after the padded payload), so the bytes the policy checks
 * in validation are the bytes executed. The payload is single (`target ‖ value ‖ data`) or batch
 * (`abi.encode(Execution[])`, decoded with OpenZeppelin's `ERC7579Utils.decodeBatch`, which the account uses too).
 */
library CallPolicy {
    bytes4 internal constant EXECUTE_USER_OP = 0x8dd7712f; // executeUserOp((...),bytes32)
    bytes4 internal constant EXECUTE = 0xe9ae5c53; // execute(bytes32,bytes)

    bytes4 internal constant TRANSFER = 0xa9059cbb; // transfer(address,uint256)
    bytes4 internal constant TRANSFER_FROM = 0x23b872dd; // transferFrom(address,address,uint256)
    bytes4 internal constant APPROVE = 0x095ea7b3; // approve(address,uint256)
    bytes4 internal constant INCREASE_ALLOWANCE = 0x39509351; // increaseAllowance(address,uint256)

    bytes32 internal constant MODE_SINGLE = bytes32(0);
    bytes32 internal constant MODE_BATCH = bytes32(uint256(0x01) << 248);
    bytes32 internal constant MODE_SINGLE_TRY = bytes32(uint256(0x0001) << 240);
    bytes32 internal constant MODE_BATCH_TRY = bytes32(uint256(0x0101) << 240);

    /// @notice Call data is not in the canonical agent form.
    error CallPolicyInvalidCallData();

    /**
     * @notice Split agent call data into the ERC-7579 mode and payload; reverts unless canonical.
     */
    function decodeOperation(bytes calldata callData) internal pure returns (bytes32 mode, bytes calldata payload) {
        if (callData.length < 4 || bytes4(callData[0:4]) != EXECUTE_USER_OP) revert CallPolicyInvalidCallData();
        return decodeExecute(callData[4:]);
    }

    /**
     * @notice Split `execute(mode, payload)` call data into its mode and payload; reverts unless canonical.
     */
    function decodeExecute(bytes calldata callData) internal pure returns (bytes32 mode, bytes calldata payload) {
        // 4 (execute) + 32 (mode) + 32 (offset) + 32 (length) = 100
        if (callData.length < 100 || bytes4(callData[0:4]) != EXECUTE) revert CallPolicyInvalidCallData();
        mode = bytes32(callData[4:36]);
        if (uint256(bytes32(callData[36:68])) != 0x40) revert CallPolicyInvalidCallData();
        uint256 length = uint256(bytes32(callData[68:100]));
        if (length > callData.length || callData.length != 100 + ((length + 31) & ~uint256(31))) {
            revert CallPolicyInvalidCallData();
        }
        payload = callData[100:100 + length];
    }

    /// @notice Whether `mode` is batch (else single); reverts for any other mode, and for try unless allowed.
    function isBatch(bytes32 mode, bool allowTry) internal pure returns (bool batch, bool ok) {
        if (mode == MODE_SINGLE) return (false, true);
        if (mode == MODE_BATCH) return (true, true);
        if (allowTry && mode == MODE_SINGLE_TRY) return (false, true);
        if (allowTry && mode == MODE_BATCH_TRY) return (true, true);
        return (false, false);
    }

    /// @notice Decode a single-call payload.
    function decodeSingle(
        bytes calldata payload
    ) internal pure returns (address target, uint256 value, bytes calldata data) {
        return ERC7579Utils.decodeSingle(payload);
    }

    /// @notice Decode a batch payload.
    function decodeBatch(bytes calldata payload) internal pure returns (Execution[] calldata) {
        return ERC7579Utils.decodeBatch(payload);
    }

    /// @notice Selector of `data`: zero for empty data; reverts for 1–3 bytes.
    function selectorOf(bytes calldata data) internal pure returns (bytes4) {
        if (data.length == 0) return bytes4(0);
        if (data.length < 4) revert CallPolicyInvalidCallData();
        return bytes4(data[0:4]);
    }

    /// @notice ABI word `index` of the arguments (after the selector); reverts if the data is too short.
    function word(bytes calldata data, uint256 index) internal pure returns (bytes32) {
        uint256 start = 4 + 32 * index;
        if (data.length < start + 32) revert CallPolicyInvalidCallData();
        return bytes32(data[start:start + 32]);
    }

    /**
     * @notice Calldata-visible ERC-20 outflow of a call made by `account`: `transfer` amount, `transferFrom` amount
     * when `from` is the account, `approve` / `increaseAllowance` amount (the approval is flagged so the caller can
     * reset it after the execution).
     * @return amount Outflow of token `target` (0 if none).
     * @return counterparty The recipient, or the spender of an approval (zero if none).
     * @return approval Whether the call grants an allowance to `counterparty`.
     */
    function erc20Outflow(
        address account,
        bytes calldata data
    ) internal pure returns (uint256 amount, address counterparty, bool approval) {
        if (data.length < 68) return (0, address(0), false);
        bytes4 selector = bytes4(data[0:4]);
        if (selector == TRANSFER) return (uint256(word(data, 1)), _address(word(data, 0)), false);
        if (selector == APPROVE || selector == INCREASE_ALLOWANCE) {
            return (uint256(word(data, 1)), _address(word(data, 0)), true);
        }
        if (selector == TRANSFER_FROM && data.length >= 100 && _address(word(data, 0)) == account) {
            return (uint256(word(data, 2)), _address(word(data, 1)), false);
        }
        return (0, address(0), false);
    }

    function _address(bytes32 w) private pure returns (address) {
        return address(uint160(uint256(w)));
    }
}
