// The registry's rate limit: a token request that has to check a password runs scrypt (tens of ms of CPU and
// 32 MiB of memory, auth.ts), so one client sending wrong passwords in a loop could keep every core busy. Each check
// takes a token from the client's bucket (src/limits); an empty bucket is answered 429 TOOMANYREQUESTS with
// Retry-After (distribution-spec "Error Codes" code-14). Successful logins are remembered by auth.ts, so a repeat
// login costs no token.
import type { RateLimit } from '../limits/index.js';

/**
 * 20 at once, then one a second: a CI job logging in once per repository and scope stays far below it (and
 * remembered logins do not count), while a password-guessing loop from one address gets at most ~60 scrypt runs
 * a minute, about 3% of one core.
 */
export const DEFAULT_TOKEN_RATE_LIMIT: RateLimit = { perMinute: 60, burst: 20 };
