/**
 * Where emulated container groups get their IPs, all inside 127.0.0.0/8 so callers use real TCP on loopback:
 * - a VNet subnet id maps (by a stable hash) to its own `127.{100..199}.{0..255}.0/24`; like Azure, the first four
 *   addresses (.0 network, .1 gateway, .2/.3 Azure DNS) and .255 (broadcast) are never handed out;
 * - public groups share `127.50.0.0/16`, standing in for Azure's public address pool.
 */
import crypto from 'node:crypto';

export const PUBLIC_POOL_PREFIX = '127.50';
const FIRST_HOST = 4;
const LAST_HOST = 254;

export interface AddressRange {
  /** e.g. `127.142.17.0/24` */
  cidr: string;
  /** Host addresses in allocation order (lowest first). */
  hosts(): Iterable<string>;
  contains(ip: string): boolean;
}

/** The canonical form ARM ids compare in: case-insensitive, no trailing slash. */
export function normaliseResourceId(id: string): string {
  return id.trim().replace(/\/+$/, '').toLowerCase();
}

/** The emulated /24 of a subnet: `127.{100 + h % 100}.{h' % 256}.0/24`, stable for the id (case-insensitive). */
export function subnetRange(subnetId: string): AddressRange {
  const digest = crypto.createHash('sha256').update(normaliseResourceId(subnetId)).digest();
  const a = 100 + (digest.readUInt16BE(0) % 100);
  const b = digest[2]! % 256;
  const prefix = `127.${a}.${b}.`;
  return {
    cidr: `${prefix}0/24`,
    *hosts() {
      for (let h = FIRST_HOST; h <= LAST_HOST; h++) yield `${prefix}${h}`;
    },
    contains: (ip) => ip.startsWith(prefix),
  };
}

/** The public pool: 127.50.0.4 upwards, skipping .0 and .255 in every /24. */
export function publicRange(): AddressRange {
  return {
    cidr: `${PUBLIC_POOL_PREFIX}.0.0/16`,
    *hosts() {
      for (let hi = 0; hi <= 255; hi++) {
        for (let lo = hi === 0 ? FIRST_HOST : 1; lo <= LAST_HOST; lo++)
          yield `${PUBLIC_POOL_PREFIX}.${hi}.${lo}`;
      }
    },
    contains: (ip) => ip.startsWith(`${PUBLIC_POOL_PREFIX}.`),
  };
}

/**
 * The lowest host of `range` that is neither in use nor excluded and that `accept` takes (e.g. its ports can be
 * bound: another emulator on this machine may hold the address). Undefined when the range is exhausted.
 */
export async function allocateAddress(
  range: AddressRange,
  inUse: ReadonlySet<string>,
  exclude: ReadonlySet<string> = new Set(),
  accept: (ip: string) => Promise<boolean> | boolean = () => true,
): Promise<string | undefined> {
  for (const ip of range.hosts()) {
    if (inUse.has(ip) || exclude.has(ip)) continue;
    if (await accept(ip)) return ip;
  }
  return undefined;
}

/** A fake but stable public-looking address, used where Azure would show the caller's egress IP. */
export function fakeEgressIp(seed: string): string {
  const d = crypto.createHash('sha256').update(seed).digest();
  return `20.${50 + (d[0]! % 100)}.${d[1]!}.${1 + (d[2]! % 254)}`;
}
