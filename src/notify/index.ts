/**
 * Owner notifications: webhooks for approval requests, delayed operations, budget marks, breaker trips, pauses
 * and sessions near their end, fed by the event index ({@link EventIndex}).
 */
export {
  Notifier,
  runNotifyLoop,
  type DeliveryRound,
  type NotifierOptions,
  type NotifyLoopOptions,
} from "./notifier.js";
export { Outbox, type OutboxRow, type OutboxStatus } from "./outbox.js";
export { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody, verifySignature } from "./signature.js";
export { WebhookDeliveryError, deliver, type WebhookTarget } from "./webhook.js";
export type { AmountFact, NotificationBody, NotificationType, TimeFact } from "./facts.js";
export type { EventIndex } from "../indexer/index.js";
