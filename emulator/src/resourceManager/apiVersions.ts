/**
 * The api-versions Resource Manager publishes for its own resources, read off the folders of
 * azure-rest-api-specs `specification/resources/resource-manager/Microsoft.Resources/stable/`:
 * `{version}/subscriptions.json` (Subscriptions_*) and `{version}/resources.json` (ResourceGroups_*).
 */

/** Subscriptions_List / Subscriptions_Get. The Azure CLI 2.45 sends 2019-11-01; azure-mgmt-resource 23 2022-12-01. */
export const SUBSCRIPTIONS_API_VERSIONS = [
  '2015-11-01',
  '2016-06-01',
  '2018-06-01',
  '2019-06-01',
  '2019-11-01',
  '2020-01-01',
  '2021-01-01',
  '2022-12-01',
] as const;

/** ResourceGroups_*. The Azure CLI 2.45 sends 2022-09-01 (its recordings, e.g. test_container_create_with_vnet.yaml). */
export const RESOURCES_API_VERSIONS = [
  '2015-01-01',
  '2015-11-01',
  '2016-02-01',
  '2016-07-01',
  '2016-09-01',
  '2017-05-10',
  '2018-02-01',
  '2018-05-01',
  '2018-07-01',
  '2019-03-01',
  '2019-05-01',
  '2019-05-10',
  '2019-07-01',
  '2019-08-01',
  '2019-10-01',
  '2020-06-01',
  '2020-08-01',
  '2020-10-01',
  '2021-01-01',
  '2021-04-01',
  '2022-09-01',
  '2023-07-01',
  '2024-03-01',
  '2024-07-01',
  '2024-11-01',
  '2025-03-01',
  '2025-04-01',
] as const;

/**
 * ARM's cloud metadata endpoint (`GET {arm}/metadata/endpoints?api-version=…`): 2015-01-01 is the version
 * msrestazure (the Azure CLI's `az cloud register`) and Azure Stack Hub's documentation use; 2019-05-01 and
 * 2022-09-01 answer a list of clouds instead and are not served.
 */
export const METADATA_API_VERSIONS = ['2015-01-01'] as const;
