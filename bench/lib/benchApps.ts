/**
 * APPS_CONFIG for the webhook benchmarks: N apps `{prefix}-{k}` of the integration tests' fast shape
 * (test/integration/support/fastApp.ts: the pushed image on port 8080, a health gate of two probes 250 ms apart, a
 * one-second drain), on a subnet of their own, with a semver tag policy, so that tags order and some are not
 * allowed (outside the range, pre-releases, `latest`).
 */
import type { EmulatorReady } from '../../scripts/lib/localStack.js';
import { fastApp, testSubnetId } from '../../test/integration/support/fastApp.js';

/** Tags the benchmark apps deploy: 1.x.y (2.0.0 and later, pre-releases and non-semver tags are refused). */
export const BENCH_TAG_RANGE = '>=1.0.0 <2.0.0';

export const benchAppNames = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, k) => `${prefix}-${String(k + 1).padStart(2, '0')}`);

export function benchAppsConfig(
  names: string[],
  vaultUrl: string,
  subnet = 'bench',
): { apps: Record<string, unknown>[] } {
  return {
    apps: names.map((name) =>
      fastApp(name, {
        subnetId: testSubnetId(subnet),
        vaultUrl,
        extra: { tagPolicy: { type: 'semver', range: BENCH_TAG_RANGE, allowDowngrade: false } },
      }),
    ),
  };
}

/** The same, for a started emulator (its vault URLs carry its port). */
export const benchAppsFor = (names: string[]) => (emulator: EmulatorReady) =>
  benchAppsConfig(names, emulator.keyVaultUrlTemplate.replace('{vault}', 'kv-apps'));
