import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ownServiceUrls,
  serviceUrls,
  startServiceForInterop,
  type StartedInteropService,
} from './interop-service';
import { findOnPath, runTool, unavailable } from './run-tool';

/**
 * SoapUI's view: it compiles a WSDL's schemas with XmlBeans. `scomp` (Debian package xmlbeans) compiles
 * each WSDL the running service serves (the v1 port's and its own port's, in both fault forms), fetching its schemas over HTTP (`-dl`), with every schema rule
 * enforced (no `-noupa`/`-nopvr`), into a jar of XmlBeans types.
 */

const TIMEOUT_MS = 300_000;

const probe = probeScomp();
const describeWithScomp = probe.available ? describe : describe.skip;

function probeScomp(): { available: true; scomp: string } | { available: false; reason: string } {
  const scomp = findOnPath('scomp');
  if (!scomp) return unavailable('scomp not found (Debian package xmlbeans)');
  // scomp compiles the generated sources with javac.
  if (!findOnPath('javac')) return unavailable('javac not found (Debian package openjdk-17-jdk-headless)');
  return { available: true, scomp };
}

/** The document types one jar must hold, per fault form (as generated sources, relative to -src). */
const DOCUMENT_TYPES = [
  'be/socialsecurity/registeredmail/v1/SendDocumentRequestDocument.java',
  'be/socialsecurity/registeredmail/v1/SendDocumentResponseDocument.java',
  'be/socialsecurity/registeredmail/v1/GetStatusRequestDocument.java',
  'be/socialsecurity/registeredmail/v1/GetStatusResponseDocument.java',
  'be/fgov/services/monitoring/v1/HealthCheckRequestDocument.java',
  'be/fgov/services/monitoring/v1/HealthCheckResponseDocument.java',
  'be/socialsecurity/registeredmail/types/v1/Citizen.java',
  'be/socialsecurity/registeredmail/types/v1/Enterprise.java',
];

/** The document types of RegisteredMailService (XmlBeans' package for urn:registeredmail:service:v1). */
const OWN_DOCUMENT_TYPES = [
  'registeredmailServiceV1/SendRegisteredMailRequestDocument.java',
  'registeredmailServiceV1/SendRegisteredMailResponseDocument.java',
  'registeredmailServiceV1/GetStatusRequestDocument.java',
  'registeredmailServiceV1/GetStatusResponseDocument.java',
  'registeredmailServiceV1/GetProofRequestDocument.java',
  'registeredmailServiceV1/GetProofResponseDocument.java',
  'be/socialsecurity/registeredmail/types/v1/Citizen.java',
  'be/socialsecurity/registeredmail/types/v1/Enterprise.java',
];

describeWithScomp('XmlBeans (scomp) compiles the served WSDLs', () => {
  const scomp = (probe as { scomp: string }).scomp;

  describe.each<{ form: string; env: Record<string, string>; errors: string }>([
    { form: 'consumer', env: {}, errors: 'be/socialsecurity/errors/v1' },
    {
      form: 'provider',
      env: { RM_FAULT_NAMESPACE: 'provider' },
      errors: 'be/socialsecurity/errors/serviceprovider/v1',
    },
  ])('$form fault form', ({ env, errors }) => {
    let service: StartedInteropService;

    beforeAll(async () => {
      service = await startServiceForInterop(env);
    }, TIMEOUT_MS);

    afterAll(async () => {
      await service?.close();
    });

    /** Runs scomp on `wsdl` and checks the jar and that every one of `documentTypes` was generated. */
    async function expectCompiles(wsdl: string, documentTypes: string[]): Promise<void> {
      const outDir = fs.mkdtempSync(path.join(service.workDir, 'xmlbeans-'));
      const jar = path.join(outDir, 'registered-mail-xmlbeans.jar');
      const sources = path.join(outDir, 'src');
      const { stdout, stderr } = await runTool(scomp, ['-dl', '-src', sources, '-out', jar, wsdl], {
        timeoutMs: TIMEOUT_MS,
      });
      const output = `${stdout}\n${stderr}`;
      expect(output).not.toMatch(/(^|\s)error:|BUILD FAILED/im);
      expect(output).toContain(`Compiled types to: ${jar}`);
      expect(fs.statSync(jar).size).toBeGreaterThan(0);
      const expected = [
        ...documentTypes,
        `${errors}/BusinessErrorDocument.java`,
        `${errors}/SystemErrorDocument.java`,
      ];
      expect(expected.filter((file) => !fs.existsSync(path.join(sources, file)))).toEqual([]);
    }

    it(
      'v1 (/RegisteredMail/v1?wsdl): a jar without errors, with the request, response and fault document types',
      () => expectCompiles(serviceUrls(service).wsdl, DOCUMENT_TYPES),
      TIMEOUT_MS,
    );

    it(
      'RegisteredMailService (/RegisteredMailService?wsdl): a jar without errors, with the request, response and fault document types',
      () => expectCompiles(ownServiceUrls(service).wsdl, OWN_DOCUMENT_TYPES),
      TIMEOUT_MS,
    );
  });
});
