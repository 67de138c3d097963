// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC7579Utils, Execution} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";

/**
 * @title CallPolicy
 * @notice Decoding of agent UserOperation call data and extraction of calldata-visible spend (transfers,
 * allowances, permits and operator grants of the common token standards), in canonical ABI form only.
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
    bytes4 internal constant INCREASE_APPROVAL = 0xd73dd623; // increaseApproval(address,uint256) (OpenZeppelin 1.x)
    bytes4 internal constant DAI_PERMIT = 0x8fcbaf0c; // DAI permit(holder,spender,nonce,expiry,allowed,v,r,s)
    bytes4 internal constant AUTHORIZE_OPERATOR = 0x959b8c3f; // ERC-777 authorizeOperator(address)
    bytes4 internal constant SET_OPERATOR = 0x558a7297; // ERC-6909 setOperator(address,bool)
    bytes4 internal constant APPROVE_6909 = 0x426a8493; // ERC-6909 approve(address,uint256,uint256)
    bytes4 internal constant APPROVE_AND_CALL = 0x3177029f; // ERC-1363 approveAndCall(address,uint256)
    bytes4 internal constant APPROVE_AND_CALL_DATA = 0xcae9ca51; // ERC-1363 approveAndCall(address,uint256,bytes)
    bytes4 internal constant TRANSFER_AND_CALL = 0x1296ee62; // ERC-1363 transferAndCall(address,uint256)
    bytes4 internal constant TRANSFER_AND_CALL_DATA = 0x4000aea0; // transferAndCall(address,uint256,bytes)
    bytes4 internal constant TRANSFER_FROM_AND_CALL = 0xd8fbe994; // transferFromAndCall(addr,addr,uint256)
    bytes4 internal constant TRANSFER_FROM_AND_CALL_DATA = 0xc1d34b89; // transferFromAndCall(..., bytes)
    bytes4 internal constant PERMIT = 0xd505accf; // ERC-2612 permit(owner,spender,value,deadline,v,r,s)
    bytes4 internal constant PERMIT2_APPROVE = 0x87517c45; // Permit2 approve(address,address,uint160,uint48)
    bytes4 internal constant PERMIT2_TRANSFER_FROM = 0x36c78516; // Permit2 transferFrom(from,to,uint160,token)
    bytes4 internal constant PERMIT2_PERMIT = 0x2b67b570; // Permit2 permit(address,PermitSingle,bytes)
    bytes4 internal constant PERMIT2_PERMIT_BATCH = 0x2a2d80d1; // Permit2 permit(address,PermitBatch,bytes)
    bytes4 internal constant PERMIT2_PERMIT_TRANSFER_FROM = 0x30f28b7a; // Permit2 permitTransferFrom(...)
    bytes4 internal constant SET_APPROVAL_FOR_ALL = 0xa22cb465; // ERC-721 / ERC-1155 setApprovalForAll(address,bool)
    bytes4 internal constant SAFE_TRANSFER_FROM_721 = 0x42842e0e; // safeTransferFrom(address,address,uint256)
    bytes4 internal constant SAFE_TRANSFER_FROM_721_DATA = 0xb88d4fde; // safeTransferFrom(from,to,id,bytes)
    bytes4 internal constant SAFE_TRANSFER_FROM_1155 = 0xf242432a; // safeTransferFrom(from,to,id,amount,bytes)
    bytes4 internal constant SAFE_BATCH_TRANSFER_FROM_1155 = 0x2eb2c2d6; // safeBatchTransferFrom(...)
    /// @dev AgentSessions `reserveTransferAuthorization(token, to, value, validAfter, validBefore, nonce, nameHash,
    /// versionHash)`: pays for an EIP-3009 authorization of `value` of `token` to `to` (a transfer, settled later).
    bytes4 internal constant RESERVE_TRANSFER_AUTHORIZATION = 0xb8c43d4d;

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

    /**
     * @notice Number of calls of a payload: 1 for a single call, the array length for a batch. With {callAt}, the
     * one single-or-batch dispatch every reader of a payload uses.
     */
    function callCount(bool batch, bytes calldata payload) internal pure returns (uint256) {
        return batch ? decodeBatch(payload).length : 1;
    }

    /// @notice Call `i` of a payload (`i` is 0 for a single call; for a batch, an index below {callCount}).
    function callAt(
        bool batch,
        bytes calldata payload,
        uint256 i
    ) internal pure returns (address target, uint256 value, bytes calldata data) {
        if (!batch) return decodeSingle(payload);
        Execution calldata call = decodeBatch(payload)[i];
        return (call.target, call.value, call.callData);
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

    /// @notice How a call moves value out of the account, as far as its call data shows.
    enum OutflowKind {
        None,
        Transfer, // `amount` of `token` leaves the account (to `counterparty`)
        Approval, // `counterparty` may take `amount` of `token`; reset with `token.approve(counterparty, 0)`
        Permit2Approval // Permit2 allowance on `token`; reset with `target.approve(token, counterparty, 0, 0)`
    }

    /// @notice The interpreted outflow of one call.
    struct Outflow {
        OutflowKind kind;
        address token;
        uint256 amount;
        address counterparty;
    }

    /// @notice Call data for the interpreted function `selector` is not in canonical ABI form (`length` bytes).
    error CallPolicyNonCanonical(bytes4 selector, uint256 length);

    /// @notice The call grants an operator or signature-based allowance no budget can bound (refused for agents).
    error CallPolicyUnboundedGrant(bytes4 selector);

    /**
     * @notice Outflow of a call made by `account` to `target`, for every transfer-, allowance-, permit- and
     * operator-granting function of ERC-20, ERC-2612, ERC-1363, Permit2, ERC-721 and ERC-1155. The call data of an
     * interpreted function must be in canonical ABI form (exact length for static signatures; for a trailing
     * `bytes`, its offset where canonical encoding puts it and no byte beyond its padded end), or this reverts:
     * the words read here are then the words the target decodes.
     * @dev Operator grants (`setApprovalForAll(_, true)`, ERC-6909 `setOperator(_, true)`, ERC-777
     * `authorizeOperator`), ERC-6909 `approve`, DAI-style `permit(account, …, allowed = true, …)`, Permit2 signature
     * permits and ERC-1155 batch transfers from the account revert with {CallPolicyUnboundedGrant}. Same-selector functions of other standards are read
     * the same way (ERC-721 `transferFrom` and `approve` count the token id as an amount), which only ever charges
     * more, never less. AgentSessions' `reserveTransferAuthorization` (EIP-3009, settled later by the payee) is a
     * transfer of its `value` of its `token` to its `to`, whatever the target (only AgentSessions executes it; on
     * another target it can only over-charge). Calls with other selectors report no outflow; the execution-phase
     * balance check of every watched asset covers what they move.
     */
    function outflow(address account, address target, bytes calldata data) internal pure returns (Outflow memory o) {
        if (data.length < 4) return o;
        bytes4 sel = bytes4(data[0:4]);
        if (sel == TRANSFER || sel == TRANSFER_AND_CALL) {
            _exact(data, 2);
            return Outflow(OutflowKind.Transfer, target, uint256(word(data, 1)), _address(word(data, 0)));
        }
        if (sel == RESERVE_TRANSFER_AUTHORIZATION) {
            _exact(data, 8);
            return
                Outflow(OutflowKind.Transfer, _address(word(data, 0)), uint256(word(data, 2)), _address(word(data, 1)));
        }
        if (sel == TRANSFER_FROM || sel == TRANSFER_FROM_AND_CALL || sel == SAFE_TRANSFER_FROM_721) {
            _exact(data, 3);
            return _from(account, target, data, sel == SAFE_TRANSFER_FROM_721 ? 1 : uint256(word(data, 2)));
        }
        if (sel == APPROVE || sel == INCREASE_ALLOWANCE || sel == INCREASE_APPROVAL || sel == APPROVE_AND_CALL) {
            _exact(data, 2);
            return Outflow(OutflowKind.Approval, target, uint256(word(data, 1)), _address(word(data, 0)));
        }
        if (sel == APPROVE_AND_CALL_DATA || sel == TRANSFER_AND_CALL_DATA) {
            _withBytes(data, 3);
            OutflowKind kind = sel == APPROVE_AND_CALL_DATA ? OutflowKind.Approval : OutflowKind.Transfer;
            return Outflow(kind, target, uint256(word(data, 1)), _address(word(data, 0)));
        }
        if (sel == TRANSFER_FROM_AND_CALL_DATA || sel == SAFE_TRANSFER_FROM_721_DATA) {
            _withBytes(data, 4);
            return _from(account, target, data, sel == SAFE_TRANSFER_FROM_721_DATA ? 1 : uint256(word(data, 2)));
        }
        if (sel == SAFE_TRANSFER_FROM_1155) {
            _withBytes(data, 5);
            return _from(account, target, data, uint256(word(data, 3)));
        }
        if (sel == PERMIT) {
            _exact(data, 7);
            if (_address(word(data, 0)) != account) return o;
            return Outflow(OutflowKind.Approval, target, uint256(word(data, 2)), _address(word(data, 1)));
        }
        if (sel == PERMIT2_APPROVE) {
            _exact(data, 4);
            return
                Outflow(
                    OutflowKind.Permit2Approval,
                    _address(word(data, 0)),
                    uint256(word(data, 2)),
                    _address(word(data, 1))
                );
        }
        if (sel == PERMIT2_TRANSFER_FROM) {
            _exact(data, 4);
            if (_address(word(data, 0)) != account) return o;
            return
                Outflow(OutflowKind.Transfer, _address(word(data, 3)), uint256(word(data, 2)), _address(word(data, 1)));
        }
        if (sel == SET_APPROVAL_FOR_ALL || sel == SET_OPERATOR) {
            _exact(data, 2);
            uint256 approved = uint256(word(data, 1));
            if (approved > 1) revert CallPolicyNonCanonical(sel, data.length);
            if (approved == 1) revert CallPolicyUnboundedGrant(sel);
            return o;
        }
        if (sel == DAI_PERMIT) {
            _exact(data, 8);
            if (_address(word(data, 0)) == account && uint256(word(data, 4)) != 0) revert CallPolicyUnboundedGrant(sel);
            return o;
        }
        if (
            sel == PERMIT2_PERMIT ||
            sel == PERMIT2_PERMIT_BATCH ||
            sel == PERMIT2_PERMIT_TRANSFER_FROM ||
            sel == AUTHORIZE_OPERATOR ||
            sel == APPROVE_6909
        ) {
            revert CallPolicyUnboundedGrant(sel);
        }
        if (sel == SAFE_BATCH_TRANSFER_FROM_1155 && data.length >= 36 && _address(word(data, 0)) == account) {
            revert CallPolicyUnboundedGrant(sel);
        }
    }

    function _from(
        address account,
        address target,
        bytes calldata data,
        uint256 amount
    ) private pure returns (Outflow memory o) {
        if (_address(word(data, 0)) != account) return o;
        return Outflow(OutflowKind.Transfer, target, amount, _address(word(data, 1)));
    }

    /// @dev Static signature of `words` arguments: exactly `4 + 32 * words` bytes.
    function _exact(bytes calldata data, uint256 words) private pure {
        if (data.length != 4 + 32 * words) revert CallPolicyNonCanonical(bytes4(data[0:4]), data.length);
    }

    /// @dev `words` head words, the last an offset to a `bytes` tail: canonical offset, no byte past its padding.
    function _withBytes(bytes calldata data, uint256 words) private pure {
        uint256 head = 32 * words;
        if (data.length < 4 + head + 32 || uint256(word(data, words - 1)) != head) {
            revert CallPolicyNonCanonical(bytes4(data[0:4]), data.length);
        }
        uint256 length = uint256(word(data, words));
        if (length > data.length || data.length != 4 + head + 32 + ((length + 31) & ~uint256(31))) {
            revert CallPolicyNonCanonical(bytes4(data[0:4]), data.length);
        }
    }

    function _address(bytes32 w) private pure returns (address) {
        return address(uint160(uint256(w)));
    }
}
