// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EntryPoint} from "@account-abstraction/contracts/core/EntryPoint.sol";
import {IEntryPoint} from "@account-abstraction/contracts/interfaces/IEntryPoint.sol";
import {MODULE_TYPE_VALIDATOR, MODULE_TYPE_EXECUTOR} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ReinsAccount} from "../account/ReinsAccount.sol";
import {ReinsAccountStorage} from "../account/base/ReinsAccountStorage.sol";
import {ReinsAccountFactory} from "../account/ReinsAccountFactory.sol";
import {OwnerValidator} from "../modules/OwnerValidator.sol";
import {AgentSessions} from "../modules/AgentSessions.sol";
import {ReinsTimelock} from "../modules/ReinsTimelock.sol";
import {GuardianRecovery} from "../modules/GuardianRecovery.sol";
import {GuardianRecoveryStorage} from "../modules/recovery/GuardianRecoveryStorage.sol";
import {IAgentSessions} from "../interfaces/IAgentSessions.sol";
import {IReinsTimelock} from "../interfaces/IReinsTimelock.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {ReinsHandler} from "./utils/ReinsHandler.sol";
import {TestBase} from "./utils/Vm.sol";

/**
 * @notice Invariant test of the whole system: EntryPoint v0.8 (compiled locally and etched at its canonical
 * address), a Reins account created by the factory with OwnerValidator (root), AgentSessions (validator + executor),
 * ReinsTimelock and GuardianRecovery (executors), driven by {ReinsHandler}'s random sequences of owner, agent
 * (real UserOperations), watchdog, guardian, keeper and time actions.
 * Runs: `test.solidity.profiles.<profile>.invariant.runs` (default 1,000; `deep` 10,000).
 */
contract ReinsInvariantTest is TestBase {
    /// @dev Matches Foundry's `FuzzSelector`.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address internal constant CANONICAL_ENTRYPOINT = 0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108;
    uint256 internal constant OWNER_KEY = 0x0A11CE;
    uint256 internal constant GUARDIAN_KEY = 0x6A4D;
    address internal constant WATCHDOG = address(0xD06);

    ReinsHandler internal handler;
    ReinsAccount internal account;
    AgentSessions internal sessions;
    ReinsTimelock internal timelock;
    GuardianRecovery internal recovery;
    OwnerValidator internal ownerValidator;
    MockERC20 internal token;

    function setUp() public {
        vm.warp(1_700_000_000);
        EntryPoint ep = new EntryPoint();
        vm.etch(CANONICAL_ENTRYPOINT, address(ep).code);
        ownerValidator = new OwnerValidator();
        ReinsAccountFactory factory = new ReinsAccountFactory(address(new ReinsAccount()), address(this));
        timelock = new ReinsTimelock();
        sessions = new AgentSessions(IReinsTimelock(address(timelock)));
        recovery = new GuardianRecovery();
        token = new MockERC20("Test USD", "TUSD", 6);

        ReinsAccountStorage.ModuleInit[] memory modules = new ReinsAccountStorage.ModuleInit[](4);
        modules[0] = ReinsAccountStorage.ModuleInit(MODULE_TYPE_VALIDATOR, address(sessions), "");
        modules[1] = ReinsAccountStorage.ModuleInit(MODULE_TYPE_EXECUTOR, address(sessions), "");
        address[] memory cancellers = new address[](1);
        cancellers[0] = address(sessions);
        modules[2] = ReinsAccountStorage.ModuleInit(MODULE_TYPE_EXECUTOR, address(timelock), abi.encode(cancellers));
        modules[3] = ReinsAccountStorage.ModuleInit(MODULE_TYPE_EXECUTOR, address(recovery), _recoveryInit());
        bytes memory initCall = abi.encodeCall(
            ReinsAccount.initialize,
            (address(ownerValidator), abi.encodePacked(vm.addr(OWNER_KEY)), modules)
        );
        account = ReinsAccount(payable(factory.createAccount(initCall, bytes32(0))));
        vm.deal(address(account), 1_000 ether);
        token.mint(address(account), 1_000_000e6);

        handler = new ReinsHandler(
            IEntryPoint(CANONICAL_ENTRYPOINT),
            account,
            sessions,
            timelock,
            recovery,
            token,
            address(ownerValidator),
            WATCHDOG,
            GUARDIAN_KEY,
            vm.addr(OWNER_KEY)
        );
        // owner configuration (what an owner operation would call): watchdog and fleet budget
        vm.prank(address(account));
        sessions.setWatchdog(WATCHDOG, true);
        (uint128 fleetPeriodCap, uint128 fleetLifetimeCap, uint32 period) = (
            handler.FLEET_PERIOD_CAP(),
            handler.FLEET_LIFETIME_CAP(),
            handler.PERIOD()
        );
        vm.prank(address(account)); // (arguments first: a prank applies to the next call)
        sessions.setFleetBudget(address(token), fleetPeriodCap, fleetLifetimeCap, period);
        (bool fleetSet, , ) = sessions.fleetRemaining(address(account), address(token));
        assertTrue(fleetSet, "fleet budget set");
        handler.ownerGrant();
    }

    function _recoveryInit() internal view returns (bytes memory) {
        address[] memory guardians = new address[](1);
        guardians[0] = vm.addr(GUARDIAN_KEY);
        GuardianRecoveryStorage.Call[] memory onRecovery = new GuardianRecoveryStorage.Call[](1);
        onRecovery[0] = GuardianRecoveryStorage.Call(
            address(sessions),
            abi.encodeCall(IAgentSessions.revokeAllSessions, ())
        );
        return abi.encode(guardians, uint8(1), uint32(2 days), uint32(1 days), uint32(3 days), onRecovery);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice Agent actions are weighted up (listed several times).
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory s = new bytes4[](14);
        s[0] = ReinsHandler.agentOp.selector;
        s[1] = ReinsHandler.agentOp.selector;
        s[2] = ReinsHandler.agentOp.selector;
        s[3] = ReinsHandler.agentOp.selector;
        s[4] = ReinsHandler.agentOp.selector;
        s[5] = ReinsHandler.keeperExecute.selector;
        s[6] = ReinsHandler.keeperExecute.selector;
        s[7] = ReinsHandler.warp.selector;
        s[8] = ReinsHandler.warp.selector;
        s[9] = ReinsHandler.ownerGrant.selector;
        s[10] = ReinsHandler.ownerRevoke.selector;
        s[11] = ReinsHandler.ownerUnpause.selector;
        s[12] = ReinsHandler.watchdogPause.selector;
        s[13] = ReinsHandler.guardianRecover.selector;
        targets = new FuzzSelector[](2);
        targets[0] = FuzzSelector(address(handler), s);
        bytes4[] memory s2 = new bytes4[](1);
        s2[0] = ReinsHandler.ownerApprove.selector;
        targets[1] = FuzzSelector(address(handler), s2);
    }

    /**
     * @notice One campaign checks every property after every call:
     * - agent outflow (owner-approved operations excluded) per session: in any `period` seconds ≤ the period cap,
     *   over all time ≤ the lifetime cap; and the same for the sum over all sessions against the fleet caps;
     * - a revoked, expired or recovered-away session never authorises anything again;
     * - while paused, no agent operation runs (neither a UserOperation nor a queued one);
     * - a queued operation runs at most once;
     * - no agent action changes the module set, the owner, the guardians, the watchdog or any limit.
     */
    /// forge-config: default.invariant.depth = 40
    /// forge-config: deep.invariant.depth = 60
    function invariant_reins() public view {
        _checkBudgets();
        assertEq(handler.deadSessionAuthorised(), 0, "a dead session authorised an operation");
        assertEq(handler.pausedAgentRan(), 0, "an agent operation ran while paused");
        assertEq(handler.doubleExecution(), 0, "a queued operation ran twice");
        _checkConfiguration();
    }

    function _checkBudgets() internal view {
        uint256 n = handler.outflowCount();
        uint256 fleetTotal;
        uint256[4] memory lifetime;
        for (uint256 i = 0; i < n; ++i) {
            ReinsHandler.Outflow memory o = handler.outflow(i);
            fleetTotal += o.amount;
            lifetime[o.session] += o.amount;
            uint256 fleetWindow;
            uint256[4] memory window;
            for (uint256 j = 0; j < n; ++j) {
                ReinsHandler.Outflow memory p = handler.outflow(j);
                if (p.at >= o.at && p.at < o.at + handler.PERIOD()) {
                    fleetWindow += p.amount;
                    window[p.session] += p.amount;
                }
            }
            assertLe(fleetWindow, handler.FLEET_PERIOD_CAP(), "fleet outflow in a period");
            for (uint256 k = 0; k < 4; ++k) assertLe(window[k], handler.PERIOD_CAP(), "session outflow in a period");
        }
        assertLe(fleetTotal, handler.FLEET_LIFETIME_CAP(), "fleet lifetime outflow");
        for (uint256 k = 0; k < 4; ++k) assertLe(lifetime[k], handler.LIFETIME_CAP(), "session lifetime outflow");
    }

    function _checkConfiguration() internal view {
        address a = address(account);
        assertTrue(account.rootValidator() == address(ownerValidator), "root validator changed");
        assertTrue(ownerValidator.ownerOf(a) == handler.ghostOwner(), "owner changed outside recovery");
        assertTrue(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(sessions), ""), "sessions validator");
        assertTrue(account.isModuleInstalled(MODULE_TYPE_EXECUTOR, address(sessions), ""), "sessions executor");
        assertTrue(account.isModuleInstalled(MODULE_TYPE_EXECUTOR, address(timelock), ""), "timelock executor");
        assertTrue(account.isModuleInstalled(MODULE_TYPE_EXECUTOR, address(recovery), ""), "recovery executor");
        assertTrue(!account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(handler), ""), "module added");
        assertTrue(account.hook() == address(0), "hook added");
        assertTrue(recovery.isGuardian(a, vm.addr(GUARDIAN_KEY)), "guardian removed");
        assertTrue(sessions.isWatchdog(WATCHDOG, a), "watchdog removed");
        assertTrue(sessions.isPaused(a) == handler.ghostPaused(), "pause changed by an agent");
        assertEq(sessions.accountConfig(a).securityDelay, 0, "security delay");
        for (uint256 i = 0; i < handler.sessionCount(); ++i) {
            (IAgentSessions.TokenBudget memory b, , ) = sessions.budgetOf(handler.sessionIds(i), a, address(token));
            assertEq(b.instantThreshold, handler.INSTANT(), "instant threshold");
            assertEq(b.ceiling, handler.CEILING(), "ceiling");
            assertEq(b.periodCap, handler.PERIOD_CAP(), "period cap");
            assertEq(b.lifetimeCap, handler.LIFETIME_CAP(), "lifetime cap");
            assertEq(b.period, handler.PERIOD(), "period");
        }
    }

    /// @notice Sanity check of the handler: a fixed pseudo-random sequence runs, refuses and queues agent
    /// operations, pauses, recovers, and keeps every invariant.
    function test_handlerExercisesAllPaths() public {
        for (uint256 i; i < 400; ++i) {
            uint256 seed = uint256(keccak256(abi.encode(i)));
            uint256 action = seed % 14;
            if (action < 6) handler.agentOp(seed >> 8, seed >> 16, seed >> 24, seed >> 32);
            else if (action < 8) handler.keeperExecute(seed >> 8);
            else if (action == 8) handler.warp((seed >> 8) % 6 hours);
            else if (action == 9) handler.ownerGrant();
            else if (action == 10 && i % 7 == 0) handler.ownerRevoke(seed >> 8);
            else if (action == 11) handler.ownerUnpause();
            else if (action == 12 && i % 5 == 0) handler.watchdogPause((seed >> 8) % 2 == 0);
            else if (action == 13) handler.ownerApprove(seed >> 8);
            if (i == 200 || i == 300) handler.guardianRecover(seed);
            invariant_reins();
        }
        assertGe(handler.agentOpsRun(), 20, "agent ops run");
        assertGe(handler.agentOpsRefused(), 20, "agent ops refused");
        assertGe(handler.outflowCount(), 10, "outflows");
        assertGe(handler.queueLength(), 3, "queued");
    }
}
