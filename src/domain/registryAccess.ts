/**
 * Can ACI pull the app's image from its registry? Decided before any group is created, from what ARM shows of the
 * registry and from the app's pull identity, so a pull Azure would refuse fails the rollout in seconds with the
 * cause and the fix, and a pull Azure allows goes on with the path it relies on written in the timeline.
 *
 * What Azure allows (Microsoft Learn):
 * - A network-restricted registry (public network access Disabled, or a Premium firewall that denies by default)
 *   still serves ACI when ACI authenticates with a user-assigned managed identity in `imageRegistryCredentials`
 *   and the registry allows trusted services (`networkRuleBypassOptions: AzureServices`, the default; ACI is on
 *   the trusted list). Anonymous, username/password and admin pulls do not pass the firewall.
 *   Sources: "Deploy to Azure Container Instances from Azure Container Registry using a managed identity"
 *   (container-instances/using-azure-container-registry-mi); "Allow trusted services to securely access a
 *   network-restricted container registry" (container-registry/allow-access-trusted-services); "Container group
 *   fails to pull images from Azure Container Registry by using managed identity authentication" (troubleshoot,
 *   azure-container-instances/management/acr-image-pull-failures-managed-identity: InaccessibleImage when trusted
 *   services are off).
 * - The registry's private endpoint must not sit in the ACI-delegated subnet (same troubleshooting article: Azure
 *   refuses to create one there, "subnet ... is delegated"); checked where the endpoint can be read.
 * - Firewall rules and private endpoints are Premium features: a default action of Deny restricts nothing on
 *   another SKU (container-registry-access-selected-networks).
 * - In ABAC mode (`roleAssignmentMode: AbacRepositoryPermissions`) AcrPull is not honoured for repository access:
 *   the pull identity needs "Container Registry Repository Reader" (allow-access-trusted-services, "Trusted
 *   services workflow"). Role assignments are not visible to the function, so this is a timeline note.
 */
import type { AppConfig, TemplateConfig } from '../config/appsConfig.js';
import { errorMessage } from './errors.js';
import type { FailureReason } from './model.js';
import type { Registries, RegistryInfo } from './ports.js';

export const ABAC_MODE = 'AbacRepositoryPermissions';
export const REPOSITORY_READER_ROLE = 'Container Registry Repository Reader';

/** A private endpoint of the registry and what is known of where it sits. */
export interface EndpointPlacement {
  id: string;
  /** Its subnet id, when the endpoint could be read. */
  subnetId?: string;
  /** Why it could not be read (e.g. 403 AuthorizationFailed), when it could not. */
  unreadable?: string;
}

export interface RegistryAccessFacts {
  registry: RegistryInfo;
  /** The subnet the app's groups are created in (delegated to ACI). */
  aciSubnetId: string;
  /** `template.imagePullIdentity`: a user-assigned identity resource id. */
  pullIdentity?: string;
  /** The registry's private endpoints (empty when it has none, or when they did not need reading). */
  endpoints: EndpointPlacement[];
}

export type RegistryAccess =
  | { ok: true; path: string; notes: string[] }
  | { ok: false; reason: FailureReason; message: string; notes: string[] };

const same = (a: string | undefined, b: string): boolean => a?.toLowerCase() === b.toLowerCase();
const lastSegment = (id: string): string => id.replace(/\/+$/, '').split('/').pop() ?? id;
const sameId = (a: string, b: string): boolean =>
  a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();

/** What closes the registry's public endpoint to ACI's pulls, in words; empty when nothing does. */
export function networkRestrictions(r: RegistryInfo): string[] {
  const out: string[] = [];
  if (same(r.publicNetworkAccess, 'Disabled')) out.push('public network access is Disabled');
  const premium = r.sku === undefined || same(r.sku, 'Premium');
  if (premium && same(r.networkRuleSetDefaultAction, 'Deny'))
    out.push('its firewall denies by default (networkRuleSet.defaultAction=Deny)');
  return out;
}

/** The role the pull identity needs on the registry, as far as ARM tells. */
function pullRole(r: RegistryInfo): string {
  if (same(r.roleAssignmentMode, ABAC_MODE)) return `'${REPOSITORY_READER_ROLE}'`;
  if (r.roleAssignmentMode) return 'AcrPull';
  return `AcrPull ('${REPOSITORY_READER_ROLE}' if the registry uses ABAC repository permissions)`;
}

/** The decision table (pure, so every combination is unit-tested). */
export function decideRegistryAccess(f: RegistryAccessFacts): RegistryAccess {
  const r = f.registry;
  const identity = f.pullIdentity;
  const identityName = identity ? lastSegment(identity) : undefined;
  const subnetName = lastSegment(f.aciSubnetId);
  const setIdentity = `set template.imagePullIdentity to a user-assigned identity that holds ${pullRole(r)} on ${r.name}`;
  const notes: string[] = [];
  if (identityName && same(r.roleAssignmentMode, ABAC_MODE))
    notes.push(
      `registry ${r.name} uses ABAC repository permissions (roleAssignmentMode=${ABAC_MODE}): pull identity ` +
        `${identityName} needs '${REPOSITORY_READER_ROLE}' (or Writer/Contributor) on it; AcrPull is not honoured ` +
        `for repository access in this mode`,
    );

  const restrictions = networkRestrictions(r);
  if (restrictions.length === 0) {
    if (!identityName && r.anonymousPullEnabled !== true)
      return {
        ok: false,
        reason: 'PullIdentityMissing',
        message:
          `no imagePullIdentity and registry ${r.name} does not allow anonymous pull: ACI would pull from ` +
          `${r.loginServer} without credentials and be refused (401 Unauthorized). Fix: ${setIdentity}.`,
        notes,
      };
    return {
      ok: true,
      path: identityName
        ? `registry ${r.loginServer} allows public network access; ACI pulls with managed identity ${identityName}`
        : `registry ${r.loginServer} allows public network access and anonymous pull; ACI pulls without credentials`,
      notes,
    };
  }

  const restricted = `registry ${r.name} is network-restricted (${restrictions.join('; ')})`;
  const causes: string[] = [];
  if (!identityName)
    causes.push(
      `no imagePullIdentity: only a managed identity can pass the registry firewall (ACI passes it as a trusted ` +
        `Azure service authenticated with a user-assigned identity; anonymous and password pulls are refused). ` +
        `Fix: ${setIdentity}`,
    );
  if (same(r.networkRuleBypassOptions, 'None'))
    causes.push(
      `${r.name} denies trusted services (networkRuleBypassOptions=None). Fix: enable 'Allow trusted Microsoft ` +
        `services to access this container registry' (az acr update --name ${r.name} --allow-trusted-services ` +
        `true), or allow public network access`,
    );
  for (const e of f.endpoints) {
    if (e.subnetId && sameId(e.subnetId, f.aciSubnetId))
      causes.push(
        `the registry's private endpoint ${lastSegment(e.id)} sits in the ACI subnet ${subnetName}. Fix: move it ` +
          `to a subnet that is not delegated to Microsoft.ContainerInstance/containerGroups`,
      );
    if (e.unreadable)
      notes.push(
        `could not read private endpoint ${lastSegment(e.id)} to check that it is outside the ACI subnet ` +
          `${subnetName} (${e.unreadable}); going on without that check. Grant the function identity ` +
          `Microsoft.Network/privateEndpoints/read on it to have it checked`,
      );
  }
  if (causes.length > 0)
    return {
      ok: false,
      reason: 'RegistryNetworkRestricted',
      message: `${restricted} and ACI cannot pull from it: ${causes.join('; ')}.`,
      notes,
    };

  const checked = f.endpoints.filter((e) => e.subnetId !== undefined).map((e) => lastSegment(e.id));
  const bypass = r.networkRuleBypassOptions ? 'AzureServices' : 'AzureServices, the default';
  return {
    ok: true,
    path:
      `${restricted}; ACI pulls through the trusted-services exception (networkRuleBypassOptions=${bypass}) ` +
      `with managed identity ${identityName}` +
      (checked.length > 0
        ? `; private endpoint ${checked.join(', ')} is outside the ACI subnet ${subnetName}`
        : ''),
    notes,
  };
}

/** Reads what the decision needs beyond the registry (its private endpoints' subnets), then decides. A private
 * endpoint that cannot be read (no permission, gone, a transient error) is reported in the notes, never fatal. */
export async function checkRegistryAccess(
  registries: Registries,
  app: AppConfig,
  registry: RegistryInfo,
  template: Pick<TemplateConfig, 'imagePullIdentity'> | undefined = app.template,
): Promise<RegistryAccess> {
  const endpoints: EndpointPlacement[] = [];
  if (networkRestrictions(registry).length > 0) {
    for (const id of registry.privateEndpointIds ?? []) {
      try {
        const subnetId = await registries.privateEndpointSubnet(id);
        endpoints.push(subnetId ? { id, subnetId } : { id, unreadable: 'it shows no subnet' });
      } catch (e) {
        endpoints.push({ id, unreadable: errorMessage(e) });
      }
    }
  }
  return decideRegistryAccess({
    registry,
    aciSubnetId: app.subnetId,
    ...(template?.imagePullIdentity ? { pullIdentity: template.imagePullIdentity } : {}),
    endpoints,
  });
}
