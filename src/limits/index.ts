// Public interface of limits/: what every service uses to refuse a client that asks too often or sends too much.
export { closeAfterResponse } from './linger.js';
export { assertRateLimit, type RateLimit, RateLimiter } from './rate-limit.js';
