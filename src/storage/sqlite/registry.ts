// The registry's metadata in one SQLite file (the registry engine's RegistryMetadata; <root>/metadata.sqlite, WAL,
// synchronous=FULL): which blobs each repository may serve, manifests (their bytes, media type, subject,
// artifactType), tags, and the blobs each manifest references. One transaction per manifest push covers the
// reference check, the manifest, its tags and its referrers entry, so a crash never leaves a tag pointing at
// nothing. Manifest bytes are small (≤ 4 MiB) and live here, addressed by digest and shared between repositories.
// better-sqlite3 is synchronous: each method is async for the interface's sake and resolves at once (a microtask).
import Database from 'better-sqlite3';
import type { ManifestRecord, NewManifest, Referrer, RegistryMetadata } from '../../registry/index.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS repositories (name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS repo_blobs (
  repo TEXT NOT NULL, digest TEXT NOT NULL, size INTEGER NOT NULL, linked_at INTEGER NOT NULL,
  PRIMARY KEY (repo, digest)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS repo_blobs_digest ON repo_blobs (digest);
CREATE TABLE IF NOT EXISTS manifest_content (digest TEXT PRIMARY KEY, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS manifests (
  repo TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,
  subject TEXT, artifact_type TEXT, annotations TEXT, pushed_at INTEGER NOT NULL,
  PRIMARY KEY (repo, digest)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS manifests_subject ON manifests (repo, subject) WHERE subject IS NOT NULL;
CREATE INDEX IF NOT EXISTS manifests_digest ON manifests (digest);
CREATE TABLE IF NOT EXISTS manifest_blobs (
  repo TEXT NOT NULL, manifest TEXT NOT NULL, blob TEXT NOT NULL,
  PRIMARY KEY (repo, manifest, blob)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS manifest_blobs_blob ON manifest_blobs (blob);
CREATE TABLE IF NOT EXISTS tags (
  repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL,
  PRIMARY KEY (repo, tag)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_digest ON tags (repo, digest);
`;

export class SqliteRegistryMetadata implements RegistryMetadata {
  private readonly db: Database.Database;
  private readonly q;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // `sigil registry gc` may run in another process against the same file.
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.q = {
      repoExists: db.prepare('SELECT 1 FROM repositories WHERE name = ?').pluck(),
      addRepo: db.prepare('INSERT OR IGNORE INTO repositories (name) VALUES (?)'),
      repos: db.prepare('SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?').pluck(),
      blobSize: db.prepare('SELECT size FROM repo_blobs WHERE repo = ? AND digest = ?').pluck(),
      repoBytes: db.prepare('SELECT COALESCE(SUM(size), 0) FROM repo_blobs WHERE repo = ?').pluck(),
      linkBlob: db.prepare(
        'INSERT INTO repo_blobs (repo, digest, size, linked_at) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (repo, digest) DO UPDATE SET linked_at = excluded.linked_at',
      ),
      unlinkBlob: db.prepare('DELETE FROM repo_blobs WHERE repo = ? AND digest = ?'),
      manifestByDigest: db.prepare(
        'SELECT digest, media_type AS mediaType FROM manifests WHERE repo = ? AND digest = ?',
      ),
      manifestByTag: db.prepare(
        'SELECT m.digest, m.media_type AS mediaType FROM tags t ' +
          'JOIN manifests m ON m.repo = t.repo AND m.digest = t.digest WHERE t.repo = ? AND t.tag = ?',
      ),
      content: db.prepare('SELECT content FROM manifest_content WHERE digest = ?').pluck(),
      putContent: db.prepare('INSERT OR IGNORE INTO manifest_content (digest, content) VALUES (?, ?)'),
      putManifest: db.prepare(
        'INSERT INTO manifests (repo, digest, media_type, size, subject, artifact_type, annotations, pushed_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo, digest) DO NOTHING',
      ),
      putManifestBlob: db.prepare(
        'INSERT OR IGNORE INTO manifest_blobs (repo, manifest, blob) VALUES (?, ?, ?)',
      ),
      putTag: db.prepare(
        'INSERT INTO tags (repo, tag, digest) VALUES (?, ?, ?) ON CONFLICT (repo, tag) DO UPDATE SET digest = excluded.digest',
      ),
      deleteTag: db.prepare('DELETE FROM tags WHERE repo = ? AND tag = ?'),
      deleteTagsOf: db.prepare('DELETE FROM tags WHERE repo = ? AND digest = ?'),
      deleteManifest: db.prepare('DELETE FROM manifests WHERE repo = ? AND digest = ?'),
      deleteManifestBlobs: db.prepare('DELETE FROM manifest_blobs WHERE repo = ? AND manifest = ?'),
      dropOrphanContent: db.prepare(
        'DELETE FROM manifest_content WHERE digest = ? AND NOT EXISTS (SELECT 1 FROM manifests WHERE digest = ?)',
      ),
      tags: db.prepare('SELECT tag FROM tags WHERE repo = ? AND tag > ? ORDER BY tag LIMIT ?').pluck(),
      referrers: db.prepare(
        'SELECT digest, media_type AS mediaType, size, artifact_type AS artifactType, annotations ' +
          'FROM manifests WHERE repo = ? AND subject = ? ORDER BY pushed_at, digest',
      ),
      referencedBlobs: db.prepare('SELECT DISTINCT blob FROM manifest_blobs').pluck(),
      stillUsed: db.prepare('SELECT 1 FROM manifest_blobs WHERE blob = ? LIMIT 1'),
      linkedAt: db.prepare('SELECT MAX(linked_at) FROM repo_blobs WHERE digest = ?').pluck(),
      unlinkEverywhere: db.prepare('DELETE FROM repo_blobs WHERE digest = ?'),
      orphanContent: db.prepare(
        'DELETE FROM manifest_content WHERE digest NOT IN (SELECT DISTINCT digest FROM manifests)',
      ),
    };
  }

  /** Write transactions take the lock up front (BEGIN IMMEDIATE) so a concurrent gc process cannot interleave. */
  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async repositoryExists(repo: string): Promise<boolean> {
    return this.q.repoExists.get(repo) !== undefined;
  }

  async repositories(after: string, limit: number): Promise<string[]> {
    return this.q.repos.all(after, limit) as string[];
  }

  async blobSize(repo: string, digest: string): Promise<number | undefined> {
    return this.q.blobSize.get(repo, digest) as number | undefined;
  }

  async repositoryBytes(repo: string): Promise<number> {
    return this.q.repoBytes.get(repo) as number;
  }

  async linkBlob(repo: string, digest: string, size: number): Promise<void> {
    this.tx(() => {
      this.q.addRepo.run(repo);
      this.q.linkBlob.run(repo, digest, size, Date.now());
    });
  }

  async unlinkBlob(repo: string, digest: string): Promise<boolean> {
    return this.q.unlinkBlob.run(repo, digest).changes > 0;
  }

  async manifest(
    repo: string,
    ref: { digest: string } | { tag: string },
  ): Promise<ManifestRecord | undefined> {
    return (
      'digest' in ref
        ? this.q.manifestByDigest.get(repo, ref.digest)
        : this.q.manifestByTag.get(repo, ref.tag)
    ) as ManifestRecord | undefined;
  }

  async manifestContent(digest: string): Promise<Buffer | undefined> {
    return this.q.content.get(digest) as Buffer | undefined;
  }

  async putManifest(m: NewManifest): Promise<{ digest: string; kind: 'blob' | 'manifest' }[]> {
    return this.tx(() => {
      const missing: { digest: string; kind: 'blob' | 'manifest' }[] = [];
      for (const blob of m.blobs) {
        if (this.q.blobSize.get(m.repo, blob) === undefined) missing.push({ digest: blob, kind: 'blob' });
      }
      for (const child of m.manifests) {
        if (!this.q.manifestByDigest.get(m.repo, child)) missing.push({ digest: child, kind: 'manifest' });
      }
      if (missing.length > 0) return missing;
      this.q.addRepo.run(m.repo);
      this.q.putContent.run(m.digest, m.content);
      this.q.putManifest.run(
        m.repo,
        m.digest,
        m.mediaType,
        m.content.length,
        m.subject ?? null,
        m.artifactType ?? null,
        m.annotations ? JSON.stringify(m.annotations) : null,
        Date.now(),
      );
      for (const blob of m.blobs) this.q.putManifestBlob.run(m.repo, m.digest, blob);
      for (const tag of m.tags) this.q.putTag.run(m.repo, tag, m.digest);
      return missing;
    });
  }

  async deleteTag(repo: string, tag: string): Promise<boolean> {
    return this.q.deleteTag.run(repo, tag).changes > 0;
  }

  async deleteManifest(repo: string, digest: string): Promise<boolean> {
    return this.tx(() => {
      const gone = this.q.deleteManifest.run(repo, digest).changes > 0;
      if (!gone) return false;
      this.q.deleteTagsOf.run(repo, digest);
      this.q.deleteManifestBlobs.run(repo, digest);
      this.q.dropOrphanContent.run(digest, digest);
      return true;
    });
  }

  async tags(repo: string, after: string, limit: number): Promise<string[]> {
    return this.q.tags.all(repo, after, limit) as string[];
  }

  async referrers(repo: string, subject: string): Promise<Referrer[]> {
    type Row = Omit<Referrer, 'artifactType' | 'annotations'> & {
      artifactType: string | null;
      annotations: string | null;
    };
    return (this.q.referrers.all(repo, subject) as Row[]).map((r) => ({
      ...r,
      artifactType: r.artifactType ?? undefined,
      annotations: r.annotations ? JSON.parse(r.annotations) : undefined,
    }));
  }

  async referencedBlobs(): Promise<Set<string>> {
    return new Set(this.q.referencedBlobs.all() as string[]);
  }

  async lastLinked(digest: string): Promise<number | undefined> {
    return (this.q.linkedAt.get(digest) as number | null) ?? undefined;
  }

  async unlinkIfUnreferenced(digest: string): Promise<boolean> {
    return this.tx(() => {
      if (this.q.stillUsed.get(digest)) return false;
      this.q.unlinkEverywhere.run(digest);
      return true;
    });
  }

  async dropOrphanContent(): Promise<number> {
    return this.q.orphanContent.run().changes;
  }
}
