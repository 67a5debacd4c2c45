/**
 * The one catalogue of Floodgate's coded errors. A code is stable once released: operators
 * grep logs and audit exports for it. Add new codes here, never inline elsewhere.
 */
export const ErrorCodes = {
  // Configuration
  FG_ERR_CONFIG_INVALID: 'configuration file failed validation',
  FG_ERR_CONFIG_READ: 'configuration file could not be read',
  FG_ERR_CONFIG_YAML: 'configuration file is not valid YAML',
  // Wire formats (collectors, BGP encodings)
  FG_ERR_WIRE_TRUNCATED: 'datagram or field shorter than its format requires',
  FG_ERR_WIRE_LENGTH: 'length field disagrees with the bytes present',
  FG_ERR_WIRE_VERSION: 'unsupported protocol version',
  FG_ERR_WIRE_VALUE: 'field holds a value its format does not allow',
  // Adapters and plugins
  FG_ERR_ADAPTER_DUPLICATE: 'an adapter with this name is already registered',
  FG_ERR_ADAPTER_CONTRACT: 'adapter does not satisfy the adapter contract',
  FG_ERR_ADAPTER_UNKNOWN: 'configuration names an adapter that is not registered',
  FG_ERR_ADAPTER_CAPABILITY: 'adapter cannot deliver this kind of intent',
  FG_ERR_ADAPTER_APPLY: 'adapter failed to apply an intent',
  FG_ERR_ADAPTER_WITHDRAW: 'adapter failed to withdraw a mitigation',
  FG_ERR_ADAPTER_UNREACHABLE: 'adapter cannot reach the device it drives, so cannot tell what is in place',
  // Running commands on nodes (locally or over SSH) and cloud firewall APIs
  FG_ERR_EXEC_START: 'the command could not be started (binary missing or not executable)',
  FG_ERR_EXEC_TIMEOUT: 'the command did not finish before its deadline',
  FG_ERR_EXEC_FAILED: 'the command ran and reported failure',
  FG_ERR_SSH_CONNECT: 'the SSH connection to the node failed',
  FG_ERR_SSH_HOST_KEY: 'the node presented a host key other than the pinned one',
  FG_ERR_NODE_PARAM: 'an action parameter is not a valid value of its kind',
  FG_ERR_NODE_RULE: 'a node firewall rule is invalid',
  FG_ERR_NODE_RISK: 'a broad rule needs its risk acknowledged before it is saved',
  FG_ERR_CLOUD_API: 'a cloud firewall API refused or failed a request',
  // Mitigation safety
  FG_ERR_SAFETY_PROTECTED: 'target lies in a protected prefix',
  FG_ERR_SAFETY_PREFIX_LENGTH: 'prefix is shorter than the configured minimum',
  FG_ERR_SAFETY_DEFAULT_ROUTE: 'a default route is never announced',
  FG_ERR_SAFETY_CAP: 'the cap on active rules of this kind is reached',
  FG_ERR_SAFETY_INVALID_TARGET: 'intent target or next hop is not a valid address or prefix of its family',
  // Mitigations and operators
  FG_ERR_MITIGATION_NOT_FOUND: 'no mitigation (or no pending mitigation) with this id',
  FG_ERR_MITIGATION_STATE: 'the mitigation is not in a state that allows this operation',
  // Appliance
  FG_ERR_LISTEN: 'could not bind a listening socket',
  FG_ERR_STORE: 'the state store failed',
  FG_ERR_COMPONENT_START: 'a component failed to start',
  // HTTP API responses (the code in the JSON error body)
  FG_ERR_HTTP_BAD_REQUEST: 'request parameters failed validation',
  FG_ERR_HTTP_NOT_FOUND: 'no such resource',
  FG_ERR_HTTP_UNAVAILABLE: 'this API instance does not carry out operator actions',
  FG_ERR_HTTP_INTERNAL: 'the API failed to serve the request',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class FloodgateError extends Error {
  readonly code: ErrorCode;
  /** Machine-readable context: what was being done, to what, with which values. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'FloodgateError';
    this.code = code;
    this.details = details;
  }
}

/** Errors from decoding wire formats: carry the offset at which the input stopped making sense. */
export class WireError extends FloodgateError {
  readonly offset: number;
  constructor(code: ErrorCode, message: string, offset: number, details: Record<string, unknown> = {}) {
    super(code, `${message} (at byte ${offset})`, { ...details, offset });
    this.name = 'WireError';
    this.offset = offset;
  }
}

export function isFloodgateError(e: unknown): e is FloodgateError {
  return e instanceof FloodgateError;
}
