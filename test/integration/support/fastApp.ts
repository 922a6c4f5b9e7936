/**
 * An APPS_CONFIG app entry for end-to-end tests that deploy real (emulated) groups quickly: any tag, the pushed
 * image on port 8080, a health gate of two probes 250 ms apart, a one-second drain. Each test file gives its own
 * subnet (its own 127.x range), so parallel files never hand out the same addresses.
 */

export const SUB = '00000000-0000-0000-0000-000000000001';
export const RG = 'rg-apps';
export const PORT = 8080;
export const PULL_IDENTITY = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-pull`;

export const registryId = (name: string) =>
  `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/${name}`;
/** A subnet of the test file's own VNet (`vnet-{vnet}`). */
export const testSubnetId = (vnet: string, subnet = 'aci') =>
  `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-${vnet}/subnets/${subnet}`;

export interface FastAppOptions {
  /** The app's subnet (testSubnetId). */
  subnetId: string;
  /** The vault holding the app's IP secret `{name}-ip`. */
  vaultUrl: string;
  /** Registry name (default contoso). */
  registry?: string;
  /** Pull with the user-assigned identity (default true). */
  pullIdentity?: boolean;
  /** Health gate timeout in seconds (default 5). */
  healthTimeoutSeconds?: number;
  provisioningTimeoutSeconds?: number;
  /** Fields to add or override at the top level (e.g. pullFailureGraceSeconds). */
  extra?: Record<string, unknown>;
}

export function fastApp(name: string, o: FastAppOptions): Record<string, unknown> {
  return {
    name,
    registry: { resourceId: registryId(o.registry ?? 'contoso') },
    repository: name,
    tagPolicy: { type: 'any' },
    resourceGroup: RG,
    location: 'westeurope',
    subnetId: o.subnetId,
    template: {
      osType: 'Linux',
      ...(o.pullIdentity === false ? {} : { imagePullIdentity: PULL_IDENTITY }),
      containers: [{ name: 'app', cpu: 0.5, memoryInGB: 1, ports: [PORT] }],
    },
    health: {
      port: PORT,
      path: '/healthz',
      consecutiveSuccesses: 2,
      intervalSeconds: 0.25,
      timeoutSeconds: o.healthTimeoutSeconds ?? 5,
    },
    secret: { vaultUrl: o.vaultUrl, name: `${name}-ip` },
    drainSeconds: 1,
    provisioningTimeoutSeconds: o.provisioningTimeoutSeconds ?? 60,
    ...o.extra,
  };
}
