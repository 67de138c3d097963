// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @title ICircuitBreaker
 * @notice An automatic circuit breaker that {AgentSessions} consults in the execution phase of every agent
 * operation of an account that attached it.
 */
interface ICircuitBreaker {
    /**
     * @notice Count an agent operation of `account` and say whether it trips the breaker.
     * @dev Called by the session module only. When it returns true the module pauses the account's sessions and
     * does not execute the operation; the breaker must therefore not revert to refuse.
     * @param account The account.
     * @param mode ERC-7579 mode of the operation (single or batch).
     * @param payload ERC-7579 execution payload.
     * @param tokens The session's budgeted tokens (`address(0)` = native).
     * @param amounts Calldata-visible spend per token.
     * @return tripped Whether the operation trips the breaker.
     */
    function recordOperation(
        address account,
        bytes32 mode,
        bytes calldata payload,
        address[] calldata tokens,
        uint256[] calldata amounts
    ) external returns (bool tripped);
}
