/**
 * api-versions of Microsoft.Network/privateDnsZones: the stable versions in azure-rest-api-specs
 * (specification/privatedns/resource-manager/Microsoft.Network/stable/{2018-09-01,2020-01-01,2020-06-01,2024-06-01}).
 * @azure/arm-privatedns 3.x sends 2020-06-01; the Bicep templates use 2024-06-01. Latest last.
 */
export const PRIVATE_DNS_API_VERSIONS = ['2018-09-01', '2020-01-01', '2020-06-01', '2024-06-01'] as const;
