/**
 * Azure Container Instances' own error codes, each written once with its HTTP status and message (Azurite's
 * error-factory idea), in ARM's envelope `{ error: { code, message } }`. The limits the validation messages state
 * (names 1-63 characters, ports 1-65535, DNS name labels 5-63) are Microsoft Learn's "Troubleshoot common issues in
 * Azure Container Instances" (container-instances-troubleshooting, "Naming conventions"); an operation's `error`
 * follows the ARM async contract (azure-resource-manager-rpc v1.0/async-api-reference.md). Codes and wording are
 * kept exactly as the emulator answered before this factory existed. Subscription and location codes come from
 * resourceManagerErrors.ts, ResourceNotFound and paging codes from core/armErrors.ts.
 */
import { armErrors } from '../core/armErrors.js';
import { controlErrors } from '../core/controlErrors.js';
import { armError, type EmulatorHttpError, type OperationError } from '../core/errors.js';

const NAME_RULE =
  "must contain no more than 63 characters and must match the regex '[a-z0-9]([-a-z0-9]*[a-z0-9])?' (e.g. 'my-name')";

export const aciErrors = {
  // --- the REST surface ---------------------------------------------------------------------------------------
  resourceNotFound: (resourceGroup: string, name: string): EmulatorHttpError =>
    armErrors.resourceNotFound('Microsoft.ContainerInstance/containerGroups', resourceGroup, name),

  transitioning: (name: string): EmulatorHttpError =>
    armError(
      409,
      'ContainerGroupTransitioning',
      `The container group '${name}' is still transitioning, please retry later.`,
    ),

  operationNotFound: (id: string): EmulatorHttpError =>
    armError(404, 'OperationNotFound', `The operation '${id}' could not be found.`),

  containerNotFound: (container: string, group: string): EmulatorHttpError =>
    armError(
      404,
      'ContainerNotFound',
      `The container '${container}' could not be found in container group '${group}'.`,
    ),

  /** Synchronous image validation (the control API's `imageValidation: "sync"`). */
  inaccessibleImage: (image: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'InaccessibleImage',
      `The image '${image}' in container group '${group}' is not accessible. Please check the image and registry credential.`,
    ),

  invalidContainerGroupUpdate: (group: string, changed: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidContainerGroupUpdate',
      `The updates on container group '${group}' are invalid. If you are going to update the os type, restart policy, network profile, CPU, memory or GPU resources for a container group, you must delete it first and then create a new one. (Changed: ${changed}.)`,
    ),

  // --- the PUT body --------------------------------------------------------------------------------------------
  /** A body JSON.NET could not bind: ARM quotes the deserializer's detail and the JSON path. */
  invalidContent: (detail: string, path: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: '${detail} Path '${path}'.'`,
    ),

  requiredProperty: (prop: string, path: string): EmulatorHttpError =>
    aciErrors.invalidContent(`Required property '${prop}' not found in JSON.`, path),

  undeserializableBody: (): EmulatorHttpError =>
    armError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.'),

  emptyBody: (): EmulatorHttpError =>
    armError(
      400,
      'InvalidRequestContent',
      'The request content is empty. A container group definition is required.',
    ),

  tagsNotAnObject: (): EmulatorHttpError =>
    armError(400, 'InvalidRequestContent', "The request content was invalid: 'tags' must be an object."),

  invalidContainerGroupName: (name: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidContainerGroupName',
      `The container group name '${name}' is invalid. The container group name ${NAME_RULE}.`,
    ),

  noContainers: (group: string): EmulatorHttpError =>
    armError(
      400,
      'NoContainersInContainerGroup',
      `The container group '${group}' must contain at least one container.`,
    ),

  invalidContainerName: (container: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidContainerName',
      `The container name '${container}' in container group '${group}' is invalid. The container name ${NAME_RULE}.`,
    ),

  duplicateContainerName: (container: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'DuplicateContainerName',
      `Container name '${container}' is used more than once in container group '${group}'. Container names must be unique within a container group.`,
    ),

  invalidContainerImage: (container: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidContainerImage',
      `The container image of container '${container}' in container group '${group}' is invalid. The image must not be empty.`,
    ),

  invalidResourceRequests: (container: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidContainerResourceRequests',
      `The resource requests of container '${container}' in container group '${group}' are invalid. CPU and memory requests must be positive numbers.`,
    ),

  resourceRequestsExceedMaxAllowed: (container: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'ResourceRequestsExceedMaxAllowed',
      `The resource requests of container '${container}' in container group '${group}' exceed the maximum allowed: 4 CPU and 16.0 GB memory for a standard Linux container.`,
    ),

  invalidContainerPort: (port: unknown, path: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidContainerPort',
      `The port '${String(port)}' at '${path}.port' is invalid. A port must be an integer between 1 and 65535.`,
    ),

  linkedInvalidPropertyId: (id: string, path: string): EmulatorHttpError =>
    armError(
      400,
      'LinkedInvalidPropertyId',
      `Property id '${id}' at path '${path}.id' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.`,
    ),

  ipAddressPortsEmpty: (group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidIpAddressPorts',
      `The ports in the 'ipAddress' of container group '${group}' cannot be empty.`,
    ),

  ipAddressPortsNotExposed: (ports: number[], group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidIpAddressPorts',
      `Port(s) '${ports.join(', ')}' in the 'ipAddress' of container group '${group}' are not exposed by any container. Every port of the IP address must be exposed by one of the containers.`,
    ),

  invalidDnsNameLabel: (label: unknown, group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidDnsNameLabel',
      `The DNS name label '${String(label)}' of container group '${group}' is invalid. A DNS name label must be 5 to 63 characters long, contain only letters, numbers and hyphens, and start and end with a letter or number.`,
    ),

  dnsNameLabelNotSupportedForPrivateIp: (group: string): EmulatorHttpError =>
    armError(
      400,
      'DnsNameLabelNotSupportedForPrivateIP',
      `The DNS name label of container group '${group}' is not supported with a private IP address.`,
    ),

  privateIpAddressNotSupported: (group: string): EmulatorHttpError =>
    armError(
      400,
      'PrivateIPAddressNotSupported',
      `IP Address type in container group '${group}' is invalid. Private IP address is only supported when subnet ids or a network profile are used.`,
    ),

  moreRegistryCredentialsThanContainers: (group: string): EmulatorHttpError =>
    armError(
      400,
      'MoreImageRegistryCredentialsThanContainers',
      `More image registry credentials provided than containers in container group '${group}'.`,
    ),

  registryCredentialIdentityNotAssigned: (
    identity: string,
    server: string,
    group: string,
  ): EmulatorHttpError =>
    armError(
      400,
      'InvalidImageRegistryCredentialIdentity',
      `The identity '${identity}' of the image registry credential for server '${server}' is not assigned to container group '${group}'. Add it to the group's identity.userAssignedIdentities.`,
    ),

  registryCredentialIncomplete: (server: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidImageRegistryCredential',
      `The image registry credential for server '${server}' in container group '${group}' must have either a username and password or an identity.`,
    ),

  userAssignedIdentitiesRequired: (): EmulatorHttpError =>
    armError(
      400,
      'BadRequest',
      "The 'userAssignedIdentities' property must be specified when the identity type is 'UserAssigned'.",
    ),

  /** ARM's wording, its typo ("exisiting") included. */
  invalidIdentityValues: (id: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidIdentityValues',
      `Invalid value for the identities '${id}'. The 'UserAssignedIdentities' property keys should only be empty json objects, null or the resource exisiting property.`,
    ),

  // --- volumes, mounts, probes, init containers, priority ----------------------------------------------------
  // Confirmed: the Spot codes ("Error codes for Spot container creation in Azure Container Instances", Microsoft
  // Learn troubleshooting) and InvalidStorageAccountKey (ACI's answer to an Azure Files volume without its key,
  // hashicorp/terraform-provider-azurerm#26631). The others could not be confirmed from public sources: best-effort
  // names in ACI's Invalid<Thing> style, with ARM's 400.
  invalidVolumeName: (volume: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidVolumeName',
      `The volume name '${volume}' in container group '${group}' is invalid. A volume name must be 5 to 63 lowercase letters, numbers or hyphens, start and end with a letter or number, and contain no two consecutive hyphens.`,
    ),

  duplicateVolumeName: (volume: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'DuplicateVolumeName',
      `Volume name '${volume}' is used more than once in container group '${group}'. Volume names must be unique within a container group.`,
    ),

  invalidVolume: (volume: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidVolume',
      `The volume '${volume}' in container group '${group}' is invalid. Exactly one of 'azureFile', 'emptyDir', 'secret' or 'gitRepo' must be specified.`,
    ),

  invalidStorageAccountKey: (volume: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidStorageAccountKey',
      `The storage account key of Azure File volume '${volume}' in container group '${group}' is invalid. A storage account key is required to mount an Azure File share.`,
    ),

  invalidSecretVolume: (volume: string, file: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidSecretVolume',
      `The value of secret '${file}' in volume '${volume}' of container group '${group}' is invalid. Secret values must be base64-encoded.`,
    ),

  invalidVolumeMount: (container: string, volume: string, group: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidVolumeMount',
      `The volume mount '${volume}' of container '${container}' in container group '${group}' is invalid. It must name a volume of the container group and have a mount path that does not contain ':'.`,
    ),

  invalidContainerProbe: (container: string, kind: string, group: string, why: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidContainerProbe',
      `The ${kind} of container '${container}' in container group '${group}' is invalid: ${why}.`,
    ),

  volumesNotSupportedOnWindows: (group: string): EmulatorHttpError =>
    armError(
      400,
      'VolumesNotSupportedOnWindows',
      `Container group '${group}' mounts volumes, which are supported for Linux container groups only.`,
    ),

  publicIpNotSupportedInVirtualNetwork: (group: string): EmulatorHttpError =>
    armError(
      400,
      'PublicIPAddressNotSupportedInVirtualNetwork',
      `Container group '${group}' is deployed to a virtual network and cannot have a public IP address.`,
    ),

  gpuNotSupportedInVirtualNetwork: (group: string): EmulatorHttpError =>
    armError(
      400,
      'GpuNotSupportedInVirtualNetwork',
      `Container group '${group}' is deployed to a virtual network and cannot request GPU resources.`,
    ),

  priorityNotSpecified: (group: string): EmulatorHttpError =>
    armError(
      400,
      'PriorityNotSpecified',
      `The 'Priority' must be one of 'Regular,Spot' for container group '${group}'.`,
    ),

  spotNotSupportedForInboundConnectivity: (): EmulatorHttpError =>
    armError(
      400,
      'SpotPriorityContainerGroupNotSupportedForInboundConnectivity',
      'Spot Priority is not supported for container groups with inbound connectivity.',
    ),

  spotNotSupportedInSku: (sku: string): EmulatorHttpError =>
    armError(
      400,
      'SpotPriorityContainerGroupNotSupportedInSku',
      `Spot Priority Container Group is not supported in '${sku}' Sku.`,
    ),

  spotWithGpuNotSupported: (): EmulatorHttpError =>
    armError(
      400,
      'SpotPriorityContainerGroupWithGPUResourcesNotSupported',
      'Spot Priority Container Groups that include containers requesting GPU resources are not supported.',
    ),

  // --- an operation's outcome (async-operation status `error`) -------------------------------------------------
  operation: {
    inaccessibleImage: (image: string, group: string, container: string, detail: string): OperationError => ({
      code: 'InaccessibleImage',
      message: `The image '${image}' in container group '${group}' is not accessible. Please check the image and registry credential. Container '${container}': ${detail}`,
    }),
    insufficientSubnetSize: (group: string): OperationError => ({
      code: 'InsufficientSubnetSize',
      message: `There are no free IP addresses left for container group '${group}' in its subnet.`,
    }),
    canceled: (reason: string): OperationError => ({ code: 'OperationCanceled', message: reason }),
  },

  // --- the emulator's control API (not Azure's: plain body) ---------------------------------------------------
  control: {
    groupNotFound: (resourceGroup: string, name: string): EmulatorHttpError =>
      controlErrors.notFound(`Container group '${name}' not found in resource group '${resourceGroup}'.`),
    notRunning: (name: string, state: string): EmulatorHttpError =>
      controlErrors.conflict(
        'ContainerGroupNotRunning',
        `Container group '${name}' is not running (state ${state}).`,
      ),
    noFreeAddress: (name: string): EmulatorHttpError =>
      controlErrors.conflict('NoFreeAddress', `No free address left for '${name}'.`),
    subnetTooSmall: (id: string, cidr: string, free: number, wanted: number): EmulatorHttpError =>
      controlErrors.conflict(
        'InsufficientSubnetSize',
        `Subnet '${id}' (${cidr}) has ${free} free addresses for ${wanted} groups; like an Azure /24 it holds at most 251. Pass several ids in "subnetIds" (round-robin) or none (public addresses).`,
      ),
  },
};
