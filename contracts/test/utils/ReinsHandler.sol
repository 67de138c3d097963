// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IEntryPoint} from "@account-abstraction/contracts/interfaces/IEntryPoint.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {MODULE_TYPE_VALIDATOR, IERC7579ModuleConfig} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ReinsAccount} from "../../account/ReinsAccount.sol";
import {AgentSessions} from "../../modules/AgentSessions.sol";
import {ReinsTimelock} from "../../modules/ReinsTimelock.sol";
import {GuardianRecovery} from "../../modules/GuardianRecovery.sol";
import {IAgentSessions} from "../../interfaces/IAgentSessions.sol";
import {MockERC20} from "../../mocks/MockERC20.sol";
import {Vm} from "./Vm.sol";

/**
 * @title ReinsHandler
 * @notice Invariant-test handler: random sequences of owner, agent, watchdog, guardian and keeper actions on one
 * Reins account. Agent actions are real UserOperations signed with the session key and sent through
 * `EntryPoint.handleOps`; owner actions are the calls an owner operation would make (the account as caller).
 * Ghost variables record every token outflow caused by an agent (per session, with its timestamp), and count
 * any event that must never happen (a dead session or a paused account authorising something, a queued
 * operation running twice).
 */
contract ReinsHandler {
    // solhint-disable-next-line const-name-snakecase
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    uint256 public constant MAX_SESSIONS = 4;
    uint32 public constant PERIOD = 1 days;
    uint128 public constant INSTANT = 100e6;
    // caps small against the operation sizes, so that a 25-call sequence reaches them
    uint128 public constant CEILING = 150e6;
    uint128 public constant PERIOD_CAP = 200e6;
    uint128 public constant LIFETIME_CAP = 400e6;
    uint128 public constant FLEET_PERIOD_CAP = 300e6;
    uint128 public constant FLEET_LIFETIME_CAP = 600e6;
    uint256 public constant RECIPIENTS = 3;

    struct Outflow {
        uint64 at;
        uint8 session;
        uint128 amount;
    }

    struct Queued {
        bytes32 id;
        bytes32 mode;
        bytes payload;
        uint8 session;
        bool approved;
        bool executed;
    }

    IEntryPoint public immutable entryPoint;
    ReinsAccount public immutable account;
    AgentSessions public immutable sessions;
    ReinsTimelock public immutable timelock;
    GuardianRecovery public immutable recovery;
    MockERC20 public immutable token;
    address public immutable ownerValidator;
    address public immutable watchdog;
    uint256 internal immutable _guardianKey;
    address internal immutable _bundler = address(0xB0B);

    uint256[MAX_SESSIONS] internal _agentKeys;
    bytes32[] public sessionIds;
    bool[] public revokedByOwner;

    // ghost state
    Outflow[] internal _outflows;
    Queued[] internal _queue;
    address public ghostOwner;
    bool public ghostPaused;
    bool public allSessionsRecovered; // a completed recovery revoked every session granted before it
    uint256 public sessionsBeforeRecovery;
    uint256 public deadSessionAuthorised;
    uint256 public pausedAgentRan;
    uint256 public doubleExecution;
    uint256 public approvedOutflow;
    // coverage of the campaign (for the sanity test)
    uint256 public agentOpsRun;
    uint256 public agentOpsRefused;
    uint256 public queuedRuns;
    uint256 public recoveries;

    constructor(
        IEntryPoint entryPoint_,
        ReinsAccount account_,
        AgentSessions sessions_,
        ReinsTimelock timelock_,
        GuardianRecovery recovery_,
        MockERC20 token_,
        address ownerValidator_,
        address watchdog_,
        uint256 guardianKey_,
        address owner_
    ) {
        entryPoint = entryPoint_;
        account = account_;
        sessions = sessions_;
        timelock = timelock_;
        recovery = recovery_;
        token = token_;
        ownerValidator = ownerValidator_;
        watchdog = watchdog_;
        _guardianKey = guardianKey_;
        ghostOwner = owner_;
        for (uint256 i = 0; i < MAX_SESSIONS; ++i) _agentKeys[i] = 0xA6E47 + i;
    }

    // ============================================================================================ owner

    /// @notice The owner grants a new session (one of four agent keys), while fewer than four exist.
    function ownerGrant() public {
        uint256 n = sessionIds.length;
        if (n >= MAX_SESSIONS) return;
        vm.prank(address(account));
        bytes32 id = sessions.grantSession(_config(vm.addr(_agentKeys[n])));
        sessionIds.push(id);
        revokedByOwner.push(false);
    }

    /// @notice The owner revokes a session.
    function ownerRevoke(uint256 seed) external {
        if (sessionIds.length == 0) return;
        uint256 i = seed % sessionIds.length;
        vm.prank(address(account));
        sessions.revokeSession(sessionIds[i]);
        revokedByOwner[i] = true;
    }

    /// @notice The owner unpauses.
    function ownerUnpause() external {
        vm.prank(address(account));
        sessions.unpause();
        ghostPaused = false;
    }

    /// @notice The owner approves a queued operation (its outflow is then the owner's, not the agent's).
    function ownerApprove(uint256 seed) external {
        if (_queue.length == 0) return;
        Queued storage q = _queue[seed % _queue.length];
        vm.prank(address(account));
        try timelock.approve(q.id) {
            q.approved = true;
        } catch {}
    }

    // ============================================================================================ watchdog

    /// @notice The watchdog pauses, optionally clearing the queue.
    function watchdogPause(bool cancelQueued) external {
        vm.prank(watchdog);
        sessions.pause(address(account), cancelQueued);
        ghostPaused = true;
    }

    // ============================================================================================ guardian

    /// @notice The guardian proposes a recovery to a fresh owner, or completes the pending one once it is ready.
    function guardianRecover(uint256 seed) external {
        (address pendingOwner, uint48 readyAt) = _pendingRecovery();
        if (readyAt == 0) {
            address newOwner = vm.addr((uint256(keccak256(abi.encode("owner", seed))) % (2 ** 160)) + 1);
            bytes32 digest = recovery.recoveryDigest(address(account), newOwner);
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(_guardianKey, digest);
            bytes[] memory sigs = new bytes[](1);
            sigs[0] = abi.encodePacked(vm.addr(_guardianKey), r, s, v);
            recovery.proposeRecovery(address(account), newOwner, sigs);
        } else if (block.timestamp >= readyAt) {
            recovery.completeRecovery(address(account));
            ghostOwner = pendingOwner;
            allSessionsRecovered = true;
            sessionsBeforeRecovery = sessionIds.length;
            ++recoveries;
        }
    }

    // ============================================================================================ time

    /// @notice Time passes: one minute to eight hours, one time in eight up to a day and a half.
    function warp(uint256 seed) external {
        vm.warp(block.timestamp + 60 + (seed % (seed % 8 == 0 ? 36 hours : 8 hours)));
    }

    // ============================================================================================ agent

    /**
     * @notice An agent signs and sends a UserOperation: a transfer, a batch of two transfers, a transfer to a
     * recipient outside the scope, an approve, or a call that tries to change the account's configuration (install
     * a module, raise its budget, approve a queued op, withdraw the deposit, unpause).
     */
    function agentOp(uint256 sessionSeed, uint256 kind, uint256 amountSeed, uint256 recipientSeed) external {
        if (sessionIds.length == 0) ownerGrant();
        uint256 i = sessionSeed % sessionIds.length;
        kind = kind % 12;
        // mostly transfers (0: single, 1: batch); then out of scope (2), approve (3), configuration attacks (4..8)
        kind =
            kind < 7
                ? 0
                : kind < 9
                    ? 1
                    : kind < 10
                        ? kind - 7
                        : kind == 10
                            ? 3
                            : 4 + (amountSeed % 5);
        // mostly instant-tier amounts, one in four up to one and a half ceilings
        uint256 amount = 1 + (amountSeed % (amountSeed % 4 == 0 ? 250e6 : 100e6));
        address to = _recipient(recipientSeed);
        (bytes32 mode, bytes memory payload) = _agentCalls(i, kind, amount, to);
        bool dead = _isDead(i);
        bool paused = ghostPaused;

        uint256 before = token.balanceOf(address(account));
        uint64 queueNonce = timelock.nonceOf(address(account));
        bool ran = _send(i, mode, payload);
        uint256 afterwards = token.balanceOf(address(account));

        if (ran) {
            ++agentOpsRun;
            if (dead) ++deadSessionAuthorised;
            if (paused) ++pausedAgentRan;
        } else {
            ++agentOpsRefused;
        }
        if (afterwards < before)
            _outflows.push(Outflow(uint64(block.timestamp), uint8(i), uint128(before - afterwards)));
        if (timelock.nonceOf(address(account)) != queueNonce) {
            bytes32 id = timelock.hashOperation(address(account), queueNonce, mode, payload);
            _queue.push(Queued(id, mode, payload, uint8(i), false, false));
        }
    }

    /// @notice A keeper (anyone) runs a queued operation.
    function keeperExecute(uint256 seed) external {
        if (_queue.length == 0) return;
        Queued storage q = _queue[seed % _queue.length];
        bool dead = _isDead(q.session);
        bool paused = ghostPaused;
        uint256 before = token.balanceOf(address(account));
        try timelock.execute(address(account), q.id, q.mode, q.payload) {
            ++queuedRuns;
            if (q.executed) ++doubleExecution;
            q.executed = true;
            if (dead) ++deadSessionAuthorised;
            if (paused) ++pausedAgentRan;
            uint256 drop = before - token.balanceOf(address(account));
            if (q.approved) approvedOutflow += drop;
            else if (drop != 0) _outflows.push(Outflow(uint64(block.timestamp), q.session, uint128(drop)));
        } catch {}
    }

    // ============================================================================================ views

    function sessionCount() external view returns (uint256) {
        return sessionIds.length;
    }

    function outflowCount() external view returns (uint256) {
        return _outflows.length;
    }

    function outflow(uint256 i) external view returns (Outflow memory) {
        return _outflows[i];
    }

    function queueLength() external view returns (uint256) {
        return _queue.length;
    }

    function recipient(uint256 i) public pure returns (address) {
        return address(uint160(0xBEEF00 + i));
    }

    // ============================================================================================ internals

    function _isDead(uint256 i) internal view returns (bool) {
        if (revokedByOwner[i]) return true;
        if (allSessionsRecovered && i < sessionsBeforeRecovery) return true;
        return block.timestamp >= sessions.getSession(sessionIds[i], address(account)).validUntil;
    }

    function _pendingRecovery() internal view returns (address newOwner, uint48 readyAt) {
        return recovery.pendingRecovery(address(account));
    }

    function _recipient(uint256 seed) internal pure returns (address) {
        return recipient(seed % RECIPIENTS);
    }

    function _agentCalls(
        uint256 i,
        uint256 kind,
        uint256 amount,
        address to
    ) internal view returns (bytes32 mode, bytes memory payload) {
        address t = address(token);
        if (kind == 0) return (bytes32(0), abi.encodePacked(t, uint256(0), _transfer(to, amount)));
        if (kind == 1) {
            bytes memory one = abi.encodePacked(t, uint256(0), _transfer(to, amount / 2));
            bytes memory two = abi.encodePacked(t, uint256(0), _transfer(_recipient(amount), amount - amount / 2));
            return (bytes32(uint256(0x01) << 248), _batch(one, two));
        }
        if (kind == 2) return (bytes32(0), abi.encodePacked(t, uint256(0), _transfer(address(0xBAD), amount)));
        if (kind == 3) {
            return (
                bytes32(0),
                abi.encodePacked(t, uint256(0), abi.encodeWithSignature("approve(address,uint256)", to, amount))
            );
        }
        bytes memory data;
        address target;
        if (kind == 4) {
            (target, data) = (
                address(account),
                abi.encodeCall(IERC7579ModuleConfig.installModule, (MODULE_TYPE_VALIDATOR, address(this), ""))
            );
        } else if (kind == 5) {
            IAgentSessions.TokenBudget memory raised = IAgentSessions.TokenBudget(
                t,
                type(uint128).max,
                type(uint128).max,
                type(uint128).max,
                type(uint128).max,
                PERIOD
            );
            (target, data) = (address(sessions), abi.encodeCall(IAgentSessions.setBudget, (sessionIds[i], raised)));
        } else if (kind == 6) {
            bytes32 id = _queue.length == 0 ? bytes32(0) : _queue[amount % _queue.length].id;
            (target, data) = (address(timelock), abi.encodeCall(ReinsTimelock.approve, (id)));
        } else if (kind == 7) {
            (target, data) = (address(entryPoint), abi.encodeWithSignature("withdrawTo(address,uint256)", to, 1 ether));
        } else {
            (target, data) = (address(sessions), abi.encodeCall(IAgentSessions.unpause, ()));
        }
        return (bytes32(0), abi.encodePacked(target, uint256(0), data));
    }

    function _transfer(address to, uint256 amount) internal pure returns (bytes memory) {
        return abi.encodeWithSignature("transfer(address,uint256)", to, amount);
    }

    /// @dev ERC-7579 batch calldata: abi.encode(Execution[]) of two executions.
    function _batch(bytes memory one, bytes memory two) internal pure returns (bytes memory) {
        Exec[] memory calls = new Exec[](2);
        calls[0] = _decode(one);
        calls[1] = _decode(two);
        return abi.encode(calls);
    }

    struct Exec {
        address target;
        uint256 value;
        bytes callData;
    }

    function _decode(bytes memory packed) internal pure returns (Exec memory e) {
        address target;
        assembly ("memory-safe") {
            target := shr(96, mload(add(packed, 32)))
        }
        bytes memory data = new bytes(packed.length - 52);
        for (uint256 k = 0; k < data.length; ++k) data[k] = packed[52 + k];
        return Exec(target, 0, data);
    }

    /// @dev Build, sign and send one agent UserOperation; true if `handleOps` did not revert.
    function _send(uint256 i, bytes32 mode, bytes memory payload) internal returns (bool) {
        PackedUserOperation memory op;
        op.sender = address(account);
        op.nonce = entryPoint.getNonce(address(account), uint192(uint160(address(sessions))) << 32);
        op.callData = abi.encodePacked(
            ReinsAccount.executeUserOp.selector,
            abi.encodeCall(ReinsAccount.execute, (mode, payload))
        );
        op.accountGasLimits = bytes32((uint256(400_000) << 128) | 1_000_000);
        op.preVerificationGas = 60_000;
        op.gasFees = bytes32((uint256(1 gwei) << 128) | 1 gwei);
        bytes32 sessionId = sessionIds[i];
        bytes32 userOpHash = entryPoint.getUserOpHash(op);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(
            _agentKeys[i],
            sessions.sessionOperationDigest(userOpHash, sessionId, bytes32(0))
        );
        op.signature = abi.encodePacked(sessionId, bytes32(0), r, s, v);
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = op;
        try entryPoint.handleOps(ops, payable(_bundler)) {
            return true;
        } catch {
            return false;
        }
    }

    function _config(address agent) internal view returns (IAgentSessions.SessionConfig memory c) {
        c.agent = agent;
        c.validAfter = 0;
        c.validUntil = uint48(block.timestamp + 20 days);
        c.maxUses = 10_000;
        c.maxGasCostPerOp = 1e16;
        c.gasBudget = 1e20;
        c.queueDelay = 1 hours;
        c.approvalWindow = 2 days;
        bytes32[] memory oneOf = new bytes32[](RECIPIENTS);
        for (uint256 k = 0; k < RECIPIENTS; ++k) oneOf[k] = bytes32(uint256(uint160(recipient(k))));
        IAgentSessions.Condition[] memory conds = new IAgentSessions.Condition[](1);
        conds[0] = IAgentSessions.Condition(IAgentSessions.ConditionOp.OneOf, 0, bytes32(0), oneOf);
        c.permissions = new IAgentSessions.Permission[](2);
        c.permissions[0] = IAgentSessions.Permission(address(token), 0xa9059cbb, 0, 68, conds);
        c.permissions[1] = IAgentSessions.Permission(address(token), 0x095ea7b3, 0, 68, conds);
        c.budgets = new IAgentSessions.TokenBudget[](1);
        c.budgets[0] = IAgentSessions.TokenBudget(address(token), INSTANT, CEILING, PERIOD_CAP, LIFETIME_CAP, PERIOD);
    }
}
