#!/usr/bin/env node
/** The `floodgate` command. Each subcommand lives in its own file; this one only parses argv. */
import { Command } from 'commander';
import { type CliIo, checkConfig } from './check-config.js';
import { runDaemon } from './run.js';
import { packageVersion } from './version.js';

const io: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const program = new Command()
  .name('floodgate')
  .description('DDoS detection and automatic mitigation appliance')
  .version(packageVersion());

program
  .command('run')
  .description('start the daemon (embedded default configuration when no --config is given)')
  .option('-c, --config <file>', 'floodgate.yaml to use')
  .action(async (opts: { config?: string }) => {
    process.exitCode = await runDaemon(opts.config, io);
  });

program
  .command('check-config')
  .description('validate a configuration file and print the effective configuration')
  .argument('[file]', 'floodgate.yaml to check (the embedded default when omitted)')
  .action((file: string | undefined) => {
    process.exitCode = checkConfig(file, io);
  });

await program.parseAsync(process.argv);
