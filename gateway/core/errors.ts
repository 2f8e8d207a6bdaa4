// Stable error codes shared by the CLI, the HTTP API and the edge UI.
export const ErrorCode = {
  BadRequest: 'bad_request',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Conflict: 'conflict',
  LockedOut: 'locked_out',
  ConfigInvalid: 'config_invalid',
  StoreTooNew: 'store_too_new',
  DataDirLocked: 'data_dir_locked',
  DataDirUnusable: 'data_dir_unusable',
  PortInUse: 'port_in_use',
  Internal: 'internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const httpStatus: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  locked_out: 429,
  config_invalid: 500,
  store_too_new: 500,
  data_dir_locked: 500,
  data_dir_unusable: 500,
  port_in_use: 500,
  internal: 500,
};

/** An error the product expects and can explain in one line. */
export class GuardpostError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'GuardpostError';
  }

  get statusCode(): number {
    return httpStatus[this.code];
  }
}
