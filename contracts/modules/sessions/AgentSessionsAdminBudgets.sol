// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISessionsAccountConfig} from "../../interfaces/ISessionsAccountConfig.sol";
import {SpendWindow} from "../../libraries/SpendWindow.sol";
import {AgentSessionsAdminBase} from "./AgentSessionsAdminBase.sol";

/**
 * @title AgentSessionsAdminBudgets
 * @notice Budgets, fleet budgets, watched assets and the security delay of {AgentSessionsAdmin}: raising a limit,
 * a new period, unwatching an asset and lowering the delay are loosening (delayed); the rest applies at once.
 */
abstract contract AgentSessionsAdminBudgets is AgentSessionsAdminBase {
    using SpendWindow for SpendWindow.State;

    /// @notice A grant delegate tightens any session of the account: every budget field lowered or kept, same period.
    function tightenBudgetFor(address account, bytes32 sessionId, TokenBudget calldata budget) external delegated {
        _onlyDelegate(account);
        BudgetData storage b = _budgets[_budgetKey(sessionId, budget.token)][account];
        if (b.period == 0 || budget.period != b.period || _raises(b, budget)) {
            revert AgentSessionsInvalidConfig(ConfigField.TightenOnly);
        }
        _setBudget(account, sessionId, budget);
    }

    /// @notice Set a session's budget for one token. Any raised field, or another period, is loosening (delayed).
    function setBudget(bytes32 sessionId, TokenBudget calldata budget) external delegated {
        address account = _account();
        if (_sessions[sessionId][account].agent == address(0)) revert AgentSessionsUnknownSession(sessionId);
        BudgetData storage b = _budgets[_budgetKey(sessionId, budget.token)][account];
        // any new period restarts the window (clears its spend): loosening
        bool raises = b.period == 0 || budget.period != b.period || _raises(b, budget);
        if (raises && !_loosening(account)) return;
        _setBudget(account, sessionId, budget);
    }

    /// @notice Set the fleet budget of `token` (all sessions together). Raising is loosening (delayed).
    function setFleetBudget(address token, uint128 periodCap, uint128 lifetimeCap, uint32 period) external delegated {
        address account = _account();
        if (period == 0) revert AgentSessionsInvalidConfig(ConfigField.Period);
        FleetData storage f = _fleet[token][account];
        bool raises = periodCap > f.periodCap || lifetimeCap > f.lifetimeCap || period != f.period;
        if (f.set && raises && !_loosening(account)) return;
        if (f.set && period != f.period) f.window.clearWindow();
        _accounts[account].hasFleet = true;
        (f.periodCap, f.lifetimeCap, f.period, f.set) = (periodCap, lifetimeCap, period, true);
        emit FleetBudgetSet(account, token, periodCap, lifetimeCap, period);
    }

    /// @notice Set the security delay for loosening changes; lowering it is itself loosening.
    function setSecurityDelay(uint32 delay) external delegated {
        address account = _account();
        if (delay < _accounts[account].securityDelay && !_loosening(account)) return;
        _accounts[account].securityDelay = delay;
    }

    /**
     * @notice Watch assets (tightening: at once): every agent operation measures each watched asset's balance
     * (ERC-20 or ERC-721 `balanceOf`, `address(0)` for native ETH) and reverts on a drop that no budget of its
     * session pays for. Every budgeted token is watched automatically. At most 32 assets.
     */
    function watchAssets(address[] calldata assets) external delegated {
        for (uint256 i = 0; i < assets.length; ++i) _watch(msg.sender, assets[i]);
    }

    /// @notice Stop watching an asset (loosening: delayed).
    function unwatchAsset(address asset) external delegated {
        address account = _account();
        ISessionsAccountConfig.AccountData storage a = _accounts[account];
        uint256 listed = a.watchCount - (a.watchesNative ? 1 : 0);
        uint256 index = asset == address(0) ? (a.watchesNative ? 0 : listed) : _watchIndex(account, asset, listed);
        if (index == listed || !_loosening(account)) return;
        if (asset == address(0)) {
            a.watchesNative = false;
        } else {
            uint256 last = listed - 1;
            _watchAt[_indexKey(0, index)][account] = _watchAt[_indexKey(0, last)][account];
            delete _watchAt[_indexKey(0, last)][account];
        }
        --a.watchCount;
        ++a.watchVersion;
        emit AssetWatched(account, asset, false);
    }

    function _raises(BudgetData storage b, TokenBudget calldata budget) internal view returns (bool) {
        return
            budget.instantThreshold > b.instantThreshold ||
            budget.ceiling > b.ceiling ||
            budget.periodCap > b.periodCap ||
            budget.lifetimeCap > b.lifetimeCap;
    }

    function _setBudget(address account, bytes32 sessionId, TokenBudget memory budget) internal {
        if (budget.period == 0) revert AgentSessionsInvalidConfig(ConfigField.Period);
        if (budget.instantThreshold > budget.ceiling) revert AgentSessionsInvalidConfig(ConfigField.InstantThreshold);
        BudgetData storage b = _budgets[_budgetKey(sessionId, budget.token)][account];
        if (budget.ceiling > type(uint112).max) revert AgentSessionsInvalidConfig(ConfigField.InstantThreshold);
        if (b.period == 0) {
            _appendBudgetToken(sessionId, account, budget.token);
            _watch(account, budget.token);
        } else if (b.period != budget.period) b.window.clearWindow(); // sub-bucket length changes with the period
        b.instantThreshold = uint112(budget.instantThreshold); // ≤ ceiling ≤ 2^112 - 1, checked above
        b.ceiling = uint112(budget.ceiling);
        b.periodCap = budget.periodCap;
        b.lifetimeCap = budget.lifetimeCap;
        b.period = budget.period;
        emit BudgetSet(account, sessionId, budget.token, budget);
    }

    function _watch(address account, address asset) internal {
        ISessionsAccountConfig.AccountData storage a = _accounts[account];
        uint256 count = a.watchCount;
        bool native = a.watchesNative;
        if (
            asset == address(0)
                ? native
                : _watchIndex(account, asset, count - (native ? 1 : 0)) != count - (native ? 1 : 0)
        ) {
            return;
        }
        if (count == _MAX_WATCHED) revert AgentSessionsInvalidConfig(ConfigField.Watch);
        if (asset == address(0)) a.watchesNative = true;
        else _watchAt[_indexKey(0, count - (native ? 1 : 0))][account] = asset;
        a.watchCount = uint8(count + 1);
        ++a.watchVersion;
        emit AssetWatched(account, asset, true);
    }
}
