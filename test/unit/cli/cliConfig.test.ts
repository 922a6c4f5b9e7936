import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT } from '../../../src/cli/cliError.js';
import { findStackFile, readLocalStack, resolveTarget, type LocalStack } from '../../../src/cli/cliConfig.js';

const stack: LocalStack = {
  file: '/repo/.local/stack.json',
  data: { functionsBaseUrl: 'http://127.0.0.1:7071', functionKey: 'status-key', actionsKey: 'actions-key' },
};

function configError(run: () => unknown): CliError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('did not fail');
}

describe('where acibg sends its request', () => {
  it('takes flags first, then the environment, then stack.json, for the URL and the key alike', () => {
    const env = {
      ACIBG_URL: 'https://func.example.net/',
      ACIBG_KEY: 'env-actions',
      ACIBG_STATUS_KEY: 'env-status',
    };
    expect(
      resolveTarget({ kind: 'action', flags: { url: 'https://flag.example.net', key: 'flag' }, env, stack }),
    ).toEqual({
      baseUrl: 'https://flag.example.net',
      key: 'flag',
      urlSource: '--url',
      keySource: '--key',
    });
    expect(resolveTarget({ kind: 'action', flags: {}, env, stack })).toEqual({
      baseUrl: 'https://func.example.net',
      key: 'env-actions',
      urlSource: 'ACIBG_URL',
      keySource: 'ACIBG_KEY',
    });
    expect(resolveTarget({ kind: 'status', flags: {}, env, stack })).toMatchObject({
      key: 'env-status',
      keySource: 'ACIBG_STATUS_KEY',
    });
    expect(resolveTarget({ kind: 'action', flags: {}, env: {}, stack })).toEqual({
      baseUrl: 'http://127.0.0.1:7071',
      key: 'actions-key',
      urlSource: '/repo/.local/stack.json functionsBaseUrl',
      keySource: '/repo/.local/stack.json actionsKey',
    });
  });

  it('carries an Entra ID token from ACIBG_TOKEN only (never a flag), next to the key', () => {
    const env = { ACIBG_TOKEN: 'eyJ0eXAi' };
    expect(resolveTarget({ kind: 'action', flags: {}, env, stack })).toMatchObject({
      key: 'actions-key',
      token: 'eyJ0eXAi',
    });
    expect(resolveTarget({ kind: 'action', flags: {}, env: {}, stack })).not.toHaveProperty('token');
  });

  it('uses the status key for status and the actions key for actions, never the other', () => {
    expect(resolveTarget({ kind: 'status', flags: {}, env: {}, stack }).key).toBe('status-key');
    expect(resolveTarget({ kind: 'action', flags: {}, env: {}, stack }).key).toBe('actions-key');
    // ACIBG_KEY is the actions key: status does not pick it up.
    expect(resolveTarget({ kind: 'status', flags: {}, env: { ACIBG_KEY: 'a' }, stack }).key).toBe(
      'status-key',
    );
  });

  it("sends stack.json's key only to that stack's URL", () => {
    const sameUrl = resolveTarget({
      kind: 'action',
      flags: { url: 'http://127.0.0.1:7071/' },
      env: {},
      stack,
    });
    expect(sameUrl.key).toBe('actions-key');
    const err = configError(() =>
      resolveTarget({ kind: 'action', flags: { url: 'https://func.example.net' }, env: {}, stack }),
    );
    expect(err.exitCode).toBe(EXIT.notConfigured);
    expect(err.message).toContain('No actions key for https://func.example.net: pass --key or set ACIBG_KEY');
    expect(err.message).toContain('not used: it belongs to http://127.0.0.1:7071');
  });

  it('says where it looked when it finds no URL or no key', () => {
    const noUrl = configError(() => resolveTarget({ kind: 'status', flags: {}, env: {}, stack: undefined }));
    expect(noUrl.exitCode).toBe(EXIT.notConfigured);
    expect(noUrl.message).toContain(
      'Looked at: --url (not given), ACIBG_URL (not set), no .local/stack.json from the current directory up.',
    );
    const oldStack: LocalStack = {
      file: '/repo/.local/stack.json',
      data: { functionsBaseUrl: 'http://127.0.0.1:7071' },
    };
    const noKey = configError(() => resolveTarget({ kind: 'action', flags: {}, env: {}, stack: oldStack }));
    expect(noKey.message).toContain(
      'Looked at: --key (not given), ACIBG_KEY (not set), /repo/.local/stack.json has no actionsKey.',
    );
    const noStatusKey = configError(() =>
      resolveTarget({ kind: 'status', flags: {}, env: {}, stack: oldStack }),
    );
    expect(noStatusKey.message).toContain(
      'ACIBG_STATUS_KEY (not set), /repo/.local/stack.json has no functionKey',
    );
  });

  it('refuses a URL that is not http(s), naming where it came from', () => {
    const err = configError(() =>
      resolveTarget({ kind: 'status', flags: {}, env: { ACIBG_URL: 'ftp://x' }, stack: undefined }),
    );
    expect(err.exitCode).toBe(EXIT.usage);
    expect(err.message).toContain('The URL from ACIBG_URL must be http or https');
    expect(
      configError(() => resolveTarget({ kind: 'status', flags: { url: 'nope' }, env: {}, stack })).message,
    ).toContain("The URL from --url is not a URL: 'nope'");
  });
});

describe('finding .local/stack.json', () => {
  it('finds the nearest one from a directory up, and none outside a project', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'acibg-'));
    const file = path.join(root, '.local', 'stack.json');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, JSON.stringify({ functionsBaseUrl: 'http://127.0.0.1:7071' }));
    const deep = path.join(root, 'src', 'cli');
    fs.mkdirSync(deep, { recursive: true });
    expect(findStackFile(deep)).toBe(file);
    expect(readLocalStack(file).data).toEqual({ functionsBaseUrl: 'http://127.0.0.1:7071' });
    expect(findStackFile(path.parse(root).root)).toBeUndefined();
  });

  it('reports an unreadable stack file as not configured', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'acibg-')), 'stack.json');
    fs.writeFileSync(file, '{ half');
    const err = configError(() => readLocalStack(file));
    expect(err.exitCode).toBe(EXIT.notConfigured);
    expect(err.message).toContain(`Cannot read ${file}`);
  });
});
