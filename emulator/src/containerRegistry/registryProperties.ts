/**
 * The writable parts of a registry as ARM's PUT/PATCH and the control API set them (RegistryProperties,
 * RegistryUpdateParameters in azure-rest-api-specs specification/containerregistry), checked as ACR checks them.
 */
import { registryErrors } from './registryErrors.js';
import {
  ROLE_ASSIGNMENT_MODES,
  type PrivateEndpointRecord,
  type RegistryRecord,
  type SkuName,
} from './registryStore.js';

export const SKUS: readonly SkuName[] = ['Basic', 'Standard', 'Premium'];

const invalidContent = registryErrors.invalidContent;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  const match = allowed.find((a) => typeof value === 'string' && a.toLowerCase() === value.toLowerCase());
  if (!match) {
    throw invalidContent(
      `Error converting value '${String(value)}' of '${field}'. Allowed: ${allowed.join(', ')}.`,
    );
  }
  return match;
}

export function stringTags(value: unknown, field: string): Record<string, string> {
  if (!isObject(value)) throw invalidContent(`'${field}' must be an object of strings.`);
  for (const v of Object.values(value)) {
    if (typeof v !== 'string') throw invalidContent(`'${field}' must be an object of strings.`);
  }
  return value as Record<string, string>;
}

/** Applies the writable registry properties of a PUT or PATCH body (RegistryProperties / ...UpdateParameters). */
export function applyProperties(r: RegistryRecord, props: unknown): void {
  if (props === undefined || props === null) return;
  if (!isObject(props)) throw invalidContent("'properties' must be an object.");
  if (props['publicNetworkAccess'] !== undefined)
    r.publicNetworkAccess = oneOf(
      props['publicNetworkAccess'],
      ['Enabled', 'Disabled'],
      'publicNetworkAccess',
    );
  if (props['adminUserEnabled'] !== undefined) {
    if (typeof props['adminUserEnabled'] !== 'boolean')
      throw invalidContent("'adminUserEnabled' must be a boolean.");
    r.adminUserEnabled = props['adminUserEnabled'];
  }
  if (props['anonymousPullEnabled'] !== undefined) {
    if (typeof props['anonymousPullEnabled'] !== 'boolean')
      throw invalidContent("'anonymousPullEnabled' must be a boolean.");
    r.anonymousPullEnabled = props['anonymousPullEnabled'];
  }
  if (props['networkRuleBypassOptions'] !== undefined)
    r.networkRuleBypassOptions = oneOf(
      props['networkRuleBypassOptions'],
      ['AzureServices', 'None'],
      'networkRuleBypassOptions',
    );
  if (props['roleAssignmentMode'] !== undefined)
    r.roleAssignmentMode = oneOf(props['roleAssignmentMode'], ROLE_ASSIGNMENT_MODES, 'roleAssignmentMode');
  if (props['dataEndpointEnabled'] !== undefined)
    r.dataEndpointEnabled = props['dataEndpointEnabled'] === true;
  if (props['zoneRedundancy'] !== undefined)
    r.zoneRedundancy = oneOf(props['zoneRedundancy'], ['Enabled', 'Disabled'], 'zoneRedundancy');
  const rules = props['networkRuleSet'];
  if (rules !== undefined && rules !== null) {
    if (!isObject(rules)) throw invalidContent("'networkRuleSet' must be an object.");
    const defaultAction = oneOf(rules['defaultAction'], ['Allow', 'Deny'], 'networkRuleSet.defaultAction');
    const ipRules: { action: 'Allow'; value: string }[] = [];
    if (rules['ipRules'] !== undefined) {
      if (!Array.isArray(rules['ipRules']))
        throw invalidContent("'networkRuleSet.ipRules' must be an array.");
      for (const rule of rules['ipRules'] as unknown[]) {
        if (!isObject(rule) || typeof rule['value'] !== 'string')
          throw invalidContent(
            "each of 'networkRuleSet.ipRules' needs a 'value' (IP address or CIDR range).",
          );
        ipRules.push({ action: 'Allow', value: rule['value'] });
      }
    }
    r.networkRuleSet = { defaultAction, ipRules };
  }
}

/**
 * Network features the registry's SKU does not have. ACR refuses to disable public network access below Premium
 * with `DisablingPublicNetworkAccessNotSupported` ("Disabling public network access is not supported for the SKU
 * Basic. For more information, please visit https://aka.ms/acr/private-link.", as reported in
 * Azure-Samples/dotNET-Frontend-AB-Testing-on-Azure-Container-Apps#5); private endpoints are Premium only
 * (container-registry-private-link).
 */
export function checkSkuFeatures(r: RegistryRecord): void {
  if (r.sku === 'Premium') return;
  if (r.publicNetworkAccess === 'Disabled')
    throw registryErrors.disablingPublicNetworkAccessNotSupported(r.sku);
}

/** `privateEndpoints` of the network control route: `[{ name, subnetId, resourceGroup? }]`. */
export function parsePrivateEndpoints(value: unknown, registry: RegistryRecord): PrivateEndpointRecord[] {
  if (!Array.isArray(value))
    throw new Error("'privateEndpoints' must be an array of { name, subnetId, resourceGroup? }.");
  return value.map((pe, i) => {
    if (!isObject(pe) || typeof pe['name'] !== 'string' || !/^[\w][\w.-]{0,78}[\w]$/.test(pe['name']))
      throw new Error(
        `privateEndpoints[${i}].name must be a private endpoint name (2-80 letters, digits, '_', '.', '-').`,
      );
    if (typeof pe['subnetId'] !== 'string' || !SUBNET_ID.test(pe['subnetId']))
      throw new Error(
        `privateEndpoints[${i}].subnetId must be a subnet resource id (/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}).`,
      );
    const resourceGroup = pe['resourceGroup'] ?? registry.resourceGroup;
    if (typeof resourceGroup !== 'string' || !/^[-\w.()]{1,90}$/.test(resourceGroup))
      throw new Error(`privateEndpoints[${i}].resourceGroup must be a resource group name.`);
    return { name: pe['name'], resourceGroup, subnetId: pe['subnetId'] };
  });
}

const SUBNET_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;
