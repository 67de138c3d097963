// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {IERC7579Validator} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {CallPolicy} from "../../libraries/CallPolicy.sol";
import {AgentSessionsScope} from "./AgentSessionsScope.sol";
import {AgentSessionsSignature} from "./AgentSessionsSignature.sol";

/**
 * @title AgentSessionsValidation
 * @notice The validation phase (`validateUserOp`, ERC-7562 clean): session liveness, pause, usage and gas budgets,
 * paymaster rule, canonical call data and the scope of every call; `validAfter`/`validUntil` go back in the
 * validation data (no TIMESTAMP). Bad signatures return SIG_VALIDATION_FAILED; policy violations revert with a
 * named error, so bundlers and the client can report the rule. All storage read here is keyed with the account
 * innermost.
 */
abstract contract AgentSessionsValidation is AgentSessionsScope, AgentSessionsSignature, IERC7579Validator {
    /// @inheritdoc IERC7579Validator
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external returns (uint256) {
        address account = msg.sender;
        if (userOp.signature.length != _SIG_LENGTH) return ERC4337Utils.SIG_VALIDATION_FAILED;
        bytes32 sessionId = _signedSessionId(userOp.signature);
        SessionData storage s = _liveSession(account, sessionId);

        if (s.uses >= s.maxUses) revert AgentSessionsUsageExceeded(s.maxUses);
        ++s.uses;
        _chargeGas(s, userOp);

        (bytes32 mode, bytes calldata payload) = CallPolicy.decodeOperation(userOp.callData);
        _checkScope(account, sessionId, s.allowTry, mode, payload);

        bool ok = _signedBy(userOp.signature, userOpHash, s.agent);
        return ERC4337Utils.packValidationData(ok, s.validAfter, s.validUntil);
    }

    function _chargeGas(SessionData storage s, PackedUserOperation calldata userOp) internal {
        uint256 gas =
            ERC4337Utils.verificationGasLimit(userOp) + ERC4337Utils.callGasLimit(userOp) + userOp.preVerificationGas;
        if (userOp.paymasterAndData.length != 0) {
            if (!s.allowPaymaster) revert AgentSessionsPaymasterNotAllowed(ERC4337Utils.paymaster(userOp));
            gas += ERC4337Utils.paymasterVerificationGasLimit(userOp) + ERC4337Utils.paymasterPostOpGasLimit(userOp);
        }
        uint256 cost = gas * ERC4337Utils.maxFeePerGas(userOp);
        uint256 remaining = s.gasBudget - s.gasSpent;
        if (cost > s.maxGasCostPerOp || cost > remaining) {
            revert AgentSessionsGasBudgetExceeded(cost, s.maxGasCostPerOp, remaining);
        }
        s.gasSpent += uint96(cost); // cost ≤ gasBudget - gasSpent < 2^96
    }
}
