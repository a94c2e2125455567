// The TUF repository engine (no HTTP): creates the keys and the first root in DATA/tuf, publishes target files
// with freshly signed targets/snapshot/timestamp metadata when they change or near expiry, rotates the root key,
// and copies the published files out for a static mirror. State lives only in the published files themselves,
// so a restart, a copied data dir or the CLI working beside a running server all see the same repository.
import { chmod, copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../crypto/index.js';
import {
  fileInfo,
  hashPrefixedTargetPath,
  type Metadata,
  metadataFileName,
  parseMetadata,
  type RoleName,
  type RootSigned,
  type SnapshotSigned,
  type TargetFile,
  type TargetsSigned,
  type TimestampSigned,
} from '../formats/index.js';
import {
  meetsThreshold,
  metadataBytes,
  newRoleKey,
  openRoleKey,
  type RoleSigner,
  readRoleKey,
  roleKeyPath,
  signMetadata,
} from './keys.js';
import {
  type CurrentMetadata,
  DEFAULT_LIFETIMES,
  firstRoot,
  type Lifetimes,
  nextRoot,
  nextSnapshot,
  nextTargets,
  nextTimestamp,
  planRefresh,
} from './plan.js';
import {
  highestVersions,
  listPublished,
  publishOnce,
  publishReplace,
  REPOSITORY_DIR,
  readPublished,
  withLock,
} from './store.js';

/** A target as published: its name in targets.json and its bytes. */
export interface TargetContent {
  name: string;
  bytes: Uint8Array;
}

export interface TufRepositoryOptions {
  /** Create the keys and the first root when there is no repository yet (default); otherwise that is an error. */
  create?: boolean;
  /** The clock (tests sign metadata as of another time). */
  now?: () => Date;
  lifetimes?: Partial<Lifetimes>;
}

export interface RefreshResult {
  /** Files written, relative to the repository root. */
  published: string[];
  /** Things an operator should know (a root about to expire with its key offline). */
  warnings: string[];
}

export interface RoleStatus {
  version: number;
  expires: string;
  keyids: string[];
}

export type RepositoryStatus = Record<RoleName, RoleStatus | undefined> & { targetNames: string[] };

type OnlineRole = Exclude<RoleName, 'root'>;
const ONLINE_ROLES: OnlineRole[] = ['targets', 'snapshot', 'timestamp'];

interface Published extends CurrentMetadata {
  rootMetadata: Metadata<RootSigned>;
}

export class TufRepository {
  readonly repositoryDir: string;
  private readonly now: () => Date;
  private readonly lifetimes: Lifetimes;

  private constructor(
    readonly dir: string,
    private readonly online: Record<OnlineRole, RoleSigner>,
    options: TufRepositoryOptions,
  ) {
    this.repositoryDir = join(dir, REPOSITORY_DIR);
    this.now = options.now ?? (() => new Date());
    this.lifetimes = { ...DEFAULT_LIFETIMES, ...options.lifetimes };
  }

  /**
   * Opens the repository in `dir` (DATA/tuf), creating the role keys and 1.root.json on first use. The online
   * keys on disk must be the ones the current root names: a lost key file is an error, not a silent new key.
   */
  static async open(dir: string, options: TufRepositoryOptions = {}): Promise<TufRepository> {
    if (options.create === false && (await highestVersions(join(dir, REPOSITORY_DIR))).root === 0)
      throw new Error(`no TUF repository in ${dir} (\`sigil up\` creates it on its first start)`);
    await mkdir(join(dir, REPOSITORY_DIR), { recursive: true, mode: 0o700 });
    const online = {} as Record<OnlineRole, RoleSigner>;
    for (const role of ONLINE_ROLES) online[role] = await openRoleKey(dir, role);
    const repo = new TufRepository(dir, online, options);
    await withLock(dir, async () => {
      if ((await highestVersions(repo.repositoryDir)).root === 0) await repo.createRoot();
    });
    const { root } = await repo.readCurrent();
    for (const role of ONLINE_ROLES) {
      if (!root.roles[role].keyids.includes(online[role].keyid))
        throw new Error(`${roleKeyPath(dir, role)} is not the ${role} key the current root names`);
    }
    return repo;
  }

  private async createRoot(): Promise<void> {
    const rootKey = await openRoleKey(this.dir, 'root');
    const keys = { root: rootKey, ...this.online };
    const md = await signMetadata(firstRoot(keys, this.now(), this.lifetimes.root), [rootKey]);
    await this.publishRoot(md);
  }

  private async publishRoot(md: Metadata<RootSigned>): Promise<string[]> {
    const bytes = metadataBytes(md);
    const name = metadataFileName('root', md.signed.version);
    await publishOnce(this.repositoryDir, name, bytes);
    await publishReplace(this.repositoryDir, 'root.json', bytes);
    return [name, 'root.json'];
  }

  /** The newest root on disk and the targets/snapshot chain the current timestamp.json leads to. */
  private async readCurrent(): Promise<Published> {
    const read = async <T extends RootSigned | TimestampSigned | SnapshotSigned | TargetsSigned>(
      role: RoleName,
      version: number,
    ) => {
      const name = metadataFileName(role, version);
      const bytes = await readPublished(this.repositoryDir, name);
      return bytes ? parseMetadata<T>(bytes, role as T['_type']) : undefined;
    };
    const { root: rootVersion } = await highestVersions(this.repositoryDir);
    const rootMetadata = await read<RootSigned>('root', rootVersion);
    if (!rootMetadata) throw new Error(`no root metadata in ${this.repositoryDir}`);
    const timestamp = (await read<TimestampSigned>('timestamp', 0))?.signed;
    const snapshotVersion = timestamp?.meta['snapshot.json'].version;
    const snapshot = snapshotVersion
      ? (await read<SnapshotSigned>('snapshot', snapshotVersion))?.signed
      : undefined;
    const targetsVersion = snapshot?.meta['targets.json']?.version;
    const targets = targetsVersion
      ? (await read<TargetsSigned>('targets', targetsVersion))?.signed
      : undefined;
    return { rootMetadata, root: rootMetadata.signed, timestamp, snapshot, targets };
  }

  /**
   * Publishes `targets` (the complete set) and re-signs whatever changed or nears expiry. `validForMs` re-signs
   * snapshot and timestamp with that lifetime (a copy for a mirror refreshed by hand).
   */
  async refresh(targets: TargetContent[], o: { validForMs?: number } = {}): Promise<RefreshResult> {
    return withLock(this.dir, async () => {
      const now = this.now();
      const current = await this.readCurrent();
      const wanted: Record<string, TargetFile> = Object.fromEntries(
        targets.map((t) => [t.name, fileInfo(t.bytes)]),
      );
      const plan = planRefresh(current, wanted, now, { force: o.validForMs !== undefined });
      const published: string[] = [];
      const warnings: string[] = [];
      const highest = await highestVersions(this.repositoryDir);
      if (plan.root) {
        const renewed = await this.renewRoot(current.rootMetadata);
        if (renewed) published.push(...renewed);
        else
          warnings.push(
            `root metadata expires ${current.root.expires} and the root key is not in ${this.dir}`,
          );
      }
      const lifetime = (role: OnlineRole) =>
        o.validForMs !== undefined && role !== 'targets' ? o.validForMs : this.lifetimes[role];
      let targetsSigned = current.targets;
      let targetsBytes: Buffer | undefined;
      if (plan.targets) {
        for (const t of targets) {
          const rel = `targets/${hashPrefixedTargetPath(t.name, wanted[t.name].hashes.sha256)}`;
          await mkdir(dirname(join(this.repositoryDir, rel)), { recursive: true });
          await publishOnce(this.repositoryDir, rel, t.bytes);
          published.push(rel);
        }
        targetsSigned = nextTargets(highest.targets + 1, wanted, now, lifetime('targets'));
        targetsBytes = await this.publishRole(targetsSigned, published);
      }
      let snapshotSigned = current.snapshot;
      let snapshotBytes: Buffer | undefined;
      if (plan.snapshot && targetsSigned) {
        targetsBytes ??= await readPublished(
          this.repositoryDir,
          metadataFileName('targets', targetsSigned.version),
        );
        const info = { version: targetsSigned.version, ...fileInfo(targetsBytes!) };
        snapshotSigned = nextSnapshot(highest.snapshot + 1, info, now, lifetime('snapshot'));
        snapshotBytes = await this.publishRole(snapshotSigned, published);
      }
      if (plan.timestamp && snapshotSigned) {
        snapshotBytes ??= await readPublished(
          this.repositoryDir,
          metadataFileName('snapshot', snapshotSigned.version),
        );
        const info = { version: snapshotSigned.version, ...fileInfo(snapshotBytes!) };
        const version = (current.timestamp?.version ?? 0) + 1;
        await this.publishRole(nextTimestamp(version, info, now, lifetime('timestamp')), published);
      }
      return { published, warnings };
    });
  }

  private async publishRole(
    signed: TargetsSigned | SnapshotSigned | TimestampSigned,
    published: string[],
  ): Promise<Buffer> {
    const role = signed._type;
    const bytes = metadataBytes(await signMetadata(signed, [this.online[role]]));
    const name = metadataFileName(role, signed.version);
    if (role === 'timestamp') await publishReplace(this.repositoryDir, name, bytes);
    else await publishOnce(this.repositoryDir, name, bytes);
    published.push(name);
    return bytes;
  }

  /** A new root version with a new expiry, when the root key is at hand; undefined otherwise. */
  private async renewRoot(current: Metadata<RootSigned>): Promise<string[] | undefined> {
    const rootKey = await readRoleKey(roleKeyPath(this.dir, 'root'));
    if (!rootKey || !current.signed.roles.root.keyids.includes(rootKey.keyid)) return undefined;
    const next = nextRoot(current.signed, this.now(), this.lifetimes.root);
    return this.publishRoot(await signMetadata(next, [rootKey]));
  }

  /**
   * §6.1 root key rotation: a new root key, and root version N+1 naming it, signed by the old key (so clients
   * trusting version N accept it, §5.3.4) and by the new one (so it meets its own threshold). The new key is
   * stored before the new root is published and replaces the old key file only after, so a crash at any point
   * leaves a key that the newest published root trusts.
   */
  async rotateRoot(
    o: { rootKeyPath?: string } = {},
  ): Promise<{ version: number; keyid: string; retired: string }> {
    const keyPath = o.rootKeyPath ?? roleKeyPath(this.dir, 'root');
    return withLock(this.dir, async () => {
      const { rootMetadata } = await this.readCurrent();
      const old = await readRoleKey(keyPath);
      if (!old) throw new Error(`no root key at ${keyPath}: pass --root-key FILE`);
      const root = rootMetadata.signed;
      if (
        !root.roles.root.keyids.includes(old.keyid) ||
        !meetsThreshold(rootMetadata, root.keys, root.roles.root)
      )
        throw new Error(`${keyPath} is not the key that signed root version ${root.version}`);
      const fresh = newRoleKey();
      const pending = `${keyPath}.next`;
      await writeFileAtomic(pending, fresh.pem, { mode: 0o600 });
      const next = nextRoot(root, this.now(), this.lifetimes.root, fresh.signer);
      await this.publishRoot(await signMetadata(next, [old, fresh.signer]));
      await writeFileAtomic(keyPath, fresh.pem, { mode: 0o600 });
      await rm(pending, { force: true });
      return { version: next.version, keyid: fresh.signer.keyid, retired: old.keyid };
    });
  }

  /** A published file's bytes (for the HTTP adapter); undefined for anything not published. */
  read(rel: string): Promise<Buffer | undefined> {
    return readPublished(this.repositoryDir, rel);
  }

  /**
   * Copies every published file into `dest` (timestamp.json last, so a mirror updated in place stays whole). The
   * copy is public, readable by the web server serving it, whatever the data dir's private umask made it here.
   */
  async exportTo(dest: string): Promise<string[]> {
    const files = await listPublished(this.repositoryDir);
    await mkdir(join(dest, 'targets'), { recursive: true });
    for (const d of [dest, join(dest, 'targets')]) await chmod(d, 0o755);
    for (const f of files) {
      await copyFile(join(this.repositoryDir, f), join(dest, f));
      await chmod(join(dest, f), 0o644);
    }
    return files;
  }

  async status(): Promise<RepositoryStatus> {
    const c = await this.readCurrent();
    const role = (r: RoleName, s?: { version: number; expires: string }): RoleStatus | undefined =>
      s && { version: s.version, expires: s.expires, keyids: c.root.roles[r].keyids };
    return {
      root: role('root', c.root),
      targets: role('targets', c.targets),
      snapshot: role('snapshot', c.snapshot),
      timestamp: role('timestamp', c.timestamp),
      targetNames: Object.keys(c.targets?.targets ?? {}),
    };
  }
}
