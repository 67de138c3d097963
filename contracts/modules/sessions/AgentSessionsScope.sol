// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CallPolicy} from "../../libraries/CallPolicy.sol";
import {AgentSessionsStorage} from "./AgentSessionsStorage.sol";

/**
 * @title AgentSessionsScope
 * @notice The scope of a session, checked for every call in validation and again when a queued request runs:
 * no forbidden target ({AgentSessionsStorage-_checkTarget}), a permission for the target and selector, its value
 * cap, calldata length and argument conditions, and a budget in the session for every interpreted outflow
 * (default deny in validation).
 */
abstract contract AgentSessionsScope is AgentSessionsStorage {
    /// @dev Every call of the operation is inside the session's scope (the rules of {_checkCall}).
    function _checkScope(
        address account,
        bytes32 sessionId,
        bool allowTry,
        bytes32 mode,
        bytes calldata payload
    ) internal view {
        (bool batch, bool ok) = CallPolicy.isBatch(mode, allowTry);
        if (!ok) revert AgentSessionsModeNotAllowed(mode);
        uint256 n = CallPolicy.callCount(batch, payload);
        if (n == 0) revert AgentSessionsEmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            (address target, uint256 value, bytes calldata data) = CallPolicy.callAt(batch, payload, i);
            _checkCall(account, sessionId, i, target, value, data);
        }
    }

    function _checkCall(
        address account,
        bytes32 sessionId,
        uint256 index,
        address target,
        uint256 value,
        bytes calldata data
    ) internal view {
        bytes4 selector = CallPolicy.selectorOf(data);
        _checkTarget(account, index, target, selector);
        bytes32 permKey = _permissionKey(sessionId, target, selector);
        PermissionData storage p = _permissions[permKey][account];
        if (!p.allowed) revert AgentSessionsScopeViolation(index, target, selector);
        if (value > p.valueCap) revert AgentSessionsValueExceeded(index, value, p.valueCap);
        uint256 expectedLength = selector == bytes4(0) ? 0 : p.calldataLength;
        if ((selector == bytes4(0) || expectedLength != 0) && data.length != expectedLength) {
            revert AgentSessionsCalldataLength(index, data.length, expectedLength);
        }
        uint256 count = p.count;
        for (uint256 c = 0; c < count; ++c) {
            _checkCondition(account, permKey, p, index, c, data);
        }
        // Default deny in validation: every interpreted outflow is canonical and has a budget in this session.
        if (value != 0) _requireBudget(account, sessionId, address(0));
        CallPolicy.Outflow memory o = CallPolicy.outflow(account, target, data);
        if (o.amount != 0) _requireBudget(account, sessionId, o.token);
    }

    function _requireBudget(address account, bytes32 sessionId, address token) internal view {
        if (_budgets[_budgetKey(sessionId, token)][account].period == 0) revert AgentSessionsNoBudget(token);
    }

    function _checkCondition(
        address account,
        bytes32 permKey,
        PermissionData storage p,
        uint256 index,
        uint256 c,
        bytes calldata data
    ) internal view {
        uint64 packed = p.ops >> (16 * c);
        ConditionOp op = ConditionOp(uint8(packed));
        bytes32 actual = CallPolicy.word(data, uint8(packed >> 8));
        bool pass;
        if (op == ConditionOp.Equal) pass = actual == p.values[c];
        else if (op == ConditionOp.AtMost) pass = uint256(actual) <= uint256(p.values[c]);
        else if (op == ConditionOp.AtLeast) pass = uint256(actual) >= uint256(p.values[c]);
        else pass = _oneOf[_oneOfKey(permKey, p.generation, c, actual)][account];
        if (!pass) revert AgentSessionsConditionFailed(index, c, actual);
    }
}
