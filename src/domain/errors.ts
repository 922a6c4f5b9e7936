/**
 * The domain's error vocabulary. Adapters turn SDK errors into one of these (use `toDomainError` with the
 * status/code they got), so the domain can decide: retry (TransientError), record a failure a person can act
 * on (TerminalError), or re-read and decide again (ConflictError).
 */

export interface AzureErrorInfo {
  /** HTTP status, when there was a response. */
  statusCode?: number;
  /** Service error code (`error.code` in the ARM / Key Vault envelope, or a Node `ECONN...` code). */
  code?: string;
  message?: string;
  /** Parsed from Retry-After / retry-after-ms / x-ms-retry-after-ms, when present. */
  retryAfterMs?: number;
}

abstract class DomainError extends Error {
  readonly statusCode: number | undefined;
  readonly code: string | undefined;
  constructor(message: string, info: AzureErrorInfo = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.statusCode = info.statusCode;
    this.code = info.code;
  }
}

/** Worth retrying later: throttling (429), 5xx, timeouts, connection failures, eventual-consistency codes. */
export class TransientError extends DomainError {
  readonly retryAfterMs: number | undefined;
  /** True for throttling (429 or a throttling code); reconcile counts these. */
  readonly throttled: boolean;
  constructor(
    message: string,
    info: AzureErrorInfo & { throttled?: boolean } = {},
    options?: { cause?: unknown },
  ) {
    super(message, info, options);
    this.retryAfterMs = info.retryAfterMs;
    this.throttled = info.throttled ?? (info.statusCode === 429 || isThrottleCode(info.code));
  }
}

/** Retrying will not help: validation errors, missing resources where they matter, access denied. */
export class TerminalError extends DomainError {}

/** The thing asked for does not exist (404). A TerminalError where it matters; adapters map it to
 * `undefined` (get) or success (delete) where absence is a normal answer. */
export class NotFoundError extends TerminalError {}

/** Optimistic concurrency lost: ETag mismatch on replace, or the row already exists on create. */
export class ConflictError extends DomainError {}

export type ErrorClass = 'retryable' | 'terminal' | 'conflict' | 'notFound';

export interface ErrorCodeRule {
  class: ErrorClass;
  throttled?: boolean;
  /** Why, for the next reader of this table. */
  note: string;
}

/**
 * Error codes seen from ARM (incl. Microsoft.ContainerInstance / ContainerRegistry), Key Vault and Table
 * storage, classified as in azure-service-operator's ARM classifier: codes that can clear up by themselves
 * (eventual consistency, RBAC propagation, quota freed by our own deletes) are retryable; request errors are
 * terminal. Unknown codes fall back to the status: 400 terminal, 404 not found, 409/412 conflict only for the
 * storage codes below, anything else retryable. Retries are always bounded by the caller (a rollout gives up
 * after `transientGiveUpMs`, reconcile reports and tries again next tick).
 */
export const ERROR_CODE_TABLE: Readonly<Record<string, ErrorCodeRule>> = Object.freeze({
  // ---- throttling
  TooManyRequests: { class: 'retryable', throttled: true, note: 'ARM 429' },
  SubscriptionRequestsThrottled: { class: 'retryable', throttled: true, note: 'ARM subscription throttle' },
  ResourceGroupRequestsThrottled: {
    class: 'retryable',
    throttled: true,
    note: 'ARM resource group throttle',
  },
  TenantRequestsThrottled: { class: 'retryable', throttled: true, note: 'ARM tenant throttle' },
  Throttled: { class: 'retryable', throttled: true, note: 'Key Vault 429, often without Retry-After' },
  ServerBusy: { class: 'retryable', throttled: true, note: 'Table storage 503' },
  TableBeingDeleted: { class: 'retryable', note: 'Table storage 409 for a while after a table is deleted' },
  // ---- transient service conditions
  InternalServerError: { class: 'retryable', note: '5xx' },
  ServiceUnavailable: { class: 'retryable', note: '5xx' },
  GatewayTimeout: { class: 'retryable', note: '5xx' },
  OperationTimedOut: { class: 'retryable', note: 'timeout' },
  RequestTimeout: { class: 'retryable', note: '408' },
  AnotherOperationInProgress: { class: 'retryable', note: 'ARM: wait for the other operation' },
  ContainerGroupTransitioning: {
    class: 'retryable',
    note: 'ACI: the group is being created/deleted/restarted; try again',
  },
  RegistryErrorResponse: { class: 'retryable', note: 'ACI: the registry answered an error while validating' },
  AllocationFailed: { class: 'retryable', note: 'ACI/ARM capacity' },
  ServiceUnavailableInRegion: { class: 'retryable', note: 'ACI capacity in the region' },
  ResourceQuotaExceeded: { class: 'retryable', note: 'may clear when our own old groups are deleted' },
  ContainerGroupQuotaReached: { class: 'retryable', note: 'ACI group quota; our drained groups free it' },
  AuthorizationFailed: {
    class: 'retryable',
    note: 'often RBAC propagation (minutes); bounded by the caller',
  },
  LinkedAuthorizationFailed: { class: 'retryable', note: 'RBAC on a linked resource (subnet, identity)' },
  PrincipalNotFound: { class: 'retryable', note: 'new identity not replicated yet' },
  FailedIdentityOperation: { class: 'retryable', note: 'identity assignment in progress' },
  MissingSubscriptionRegistration: { class: 'retryable', note: 'provider registration in progress' },
  SubscriptionNotRegistered: { class: 'retryable', note: 'provider registration in progress' },
  // connection-level (no HTTP response)
  REQUEST_SEND_ERROR: { class: 'retryable', note: 'core-rest-pipeline: request could not be sent' },
  ECONNRESET: { class: 'retryable', note: 'connection reset' },
  ECONNREFUSED: { class: 'retryable', note: 'connection refused' },
  ETIMEDOUT: { class: 'retryable', note: 'connection timeout' },
  ENOTFOUND: { class: 'retryable', note: 'DNS' },
  EAI_AGAIN: { class: 'retryable', note: 'DNS' },
  EPIPE: { class: 'retryable', note: 'connection closed' },
  AbortError: { class: 'retryable', note: 'request aborted (timeout)' },
  // ---- terminal request errors
  BadRequest: { class: 'terminal', note: 'request error' },
  BadRequestFormat: { class: 'terminal', note: 'request error' },
  BadParameter: { class: 'terminal', note: 'Key Vault request error' },
  InvalidParameter: { class: 'terminal', note: 'request error' },
  InvalidParameterValue: { class: 'terminal', note: 'request error' },
  InvalidRequestContent: { class: 'terminal', note: 'request error' },
  InvalidResourceType: { class: 'terminal', note: 'request error' },
  InvalidResourceLocation: { class: 'terminal', note: 'location mismatch' },
  InvalidResourceGroupLocation: { class: 'terminal', note: 'location mismatch' },
  InvalidValuesForRequestParameters: { class: 'terminal', note: 'request error' },
  LocationRequired: { class: 'terminal', note: 'request error' },
  MissingRequiredParameter: { class: 'terminal', note: 'request error' },
  MethodNotAllowed: { class: 'terminal', note: 'request error' },
  PropertyChangeNotAllowed: { class: 'terminal', note: 'ACI: immutable property; needs delete + create' },
  RequestDisallowedByPolicy: { class: 'terminal', note: 'Azure Policy denied the resource' },
  ReservedResourceName: { class: 'terminal', note: 'name not allowed' },
  SkuNotAvailable: { class: 'terminal', note: 'capacity/sku not offered in region' },
  SubscriptionNotFound: { class: 'terminal', note: 'config error' },
  InaccessibleImage: { class: 'terminal', note: 'ACI: image not accessible (pull failed at validation)' },
  InvalidImage: { class: 'terminal', note: 'ACI: bad image reference' },
  ContainerGroupNameInvalid: { class: 'terminal', note: 'ACI: bad name' },
  SubnetNotFound: { class: 'terminal', note: 'config error' },
  InvalidSubnet: { class: 'terminal', note: 'ACI: subnet not delegated to Microsoft.ContainerInstance' },
  Forbidden: { class: 'terminal', note: 'Key Vault: access policy/RBAC denies the operation' },
  Unauthorized: { class: 'terminal', note: 'credential problem' },
  // ---- not found
  ResourceNotFound: { class: 'notFound', note: 'ARM 404' },
  NotFound: { class: 'notFound', note: '404' },
  ResourceGroupNotFound: { class: 'notFound', note: 'config error: resource group missing' },
  ParentResourceNotFound: { class: 'notFound', note: '404' },
  SecretNotFound: { class: 'notFound', note: 'Key Vault 404' },
  ResourceNotFoundInTable: { class: 'notFound', note: 'Table storage 404' },
  TableNotFound: { class: 'notFound', note: 'Table storage 404' },
  // ---- optimistic concurrency (rollout store)
  UpdateConditionNotSatisfied: { class: 'conflict', note: 'Table storage 412: ETag mismatch' },
  ConditionNotMet: { class: 'conflict', note: 'storage 412' },
  EntityAlreadyExists: { class: 'conflict', note: 'Table storage 409 on insert' },
  // Key Vault's "Conflict" means a soft-deleted secret of that name blocks the write: a person must act.
  Conflict: { class: 'terminal', note: 'ARM/Key Vault conflict (e.g. secret deleted but recoverable)' },
});

function isThrottleCode(code: string | undefined): boolean {
  return code !== undefined && ERROR_CODE_TABLE[code]?.throttled === true;
}

export interface Classification {
  class: ErrorClass;
  throttled: boolean;
  rule: string;
}

/** Decide retryable / terminal / conflict / notFound from a status and code (table first, then status). */
export function classifyAzureError(info: AzureErrorInfo): Classification {
  const rule = info.code !== undefined ? ERROR_CODE_TABLE[info.code] : undefined;
  const status = info.statusCode;
  if (status === 429) return { class: 'retryable', throttled: true, rule: 'status 429' };
  if (rule) return { class: rule.class, throttled: rule.throttled ?? false, rule: `code ${info.code}` };
  if (status === undefined) return { class: 'retryable', throttled: false, rule: 'no response' };
  if (status === 404) return { class: 'notFound', throttled: false, rule: 'status 404' };
  if (status === 408 || status >= 500)
    return { class: 'retryable', throttled: false, rule: `status ${status}` };
  if (status === 412) return { class: 'conflict', throttled: false, rule: 'status 412' };
  if (status >= 400) return { class: 'terminal', throttled: false, rule: `status ${status}` };
  return { class: 'retryable', throttled: false, rule: `status ${status}` };
}

/** Build the typed error an adapter should throw for a failed call. `what` names the operation. */
export function toDomainError(what: string, info: AzureErrorInfo, cause?: unknown): Error {
  const c = classifyAzureError(info);
  const detail = [info.statusCode, info.code].filter((x) => x !== undefined).join(' ');
  const message = `${what}: ${detail ? `${detail}: ` : ''}${info.message ?? 'failed'}`;
  const options = cause === undefined ? undefined : { cause };
  switch (c.class) {
    case 'retryable':
      return new TransientError(message, { ...info, throttled: c.throttled }, options);
    case 'conflict':
      return new ConflictError(message, info, options);
    case 'notFound':
      return new NotFoundError(message, info, options);
    case 'terminal':
      return new TerminalError(message, info, options);
  }
}

export function ensureError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === 'string' ? e : JSON.stringify(e));
}

export function errorMessage(e: unknown): string {
  return ensureError(e).message;
}

/** Errors the domain did not classify (bugs, unexpected throws) are treated as transient but logged. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof TransientError) return true;
  if (e instanceof TerminalError || e instanceof ConflictError) return false;
  return true;
}
