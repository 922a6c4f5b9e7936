/**
 * What pulling an image would do, for container groups: found (with the pushed behaviour), or why the pull fails,
 * in the words containerd puts in ACI's container events. Checks run in the order a registry applies them:
 * network rules, then authentication, then the manifest.
 */
import type { ImageResolution, RegistryLookup } from '../core/context.js';
import { platformEntry } from './dataPlaneManifests.js';
import { derivedDigest, parseImageReference } from './imageReference.js';
import {
  isIndexMediaType,
  loginServerOf,
  passesNetworkRules,
  type ManifestRecord,
  type RegistryStore,
} from './registryStore.js';

/** What ACI's Linux hosts run: containerd picks this entry of an image index. */
const ACI_PLATFORM = { os: 'linux', architecture: 'amd64' };

/**
 * ACI pulls from a public egress address the user cannot know in advance; the message names one, as ACR's
 * firewall does.
 */
const ACI_EGRESS_IP = '20.61.103.18';

const failed = (image: string, code: string, detail: string) =>
  `Failed to pull image "${image}": rpc error: code = ${code} desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${detail}`;

export function createRegistryLookup(store: RegistryStore): RegistryLookup {
  return {
    resolveImage(image, pull): ImageResolution {
      const ref = parseImageReference(image);
      if (!ref) {
        return {
          kind: 'notFound',
          message: `Failed to pull image "${image}": rpc error: code = InvalidArgument desc = failed to pull and unpack image "${image}": failed to parse image reference "${image}": invalid reference format`,
        };
      }
      const registry = store.byLoginServer(ref.host);
      const reference = ref.digest ?? ref.tag ?? 'latest';
      if (!registry) {
        // Not one of ours: a public image (Docker Hub, MCR...) that pulls and runs as a healthy container.
        return {
          kind: 'found',
          loginServer: ref.host,
          repository: ref.repository,
          digest: ref.digest ?? derivedDigest(`${ref.host}/${ref.repository}:${reference}`),
          tags: ref.tag ? [ref.tag] : [],
          behavior: { mode: 'healthy' },
        };
      }
      const loginServer = loginServerOf(registry);
      // Refused by the registry's firewall: the event text ACI shows for it (Azure/acr#633).
      if (!passesNetworkRules(registry, pull)) {
        return {
          kind: 'networkRestricted',
          message: failed(
            image,
            'Unknown',
            `unexpected status from HEAD request to https://${loginServer}/v2/${ref.repository}/manifests/${reference}: 403 Forbidden: denied: client with IP '${ACI_EGRESS_IP}' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.`,
          ),
        };
      }
      const unauthorized: ImageResolution = {
        kind: 'unauthorized',
        message: failed(
          image,
          'Unknown',
          `failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://${loginServer}/oauth2/token?scope=repository%3A${encodeURIComponent(ref.repository)}%3Apull&service=${loginServer}: 401 Unauthorized`,
        ),
      };
      if (!pull.identity && !pull.username && !registry.anonymousPullEnabled) return unauthorized;
      const notFound: ImageResolution = {
        kind: 'notFound',
        message: failed(image, 'NotFound', `${loginServer}/${ref.repository}:${reference}: not found`),
      };
      const repo = registry.repositories[ref.repository];
      if (!repo) return notFound;
      const digest = ref.digest ?? (ref.tag ? repo.tags[ref.tag] : undefined);
      if (!digest) return notFound;
      // `repo:tag@digest` pulls by digest; a tag that names another digest does not matter (docker's rule).
      let manifest: ManifestRecord | undefined = repo.manifests[digest];
      if (!manifest) return notFound;
      let pulled = digest;
      if (isIndexMediaType(manifest.mediaType)) {
        // containerd resolves an index to the manifest of its platform, and fails when there is none.
        const child = platformEntry(manifest, ACI_PLATFORM);
        manifest = child ? repo.manifests[child] : undefined;
        if (!child || !manifest)
          return {
            kind: 'notFound',
            message: failed(image, 'NotFound', `no match for platform in manifest ${digest}: not found`),
          };
        pulled = child;
      }
      if (manifest.behavior.mode === 'pullFailure') {
        return manifest.behavior.reason === 'unauthorized' ? unauthorized : notFound;
      }
      return {
        kind: 'found',
        loginServer,
        repository: ref.repository,
        digest: pulled,
        tags: Object.entries(repo.tags)
          .filter(([, d]) => d === digest)
          .map(([t]) => t)
          .sort(),
        behavior: manifest.behavior,
      };
    },
  };
}
