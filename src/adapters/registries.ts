/**
 * Azure Container Registry (management plane) through `@azure/arm-containerregistry`: reads a registry by
 * resource id, including the network settings and role mode that decide whether and how ACI can pull from it, and
 * the subnet of a registry's private endpoint (a `Microsoft.Network/privateEndpoints` read through the same
 * client's pipeline: same credential, scope, retries and timeouts, no extra SDK).
 */
import type { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { createDefaultHttpClient, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import { TerminalError } from '../domain/errors.js';
import type { RegistryInfo, Registries } from '../domain/ports.js';
import { fromAzureError } from './azureErrors.js';

const REGISTRY_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)\/?$/i;
const PRIVATE_ENDPOINT_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/privateEndpoints\/([^/]+)\/?$/i;

/**
 * Microsoft.Network api-version for `PrivateEndpoints_Get` (azure-rest-api-specs,
 * specification/network/resource-manager/Microsoft.Network/stable/2024-05-01, example PrivateEndpointGet.json:
 * the endpoint's subnet is `properties.subnet.id`).
 */
export const PRIVATE_ENDPOINT_API_VERSION = '2024-05-01';

export function parseRegistryId(resourceId: string): {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
} {
  const m = REGISTRY_ID.exec(resourceId);
  if (!m)
    throw new TerminalError(`not a container registry resource id: ${resourceId}`, {
      code: 'InvalidResourceId',
    });
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]! };
}

export interface RegistriesAdapterOptions {
  requestTimeoutMs?: number;
  /** Resource Manager endpoint for the private endpoint read (default https://management.azure.com). */
  armEndpoint?: string;
}

export class RegistriesAdapter implements Registries {
  private readonly clients = new Map<string, ContainerRegistryManagementClient>();
  private readonly httpClient = createDefaultHttpClient();

  /** @param clientFor one management client per subscription (registries may live in another subscription). */
  constructor(
    private readonly clientFor: (subscriptionId: string) => ContainerRegistryManagementClient,
    private readonly options: RegistriesAdapterOptions = {},
  ) {}

  private client(subscriptionId: string): ContainerRegistryManagementClient {
    const key = subscriptionId.toLowerCase();
    let c = this.clients.get(key);
    if (!c) {
      c = this.clientFor(subscriptionId);
      this.clients.set(key, c);
    }
    return c;
  }

  private timeout(): AbortSignal {
    return AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000);
  }

  async get(resourceId: string): Promise<RegistryInfo> {
    const { subscriptionId, resourceGroup, name } = parseRegistryId(resourceId);
    try {
      // @azure/arm-containerregistry 12.x sends api-version 2025-11-01, the first stable version whose registry
      // carries `roleAssignmentMode` (2025-04-01's RegistryProperties has no such field); the SDK maps it.
      const r = await this.client(subscriptionId).registries.get(resourceGroup, name, {
        abortSignal: this.timeout(),
      });
      const info: RegistryInfo = {
        id: r.id ?? resourceId,
        name: r.name ?? name,
        loginServer: r.loginServer ?? `${name.toLowerCase()}.azurecr.io`,
      };
      if (r.publicNetworkAccess) info.publicNetworkAccess = r.publicNetworkAccess;
      if (r.networkRuleSet?.defaultAction) info.networkRuleSetDefaultAction = r.networkRuleSet.defaultAction;
      if (r.networkRuleBypassOptions) info.networkRuleBypassOptions = r.networkRuleBypassOptions;
      if (r.roleAssignmentMode) info.roleAssignmentMode = r.roleAssignmentMode;
      const endpoints = (r.privateEndpointConnections ?? [])
        .map((c) => c.privateEndpoint?.id)
        .filter((id): id is string => typeof id === 'string' && id.length > 0);
      if (endpoints.length > 0) info.privateEndpointIds = endpoints;
      if (r.sku?.name) info.sku = r.sku.name;
      if (r.anonymousPullEnabled !== undefined) info.anonymousPullEnabled = r.anonymousPullEnabled;
      return info;
    } catch (e) {
      throw fromAzureError(`ACR get ${resourceGroup}/${name}`, e);
    }
  }

  /** Uncached here; composition.ts wraps the adapter in CachedRegistries. */
  async loginServer(resourceId: string): Promise<string> {
    return (await this.get(resourceId)).loginServer.toLowerCase();
  }

  async privateEndpointSubnet(privateEndpointId: string): Promise<string | undefined> {
    const m = PRIVATE_ENDPOINT_ID.exec(privateEndpointId);
    if (!m)
      throw new TerminalError(`not a private endpoint resource id: ${privateEndpointId}`, {
        code: 'InvalidResourceId',
      });
    const [, subscriptionId, resourceGroup, name] = m as unknown as [string, string, string, string];
    const what = `private endpoint get ${resourceGroup}/${name}`;
    const endpoint = (this.options.armEndpoint ?? 'https://management.azure.com').replace(/\/+$/, '');
    const path = `/subscriptions/${encodeURIComponent(subscriptionId)}/resourceGroups/${encodeURIComponent(resourceGroup)}/providers/Microsoft.Network/privateEndpoints/${encodeURIComponent(name)}`;
    try {
      const response = await this.client(subscriptionId).pipeline.sendRequest(
        this.httpClient,
        createPipelineRequest({
          url: `${endpoint}${path}?api-version=${PRIVATE_ENDPOINT_API_VERSION}`,
          method: 'GET',
          abortSignal: this.timeout(),
        }),
      );
      if (response.status >= 300)
        throw new RestError(response.bodyAsText ?? `status ${response.status}`, {
          statusCode: response.status,
          response,
        });
      const body = JSON.parse(response.bodyAsText ?? '{}') as { properties?: { subnet?: { id?: unknown } } };
      const subnet = body.properties?.subnet?.id;
      return typeof subnet === 'string' && subnet ? subnet : undefined;
    } catch (e) {
      throw fromAzureError(what, e);
    }
  }
}
