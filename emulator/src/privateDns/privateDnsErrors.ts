/**
 * Azure Private DNS's error codes, each written once (Azurite's error-factory idea), in ARM's envelope.
 * - 412 PreconditionFailed: an ETag precondition (If-Match, If-None-Match: *) that does not hold (Microsoft Learn,
 *   dns/dns-zones-records, "Etags"); the wording of the If-None-Match case as Azure DNS answers it (quoted in
 *   MSOpenTech/azure-xplat-cli#170).
 * - 409 CannotDeleteResource: a zone that still has virtual network links (the REST spec's PrivateZones_Delete says
 *   so; the message as ARM answers it, quoted in learntocloud/networking-lab#8).
 * - 400 BadRequest for `$top` outside 1-1000, in Azure DNS's words (MicrosoftDocs/feedback#1111).
 */
import { armErrors } from '../core/armErrors.js';
import { armError, EmulatorHttpError, notImplemented } from '../core/errors.js';

export const privateDnsErrors = {
  zoneNotFound: (resourceGroup: string, zone: string): EmulatorHttpError =>
    armErrors.resourceNotFound('Microsoft.Network/privateDnsZones', resourceGroup, zone),

  linkNotFound: (resourceGroup: string, zone: string, link: string): EmulatorHttpError =>
    armErrors.resourceNotFound(
      `Microsoft.Network/privateDnsZones/${zone}/virtualNetworkLinks`,
      resourceGroup,
      link,
    ),

  /**
   * A record set that does not exist: Azure DNS answers `{ code, message }` without ARM's `error` wrapper, naming
   * the record as `{name}.{zone}` (a Private DNS answer quoted in Azure/azure-cli#27374).
   */
  recordSetNotFound: (
    name: string,
    zone: string,
    resourceGroup: string,
    subscriptionId: string,
  ): EmulatorHttpError =>
    new EmulatorHttpError(
      404,
      'NotFound',
      `The resource record '${name}.${zone}' does not exist in resource group '${resourceGroup}' of subscription '${subscriptionId}'.`,
      'plain',
    ),

  ifMatchFailed: (): EmulatorHttpError =>
    armError(
      412,
      'PreconditionFailed',
      'The condition in the If-Match header was not satisfied: the ETag of the resource does not match.',
    ),

  ifNoneMatchFailed: (): EmulatorHttpError =>
    armError(412, 'PreconditionFailed', "The condition '*' in the If-None-Match header was not satisfied."),

  nestedResourcesExist: (zone: string, link: string): EmulatorHttpError =>
    armError(
      409,
      'CannotDeleteResource',
      `Cannot delete resource while nested resources exist. Some existing nested resource IDs include: 'Microsoft.Network/privateDnsZones/${zone}/virtualNetworkLinks/${link}'. Please delete all nested resources before deleting this resource.`,
    ),

  invalidTop: (raw: string): EmulatorHttpError =>
    armError(400, 'BadRequest', `Invalid $top value: '${raw}'. It must be a number between '1' and '1000'.`),

  badRequest: (message: string): EmulatorHttpError => armError(400, 'BadRequest', message),

  invalidSkipToken: (token: string): EmulatorHttpError => armErrors.invalidSkipToken(token),

  /** Record types other than A are not modelled (the app writes A records only). */
  recordTypeNotImplemented: (type: string): EmulatorHttpError =>
    notImplemented(`Private DNS record sets of type ${type} (only A record sets are emulated)`),
};
