// What a refresh of the repository must re-sign, and the next version of each role's metadata: small pure
// functions over the current metadata, the wanted targets and the time. Lifetimes and renewal margins are named
// here; docs/design/tuf.md says why they are what they are.
import {
  canonicalJson,
  type MetaFile,
  type RoleName,
  type RootSigned,
  type SnapshotSigned,
  type TargetFile,
  type TargetsSigned,
  type TimestampSigned,
  TUF_SPEC_VERSION,
  type TufKey,
  tufDateTime,
} from '../formats/index.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export type Lifetimes = Record<RoleName, number>;

/**
 * How long each role's metadata is valid. The timestamp is short so a client cannot be held on stale trust for
 * long (an indefinite-freeze attacker must replay within a day); the snapshot a week; root and targets a year, as
 * they change rarely and are re-signed on every change anyway.
 */
export const DEFAULT_LIFETIMES: Lifetimes = {
  root: 365 * DAY_MS,
  targets: 365 * DAY_MS,
  snapshot: 7 * DAY_MS,
  timestamp: DAY_MS,
};

/**
 * Metadata is re-signed once it is this close to expiring. With REFRESH_INTERVAL_MS of one minute a client never
 * sees a timestamp with less than about 12 hours left, which also covers a server down for a few hours.
 */
export const RENEW_BEFORE: Lifetimes = {
  root: 60 * DAY_MS,
  targets: 60 * DAY_MS,
  snapshot: 3 * DAY_MS + 12 * HOUR_MS,
  timestamp: 12 * HOUR_MS,
};

/** How often the service re-reads its target files and checks expiries (writes only when something changed). */
export const REFRESH_INTERVAL_MS = 60_000;

export interface CurrentMetadata {
  root: RootSigned;
  targets?: TargetsSigned;
  snapshot?: SnapshotSigned;
  timestamp?: TimestampSigned;
}

export interface RefreshPlan {
  root: boolean;
  targets: boolean;
  snapshot: boolean;
  timestamp: boolean;
}

export function expiresWithin(expires: string, now: Date, ms: number): boolean {
  return Date.parse(expires) - now.getTime() < ms;
}

export function sameTargets(a: Record<string, TargetFile>, b: Record<string, TargetFile>): boolean {
  return canonicalJson(a).equals(canonicalJson(b));
}

/**
 * A changed target means new targets, snapshot and timestamp metadata (§4.4: the snapshot names the targets
 * version, §4.6: the timestamp names the snapshot's); otherwise each role is renewed on its own schedule.
 * `force` re-signs snapshot and timestamp regardless (an export with a longer validity).
 */
export function planRefresh(
  current: CurrentMetadata,
  wanted: Record<string, TargetFile>,
  now: Date,
  o: { renewBefore?: Lifetimes; force?: boolean } = {},
): RefreshPlan {
  const renew = o.renewBefore ?? RENEW_BEFORE;
  const stale = (role: RoleName, s?: { expires: string }) => !s || expiresWithin(s.expires, now, renew[role]);
  const targets =
    !current.targets || !sameTargets(current.targets.targets, wanted) || stale('targets', current.targets);
  const snapshot =
    targets ||
    o.force === true ||
    stale('snapshot', current.snapshot) ||
    current.snapshot?.meta['targets.json']?.version !== current.targets?.version;
  const timestamp =
    snapshot ||
    stale('timestamp', current.timestamp) ||
    current.timestamp?.meta['snapshot.json']?.version !== current.snapshot?.version;
  return { root: stale('root', current.root), targets, snapshot, timestamp };
}

const common = <T extends string>(type: T, version: number, now: Date, lifetime: number) => ({
  _type: type,
  spec_version: TUF_SPEC_VERSION,
  version,
  expires: tufDateTime(new Date(now.getTime() + lifetime)),
});

export interface KeyRef {
  keyid: string;
  key: TufKey;
}

/** §4.3: the first root, one key and threshold 1 per role, consistent snapshots on (§6.2). */
export function firstRoot(
  keys: Record<RoleName, KeyRef>,
  now: Date,
  lifetime = DEFAULT_LIFETIMES.root,
): RootSigned {
  const roles = Object.fromEntries(
    Object.entries(keys).map(([role, k]) => [role, { keyids: [k.keyid], threshold: 1 }]),
  ) as RootSigned['roles'];
  return {
    ...common('root', 1, now, lifetime),
    consistent_snapshot: true,
    keys: Object.fromEntries(Object.values(keys).map((k) => [k.keyid, k.key])),
    roles,
  };
}

/**
 * The next root: same roles and keys with a new expiry, or with the root key replaced by `newRootKey`. Keys no
 * role names any more are dropped, so a retired root key leaves the file.
 */
export function nextRoot(prev: RootSigned, now: Date, lifetime: number, newRootKey?: KeyRef): RootSigned {
  const roles = structuredClone(prev.roles);
  const keys = { ...prev.keys };
  if (newRootKey) {
    roles.root = { keyids: [newRootKey.keyid], threshold: 1 };
    keys[newRootKey.keyid] = newRootKey.key;
  }
  const used = new Set(Object.values(roles).flatMap((r) => r.keyids));
  for (const id of Object.keys(keys)) if (!used.has(id)) delete keys[id];
  return { ...common('root', prev.version + 1, now, lifetime), consistent_snapshot: true, keys, roles };
}

export function nextTargets(
  version: number,
  targets: Record<string, TargetFile>,
  now: Date,
  lifetime: number,
): TargetsSigned {
  return { ...common('targets', version, now, lifetime), targets };
}

export function nextSnapshot(
  version: number,
  targetsFile: MetaFile,
  now: Date,
  lifetime: number,
): SnapshotSigned {
  return { ...common('snapshot', version, now, lifetime), meta: { 'targets.json': targetsFile } };
}

export function nextTimestamp(
  version: number,
  snapshotFile: MetaFile,
  now: Date,
  lifetime: number,
): TimestampSigned {
  return { ...common('timestamp', version, now, lifetime), meta: { 'snapshot.json': snapshotFile } };
}
