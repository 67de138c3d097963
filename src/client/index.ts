/**
 * The Reins TypeScript client: {@link ReinsOwner} for the account owner, {@link AgentSession} for an agent, the
 * {@link policy} builder, typed errors, and two transports ({@link DirectSender}, {@link BundlerSender}).
 */
export * from "./errors.js";
export * from "./units.js";
export * from "./policy.js";
export * from "./abiLayout.js";
export * from "./owner.js";
export * from "./recovery.js";
export * from "./passkey.js";
export * from "./agent.js";
export * from "./eip7702.js";
export * from "./eip7702Modules.js";
export * from "./actions/assessTier.js";
export * from "./actions/listSessions.js";
export * from "./actions/queue.js";
export * from "./actions/valueStatus.js";
export * from "./valueBudget.js";
export * from "./transport/sender.js";
export * from "./transport/direct.js";
export * from "./transport/bundler.js";
export * from "./erc7715/index.js";
export {
  DeploymentRecordError,
  clientDeployment,
  loadDeployment,
  readDeploymentRecord,
  type DeploymentRecord,
  type LoadDeploymentOptions,
} from "../deploy/records.js";
