/**
 * `reins/contracts`: everything about the on-chain side without the client: the ABIs of the production
 * contracts ({@link abis}), the deployment records shipped with the package ({@link loadDeployment}), the
 * contract names and the chain singletons Reins uses. The typed ethers bindings (typechain factories) are in
 * `reins/types`. The Solidity interfaces ship in the package too: `reins/contracts/interfaces/*.sol`.
 *
 * ```ts
 * import { abis, loadDeployment } from "reins/contracts";
 * const { contracts } = loadDeployment(31337);
 * const sessions = new Contract(contracts.AgentSessions, abis.AgentSessions, provider);
 * ```
 *
 * @module
 */
export * from "./abis.js";
export {
  DeploymentRecordError,
  REQUIRED_CONTRACTS,
  clientDeployment,
  loadDeployment,
  packagedDeploymentsDir,
  parseDeploymentRecord,
  readDeploymentRecord,
  type DeploymentRecord,
  type LoadDeploymentOptions,
} from "../deploy/records.js";
export { CONTRACT_NAMES, RELEASE, type ContractName, type ReinsAddresses } from "../deploy/plan.js";
export { DETERMINISTIC_DEPLOYER, ENTRYPOINT_V08 } from "../infra/singletons.js";
export type { ReinsDeployment } from "../client/owner.js";
