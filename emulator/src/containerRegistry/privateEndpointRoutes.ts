/**
 * ARM `Microsoft.Network/privateEndpoints` GET for the registries' private endpoints: the only Network resource the
 * app reads (to learn an endpoint's subnet). The body follows the REST spec's example (azure-rest-api-specs,
 * specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/examples/PrivateEndpointGet.json):
 * `properties.subnet.id`, the private link connection to the registry (group id `registry`), the endpoint's NIC.
 * A read the caller may not make is modelled with a fault (`POST /_emulator/faults` with operation
 * `PrivateEndpoints_Get`, status 403, code AuthorizationFailed), as the emulator has no role assignments.
 */
import crypto from 'node:crypto';
import type { EmulatorContext } from '../core/context.js';
import { resourceManagerErrors } from '../resourceManager/resourceManagerErrors.js';
import { registryErrors } from './registryErrors.js';
import type { Route } from '../core/router.js';
import {
  privateEndpointId,
  registryResourceId,
  type PrivateEndpointRecord,
  type RegistryRecord,
  type RegistryStore,
} from './registryStore.js';

/** Microsoft.Network api-versions accepted here: stable versions whose spec has PrivateEndpointGet.json. */
export const NETWORK_API_VERSIONS = ['2024-05-01', '2024-07-01', '2024-10-01', '2025-01-01'] as const;

function toNetworkResource(
  sub: string,
  r: RegistryRecord,
  pe: PrivateEndpointRecord,
): Record<string, unknown> {
  const id = privateEndpointId(sub, pe);
  const nicSuffix = crypto.createHash('sha256').update(id.toLowerCase()).digest('hex').slice(0, 8);
  const nicId = `/subscriptions/${sub}/resourceGroups/${pe.resourceGroup}/providers/Microsoft.Network/networkInterfaces/${pe.name}.nic.${nicSuffix}`;
  const connection = `${r.name}-${pe.name}`;
  return {
    name: pe.name,
    id,
    etag: `W/"${nicSuffix}"`,
    type: 'Microsoft.Network/privateEndpoints',
    location: r.location,
    properties: {
      provisioningState: 'Succeeded',
      privateLinkServiceConnections: [
        {
          name: connection,
          id: `${id}/privateLinkServiceConnections/${connection}`,
          type: 'Microsoft.Network/privateEndpoints/privateLinkServiceConnections',
          properties: {
            provisioningState: 'Succeeded',
            privateLinkServiceId: registryResourceId(sub, r),
            groupIds: ['registry'],
            privateLinkServiceConnectionState: {
              status: 'Approved',
              description: 'Auto-Approved',
              actionsRequired: 'None',
            },
          },
        },
      ],
      manualPrivateLinkServiceConnections: [],
      subnet: { id: pe.subnetId },
      networkInterfaces: [{ id: nicId }],
      customDnsConfigs: [],
      ipConfigurations: [],
      customNetworkInterfaceName: '',
    },
  };
}

export function privateEndpointRoutes(ctx: EmulatorContext, store: RegistryStore): Route[] {
  const sub = () => ctx.options.subscriptionId;
  return [
    {
      method: 'GET',
      pattern:
        '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.Network/privateEndpoints/:privateEndpointName',
      auth: 'arm',
      operation: 'PrivateEndpoints_Get',
      apiVersions: NETWORK_API_VERSIONS,
      handler: (req) => {
        const given = req.params['subscriptionId'] ?? '';
        if (given.toLowerCase() !== sub().toLowerCase())
          throw resourceManagerErrors.subscriptionNotFound(given);
        const rg = req.params['resourceGroupName'] ?? '';
        const name = req.params['privateEndpointName'] ?? '';
        for (const r of store.all()) {
          const pe = r.privateEndpoints.find(
            (p) =>
              p.name.toLowerCase() === name.toLowerCase() &&
              p.resourceGroup.toLowerCase() === rg.toLowerCase(),
          );
          if (pe) return { status: 200, body: toNetworkResource(sub(), r, pe) };
        }
        throw registryErrors.privateEndpointNotFound(rg, name);
      },
    },
  ];
}
