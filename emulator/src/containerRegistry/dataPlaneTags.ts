/**
 * ACR's tag listing, `GET /acr/v1/{repository}/_tags` (operation ContainerRegistry_GetTags in azure-rest-api-specs
 * specification/containerregistry/data-plane/Azure.ContainerRegistry/stable/2021-07-01/containerregistry.json):
 * - query `n` (page size), `last` (the page starts after this tag), `orderby` (`timedesc` | `timeasc`: by the tag's
 *   lastUpdateTime, the values @azure/container-registry's toServiceTagOrderBy sends for LastUpdatedOnDescending /
 *   Ascending; anything else: by name), `digest` (only the tags of that manifest);
 * - the body is a TagList `{ registry, imageName, tags: [{ name, digest, createdTime, lastUpdateTime, signed,
 *   changeableAttributes }] }` (the spec's GetTagList.json example);
 * - the next page is in the `Link` header, relative, `</acr/v1/{repository}/_tags?last={tag}&n={n}&orderby={o}>;
 *   rel="next"`, as ACR sends it (the form @azure/container-registry's extractNextLink parses);
 * - `n` that is not a positive integer: 400 PAGINATION_NUMBER_INVALID (distribution's error code).
 * The spec states no default or largest `n`; without one a page holds `options.pageSize.tags` (100) tags.
 */
import type { RegistryRecord, RepositoryRecord } from './registryStore.js';
import { loginServerOf } from './registryStore.js';
import { dataPlaneErrors } from './dataPlaneErrors.js';

export interface TagListQuery {
  n: number;
  last?: string;
  orderby: string;
  digest?: string;
}

interface TagEntry {
  name: string;
  digest: string;
  createdTime: string;
  lastUpdateTime: string;
}

/** The query of a listing request (n defaults to `defaultSize`). */
export function tagListQuery(query: URLSearchParams, defaultSize: number): TagListQuery {
  const raw = query.get('n');
  const n = raw === null || raw === '' ? defaultSize : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw dataPlaneErrors.paginationNumberInvalid(raw ?? '');
  const last = query.get('last');
  const digest = query.get('digest');
  return {
    n,
    orderby: (query.get('orderby') ?? '').toLowerCase(),
    ...(last ? { last } : {}),
    ...(digest ? { digest } : {}),
  };
}

function entries(repo: RepositoryRecord): TagEntry[] {
  return Object.entries(repo.tags).map(([name, digest]) => {
    // State saved before tag times existed: the manifest's push time is the best there is.
    const pushed = repo.manifests[digest]?.pushedAt ?? repo.createdAt;
    const times = repo.tagTimes?.[name] ?? { createdTime: pushed, lastUpdateTime: pushed };
    return { name, digest, ...times };
  });
}

const byName = (a: TagEntry, b: TagEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function sorted(list: TagEntry[], orderby: string): TagEntry[] {
  if (orderby === 'timedesc')
    return list.sort((a, b) => b.lastUpdateTime.localeCompare(a.lastUpdateTime) || byName(a, b));
  if (orderby === 'timeasc')
    return list.sort((a, b) => a.lastUpdateTime.localeCompare(b.lastUpdateTime) || byName(a, b));
  return list.sort(byName);
}

/** The entries after `last`: by name, those sorting after it; by time, those after it (none if it is gone). */
function after(list: TagEntry[], q: TagListQuery): TagEntry[] {
  if (q.last === undefined) return list;
  const last = q.last;
  if (q.orderby !== 'timedesc' && q.orderby !== 'timeasc') return list.filter((e) => e.name > last);
  const at = list.findIndex((e) => e.name === last);
  return at < 0 ? [] : list.slice(at + 1);
}

/** One page of the repository's tags, with the `Link` header of the next page when there is one. */
export function tagPage(
  r: RegistryRecord,
  repository: string,
  repo: RepositoryRecord,
  q: TagListQuery,
): { body: Record<string, unknown>; link?: string } {
  const all = sorted(
    entries(repo).filter((e) => q.digest === undefined || e.digest === q.digest),
    q.orderby,
  );
  const rest = after(all, q);
  const page = rest.slice(0, q.n);
  const body = {
    registry: loginServerOf(r),
    imageName: repository,
    tags: page.map((e) => ({
      ...e,
      signed: false,
      changeableAttributes: { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true },
    })),
  };
  if (rest.length <= q.n) return { body };
  const next = new URLSearchParams({ last: page.at(-1)!.name, n: String(q.n), orderby: q.orderby });
  return { body, link: `</acr/v1/${repository}/_tags?${next.toString()}>; rel="next"` };
}
