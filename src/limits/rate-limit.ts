// Per-client token buckets, for the requests that cost a service real work per call (a password check that runs
// scrypt, a token verification, a certificate): each client (by address) holds a bucket of `burst` tokens refilled
// at `perMinute`; a request takes one, and an empty bucket means "refuse with 429 and Retry-After". Shared by the
// registry's token endpoint, the CA's signing routes and the CI issuer's token requests.

export interface RateLimit {
  /** Tokens refilled per minute (the sustained rate). */
  perMinute: number;
  /** Bucket size: how many checks a client may make at once after being idle. */
  burst: number;
}

/** Buckets kept at most; full buckets are dropped first, then the least recently used. */
const MAX_CLIENTS = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

export function assertRateLimit(limit: RateLimit, where: string): RateLimit {
  const ok = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n > 0;
  if (!ok(limit.perMinute) || !ok(limit.burst) || limit.burst < 1) {
    throw new Error(`${where}: perMinute must be > 0 and burst >= 1`);
  }
  return limit;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token for `client`: 0 when allowed, else the whole seconds until the next token (at least 1). */
  take(client: string): number {
    const now = this.now();
    const perMs = this.limit.perMinute / 60_000;
    let bucket = this.buckets.get(client);
    if (bucket) {
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (now - bucket.at) * perMs);
      bucket.at = now;
      // Re-inserted so that Map order is least recently used first.
      this.buckets.delete(client);
    } else {
      if (this.buckets.size >= MAX_CLIENTS) this.prune(now);
      bucket = { tokens: this.limit.burst, at: now };
    }
    this.buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
  }

  private prune(now: number): void {
    const perMs = this.limit.perMinute / 60_000;
    for (const [client, b] of this.buckets) {
      if (b.tokens + (now - b.at) * perMs >= this.limit.burst) this.buckets.delete(client);
    }
    for (const client of this.buckets.keys()) {
      if (this.buckets.size < MAX_CLIENTS) break;
      this.buckets.delete(client);
    }
  }
}
