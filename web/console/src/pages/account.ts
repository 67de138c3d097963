/**
 * The Account page: owner, modules, pause state, balances, deposit, watchdogs, guardians, breaker, fleet budgets,
 * the account's value budget and the price sources.
 */
import type { AmountView } from "../api.js";
import { esc, short, when } from "../html.js";
import { priceSourcesBlock, valueBudgetBlock, type PriceSourceData, type ValueBudgetData } from "./value.js";

/** `/api/account`. */
export interface AccountData {
  account: string;
  owner: string;
  rootValidator: string;
  /** Who signs owner operations: `ecdsa` (OwnerValidator, the wallet) or `passkey` (PasskeyValidator). */
  rootKind: "ecdsa" | "passkey" | "unsupported";
  modules: { name: string; address: string; installed: boolean }[];
  paused: boolean;
  securityDelay: string;
  balances: AmountView[];
  entryPointDeposit: AmountView;
  watchdogs: string[];
  guardians: {
    guardians: string[];
    threshold: number;
    lockedUntil: number;
    pendingRecovery: { newOwner: string; readyAt: number } | null;
  } | null;
  breaker: { address: string; window: string; maxOps: number; maxNewRecipients: number } | null;
  fleet: {
    periodCap: AmountView;
    periodLeft: AmountView;
    lifetimeCap: AmountView;
    lifetimeLeft: AmountView;
    period: string;
  }[];
  /** The account's value budget (over all its sessions) and the price source of every budgeted token. */
  value: { unit: string; budget: ValueBudgetData | null; prices: PriceSourceData[] };
}

const row = (k: string, v: string) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`;

/** Render the Account page. */
export function accountPage(a: AccountData): string {
  const g = a.guardians;
  return `
  <h1>Account</h1>
  <section class="card">
    <table class="kv" data-testid="account-facts">
      ${row("Account", `<span class="mono">${esc(a.account)}</span>`)}
      ${row("Owner", `<span class="mono" data-testid="owner">${esc(a.owner)}</span>`)}
      ${row("Root validator", `<span data-testid="root-kind" data-kind="${esc(a.rootKind)}">${a.rootKind === "passkey" ? "PasskeyValidator (passkey owner)" : a.rootKind === "ecdsa" ? "OwnerValidator" : "unsupported validator"}</span> ${short(a.rootValidator)}`)}
      ${row("Agents", a.paused ? `<span class="badge danger" data-testid="account-paused">paused</span>` : `<span class="badge ok" data-testid="account-paused">running</span>`)}
      ${row("Security delay", esc(a.securityDelay) + (a.securityDelay === "0s" ? ` <span class="badge warn">loosening applies at once</span>` : ""))}
      ${row("EntryPoint deposit", `${esc(a.entryPointDeposit.text)} ETH`)}
    </table>
  </section>
  <div class="grid">
    <section class="card"><h2>Balances</h2>
      <table data-testid="balances"><tr><th>Token</th><th class="num">Balance</th></tr>
      ${a.balances.map((b) => `<tr><td>${esc(b.symbol)}</td><td class="num">${esc(b.text)}</td></tr>`).join("")}</table>
    </section>
    <section class="card"><h2>Modules</h2>
      <table>${a.modules.map((m) => `<tr><td>${esc(m.name)}</td><td>${short(m.address)}</td><td>${m.installed ? `<span class="badge ok">installed</span>` : `<span class="badge">not installed</span>`}</td></tr>`).join("")}</table>
    </section>
    <section class="card"><h2>Watchdogs</h2>
      ${a.watchdogs.length ? `<ul>${a.watchdogs.map((w) => `<li class="mono">${esc(w)}</li>`).join("")}</ul>` : `<p class="muted">none: only the owner can pause</p>`}
    </section>
    <section class="card"><h2>Guardians</h2>
      ${
        g
          ? `<p>${g.threshold} of ${g.guardians.length} guardians</p><ul>${g.guardians.map((x) => `<li class="mono">${esc(x)}</li>`).join("")}</ul>
             <p>Locked until: ${esc(when(g.lockedUntil))}</p>
             <p>Recovery: ${g.pendingRecovery ? `to ${short(g.pendingRecovery.newOwner)} from ${esc(when(g.pendingRecovery.readyAt))}` : "none pending"}</p>`
          : `<p class="muted">GuardianRecovery not installed</p>`
      }
    </section>
    <section class="card"><h2>Circuit breaker</h2>
      ${
        a.breaker
          ? `<table class="kv">${row("Breaker", short(a.breaker.address))}${row("Window", esc(a.breaker.window))}${row("Max operations", a.breaker.maxOps ? String(a.breaker.maxOps) : "off")}${row("Max new recipients", a.breaker.maxNewRecipients ? String(a.breaker.maxNewRecipients) : "off")}</table>`
          : `<p class="muted">no breaker attached</p>`
      }
    </section>
    <section class="card"><h2>Fleet budgets</h2>
      ${
        a.fleet.length
          ? `<table><tr><th>Token</th><th class="num">Period</th><th class="num">Left</th><th class="num">Lifetime</th><th class="num">Left</th></tr>${a.fleet
              .map(
                (f) =>
                  `<tr><td>${esc(f.periodCap.symbol)}</td><td class="num">${esc(f.periodCap.text)}/${esc(f.period)}</td><td class="num">${esc(f.periodLeft.text)}</td><td class="num">${esc(f.lifetimeCap.text)}</td><td class="num">${esc(f.lifetimeLeft.text)}</td></tr>`,
              )
              .join("")}</table>`
          : `<p class="muted">none: each session's own budgets only</p>`
      }
    </section>
    <section class="card" data-testid="account-value"><h2>Value budget (all sessions)</h2>
      ${valueBudgetBlock(a.value.budget, "none: each session's own value budget only")}
      ${a.value.prices.length ? `<h3>Price sources</h3>${priceSourcesBlock(a.value.prices)}` : ""}
    </section>
  </div>`;
}
