// Image references `host[:port]/path/name[:tag][@alg:hex]`, parsed per the distribution reference grammar
// (distribution/reference reference.go; repository and tag rules of opencontainers/distribution-spec spec.md
// "Pulling manifests"). A reference without a registry host means Docker Hub, as docker and cosign read it
// (distribution/reference normalize.go): `alpine` is docker.io/library/alpine, `acme/app` is docker.io/acme/app.
import { parseDigest } from './digest.js';
import { OciError } from './errors.js';

export interface ImageReference {
  /** `host` or `host:port`, as written (IPv6 in brackets). */
  registry: string;
  /** Repository path inside the registry, e.g. `team/app`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** distribution-spec: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` per path component. */
/** Docker Hub's name in references; transport.ts sends its requests to DOCKER_HUB_API. */
export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_API = 'registry-1.docker.io';
/** Names Docker Hub also goes by (docker's config.json keys it as https://index.docker.io/v1/). */
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export function isDockerHub(registry: string): boolean {
  return DOCKER_HUB_ALIASES.has(registry);
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DOMAIN_COMPONENT = /^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;
/** distribution/reference NameTotalLengthMax. */
const NAME_MAX = 255;

function bad(input: string, why: string): OciError {
  return new OciError('BAD_REFERENCE', `invalid image reference "${input}": ${why}`);
}

/** Docker's rule for "is the first component a registry host": it has a dot or a colon, or is localhost. */
export function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

function checkHost(input: string, host: string): void {
  let name = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) throw bad(input, `unclosed "[" in registry host "${host}"`);
    const v6 = host.slice(1, end);
    if (!/^[0-9A-Fa-f:.]+$/.test(v6) || !v6.includes(':')) throw bad(input, `bad IPv6 address "${v6}"`);
    const rest = host.slice(end + 1);
    if (rest && !rest.startsWith(':')) throw bad(input, `unexpected "${rest}" after IPv6 address`);
    port = rest ? rest.slice(1) : undefined;
    name = '';
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) {
      name = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
    if (!name) throw bad(input, `empty registry host in "${host}"`);
    for (const part of name.split('.')) {
      if (!DOMAIN_COMPONENT.test(part)) throw bad(input, `bad registry host "${name}" (component "${part}")`);
    }
  }
  if (port !== undefined && (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535)) {
    throw bad(input, `bad port "${port}" in registry host "${host}"`);
  }
}

/** Parses a reference; throws an OciError with code BAD_REFERENCE that says which part is wrong. */
export function parseReference(input: string): ImageReference {
  if (typeof input !== 'string' || input.length === 0) throw bad(String(input), 'empty');
  if (/\s/.test(input)) throw bad(input, 'contains whitespace');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      parseDigest(digest);
    } catch (err) {
      throw bad(input, (err as Error).message);
    }
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) {
      throw bad(
        input,
        `bad tag "${tag}" (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`,
      );
    }
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : rest;
  let registry: string;
  let repository: string;
  if (slash < 0 || !looksLikeHost(first)) {
    registry = DOCKER_HUB;
    repository = rest;
  } else {
    registry = isDockerHub(first) ? DOCKER_HUB : first;
    repository = rest.slice(slash + 1);
  }
  // Docker Hub's official images live under library/.
  if (registry === DOCKER_HUB && repository && !repository.includes('/'))
    repository = `library/${repository}`;
  checkHost(input, registry);
  if (!repository) throw bad(input, 'empty repository name');
  for (const part of repository.split('/')) {
    if (!PATH_COMPONENT.test(part)) {
      throw bad(
        input,
        `bad repository component "${part}" (lowercase letters and digits, separated by ".", "_", "__" or "-")`,
      );
    }
  }
  if (registry.length + 1 + repository.length > NAME_MAX) {
    throw bad(input, `name is longer than ${NAME_MAX} characters`);
  }
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The canonical string form: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** `registry/repository`, the name without tag or digest. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The manifest API's `<reference>`: the digest when there is one (it pins content), else the tag, else "latest". */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
