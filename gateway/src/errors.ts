/** One error type for the HTTP layer, rendered as {"error": {"code", "message", "details"?}}. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>): GatewayError =>
  new GatewayError(400, code, message, details);

export const unprocessable = (message: string, field: string): GatewayError =>
  new GatewayError(422, 'validation_error', message, { field });

export const notFound = (code: string, message: string): GatewayError => new GatewayError(404, code, message);

export const conflict = (code: string, message: string): GatewayError => new GatewayError(409, code, message);
