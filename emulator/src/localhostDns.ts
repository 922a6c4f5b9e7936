/**
 * Resolve every `*.localhost` name to the loopback address, as RFC 6761 §6.3 asks and as systemd-resolved and
 * browsers do; glibc's resolver does not. The emulator serves each Key Vault at `{vault}.vault.localhost`, so
 * vault URLs keep Azure's shape (the Key Vault SDK checks that the vault host is a sub-domain of the challenge
 * resource). Installed by the local functions host and the test setup only, never by the application.
 */
import dns from 'node:dns';

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

function loopbackFor(options: dns.LookupOptions): dns.LookupAddress[] {
  if (options.family === 6) return [{ address: '::1', family: 6 }];
  if (options.family === 4) return [{ address: '127.0.0.1', family: 4 }];
  return [{ address: '127.0.0.1', family: 4 }];
}

let installed = false;

export function installLocalhostResolver(): void {
  if (installed) return;
  installed = true;
  const original = dns.lookup;
  const patched = function lookup(
    hostname: string,
    optionsOrCallback: unknown,
    maybeCallback?: unknown,
  ): void {
    const callback = (
      typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback
    ) as LookupCallback;
    const rawOptions = typeof optionsOrCallback === 'function' ? {} : optionsOrCallback;
    const options: dns.LookupOptions =
      typeof rawOptions === 'number' ? { family: rawOptions } : ((rawOptions ?? {}) as dns.LookupOptions);
    if (typeof hostname === 'string' && isLocalhostName(hostname)) {
      const addresses = loopbackFor(options);
      const first = addresses[0]!;
      process.nextTick(() =>
        options.all ? callback(null, addresses) : callback(null, first.address, first.family),
      );
      return;
    }
    (original as (...args: unknown[]) => void).call(dns, hostname, optionsOrCallback, maybeCallback);
  };
  (dns as { lookup: unknown }).lookup = patched;
  const originalPromise = dns.promises.lookup;
  (dns.promises as { lookup: unknown }).lookup = async (
    hostname: string,
    options?: dns.LookupOptions | number,
  ) => {
    const opts: dns.LookupOptions = typeof options === 'number' ? { family: options } : (options ?? {});
    if (isLocalhostName(hostname)) {
      const addresses = loopbackFor(opts);
      return opts.all ? addresses : addresses[0];
    }
    return (originalPromise as (h: string, o?: unknown) => Promise<unknown>)(hostname, options);
  };
}
