/** How the CLI names a delegated EOA's installed modules (`account downgrade-eoa`, `account status`). */
import type { InstalledModule } from "../../client/eip7702Modules.js";
import type { ReinsDeployment } from "../../client/owner.js";

const TYPE_NAMES: Record<string, string> = { "1": "validator", "2": "executor", "3": "fallback", "4": "hook" };

/** A removed module for people: its Reins name when it is one, its type, and a fallback's selector. */
export function describeModule(m: InstalledModule, reins: ReinsDeployment): string {
  const names: [string | undefined, string][] = [
    [reins.sessions, "AgentSessions"],
    [reins.timelock, "ReinsTimelock"],
    [reins.recovery, "GuardianRecovery"],
    [reins.ownerValidator, "OwnerValidator"],
    [reins.passkeyValidator, "PasskeyValidator"],
  ];
  const name = names.find(([a]) => a !== undefined && a.toLowerCase() === m.module.toLowerCase())?.[1];
  const type = TYPE_NAMES[m.moduleTypeId.toString()] ?? `type ${m.moduleTypeId}`;
  return `${name ? `${name} ` : ""}${m.module} (${type}${m.selector ? ` ${m.selector}` : ""})`;
}
