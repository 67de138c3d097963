/**
 * The owner console's page: hash routes (#/account, #/sessions, #/activity, #/inbox), data from the console
 * server's JSON API, actions through the owner's wallet (wallet.ts). A pause button is always in the header.
 */
import "./style.css";
import { getJson, type Info } from "./api.js";
import { accountPage, type AccountData } from "./pages/account.js";
import { activityPage } from "./pages/activity.js";
import { inboxPage, type InboxData } from "./pages/inbox.js";
import { sessionsPage } from "./pages/sessions.js";
import { span } from "./html.js";
import { UserMessage, runAction, type Action } from "./wallet.js";

const view = document.getElementById("view")!;
const message = document.getElementById("message")!;
const pauseButton = document.getElementById("pause") as HTMLButtonElement;
let info: Info | undefined;
/** Chain time − wall time, in seconds (the chain's clock decides readiness and expiry). */
let skew = 0;
let paused = false;
let busy = false;

function show(text: string, kind: "error" | "ok" | "info"): void {
  message.hidden = false;
  message.className = `msg ${kind}`;
  message.dataset.kind = kind;
  message.textContent = text;
}

const route = () => (location.hash.replace(/^#\/?/, "") || "account").split("/")[0];

async function render(): Promise<void> {
  const r = route();
  document
    .querySelectorAll("nav a")
    .forEach((a) => a.classList.toggle("active", (a as HTMLElement).dataset.route === r));
  try {
    info ??= await getJson<Info>("info");
    document.getElementById("footer")!.textContent =
      `account ${info.account} · chain ${info.chainId} · owner ${info.owner} · owner operations sent by the console's ${info.relay}`;
    const inbox = await getJson<InboxData>("inbox");
    skew = inbox.now - Date.now() / 1000;
    setPaused(inbox.paused);
    const count = document.getElementById("inbox-count")!;
    count.hidden = inbox.requests.length === 0;
    count.textContent = String(inbox.requests.length);
    let html: string;
    if (r === "sessions") html = sessionsPage(await getJson("sessions"));
    else if (r === "activity") html = activityPage(await getJson("activity"));
    else if (r === "inbox") html = inboxPage(inbox);
    else html = accountPage(await getJson<AccountData>("account"));
    view.innerHTML = html;
    view.dataset.page = r;
    focusItem();
    tick();
  } catch (e) {
    view.innerHTML = "";
    show(`Could not load the ${r} page: ${(e as Error).message}`, "error");
  }
  document.body.dataset.ready = String(Date.now());
}

/** `#/inbox/<requestId>` (the notifications' links): mark that request and scroll to it. */
function focusItem(): void {
  const id = location.hash.replace(/^#\/?/, "").split("/")[1]?.toLowerCase();
  if (!id) return;
  const el = view.querySelector<HTMLElement>(`[data-id="${CSS.escape(id)}"], [data-hash="${CSS.escape(id)}"]`);
  if (!el) {
    if (!message.hidden) return; // keep the answer to an action on screen
    show(`Request ${id.slice(0, 10)}… is no longer pending (executed, cancelled or expired).`, "info");
    return;
  }
  el.classList.add("focus");
  el.scrollIntoView({ block: "center" });
}

function setPaused(value: boolean): void {
  paused = value;
  pauseButton.textContent = paused ? "Unpause agents" : "Pause all agents";
  pauseButton.dataset.act = paused ? "unpause" : "pause";
  document.getElementById("paused-badge")!.hidden = !paused;
}

function tick(): void {
  const now = Date.now() / 1000 + skew;
  document.querySelectorAll<HTMLElement>(".countdown").forEach((el) => {
    const left = Number(el.dataset.to) - now;
    el.textContent = left <= 0 ? (el.dataset.done ?? "now") : `in ${span(left)}`;
  });
}

function actionOf(el: HTMLElement): Action | undefined {
  switch (el.dataset.act) {
    case "approve":
    case "cancel":
      return { kind: el.dataset.act, id: el.dataset.id! };
    case "pause":
    case "unpause":
      return { kind: el.dataset.act };
    case "revoke":
      return { kind: "revoke", sessionId: el.dataset.session! };
    case "renew": {
      const input = document.querySelector<HTMLInputElement>(`input.renew-days[data-session="${el.dataset.session}"]`);
      const days = Number(input?.value ?? 30);
      return {
        kind: "renew",
        sessionId: el.dataset.session!,
        validUntil: Math.floor(Date.now() / 1000 + skew + days * 86400),
      };
    }
    case "applyChange":
    case "cancelChange":
      return { kind: el.dataset.act, changeHash: el.dataset.hash! };
  }
  return undefined;
}

async function act(el: HTMLElement): Promise<void> {
  const action = actionOf(el);
  if (!action || busy || !info) return;
  busy = true;
  document.querySelectorAll<HTMLButtonElement>("button[data-act]").forEach((b) => (b.disabled = true));
  show(info.ownerKind === "passkey" ? "Waiting for the passkey…" : "Waiting for the wallet's signature…", "info");
  try {
    const sent = await runAction(action, info);
    show(`Done: ${sent.summary} (transaction ${sent.txHash}).`, "ok");
    busy = false;
    // A link to one item (#/inbox/<id>) has served its purpose: the item is handled.
    if (location.hash.split("/").length > 2) history.replaceState(null, "", `#/${route()}`);
    await render();
  } catch (e) {
    busy = false;
    show(e instanceof UserMessage ? e.message : `Unexpected error: ${(e as Error).message}`, "error");
    await render(); // the page may be stale (a request executed or expired meanwhile): show the chain as it is
  }
  document.body.dataset.acted = String(Date.now());
}

document.addEventListener("click", (ev) => {
  const el = (ev.target as HTMLElement).closest<HTMLElement>("button[data-act]");
  if (el) void act(el);
});
window.addEventListener("hashchange", () => void render());
setInterval(tick, 1000);
void render();
