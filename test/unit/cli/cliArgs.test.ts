import { describe, expect, it } from 'vitest';
import { ACTIONS, parseCliArgs } from '../../../src/cli/cliArgs.js';
import { CliError, EXIT } from '../../../src/cli/cliError.js';

function usageError(argv: string[]): CliError {
  try {
    parseCliArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT.usage);
    return err as CliError;
  }
  throw new Error(`parseCliArgs(${argv.join(' ')}) did not fail`);
}

describe('acibg arguments', () => {
  it('reads status with or without an app, and the connection flags', () => {
    expect(parseCliArgs(['status'])).toEqual({ kind: 'status', json: false, flags: {} });
    expect(parseCliArgs(['status', 'web', '--json', '--url', 'http://h:1', '--key', 'k'])).toEqual({
      kind: 'status',
      app: 'web',
      json: true,
      flags: { url: 'http://h:1', key: 'k' },
    });
  });

  it('reads every action with its app, --to and --reason, in any order', () => {
    for (const action of ACTIONS) {
      expect(parseCliArgs([action, 'web'])).toEqual({
        kind: 'action',
        action,
        app: 'web',
        body: {},
        json: false,
        flags: {},
      });
    }
    expect(
      parseCliArgs(['--reason', 'bad release', 'rollback', 'web', '--to', 'sha256:abc', '--json']),
    ).toEqual({
      kind: 'action',
      action: 'rollback',
      app: 'web',
      body: { to: 'sha256:abc', reason: 'bad release' },
      json: true,
      flags: {},
    });
    expect(parseCliArgs(['pause', 'api', '--reason=freeze'])).toMatchObject({ body: { reason: 'freeze' } });
    expect(parseCliArgs(['redeploy', 'web', '--force'])).toMatchObject({ body: { force: true } });
    expect(() => parseCliArgs(['status', '--force'])).toThrow('--to, --reason and --force apply to actions');
  });

  it('answers help before anything else', () => {
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseCliArgs(['rollback', '-h'])).toEqual({ kind: 'help' });
  });

  it('refuses bad command lines with a message naming the problem', () => {
    expect(usageError([]).message).toContain('Missing command');
    expect(usageError(['deploy', 'web']).message).toContain(
      "Unknown command 'deploy'. Commands: status, rollback, promote, abort, pause, resume, retry, redeploy.",
    );
    expect(usageError(['rollback']).message).toContain('rollback needs an app: acibg rollback <app>');
    expect(usageError(['status', 'web', 'api']).message).toContain('Unexpected argument(s): api');
    expect(usageError(['status', '--reason', 'x']).message).toContain(
      '--to, --reason and --force apply to actions',
    );
    expect(usageError(['rollback', 'web', '--reason', ' ']).message).toContain('--reason needs a value');
    expect(usageError(['rollback', 'web', '--yes']).message).toMatch(/Unknown option '--yes'/);
    expect(usageError(['rollback', 'web', '--to']).message).toMatch(/--to/);
    expect(usageError(['deploy']).message).toContain('Run acibg --help for usage.');
  });
});
