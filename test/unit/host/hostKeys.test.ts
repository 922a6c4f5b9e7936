import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EVENTGRID_SYSTEM_KEY,
  keyAllows,
  loadOrCreateKeys,
  presentedKey,
  systemKeyAllows,
  type HostKeys,
} from '../../../host/src/keys.js';

const keys: HostKeys = {
  masterKey: 'master-key',
  functionKeys: { default: 'function-key' },
  systemKeys: { [EVENTGRID_SYSTEM_KEY]: 'eventgrid-key' },
};

describe('key checks', () => {
  it('opens anonymous routes without a key', () => {
    expect(keyAllows('anonymous', undefined, keys)).toBe(true);
  });

  it('opens function routes with a function key or the master key only', () => {
    expect(keyAllows('function', 'function-key', keys)).toBe(true);
    expect(keyAllows('function', 'master-key', keys)).toBe(true);
    expect(keyAllows('function', 'eventgrid-key', keys)).toBe(false);
    expect(keyAllows('function', 'function-ke', keys)).toBe(false);
    expect(keyAllows('function', undefined, keys)).toBe(false);
  });

  it('opens admin routes with the master key only', () => {
    expect(keyAllows('admin', 'master-key', keys)).toBe(true);
    expect(keyAllows('admin', 'function-key', keys)).toBe(false);
  });

  it('opens an extension endpoint with its system key or the master key', () => {
    expect(systemKeyAllows(EVENTGRID_SYSTEM_KEY, 'eventgrid-key', keys)).toBe(true);
    expect(systemKeyAllows(EVENTGRID_SYSTEM_KEY, 'master-key', keys)).toBe(true);
    expect(systemKeyAllows(EVENTGRID_SYSTEM_KEY, 'function-key', keys)).toBe(false);
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
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keys-')), 'host', 'keys.json');
    const first = loadOrCreateKeys(file);
    expect(first.masterKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(first.functionKeys['default']).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(first.systemKeys[EVENTGRID_SYSTEM_KEY]).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(
      new Set([first.masterKey, first.functionKeys['default'], first.systemKeys[EVENTGRID_SYSTEM_KEY]]).size,
    ).toBe(3);
    expect(loadOrCreateKeys(file)).toEqual(first);

    const pinned = loadOrCreateKeys(file, { master: 'm', function: 'f', [EVENTGRID_SYSTEM_KEY]: 'e' });
    expect(pinned).toEqual({
      masterKey: 'm',
      functionKeys: { default: 'f' },
      systemKeys: { [EVENTGRID_SYSTEM_KEY]: 'e' },
    });
    expect(loadOrCreateKeys(file)).toEqual(first);
  });
});
