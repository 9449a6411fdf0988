#!/usr/bin/env node
import 'reflect-metadata';
import cluster from 'node:cluster';
import path from 'node:path';
import { Command } from 'commander';
import { startServiceCluster } from '../app/cluster-primary';
import { runClusterWorker } from '../app/cluster-worker';
import { serviceBanner } from '../app/service-banner';
import { startService } from '../app/start-service';
import { systemClock } from '../clock/clock';
import { loadConfig } from '../config/config';
import { issueSenderCertificate } from '../pki/dev-pki';
import { verifyProofCommand } from '../verification/verify-proof-command';
import { cbeArgument } from './argument-parsers';
import { migrateCommand } from './migrate-command';
import { proofCommand } from './proof-command';
import { sendCommand } from './send-command';
import { statusCommand } from './status-command';

const program = new Command()
  .name('registered-mail')
  .description('Electronic registered mail service (RegisteredMail v1 SOAP contract)');

program
  .command('serve')
  .description('start the service (what `npm start` runs); configured by environment variables, see README')
  .action(async () => {
    if (cluster.isWorker) return runClusterWorker();
    return loadConfig().workers > 1 ? serveAsCluster() : serveInOneProcess();
  });

/** RM_WORKERS=1: the whole service in this process. */
async function serveInOneProcess(): Promise<void> {
  const service = await startService();
  process.stdout.write(
    serviceBanner({
      baseUrl: service.baseUrl,
      config: service.config,
      pki: service.pki,
      eboxSimulatorUrl: service.eboxSimulator?.url,
    }),
  );
  const stop = () => {
    service.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/**
 * RM_WORKERS>1: this process is the primary of RM_WORKERS workers (see startServiceCluster). A first
 * SIGTERM/SIGINT stops them gracefully (exit 0 when every one exited cleanly); a second ends them at once.
 * The signals are handled from the start: a worker serves as soon as it listens, while the primary may
 * still be waiting for the others, and a SIGTERM then must not end the primary on the spot.
 */
async function serveAsCluster(): Promise<void> {
  const starting = startServiceCluster();
  let interrupts = 0;
  const stop = () => {
    interrupts += 1;
    const interrupt = interrupts;
    starting.then(
      (running) => {
        if (interrupt > 1) return running.kill();
        running.close().then(
          (clean) => process.exit(clean ? 0 : 1),
          () => process.exit(1),
        );
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const running = await starting;
  process.stdout.write(
    serviceBanner({
      baseUrl: running.baseUrl,
      config: running.config,
      pki: running.pki,
      eboxSimulatorUrl: running.eboxSimulator?.url,
      workerPids: running.workerPids(),
    }),
  );
}

program
  .command('pki')
  .description('issue a further sender certificate (key, PEM, PKCS#12) from the development CA')
  .requiredOption('--name <name>', 'file name and PKCS#12 alias, e.g. my-app')
  .requiredOption('--cbe <number>', 'the sender enterprise number (CBE)', cbeArgument)
  .option('--application-id <cn>', 'the application id (certificate CN); defaults to the name')
  .option('--environment <ou>', 'environment OU: PRD, ACC, INT, TST, DEV or SIM', 'INT')
  .option('--organisation <o>', 'organisation (O)')
  .option('--days <n>', 'validity in days', (value) => Number.parseInt(value, 10))
  .action(
    async (options: {
      name: string;
      cbe: string;
      applicationId?: string;
      environment: string;
      organisation?: string;
      days?: number;
    }) => {
      const config = loadConfig();
      const sender = await issueSenderCertificate(
        path.join(config.dataDir, 'dev-pki'),
        {
          name: options.name,
          cbe: options.cbe,
          applicationId: options.applicationId ?? options.name,
          environment: options.environment,
          organisation: options.organisation,
          validityDays: options.days,
        },
        systemClock,
      );
      process.stdout.write(
        `${JSON.stringify({ name: sender.name, cbe: sender.cbe, key: sender.keyPemPath, certificate: sender.certPemPath, pkcs12: sender.p12Path, password: sender.password }, null, 2)}\n`,
      );
    },
  );

program.addCommand(verifyProofCommand());
program.addCommand(migrateCommand());
program.addCommand(sendCommand());
program.addCommand(statusCommand());
program.addCommand(proofCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`registered-mail: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
