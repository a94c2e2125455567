// The one error type the CA engine throws for a request it refuses: an HTTP status (always 4xx for bad input,
// 503 when an upstream issuer cannot be reached) and a message that says what was wrong.
export class CaError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** With a 503: when to try again (sent as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'CaError';
  }
}
