// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Execution} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {ICircuitBreaker} from "../interfaces/ICircuitBreaker.sol";
import {ISessionsAccountConfig} from "../interfaces/ISessionsAccountConfig.sol";
import {CallPolicy} from "../libraries/CallPolicy.sol";
import {SpendWindow} from "../libraries/SpendWindow.sol";
import {SecurityDelayed} from "./shared/SecurityDelayed.sol";

/**
 * @title CircuitBreaker
 * @notice Automatic circuit breaker for agent sessions. Within any `window` seconds (a sliding window, see
 * {SpendWindow}) it trips — and {AgentSessions} pauses every agent session of the account — when an agent
 * operation would take: the number of agent operations above `maxOps`; the number of first-time recipients
 * (native value, `transfer`, `transferFrom(account, …)`, approval spender) above `maxNewRecipients`; or the
 * calldata-visible spend of a token above its velocity limit. A limit of 0 turns its rule off.
 * @dev Only the session module it was built for may record operations (it never reverts to refuse: the tripping
 * operation is not executed and the pause persists). Accounts configure their own rules; tightening applies at
 * once, loosening (raising or removing a limit, shortening the window) waits the account's security delay in the
 * session module ({SecurityDelayed}: anyone applies it after the delay, it dies with the session epoch it was
 * proposed in, the account may cancel it). Storage is keyed with the account innermost. The execution phase
 * only: timestamps are fine. When no rule is configured an operation costs one storage read here.
 */
contract CircuitBreaker is ICircuitBreaker, SecurityDelayed {
    using SpendWindow for SpendWindow.State;

    /// @notice Rule that tripped.
    enum Rule {
        SpendVelocity,
        Operations,
        NewRecipients
    }

    /// @notice Rules of one account (0 = off).
    struct Config {
        uint32 window;
        uint32 maxOps;
        uint32 maxNewRecipients;
    }

    /// @dev The {SecurityDelayed} key of a pending change of the rules (its value is in `_pendingConfigs`).
    bytes32 private constant _CONFIG_CHANGE = keccak256("CircuitBreaker.configure");

    /// @notice The session module allowed to record operations.
    address public immutable sessions;

    mapping(address account => Config) private _configs;
    mapping(address account => Config) private _pendingConfigs;
    mapping(address account => SpendWindow.State) private _ops;
    mapping(address account => SpendWindow.State) private _recipients;
    mapping(address token => mapping(address account => SpendWindow.State)) private _spend;
    mapping(address token => mapping(address account => uint128)) private _spendLimits;
    mapping(address recipient => mapping(address account => bool)) private _seen;

    /// @notice The breaker tripped for `account`: `rule` saw `value` in its window, above `limit`.
    event BreakerTripped(address indexed account, Rule rule, address token, uint256 value, uint256 limit);
    /// @notice The rules of `account` changed (or a loosening change was proposed, with `readyAt`).
    event BreakerConfigured(address indexed account, Config config, uint48 readyAt);
    /// @notice A spend-velocity limit changed (or a loosening change was proposed, with `readyAt`).
    event SpendLimitSet(address indexed account, address indexed token, uint128 limit, uint48 readyAt);

    /// @notice Only the session module may record operations.
    error CircuitBreakerUnauthorized(address caller);
    /// @notice A window of zero seconds.
    error CircuitBreakerZeroWindow();
    /// @notice No loosening change is ready to apply: it applies from `readyAt` on (0: none is pending); it is `now_`.
    error CircuitBreakerNotReady(uint48 readyAt, uint256 now_);
    /// @notice The pending change was proposed in session epoch `proposed`; all sessions were revoked since
    /// (epoch `current`), which voids it.
    error CircuitBreakerChangeVoided(uint32 proposed, uint32 current);

    constructor(address sessions_) {
        sessions = sessions_;
    }

    /// @notice Set the calling account's rules. Loosening waits the security delay; apply with {applyConfig}.
    function configure(Config calldata config) external {
        _notDuringAgent();
        if (config.window == 0) revert CircuitBreakerZeroWindow();
        Config memory current = _configs[msg.sender];
        bool loosens =
            current.window != 0 &&
                (config.window < current.window ||
                    _loosensLimit(config.maxOps, current.maxOps) ||
                    _loosensLimit(config.maxNewRecipients, current.maxNewRecipients));
        if (loosens) {
            _pendingConfigs[msg.sender] = config;
            emit BreakerConfigured(msg.sender, config, _proposeChange(msg.sender, _CONFIG_CHANGE));
        } else {
            _setConfig(msg.sender, config);
        }
    }

    /// @notice Apply a loosening change of `account`'s rules once its delay has passed (anyone may call).
    function applyConfig(address account) external {
        _applyChange(account, _CONFIG_CHANGE);
        Config memory config = _pendingConfigs[account];
        delete _pendingConfigs[account];
        _setConfig(account, config);
    }

    /// @notice Cancel the calling account's pending loosening of its rules.
    function cancelConfig() external {
        _notDuringAgent();
        _cancelChange(msg.sender, _CONFIG_CHANGE);
        delete _pendingConfigs[msg.sender];
    }

    /// @notice Set the calling account's spend-velocity limit for `token` (raising or removing waits the delay).
    function setSpendLimit(address token, uint128 limit) external {
        _notDuringAgent();
        if (_loosensLimit(limit, _spendLimits[token][msg.sender])) {
            emit SpendLimitSet(msg.sender, token, limit, _proposeChange(msg.sender, _spendLimitChange(token, limit)));
        } else {
            _spendLimits[token][msg.sender] = limit;
            emit SpendLimitSet(msg.sender, token, limit, 0);
        }
    }

    /// @notice Apply a proposed loosening of a spend limit once its delay has passed (anyone may call).
    function applySpendLimit(address account, address token, uint128 limit) external {
        _applyChange(account, _spendLimitChange(token, limit));
        _spendLimits[token][account] = limit;
        emit SpendLimitSet(account, token, limit, 0);
    }

    /// @notice Cancel the calling account's pending loosening of its spend limit for `token` to `limit`.
    function cancelSpendLimit(address token, uint128 limit) external {
        _notDuringAgent();
        _cancelChange(msg.sender, _spendLimitChange(token, limit));
    }

    /// @notice `account`'s rules.
    function configOf(address account) external view returns (Config memory) {
        return _configs[account];
    }

    /// @notice `account`'s spend-velocity limit for `token`.
    function spendLimitOf(address account, address token) external view returns (uint128) {
        return _spendLimits[token][account];
    }

    /// @notice `account`'s pending loosening of its rules and when it applies (`readyAt` 0: none, or voided).
    function pendingConfigOf(address account) external view returns (Config memory config, uint48 readyAt) {
        readyAt = _changeReadyAt(account, _CONFIG_CHANGE);
        if (readyAt != 0) config = _pendingConfigs[account];
    }

    /// @notice When `account`'s proposed spend limit `limit` for `token` applies (0: none pending, or voided).
    function pendingSpendLimitOf(address account, address token, uint128 limit) external view returns (uint48) {
        return _changeReadyAt(account, _spendLimitChange(token, limit));
    }

    /// @inheritdoc ICircuitBreaker
    function recordOperation(
        address account,
        bytes32 mode,
        bytes calldata payload,
        address[] calldata tokens,
        uint256[] calldata amounts
    ) external returns (bool) {
        if (msg.sender != sessions) revert CircuitBreakerUnauthorized(msg.sender);
        Config memory cfg = _configs[account];
        if (cfg.window == 0) return false;
        uint256 nowTs = block.timestamp;
        uint256 ops = _ops[account].spentInWindow(cfg.window, nowTs) + 1;
        if (cfg.maxOps != 0 && ops > cfg.maxOps) return _trip(account, Rule.Operations, address(0), ops, cfg.maxOps);
        (address[] memory freshList, uint256 fresh) = _freshRecipients(account, mode, payload);
        uint256 recipients = _recipients[account].spentInWindow(cfg.window, nowTs) + fresh;
        if (cfg.maxNewRecipients != 0 && fresh != 0 && recipients > cfg.maxNewRecipients) {
            return _trip(account, Rule.NewRecipients, address(0), recipients, cfg.maxNewRecipients);
        }
        for (uint256 i = 0; i < tokens.length; ++i) {
            uint256 limit = _spendLimits[tokens[i]][account];
            if (limit == 0 || amounts[i] == 0) continue;
            uint256 velocity = _spend[tokens[i]][account].spentInWindow(cfg.window, nowTs) + amounts[i];
            if (velocity > limit) return _trip(account, Rule.SpendVelocity, tokens[i], velocity, limit);
        }
        for (uint256 i = 0; i < tokens.length; ++i) {
            if (amounts[i] != 0 && _spendLimits[tokens[i]][account] != 0) {
                _spend[tokens[i]][account].record(amounts[i], cfg.window, nowTs);
            }
        }
        _ops[account].record(1, cfg.window, nowTs);
        if (fresh != 0) _recipients[account].record(fresh, cfg.window, nowTs);
        // Marked only now: an operation that trips the breaker does nothing, so its recipients stay unseen.
        for (uint256 i = 0; i < fresh; ++i) _seen[freshList[i]][account] = true;
        return false;
    }

    function _trip(address account, Rule rule, address token, uint256 value, uint256 limit) private returns (bool) {
        emit BreakerTripped(account, rule, token, value, limit);
        return true;
    }

    function _setConfig(address account, Config memory config) private {
        if (_configs[account].window != config.window) {
            _ops[account].clearWindow();
            _recipients[account].clearWindow();
        }
        _configs[account] = config;
        emit BreakerConfigured(account, config, 0);
    }

    /// @dev The account's security delay and session epoch, from the session module.
    function _securityDelay(address account) internal view override returns (uint256 delay, uint32 epoch) {
        ISessionsAccountConfig.AccountData memory a = ISessionsAccountConfig(sessions).accountConfig(account);
        return (a.securityDelay, a.epoch);
    }

    function _revertNotReady(address, bytes32, uint48 readyAt) internal view override {
        revert CircuitBreakerNotReady(readyAt, block.timestamp);
    }

    function _revertVoided(address, bytes32, uint32 proposed, uint32 current) internal pure override {
        revert CircuitBreakerChangeVoided(proposed, current);
    }

    /// @dev The {SecurityDelayed} key of a proposed spend limit: the change commits to the token and the value.
    function _spendLimitChange(address token, uint128 limit) private pure returns (bytes32) {
        return keccak256(abi.encode(token, limit));
    }

    /// @dev Refused while an agent operation of the account executes: no agent call may configure its own breaker.
    function _notDuringAgent() private view {
        if (ISessionsAccountConfig(sessions).isAgentExecuting(msg.sender))
            revert CircuitBreakerUnauthorized(msg.sender);
    }

    /// @dev Marks the operation's recipients as seen; returns how many were new.
    /// @dev Recipients of the operation not seen before (each counted once, none marked yet).
    function _freshRecipients(
        address account,
        bytes32 mode,
        bytes calldata payload
    ) private view returns (address[] memory fresh, uint256 count) {
        (bool batch, ) = CallPolicy.isBatch(mode, true);
        if (!batch) {
            fresh = new address[](2);
            (address target, uint256 value, bytes calldata data) = CallPolicy.decodeSingle(payload);
            return (fresh, _freshOfCall(account, fresh, 0, target, value, data));
        }
        Execution[] calldata calls = CallPolicy.decodeBatch(payload);
        fresh = new address[](2 * calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            count = _freshOfCall(account, fresh, count, calls[i].target, calls[i].value, calls[i].callData);
        }
    }

    function _freshOfCall(
        address account,
        address[] memory fresh,
        uint256 count,
        address target,
        uint256 value,
        bytes calldata data
    ) private view returns (uint256) {
        if (value != 0) count = _addFresh(account, fresh, count, target);
        address counterparty = CallPolicy.outflow(account, target, data).counterparty;
        if (counterparty != address(0)) count = _addFresh(account, fresh, count, counterparty);
        return count;
    }

    function _addFresh(
        address account,
        address[] memory fresh,
        uint256 count,
        address recipient
    ) private view returns (uint256) {
        if (_seen[recipient][account]) return count;
        for (uint256 i = 0; i < count; ++i) if (fresh[i] == recipient) return count;
        fresh[count] = recipient;
        return count + 1;
    }
}
