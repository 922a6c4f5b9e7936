/**
 * local.settings.sample.json (for `npm run host` / `func start`) and the settings `npm start` generates
 * (scripts/lib/sampleConfig.ts) describe the same sample; this keeps them from drifting apart.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLocalSettings, resolveStackReferences } from '../../../host/src/localSettings.js';
import { azuriteConnectionString, localStackAppSettings } from '../../../scripts/lib/sampleConfig.js';

const stack = {
  subscriptionId: '00000000-0000-0000-0000-000000000001',
  armEndpoint: 'https://127.0.0.1:7443',
  keyVaultUrlTemplate: 'https://{vault}.vault.localhost:7443',
  identityEndpoint: 'https://127.0.0.1:7443/msi/token',
  identityHeader: 'header-secret',
  caCertPath: '/repo/.local/ca/ca.pem',
  registryEndpointTemplate: 'https://{registry}.azurecr.localhost:7443',
};

describe('the sample settings', () => {
  const sample = parseLocalSettings(fs.readFileSync('local.settings.sample.json', 'utf8'), 'sample');

  it('holds placeholders, no secret', () => {
    expect(sample.values['IDENTITY_HEADER']).toBe('${stack.identityHeader}');
    expect(sample.keys).toEqual({});
    expect(sample.localHttpPort).toBe(7071);
  });

  it('resolves to what npm start generates for the same stack', () => {
    const { values, unresolved } = resolveStackReferences(sample.values, stack);
    expect(unresolved).toEqual([]);
    const generated = localStackAppSettings({
      ...stack,
      storageConnectionString: azuriteConnectionString({
        tableEndpoint: 'http://127.0.0.1:10002/devstoreaccount1',
      }),
    });
    const { AzureWebJobsStorage: fromFile, ...fileRest } = values;
    const { AzureWebJobsStorage: generatedStorage, ...generatedRest } = generated;
    expect(fileRest).toEqual(generatedRest);
    expect(JSON.parse(values['APPS_CONFIG']!)).toMatchObject({
      apps: [
        {
          name: 'web',
          secret: { vaultUrl: 'https://kv-apps.vault.localhost:7443', name: 'web-ip' },
          rollbackWindowSeconds: 600,
          verify: { durationSeconds: 20 },
        },
        { name: 'api', repository: 'api', promotion: { mode: 'manual' }, verify: { failureThreshold: 3 } },
      ],
      watch: { groups: [{ resourceGroup: 'rg-legacy', name: 'legacy-worker' }] },
    });
    // The file's storage is Azurite on its default ports, as npm start runs it.
    expect(fromFile).toBe('UseDevelopmentStorage=true');
    expect(generatedStorage).toContain('TableEndpoint=http://127.0.0.1:10002/devstoreaccount1');
  });
});
