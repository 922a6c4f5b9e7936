/**
 * api-versions of Microsoft.ContainerRegistry/registries (azure-rest-api-specs, specification/containerregistry):
 * 2025-11-01 is what @azure/arm-containerregistry 12.x sends; the Azure CLI sends older ones. Latest last.
 */
export const REGISTRY_API_VERSIONS = [
  '2017-03-01',
  '2017-06-01-preview',
  '2017-10-01',
  '2019-05-01',
  '2019-12-01-preview',
  '2020-11-01-preview',
  '2021-06-01-preview',
  '2021-08-01-preview',
  '2021-09-01',
  '2021-12-01-preview',
  '2022-02-01-preview',
  '2022-12-01',
  '2023-01-01-preview',
  '2023-06-01-preview',
  '2023-07-01',
  '2023-08-01-preview',
  '2023-11-01-preview',
  '2024-11-01-preview',
  '2025-03-01-preview',
  '2025-04-01',
  '2025-05-01-preview',
  '2025-06-01-preview',
  '2025-11-01',
] as const;
