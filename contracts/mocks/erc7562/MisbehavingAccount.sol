// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IEntryPoint} from "@account-abstraction/contracts/interfaces/IEntryPoint.sol";
import {MockAccountBase} from "./MockAccountBase.sol";

/**
 * @title MisbehavingAccount
 * @notice Test-only account that breaks one ERC-7562 opcode rule during validation, chosen at deployment.
 */
contract MisbehavingAccount is MockAccountBase {
    /// @notice The rule the account breaks.
    enum Misbehavior {
        /// OP-012: `gasleft()` not followed by a call.
        GasLeft,
        /// OP-061: a call with value to an address other than the EntryPoint.
        ValueCall,
        /// OP-041: a call to an address without code.
        CodelessCall,
        /// OP-054: an EntryPoint method other than depositTo.
        EntryPointView,
        /// OP-080: SELFBALANCE (allowed only for a staked entity).
        SelfBalance,
        /// OP-052: `depositTo(sender)` with value (allowed).
        DepositToSelf,
        /// OP-054: `depositTo(victim)` for another address (refused).
        DepositToOther,
        /// OP-062: a STATICCALL to the RIP-7212 P256VERIFY precompile at 0x100 (allowed).
        P256Verify,
        /// OP-062: a STATICCALL to `victim`, a precompile-range address that is neither core nor RIP-7212 (refused).
        OtherPrecompile
    }

    /// @notice What this instance does wrong.
    Misbehavior public immutable misbehavior;
    /// @notice Target of the value call / codeless call.
    address public immutable victim;

    /// @notice Never hit: makes the compiler keep the read.
    error Unreachable(uint256 value);

    /// @param entryPoint_ The EntryPoint v0.8 instance.
    /// @param misbehavior_ The rule to break.
    /// @param victim_ The address the value / codeless call goes to.
    constructor(address entryPoint_, Misbehavior misbehavior_, address victim_) MockAccountBase(entryPoint_) {
        misbehavior = misbehavior_;
        victim = victim_;
    }

    function _validationHook(PackedUserOperation calldata userOp, bytes32) internal override returns (uint256) {
        Misbehavior m = misbehavior;
        if (m == Misbehavior.GasLeft) {
            if (gasleft() == 0) revert Unreachable(0);
        } else if (m == Misbehavior.ValueCall) {
            (bool ok, ) = payable(victim).call{value: 1}("");
            (ok);
        } else if (m == Misbehavior.CodelessCall) {
            (bool ok, ) = victim.call(abi.encodeWithSignature("ping()"));
            (ok);
        } else if (m == Misbehavior.EntryPointView) {
            uint256 nonce = IEntryPoint(entryPoint).getNonce(address(this), 0);
            if (nonce == type(uint256).max) revert Unreachable(nonce);
        } else if (m == Misbehavior.SelfBalance) {
            if (address(this).balance == type(uint256).max) revert Unreachable(0);
        } else if (m == Misbehavior.DepositToSelf) {
            IEntryPoint(entryPoint).depositTo{value: 1}(address(this));
        } else if (m == Misbehavior.DepositToOther) {
            IEntryPoint(entryPoint).depositTo{value: 1}(victim);
        } else if (m == Misbehavior.P256Verify || m == Misbehavior.OtherPrecompile) {
            address precompile = m == Misbehavior.P256Verify ? address(0x100) : victim;
            (bool ok, bytes memory out) = precompile.staticcall(new bytes(160));
            if (ok && out.length == 32 && uint256(bytes32(out)) == 2) revert Unreachable(0);
        }
        return userOp.nonce == type(uint256).max ? 1 : 0;
    }
}
