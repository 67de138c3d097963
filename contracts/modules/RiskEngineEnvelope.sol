// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAgentSessions} from "../interfaces/IAgentSessions.sol";
import {ISessionsAccountConfig} from "../interfaces/ISessionsAccountConfig.sol";
import {SecurityDelayed} from "./shared/SecurityDelayed.sol";

/// @dev The {AgentSessions} functions a grant delegate uses.
interface IAgentSessionsDelegated is IAgentSessions, ISessionsAccountConfig {
    function grantSessionFor(address account, SessionConfig calldata config) external returns (bytes32);
    function renewSessionFor(address account, bytes32 sessionId, uint48 validUntil) external;
    function tightenBudgetFor(address account, bytes32 sessionId, TokenBudget calldata budget) external;
    function revokeFor(address account, bytes32 sessionId) external;
}

/**
 * @title RiskEngineEnvelope
 * @notice Lets an account's owner delegate session management to an automated risk engine (a key run by a risk
 * assessment service or the Reins monitor) inside an envelope: maximum duration, uses, gas, allowed targets and
 * per-token maximum budgets. Inside it, the engine grants and renews sessions at once; anywhere, it may tighten
 * budgets or revoke sessions. It can never loosen beyond the envelope, unpause, or move funds.
 * @dev The account registers this contract as a grant delegate in {AgentSessions} (`setGrantDelegate`, which
 * waits the account's security delay) and sets envelopes here with {setEnvelope} (msg.sender = the account, i.e.
 * an owner operation). An envelope is itself a loosening: it applies after the session module's security delay
 * for the account ({SecurityDelayed}: the envelope is a delayed change keyed by the engine that takes effect by
 * maturing; it dies with the session epoch it was set in, e.g. a revoke-all by guardian recovery). Storage is
 * keyed with the account innermost.
 */
contract RiskEngineEnvelope is SecurityDelayed {
    /// @notice What an engine may grant.
    struct Envelope {
        uint48 maxDuration;
        uint32 maxUses;
        uint128 maxGasBudget;
        uint128 maxGasCostPerOp;
    }

    /// @notice The session module this contract delegates to.
    IAgentSessionsDelegated public immutable sessions;

    mapping(address engine => mapping(address account => Envelope)) private _envelopes;
    mapping(bytes32 engineTargetKey => mapping(address account => bool)) private _targets;
    mapping(bytes32 engineTokenKey => mapping(address account => IAgentSessions.TokenBudget)) private _caps;

    /// @notice `account` set an envelope for `engine`, active from `activeFrom`.
    event EnvelopeSet(address indexed account, address indexed engine, Envelope envelope, uint48 activeFrom);
    /// @notice `account` removed `engine`.
    event EngineRemoved(address indexed account, address indexed engine);
    /// @notice `engine` granted a session inside its envelope.
    event SessionGrantedByEngine(address indexed account, address indexed engine, bytes32 sessionId);

    /// @notice The caller is not an active engine of the account.
    error RiskEngineUnauthorized(address account, address caller);
    /// @notice A request falls outside the envelope: `field` names the limit.
    error RiskEngineEnvelopeExceeded(string field);

    constructor(IAgentSessionsDelegated sessions_) {
        sessions = sessions_;
    }

    /**
     * @notice Set the envelope of `engine` for the calling account. It becomes active after the account's
     * security delay in the session module. Targets and caps are added to what the engine already had.
     * @param caps Per-token maximum budgets; `period` is the shortest period the engine may use.
     */
    function setEnvelope(
        address engine,
        Envelope calldata envelope,
        address[] calldata targets,
        IAgentSessions.TokenBudget[] calldata caps
    ) external {
        if (sessions.isAgentExecuting(msg.sender)) revert RiskEngineUnauthorized(msg.sender, msg.sender);
        uint48 activeFrom = _proposeChange(msg.sender, _engineKey(engine));
        _envelopes[engine][msg.sender] = envelope;
        for (uint256 i = 0; i < targets.length; ++i) _targets[_key(engine, targets[i])][msg.sender] = true;
        for (uint256 i = 0; i < caps.length; ++i) _caps[_key(engine, caps[i].token)][msg.sender] = caps[i];
        emit EnvelopeSet(msg.sender, engine, envelope, activeFrom);
    }

    /// @notice Remove `engine` from the calling account (at once).
    function removeEngine(address engine) external {
        _discardChange(msg.sender, _engineKey(engine));
        delete _envelopes[engine][msg.sender];
        emit EngineRemoved(msg.sender, engine);
    }

    /// @notice The engine grants a session for `account` inside its envelope.
    function grant(address account, IAgentSessions.SessionConfig calldata config) external returns (bytes32 id) {
        Envelope memory env = _activeEnvelope(account);
        if (config.validUntil > block.timestamp + env.maxDuration) revert RiskEngineEnvelopeExceeded("validUntil");
        if (config.maxUses > env.maxUses) revert RiskEngineEnvelopeExceeded("maxUses");
        if (config.gasBudget > env.maxGasBudget) revert RiskEngineEnvelopeExceeded("gasBudget");
        if (config.maxGasCostPerOp > env.maxGasCostPerOp) revert RiskEngineEnvelopeExceeded("maxGasCostPerOp");
        if (config.allowPaymaster || config.allowTry) revert RiskEngineEnvelopeExceeded("flags");
        for (uint256 i = 0; i < config.permissions.length; ++i) {
            if (!_targets[_key(msg.sender, config.permissions[i].target)][account]) {
                revert RiskEngineEnvelopeExceeded("target");
            }
        }
        for (uint256 i = 0; i < config.budgets.length; ++i) _checkBudget(account, config.budgets[i]);
        id = sessions.grantSessionFor(account, config);
        emit SessionGrantedByEngine(account, msg.sender, id);
    }

    /// @notice The engine renews a session it granted, at most `maxDuration` from now.
    function renew(address account, bytes32 sessionId, uint48 validUntil) external {
        Envelope memory env = _activeEnvelope(account);
        if (validUntil > block.timestamp + env.maxDuration) revert RiskEngineEnvelopeExceeded("validUntil");
        sessions.renewSessionFor(account, sessionId, validUntil);
    }

    /// @notice The engine lowers a session's budget (the session module refuses any raise).
    function tighten(address account, bytes32 sessionId, IAgentSessions.TokenBudget calldata budget) external {
        _activeEnvelope(account);
        sessions.tightenBudgetFor(account, sessionId, budget);
    }

    /// @notice The engine revokes a session of `account`.
    function revoke(address account, bytes32 sessionId) external {
        _activeEnvelope(account);
        sessions.revokeFor(account, sessionId);
    }

    /// @notice The envelope of `engine` for `account` and when it becomes (or became) active.
    function envelopeOf(address engine, address account) external view returns (Envelope memory, uint48 activeFrom) {
        return (_envelopes[engine][account], _delayedChange(account, _engineKey(engine)).readyAt);
    }

    /// @dev The account's security delay and session epoch, from the session module.
    function _securityDelay(address account) internal view override returns (uint256 delay, uint32 epoch) {
        ISessionsAccountConfig.AccountData memory a = sessions.accountConfig(account);
        return (a.securityDelay, a.epoch);
    }

    /// @dev {EnvelopeSet} and {EngineRemoved} report the envelope changes (their logs are this module's interface).
    function _changeEvent(ChangeEvent, address, bytes32, uint48, uint32) internal pure override {}

    /// @dev The envelope of the calling engine for `account`, if it is set, past its delay and of this epoch.
    function _activeEnvelope(address account) private view returns (Envelope memory) {
        if (!_changeMatured(account, _engineKey(msg.sender))) revert RiskEngineUnauthorized(account, msg.sender);
        return _envelopes[msg.sender][account];
    }

    /// @dev The {SecurityDelayed} key of `engine`'s envelope.
    function _engineKey(address engine) private pure returns (bytes32) {
        return bytes32(uint256(uint160(engine)));
    }

    function _checkBudget(address account, IAgentSessions.TokenBudget calldata b) private view {
        IAgentSessions.TokenBudget storage cap = _caps[_key(msg.sender, b.token)][account];
        if (
            cap.period == 0 ||
            b.period < cap.period ||
            b.instantThreshold > cap.instantThreshold ||
            b.ceiling > cap.ceiling ||
            b.periodCap > cap.periodCap ||
            b.lifetimeCap > cap.lifetimeCap
        ) revert RiskEngineEnvelopeExceeded("budget");
    }

    function _key(address engine, address item) private pure returns (bytes32) {
        return keccak256(abi.encode(engine, item));
    }
}
