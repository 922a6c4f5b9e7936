import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EVENTGRID_SYSTEM_KEY,
  KeyConfigurationError,
  keyAllows,
  loadOrCreateKeys,
  presentedKey,
  sharedKeyValue,
  systemKeyAllows,
  type HostKeys,
} from '../../../host/src/keys.js';

const keys: HostKeys = {
  masterKey: 'master-key',
  functionKeys: { default: 'host-key' },
  systemKeys: { [EVENTGRID_SYSTEM_KEY]: 'eventgrid-key' },
  functions: {
    status: { default: 'status-key', functionKey: 'read-key' },
    dashboard: { default: 'dashboard-key', functionKey: 'read-key' },
    operatorActions: { default: 'actions-default', actionsKey: 'actions-key' },
  },
};

const tempKeysFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keys-')), 'host', 'keys.json');
const KEY = /^[A-Za-z0-9_-]{40}$/;

describe('key checks', () => {
  it('opens anonymous routes without a key', () => {
    expect(keyAllows('anonymous', undefined, keys, 'status')).toBe(true);
  });

  it("opens a function route with the function's own keys, a host key or the master key", () => {
    for (const key of ['status-key', 'read-key', 'host-key', 'master-key']) {
      expect(keyAllows('function', key, keys, 'status'), key).toBe(true);
    }
    expect(keyAllows('function', 'eventgrid-key', keys, 'status')).toBe(false);
    expect(keyAllows('function', 'host-ke', keys, 'status')).toBe(false);
    expect(keyAllows('function', undefined, keys, 'status')).toBe(false);
  });

  it("refuses another function's keys (the status key does not open the actions)", () => {
    expect(keyAllows('function', 'read-key', keys, 'operatorActions')).toBe(false);
    expect(keyAllows('function', 'status-key', keys, 'operatorActions')).toBe(false);
    expect(keyAllows('function', 'actions-key', keys, 'operatorActions')).toBe(true);
    expect(keyAllows('function', 'actions-key', keys, 'status')).toBe(false);
    expect(keyAllows('function', 'actions-default', keys, 'dashboard')).toBe(false);
    // A function the keys file does not know has only the host and master keys.
    expect(keyAllows('function', 'status-key', keys, 'other')).toBe(false);
    expect(keyAllows('function', 'host-key', keys, 'other')).toBe(true);
  });

  it('opens admin routes with the master key only', () => {
    expect(keyAllows('admin', 'master-key', keys, 'probe')).toBe(true);
    expect(keyAllows('admin', 'host-key', keys, 'probe')).toBe(false);
    expect(keyAllows('admin', 'status-key', keys, 'status')).toBe(false);
  });

  it('opens an extension endpoint with its system key or the master key', () => {
    expect(systemKeyAllows(EVENTGRID_SYSTEM_KEY, 'eventgrid-key', keys)).toBe(true);
    expect(systemKeyAllows(EVENTGRID_SYSTEM_KEY, 'master-key', keys)).toBe(true);
    expect(systemKeyAllows(EVENTGRID_SYSTEM_KEY, 'host-key', keys)).toBe(false);
    expect(systemKeyAllows(EVENTGRID_SYSTEM_KEY, 'status-key', keys)).toBe(false);
    expect(systemKeyAllows('other_extension', 'eventgrid-key', keys)).toBe(false);
    expect(systemKeyAllows(EVENTGRID_SYSTEM_KEY, undefined, keys)).toBe(false);
  });

  it('reads the key from x-functions-key first, then ?code=', () => {
    expect(presentedKey({ 'x-functions-key': 'h' }, new URLSearchParams('code=q'))).toBe('h');
    expect(presentedKey({}, new URLSearchParams('code=q'))).toBe('q');
    expect(presentedKey({}, new URLSearchParams(''))).toBeUndefined();
  });
});

describe('keys file', () => {
  it('generates keys once, keeps them, and applies overrides without persisting them', () => {
    const file = tempKeysFile();
    const first = loadOrCreateKeys(file);
    expect(first.masterKey).toMatch(KEY);
    expect(first.functionKeys['default']).toMatch(KEY);
    expect(first.systemKeys[EVENTGRID_SYSTEM_KEY]).toMatch(KEY);
    expect(
      new Set([first.masterKey, first.functionKeys['default'], first.systemKeys[EVENTGRID_SYSTEM_KEY]]).size,
    ).toBe(3);
    expect(loadOrCreateKeys(file)).toEqual(first);

    const pinned = loadOrCreateKeys(file, {
      master: 'm',
      function: 'f',
      system: { [EVENTGRID_SYSTEM_KEY]: 'e' },
      functions: { status: { default: 's' } },
    });
    expect(pinned).toEqual({
      masterKey: 'm',
      functionKeys: { default: 'f' },
      systemKeys: { [EVENTGRID_SYSTEM_KEY]: 'e' },
      functions: { status: { default: 's' } },
    });
    expect(loadOrCreateKeys(file)).toEqual(first);
  });

  it('gives each listed function a default key of its own, and a shared key one value on its functions', () => {
    const file = tempKeysFile();
    const shared = [{ name: 'functionKey', functions: ['status', 'dashboard'] }];
    const first = loadOrCreateKeys(
      file,
      {},
      { functions: ['status', 'dashboard', 'operatorActions'], shared },
    );
    const { status, dashboard, operatorActions } = first.functions;
    expect(status?.['default']).toMatch(KEY);
    expect(new Set([status?.['default'], dashboard?.['default'], operatorActions?.['default']]).size).toBe(3);
    expect(status?.['functionKey']).toMatch(KEY);
    expect(dashboard?.['functionKey']).toBe(status?.['functionKey']);
    expect(operatorActions?.['functionKey']).toBeUndefined();
    expect(sharedKeyValue(first, shared[0]!)).toBe(status?.['functionKey']);
    // Stored: the same keys on the next start.
    expect(loadOrCreateKeys(file, {}, { functions: ['status'], shared })).toEqual(first);
  });

  it('keeps a shared key valid when a function joins its set', () => {
    const file = tempKeysFile();
    const before = loadOrCreateKeys(file, {}, { shared: [{ name: 'functionKey', functions: ['status'] }] });
    const after = loadOrCreateKeys(
      file,
      {},
      { shared: [{ name: 'functionKey', functions: ['status', 'dashboard'] }] },
    );
    expect(after.functions['dashboard']?.['functionKey']).toBe(before.functions['status']?.['functionKey']);
  });

  it('adds function keys to a keys file written before they existed', () => {
    const file = tempKeysFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const old = {
      masterKey: 'm',
      functionKeys: { default: 'f' },
      systemKeys: { [EVENTGRID_SYSTEM_KEY]: 'e' },
    };
    fs.writeFileSync(file, JSON.stringify(old));
    const keys = loadOrCreateKeys(file, {}, { functions: ['status'] });
    expect(keys).toMatchObject(old);
    expect(keys.functions['status']?.['default']).toMatch(KEY);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(keys);
  });

  it('refuses to hand out a shared key whose functions disagree (a pin on one of them only)', () => {
    const file = tempKeysFile();
    const shared = { name: 'functionKey', functions: ['status', 'dashboard'] };
    const keys = loadOrCreateKeys(
      file,
      { functions: { status: { functionKey: 'pinned' } } },
      { shared: [shared] },
    );
    expect(() => sharedKeyValue(keys, shared)).toThrow(KeyConfigurationError);
    expect(() => sharedKeyValue(keys, shared)).toThrow(
      /'functionKey' differs between functions 'status' and 'dashboard'/,
    );
    const both = { status: { functionKey: 'pinned' }, dashboard: { functionKey: 'pinned' } };
    expect(sharedKeyValue(loadOrCreateKeys(file, { functions: both }, { shared: [shared] }), shared)).toBe(
      'pinned',
    );
    expect(sharedKeyValue(keys, { name: 'actionsKey', functions: ['operatorActions'] })).toBeUndefined();
  });
});
