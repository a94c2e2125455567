// Public interface of limits/: what every service uses to refuse a client that asks too often.
export { assertRateLimit, type RateLimit, RateLimiter } from './rate-limit.js';
