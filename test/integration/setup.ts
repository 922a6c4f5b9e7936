// Per-worker setup for integration tests: `*.localhost` names (the emulated vaults) resolve to loopback.
import { installLocalhostResolver } from '../../emulator/src/localhostDns.js';

installLocalhostResolver();
if (!process.env['NODE_EXTRA_CA_CERTS']) {
  throw new Error(
    'NODE_EXTRA_CA_CERTS is not set: run integration tests through vitest (globalSetup creates the CA).',
  );
}
