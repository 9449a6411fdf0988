#!/usr/bin/env node
import 'reflect-metadata';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { startService } from '../app/start-service';
import { systemClock } from '../clock/clock';
import { loadConfig } from '../config/config';
import { SERVICE_PATH } from '../contract/wsdl-publisher';
import { isValidCbe, normaliseCbe } from '../domain/identifiers/cbe';
import { issueSenderCertificate } from '../pki/dev-pki';
import { verifyProofCommand } from '../verification/verify-proof-command';

function cbeArgument(value: string): string {
  const cbe = normaliseCbe(value.replace(/\D/g, ''));
  if (!isValidCbe(cbe))
    throw new InvalidArgumentError('not a valid CBE number (10 digits, check digits mod 97)');
  return cbe;
}

const program = new Command()
  .name('registered-mail')
  .description('Electronic registered mail service (RegisteredMail v1 SOAP contract)');

program
  .command('serve')
  .description('start the service (what `npm start` runs); configured by environment variables, see README')
  .action(async () => {
    const service = await startService();
    const { config, pki } = service;
    const lines = [
      `RegisteredMail listening on ${service.baseUrl}${SERVICE_PATH}`,
      `  WSDL:        ${service.baseUrl}${SERVICE_PATH}?wsdl`,
      `  data:        ${config.dataDir}`,
    ];
    if (pki) {
      lines.push(`  dev PKI:     ${pki.dir} (generated for development: never use it in production)`);
      lines.push(`  trust:       ${pki.ca.certPemPath}`);
      for (const sender of pki.senders) {
        lines.push(
          `  sender:      ${sender.name} CBE ${sender.cbe}: ${sender.p12Path} (PKCS#12, password ${sender.password}, alias ${sender.name})`,
        );
      }
      lines.push(
        '  Sign each request with a sender key (WS-Security X.509 token, Timestamp, RSA-SHA256): see README.',
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    const stop = () => {
      service.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

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

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`registered-mail: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
