// The registry's metadata in PostgreSQL (the registry engine's RegistryMetadata, as storage/sqlite/registry.ts
// keeps it in SQLite), in the schema `sigil_registry`: which blobs each repository may serve, manifests, tags and
// the blobs each manifest references. A manifest push is one transaction (its reference check, the manifest, its
// tags, its referrers row) so a crash never leaves a tag pointing at nothing; frontends that share the database see
// each other's pushes at once. Blobs themselves stay in the blob store (a shared directory for several frontends).
import pg from 'pg';
import type { ManifestRecord, NewManifest, Referrer, RegistryMetadata } from '../../registry/index.js';
import { createSchema, inTransaction } from './connection.js';

const S = 'sigil_registry';
export const REGISTRY_SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE SCHEMA IF NOT EXISTS ${S};
CREATE TABLE IF NOT EXISTS ${S}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ${S}.repositories (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS ${S}.repo_blobs (
  repo TEXT NOT NULL, digest TEXT NOT NULL, size BIGINT NOT NULL, linked_at BIGINT NOT NULL,
  PRIMARY KEY (repo, digest));
CREATE INDEX IF NOT EXISTS repo_blobs_digest ON ${S}.repo_blobs (digest);
CREATE TABLE IF NOT EXISTS ${S}.manifest_content (digest TEXT PRIMARY KEY, content BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS ${S}.manifests (
  repo TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, size BIGINT NOT NULL,
  subject TEXT, artifact_type TEXT, annotations TEXT, pushed_at BIGINT NOT NULL,
  PRIMARY KEY (repo, digest));
CREATE INDEX IF NOT EXISTS manifests_subject ON ${S}.manifests (repo, subject) WHERE subject IS NOT NULL;
CREATE INDEX IF NOT EXISTS manifests_digest ON ${S}.manifests (digest);
CREATE TABLE IF NOT EXISTS ${S}.manifest_blobs (
  repo TEXT NOT NULL, manifest TEXT NOT NULL, blob TEXT NOT NULL, PRIMARY KEY (repo, manifest, blob));
CREATE INDEX IF NOT EXISTS manifest_blobs_blob ON ${S}.manifest_blobs (blob);
CREATE TABLE IF NOT EXISTS ${S}.tags (
  repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (repo, tag));
CREATE INDEX IF NOT EXISTS tags_digest ON ${S}.tags (repo, digest);
`;

type Query = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

export class PostgresRegistryMetadata implements RegistryMetadata {
  readonly #pool: pg.Pool;
  readonly #ready: Promise<void>;

  constructor(url: string) {
    this.#pool = new pg.Pool({ connectionString: url, max: 8 });
    this.#pool.on('error', () => {});
    this.#ready = createSchema(this.#pool, S, SCHEMA, REGISTRY_SCHEMA_VERSION);
  }

  /** Runs `fn` in one transaction on one connection. */
  async #tx<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    await this.#ready;
    return inTransaction(this.#pool, (c) => fn((sql, params) => c.query(sql, params)));
  }

  async #q(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
    await this.#ready;
    return this.#pool.query(sql, params);
  }

  async close(): Promise<void> {
    await this.#ready.catch(() => {});
    await this.#pool.end();
  }

  async repositoryExists(repo: string): Promise<boolean> {
    return (await this.#q(`SELECT 1 FROM ${S}.repositories WHERE name = $1`, [repo])).rowCount !== 0;
  }

  async repositories(after: string, limit: number): Promise<string[]> {
    const r = await this.#q(`SELECT name FROM ${S}.repositories WHERE name > $1 ORDER BY name LIMIT $2`, [
      after,
      limit,
    ]);
    return r.rows.map((row) => row.name);
  }

  async blobSize(repo: string, digest: string): Promise<number | undefined> {
    const r = await this.#q(`SELECT size FROM ${S}.repo_blobs WHERE repo = $1 AND digest = $2`, [
      repo,
      digest,
    ]);
    return r.rows[0] ? Number(r.rows[0].size) : undefined;
  }

  async repositoryBytes(repo: string): Promise<number> {
    const r = await this.#q(`SELECT COALESCE(SUM(size), 0) AS n FROM ${S}.repo_blobs WHERE repo = $1`, [
      repo,
    ]);
    return Number(r.rows[0].n);
  }

  async linkBlob(repo: string, digest: string, size: number): Promise<void> {
    await this.#tx(async (q) => {
      await q(`INSERT INTO ${S}.repositories (name) VALUES ($1) ON CONFLICT DO NOTHING`, [repo]);
      await q(
        `INSERT INTO ${S}.repo_blobs (repo, digest, size, linked_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (repo, digest) DO UPDATE SET linked_at = excluded.linked_at`,
        [repo, digest, size, Date.now()],
      );
    });
  }

  async unlinkBlob(repo: string, digest: string): Promise<boolean> {
    const r = await this.#q(`DELETE FROM ${S}.repo_blobs WHERE repo = $1 AND digest = $2`, [repo, digest]);
    return (r.rowCount ?? 0) > 0;
  }

  async manifest(
    repo: string,
    ref: { digest: string } | { tag: string },
  ): Promise<ManifestRecord | undefined> {
    const r =
      'digest' in ref
        ? await this.#q(`SELECT digest, media_type FROM ${S}.manifests WHERE repo = $1 AND digest = $2`, [
            repo,
            ref.digest,
          ])
        : await this.#q(
            `SELECT m.digest, m.media_type FROM ${S}.tags t
             JOIN ${S}.manifests m ON m.repo = t.repo AND m.digest = t.digest WHERE t.repo = $1 AND t.tag = $2`,
            [repo, ref.tag],
          );
    const row = r.rows[0];
    return row ? { digest: row.digest, mediaType: row.media_type } : undefined;
  }

  async manifestContent(digest: string): Promise<Buffer | undefined> {
    const r = await this.#q(`SELECT content FROM ${S}.manifest_content WHERE digest = $1`, [digest]);
    return r.rows[0]?.content;
  }

  async putManifest(m: NewManifest): Promise<{ digest: string; kind: 'blob' | 'manifest' }[]> {
    return this.#tx(async (q) => {
      // The repository row is locked first, so that a concurrent unlink or delete in it waits for this push.
      await q(`INSERT INTO ${S}.repositories (name) VALUES ($1) ON CONFLICT DO NOTHING`, [m.repo]);
      await q(`SELECT 1 FROM ${S}.repositories WHERE name = $1 FOR UPDATE`, [m.repo]);
      const blobs = await q(
        `SELECT digest FROM ${S}.repo_blobs WHERE repo = $1 AND digest = ANY($2::text[])`,
        [m.repo, m.blobs],
      );
      const children = await q(
        `SELECT digest FROM ${S}.manifests WHERE repo = $1 AND digest = ANY($2::text[])`,
        [m.repo, m.manifests],
      );
      const haveBlobs = new Set(blobs.rows.map((r) => r.digest));
      const haveChildren = new Set(children.rows.map((r) => r.digest));
      const missing = [
        ...m.blobs.filter((b) => !haveBlobs.has(b)).map((digest) => ({ digest, kind: 'blob' as const })),
        ...m.manifests
          .filter((c) => !haveChildren.has(c))
          .map((digest) => ({ digest, kind: 'manifest' as const })),
      ];
      if (missing.length > 0) {
        // Nothing written: the repository row added above is rolled back with the rest.
        throw new MissingReferences(missing);
      }
      await q(`INSERT INTO ${S}.manifest_content (digest, content) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
        m.digest,
        m.content,
      ]);
      await q(
        `INSERT INTO ${S}.manifests (repo, digest, media_type, size, subject, artifact_type, annotations, pushed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (repo, digest) DO NOTHING`,
        [
          m.repo,
          m.digest,
          m.mediaType,
          m.content.length,
          m.subject ?? null,
          m.artifactType ?? null,
          m.annotations ? JSON.stringify(m.annotations) : null,
          Date.now(),
        ],
      );
      if (m.blobs.length > 0)
        await q(
          `INSERT INTO ${S}.manifest_blobs (repo, manifest, blob) SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
          [m.repo, m.digest, m.blobs],
        );
      for (const tag of m.tags)
        await q(
          `INSERT INTO ${S}.tags (repo, tag, digest) VALUES ($1, $2, $3)
           ON CONFLICT (repo, tag) DO UPDATE SET digest = excluded.digest`,
          [m.repo, tag, m.digest],
        );
      return [];
    }).catch((err) => {
      if (err instanceof MissingReferences) return err.missing;
      throw err;
    });
  }

  async deleteTag(repo: string, tag: string): Promise<boolean> {
    const r = await this.#q(`DELETE FROM ${S}.tags WHERE repo = $1 AND tag = $2`, [repo, tag]);
    return (r.rowCount ?? 0) > 0;
  }

  async deleteManifest(repo: string, digest: string): Promise<boolean> {
    return this.#tx(async (q) => {
      const gone = await q(`DELETE FROM ${S}.manifests WHERE repo = $1 AND digest = $2`, [repo, digest]);
      if ((gone.rowCount ?? 0) === 0) return false;
      await q(`DELETE FROM ${S}.tags WHERE repo = $1 AND digest = $2`, [repo, digest]);
      await q(`DELETE FROM ${S}.manifest_blobs WHERE repo = $1 AND manifest = $2`, [repo, digest]);
      await q(
        `DELETE FROM ${S}.manifest_content WHERE digest = $1
         AND NOT EXISTS (SELECT 1 FROM ${S}.manifests WHERE digest = $1)`,
        [digest],
      );
      return true;
    });
  }

  async tags(repo: string, after: string, limit: number): Promise<string[]> {
    const r = await this.#q(`SELECT tag FROM ${S}.tags WHERE repo = $1 AND tag > $2 ORDER BY tag LIMIT $3`, [
      repo,
      after,
      limit,
    ]);
    return r.rows.map((row) => row.tag);
  }

  async referrers(repo: string, subject: string): Promise<Referrer[]> {
    const r = await this.#q(
      `SELECT digest, media_type, size, artifact_type, annotations FROM ${S}.manifests
       WHERE repo = $1 AND subject = $2 ORDER BY pushed_at, digest`,
      [repo, subject],
    );
    return r.rows.map((row) => ({
      digest: row.digest,
      mediaType: row.media_type,
      size: Number(row.size),
      artifactType: row.artifact_type ?? undefined,
      annotations: row.annotations ? JSON.parse(row.annotations) : undefined,
    }));
  }

  async referencedBlobs(): Promise<Set<string>> {
    const r = await this.#q(`SELECT DISTINCT blob FROM ${S}.manifest_blobs`);
    return new Set(r.rows.map((row) => row.blob));
  }

  async lastLinked(digest: string): Promise<number | undefined> {
    const r = await this.#q(`SELECT MAX(linked_at) AS t FROM ${S}.repo_blobs WHERE digest = $1`, [digest]);
    return r.rows[0]?.t === null || r.rows[0]?.t === undefined ? undefined : Number(r.rows[0].t);
  }

  async unlinkIfUnreferenced(digest: string): Promise<boolean> {
    return this.#tx(async (q) => {
      const used = await q(`SELECT 1 FROM ${S}.manifest_blobs WHERE blob = $1 LIMIT 1`, [digest]);
      if ((used.rowCount ?? 0) > 0) return false;
      await q(`DELETE FROM ${S}.repo_blobs WHERE digest = $1`, [digest]);
      return true;
    });
  }

  async dropOrphanContent(): Promise<number> {
    const r = await this.#q(
      `DELETE FROM ${S}.manifest_content WHERE digest NOT IN (SELECT DISTINCT digest FROM ${S}.manifests)`,
    );
    return r.rowCount ?? 0;
  }
}

/** Thrown inside a push's transaction to roll it back when references are missing; the push answers them. */
class MissingReferences extends Error {
  constructor(readonly missing: { digest: string; kind: 'blob' | 'manifest' }[]) {
    super('missing references');
  }
}
