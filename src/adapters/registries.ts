/**
 * Azure Container Registry (management plane) through `@azure/arm-containerregistry`: reads a registry by
 * resource id, including the network settings that decide whether ACI can pull from it.
 */
import type { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { TerminalError } from '../domain/errors.js';
import type { RegistryInfo, Registries } from '../domain/ports.js';
import { fromAzureError } from './azureErrors.js';

const REGISTRY_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)\/?$/i;

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

export class RegistriesAdapter implements Registries {
  private readonly clients = new Map<string, ContainerRegistryManagementClient>();

  /** @param clientFor one management client per subscription (registries may live in another subscription). */
  constructor(
    private readonly clientFor: (subscriptionId: string) => ContainerRegistryManagementClient,
    private readonly options: { requestTimeoutMs?: number } = {},
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

  async get(resourceId: string): Promise<RegistryInfo> {
    const { subscriptionId, resourceGroup, name } = parseRegistryId(resourceId);
    try {
      const r = await this.client(subscriptionId).registries.get(resourceGroup, name, {
        abortSignal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000),
      });
      const info: RegistryInfo = {
        id: r.id ?? resourceId,
        name: r.name ?? name,
        loginServer: r.loginServer ?? `${name.toLowerCase()}.azurecr.io`,
      };
      if (r.publicNetworkAccess) info.publicNetworkAccess = r.publicNetworkAccess;
      if (r.networkRuleSet?.defaultAction) info.networkRuleSetDefaultAction = r.networkRuleSet.defaultAction;
      if (r.sku?.name) info.sku = r.sku.name;
      if (r.anonymousPullEnabled !== undefined) info.anonymousPullEnabled = r.anonymousPullEnabled;
      return info;
    } catch (e) {
      throw fromAzureError(`ACR get ${resourceGroup}/${name}`, e);
    }
  }
}
