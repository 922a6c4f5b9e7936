import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

describe('emulator core: managed identity, auth, control API', () => {
  let emulator: TestEmulator;
  let restoreEnv: () => void;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    restoreEnv = useManagedIdentity(emulator);
  });
  afterAll(async () => {
    restoreEnv();
    await emulator.close();
  });

  it('issues ARM tokens to DefaultAzureCredential through the App Service managed-identity protocol', async () => {
    const token = await new DefaultAzureCredential().getToken('https://management.azure.com/.default');
    const claims = JSON.parse(Buffer.from(token.token.split('.')[1]!, 'base64url').toString()) as {
      aud: string;
    };
    expect(claims.aud).toBe('https://management.azure.com');
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now());
  });

  it('refuses a token request without the identity header', async () => {
    const res = await fetch(
      `${String(emulator.stack['identityEndpoint'])}?api-version=2019-08-01&resource=https://management.azure.com`,
    );
    expect(res.status).toBe(401);
  });

  it('serves the older MSI_ENDPOINT form (POST with Metadata: true) the Azure CLI uses', async () => {
    const res = await fetch(String(emulator.stack['msiEndpoint']), {
      method: 'POST',
      headers: { metadata: 'true', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'resource=https://vault.azure.net',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; resource: string };
    expect(body.resource).toBe('https://vault.azure.net');
  });

  it('records every request in the request log with counts per operation', async () => {
    const before = await emulator.requestCounts();
    await fetch(`${emulator.url}/_emulator/health`);
    await fetch(`${emulator.url}/_emulator/health`);
    const after = await emulator.requestCounts(before.lastSeq);
    expect(after.counts['Emulator_Health']).toBe(2);
  });

  it('validates fault specs', async () => {
    const bad = await emulator.control('POST', '/_emulator/faults', { kind: 'explode' });
    expect(bad.status).toBe(400);
    const good = await emulator.control<{ id: string }>('POST', '/_emulator/faults', {
      kind: 'throttle',
      share: 0.5,
      match: { operation: 'X' },
    });
    expect(good.status).toBe(201);
    expect((await emulator.control('DELETE', `/_emulator/faults/${good.body.id}`)).status).toBe(204);
  });
});
