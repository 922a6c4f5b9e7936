import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyToEnvironment,
  loadLocalSettings,
  LocalSettingsError,
  parseLocalSettings,
  resolveStackReferences,
} from '../../../host/src/localSettings.js';

describe('local.settings.json', () => {
  it('reads Values as strings, Host.LocalHttpPort and Host.Keys', () => {
    const settings = parseLocalSettings(
      JSON.stringify({
        IsEncrypted: false,
        Values: { A: 'x', N: 5, B: true, SKIP: null },
        Host: {
          LocalHttpPort: 7072,
          Keys: {
            master: 'm',
            function: 'f',
            eventgrid_extension: 'e',
            functions: { status: { default: 's', functionKey: 'r' } },
          },
        },
      }),
      'local.settings.json',
    );
    expect(settings.values).toEqual({ A: 'x', N: '5', B: 'true' });
    expect(settings.localHttpPort).toBe(7072);
    expect(settings.keys).toEqual({
      master: 'm',
      function: 'f',
      system: { eventgrid_extension: 'e' },
      functions: { status: { default: 's', functionKey: 'r' } },
    });
  });

  it('names the field of a malformed function key pin', () => {
    const keys = (value: unknown) =>
      parseLocalSettings(JSON.stringify({ Host: { Keys: { functions: value } } }), 'f.json');
    expect(() => keys({ status: { default: 5 } })).toThrow(
      /Host.Keys.functions.status.default must be a string/,
    );
    expect(() => keys({ status: 'x' })).toThrow(/Host.Keys.functions.status must be an object/);
    expect(() => keys(['status'])).toThrow(/Host.Keys.functions must be an object/);
  });

  it('rejects encrypted files, nested values and bad JSON with the file name', () => {
    expect(() => parseLocalSettings('{"IsEncrypted": true}', 'f.json')).toThrow(/encrypted/);
    expect(() => parseLocalSettings('{"Values": {"X": {"a": 1}}}', 'f.json')).toThrow(
      /Values.X must be a string/,
    );
    expect(() => parseLocalSettings('{', 'f.json')).toThrow(LocalSettingsError);
  });

  it('is created from the sample on first start, then read as is', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));
    const file = path.join(dir, 'local.settings.json');
    const sample = path.join(dir, 'local.settings.sample.json');
    fs.writeFileSync(sample, JSON.stringify({ Values: { A: 'sample' } }));
    const first = loadLocalSettings(file, sample);
    expect(first).toMatchObject({ created: true, values: { A: 'sample' } });
    fs.writeFileSync(file, JSON.stringify({ Values: { A: 'edited' } }));
    expect(loadLocalSettings(file, sample)).toMatchObject({ created: false, values: { A: 'edited' } });
    expect(loadLocalSettings(path.join(dir, 'none.json'), path.join(dir, 'no-sample.json')).values).toEqual(
      {},
    );
  });
});

describe('stack references', () => {
  const stack = {
    armEndpoint: 'https://127.0.0.1:7443',
    keyVaultUrlTemplate: 'https://{vault}.vault.localhost:7443',
    port: 7443,
  };

  it('substitutes ${stack.X} and ${vault:NAME}', () => {
    const { values, unresolved } = resolveStackReferences(
      {
        ARM_ENDPOINT: '${stack.armEndpoint}',
        CONFIG: '{"vaultUrl":"${vault:kv-apps}","port":${stack.port}}',
        PLAIN: 'value',
      },
      stack,
    );
    expect(values).toEqual({
      ARM_ENDPOINT: 'https://127.0.0.1:7443',
      CONFIG: '{"vaultUrl":"https://kv-apps.vault.localhost:7443","port":7443}',
      PLAIN: 'value',
    });
    expect(unresolved).toEqual([]);
  });

  it('leaves out values whose reference cannot be resolved', () => {
    const { values, unresolved } = resolveStackReferences(
      { IDENTITY_HEADER: '${stack.identityHeader}', KV: '${vault:kv-apps}', OK: 'x' },
      undefined,
    );
    expect(values).toEqual({ OK: 'x' });
    expect(unresolved).toEqual([
      { name: 'IDENTITY_HEADER', reference: '${stack.identityHeader}' },
      { name: 'KV', reference: '${vault:kv-apps}' },
    ]);
  });
});

describe('applying settings to the environment', () => {
  it('sets values the environment lacks and keeps the ones it defines', () => {
    const env: Record<string, string | undefined> = { KEEP: 'from-env' };
    const result = applyToEnvironment({ KEEP: 'from-file', NEW: 'from-file' }, env);
    expect(env).toEqual({ KEEP: 'from-env', NEW: 'from-file' });
    expect(result).toEqual({ applied: ['NEW'], kept: ['KEEP'] });
  });
});
