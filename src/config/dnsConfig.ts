/**
 * The DNS part of APPS_CONFIG (issue 17): an app's `dns: { zoneId, name?, ttlSeconds?, callerCacheSeconds? }` and
 * `watch.dns: { zoneId?, ttlSeconds? }` for groups tagged `ip-dns=<name>`. Kept apart from appsConfig.ts so the app
 * schema only names these blocks.
 *
 * Names follow Azure Private DNS: a zone is `Microsoft.Network/privateDnsZones/{zone}` with at least two labels
 * (REST spec specification/privatedns/.../stable/2020-06-01/privatedns.json; Microsoft Learn, dns/private-dns-
 * privatednszone, "Restrictions": single-labeled zones are not supported); a record set is named relative to its
 * zone, and DNS labels are 1-63 letters, digits or '-' with at most 253 characters in all (RFC 1035 §2.3.4).
 */
import { z } from 'zod';

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const RG = '[-\\w._()]{1,90}';
const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?';
const ZONE_ID = new RegExp(
  `^/subscriptions/(${GUID})/resourceGroups/(${RG})/providers/Microsoft\\.Network/privateDnsZones/(${LABEL}(?:\\.${LABEL})+)$`,
  'i',
);
const RELATIVE_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/** Seconds callers may keep the record's answer: short, so a switch reaches them quickly. */
export const DEFAULT_DNS_TTL_SECONDS = 10;
/**
 * What callers cache on top of the TTL. App Service and Functions cache DNS answers for 30 s by default (0-60,
 * `siteConfig.dnsConfiguration.dnsMaxCacheTimeout`; Microsoft Learn, app-service/overview-name-resolution).
 */
export const DEFAULT_CALLER_CACHE_SECONDS = 30;

/** A Private DNS zone, from its resource id. */
export interface PrivateDnsZoneRef {
  /** Normalised: `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/privateDnsZones/{zone}`. */
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  /** Lower case, without a trailing dot, e.g. `apps.internal`. */
  name: string;
}

/** The zone a resource id names, or undefined when it is not a Private DNS zone id. */
export function parsePrivateDnsZoneId(id: string): PrivateDnsZoneRef | undefined {
  const m = ZONE_ID.exec(id.trim().replace(/\/+$/, ''));
  if (!m) return undefined;
  const [, subscriptionId, resourceGroup, zone] = m;
  const name = zone!.toLowerCase();
  return {
    id: `/subscriptions/${subscriptionId!.toLowerCase()}/resourceGroups/${resourceGroup!}/providers/Microsoft.Network/privateDnsZones/${name}`,
    subscriptionId: subscriptionId!.toLowerCase(),
    resourceGroup: resourceGroup!,
    name,
  };
}

/** Zones compare by id, case-insensitively (ARM ids are). */
export const zoneKey = (zone: PrivateDnsZoneRef): string => zone.id.toLowerCase();

/** A relative record set name (`web`, `web.eu`) as Azure keeps it: lower case. */
export function isRecordName(name: string, zoneName: string): boolean {
  return RELATIVE_NAME.test(name) && name.length + 1 + zoneName.length <= 253;
}

const zoneIdSchema = z.string().transform((s, ctx) => {
  const zone = parsePrivateDnsZoneId(s);
  if (zone) return zone;
  ctx.addIssue({
    code: 'custom',
    message:
      'must be a Private DNS zone resource id: /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Network/privateDnsZones/{zone} (at least two labels, e.g. apps.internal)',
  });
  return z.NEVER;
});

const ttlSeconds = z.number().int().min(1).max(86_400).default(DEFAULT_DNS_TTL_SECONDS);

/** `apps[].dns`: the app's A record `{name}.{zone}` follows its active group. */
export const appDnsSchema = z
  .strictObject({
    zoneId: zoneIdSchema,
    /** Relative to the zone; default the app's name. */
    name: z
      .string()
      .regex(RELATIVE_NAME, {
        message:
          "must be DNS labels (letters, digits, '-'; 1-63 each) separated by '.', relative to the zone",
      })
      .transform((s) => s.toLowerCase())
      .optional(),
    ttlSeconds,
    /** Added to the TTL to size the drain of the old group (docs/design.md, "DNS names"). */
    callerCacheSeconds: z.number().int().min(0).max(3_600).default(DEFAULT_CALLER_CACHE_SECONDS),
  })
  .transform(({ zoneId, ...rest }) => ({ zone: zoneId, ...rest }))
  .superRefine((dns, ctx) => {
    if (dns.name !== undefined && !isRecordName(dns.name, dns.zone.name))
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `${dns.name}.${dns.zone.name} is longer than DNS allows (253 characters)`,
      });
  });

/** `watch.dns`: the zone and TTL of groups tagged `ip-dns=<name>` without `ip-dns-zone`. */
export const watchDnsSchema = z
  .strictObject({ zoneId: zoneIdSchema.optional(), ttlSeconds })
  .transform(({ zoneId, ttlSeconds: ttl }) => ({ ...(zoneId ? { zone: zoneId } : {}), ttlSeconds: ttl }));

export type AppDnsConfig = z.output<typeof appDnsSchema>;
export type WatchDnsConfig = z.output<typeof watchDnsSchema>;

/** The app's record name relative to its zone: `dns.name`, else the app's name (a valid DNS label already). */
export function appRecordName(app: { name: string; dns?: AppDnsConfig }): string | undefined {
  return app.dns ? (app.dns.name ?? app.name) : undefined;
}

/** `web.apps.internal`: the name callers use. */
export function fqdnOf(name: string, zone: PrivateDnsZoneRef): string {
  return `${name}.${zone.name}`;
}
