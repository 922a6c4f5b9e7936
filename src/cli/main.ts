#!/usr/bin/env node
/**
 * `acibg`: the operator CLI (`npx acibg --help`). Parses the command line, finds the URL and key (flags,
 * environment, .local/stack.json), calls the Functions app and prints tables or JSON. Every failure is one line
 * on stderr and an exit code from cliError.ts.
 */
import { postAction, fetchStatus } from './apiClient.js';
import { HELP, parseCliArgs, type CliCommand } from './cliArgs.js';
import { CliError, EXIT } from './cliError.js';
import { findStackFile, readLocalStack, resolveTarget, type KeyKind } from './cliConfig.js';
import { renderAccepted, renderStatus } from './statusTables.js';

function targetFor(command: Exclude<CliCommand, { kind: 'help' }>, kind: KeyKind) {
  const stackFile = findStackFile(process.cwd());
  return resolveTarget({
    kind,
    flags: command.flags,
    env: process.env,
    stack: stackFile ? readLocalStack(stackFile) : undefined,
  });
}

async function run(argv: string[]): Promise<void> {
  const command = parseCliArgs(argv);
  if (command.kind === 'help') {
    console.log(HELP);
    return;
  }
  if (command.kind === 'status') {
    const body = await fetchStatus(targetFor(command, 'status'), command.app);
    console.log(command.json ? JSON.stringify(body, null, 2) : renderStatus(body));
    return;
  }
  const accepted = await postAction(targetFor(command, 'action'), command.app, command.action, command.body);
  console.log(command.json ? JSON.stringify(accepted, null, 2) : renderAccepted(accepted));
}

// exitCode, not process.exit(): output still being written to a pipe (macOS) is not cut off.
run(process.argv.slice(2)).then(
  () => {
    process.exitCode = EXIT.ok;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      console.error(`acibg: ${err.message}`);
      process.exitCode = err.exitCode;
      return;
    }
    console.error(`acibg: unexpected failure: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = EXIT.failed;
  },
);
