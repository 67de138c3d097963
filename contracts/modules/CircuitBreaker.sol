// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Execution} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {ICircuitBreaker} from "../interfaces/ICircuitBreaker.sol";
import {ISessionsAccountConfig} from "../interfaces/ISessionsAccountConfig.sol";
import {CallPolicy} from "../libraries/CallPolicy.sol";
import {SpendWindow} from "../libraries/SpendWindow.sol";

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
 * session module. Storage is keyed with the account innermost. The execution phase only: timestamps are fine.
 * When no rule is configured an operation costs one storage read here.
 */
contract CircuitBreaker is ICircuitBreaker {
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

    struct Pending {
        Config config;
        uint48 readyAt;
    }

    /// @notice The session module allowed to record operations.
    address public immutable sessions;

    mapping(address account => Config) private _configs;
    mapping(address account => Pending) private _pending;
    mapping(address account => SpendWindow.State) private _ops;
    mapping(address account => SpendWindow.State) private _recipients;
    mapping(address token => mapping(address account => SpendWindow.State)) private _spend;
    mapping(address token => mapping(address account => uint128)) private _spendLimits;
    mapping(bytes32 tokenLimitKey => mapping(address account => uint48)) private _pendingSpendLimits;
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
    /// @notice No loosening change is ready to apply.
    error CircuitBreakerNotReady(uint48 readyAt);

    constructor(address sessions_) {
        sessions = sessions_;
    }

    /// @notice Set the calling account's rules. Loosening waits the security delay; apply with {applyConfig}.
    function configure(Config calldata config) external {
        if (config.window == 0) revert CircuitBreakerZeroWindow();
        Config memory current = _configs[msg.sender];
        bool loosens =
            current.window != 0 &&
                (config.window < current.window ||
                    _loosens(config.maxOps, current.maxOps) ||
                    _loosens(config.maxNewRecipients, current.maxNewRecipients));
        if (loosens) {
            uint48 readyAt = _readyAt(msg.sender);
            _pending[msg.sender] = Pending(config, readyAt);
            emit BreakerConfigured(msg.sender, config, readyAt);
        } else {
            _setConfig(msg.sender, config);
        }
    }

    /// @notice Apply a loosening change of `account`'s rules once its delay has passed (anyone may call).
    function applyConfig(address account) external {
        Pending memory p = _pending[account];
        if (p.readyAt == 0 || block.timestamp < p.readyAt) revert CircuitBreakerNotReady(p.readyAt);
        delete _pending[account];
        _setConfig(account, p.config);
    }

    /// @notice Set the calling account's spend-velocity limit for `token` (raising or removing waits the delay).
    function setSpendLimit(address token, uint128 limit) external {
        if (_loosens(limit, _spendLimits[token][msg.sender])) {
            uint48 readyAt = _readyAt(msg.sender);
            _pendingSpendLimits[keccak256(abi.encode(token, limit))][msg.sender] = readyAt;
            emit SpendLimitSet(msg.sender, token, limit, readyAt);
        } else {
            _spendLimits[token][msg.sender] = limit;
            emit SpendLimitSet(msg.sender, token, limit, 0);
        }
    }

    /// @notice Apply a proposed loosening of a spend limit once its delay has passed (anyone may call).
    function applySpendLimit(address account, address token, uint128 limit) external {
        bytes32 key = keccak256(abi.encode(token, limit));
        uint48 readyAt = _pendingSpendLimits[key][account];
        if (readyAt == 0 || block.timestamp < readyAt) revert CircuitBreakerNotReady(readyAt);
        delete _pendingSpendLimits[key][account];
        _spendLimits[token][account] = limit;
        emit SpendLimitSet(account, token, limit, 0);
    }

    /// @notice `account`'s rules.
    function configOf(address account) external view returns (Config memory) {
        return _configs[account];
    }

    /// @notice `account`'s spend-velocity limit for `token`.
    function spendLimitOf(address account, address token) external view returns (uint128) {
        return _spendLimits[token][account];
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
        uint256 fresh = _markRecipients(account, mode, payload);
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

    function _readyAt(address account) private view returns (uint48) {
        return uint48(block.timestamp + ISessionsAccountConfig(sessions).accountConfig(account).securityDelay);
    }

    /// @dev For limits where 0 means "off": raising it, or turning it off, loosens.
    function _loosens(uint256 next, uint256 current) private pure returns (bool) {
        return current != 0 && (next == 0 || next > current);
    }

    /// @dev Marks the operation's recipients as seen; returns how many were new.
    function _markRecipients(address account, bytes32 mode, bytes calldata payload) private returns (uint256 fresh) {
        (bool batch, ) = CallPolicy.isBatch(mode, true);
        if (!batch) {
            (address target, uint256 value, bytes calldata data) = CallPolicy.decodeSingle(payload);
            return _markCall(account, target, value, data);
        }
        Execution[] calldata calls = CallPolicy.decodeBatch(payload);
        for (uint256 i = 0; i < calls.length; ++i) {
            fresh += _markCall(account, calls[i].target, calls[i].value, calls[i].callData);
        }
    }

    function _markCall(
        address account,
        address target,
        uint256 value,
        bytes calldata data
    ) private returns (uint256 fresh) {
        if (value != 0) fresh += _mark(account, target);
        (, address counterparty, ) = CallPolicy.erc20Outflow(account, data);
        if (counterparty != address(0)) fresh += _mark(account, counterparty);
    }

    function _mark(address account, address recipient) private returns (uint256) {
        if (_seen[recipient][account]) return 0;
        _seen[recipient][account] = true;
        return 1;
    }
}
