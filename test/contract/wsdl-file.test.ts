import fs from 'node:fs';
import path from 'node:path';
import { NS, PUBLISHED_DIR, WSDL_DIR, XSD_DIR, all, parseXml } from './contract-test-support';
import { expectedFacts, policyTree, wsdlFacts, x509Policy, type PolicyTree } from './wsdl-facts';

const ourWsdl = () => parseXml(fs.readFileSync(path.join(WSDL_DIR, 'RegisteredMail_v1.wsdl'), 'utf8'));
const PUBLISHED_WSDL = path.join(PUBLISHED_DIR, 'RegisteredMail_v1.wsdl');
const publishedAvailable = fs.existsSync(PUBLISHED_WSDL);
if (!publishedAvailable) {
  const message = `The published WSDL is missing at ${PUBLISHED_WSDL}: cannot compare`;
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`${message} (skipped locally)`);
}

function renameSuite(tree: PolicyTree, from: string, to: string): PolicyTree {
  return {
    ...tree,
    name: tree.name === `{${NS.sp}}${from}` ? `{${NS.sp}}${to}` : tree.name,
    children: tree.children.map((child) => renameSuite(child, from, to)),
  };
}

describe('wsdl/RegisteredMail_v1.wsdl', () => {
  it('states the facts table of the contract, faults bound to the consumer errors namespace', () => {
    expect(wsdlFacts(ourWsdl())).toEqual(expectedFacts(NS.err));
  });

  it('imports the service, consumer errors and monitoring schemas from ../xsd', () => {
    const types = all(ourWsdl(), NS.wsdl, 'types')[0];
    const imports = all(types, NS.xsd, 'import').map((i) => [
      i.getAttribute('namespace'),
      i.getAttribute('schemaLocation'),
    ]);
    expect(imports).toEqual([
      [NS.rm, '../xsd/RegisteredMail_v1.xsd'],
      [NS.err, '../xsd/socsec-errors-schema-v1.xsd'],
      [NS.mon, '../xsd/monitoring-v1.xsd'],
    ]);
    for (const [, location] of imports) {
      expect(fs.existsSync(path.join(XSD_DIR, path.basename(location ?? '')))).toBe(true);
    }
  });

  it('has the X509 policy with the Basic256Sha256 suite', () => {
    const tree = policyTree(x509Policy(ourWsdl()));
    const names = JSON.stringify(tree);
    for (const assertion of [
      'AsymmetricBinding',
      'InitiatorToken',
      'RecipientToken',
      'WssX509V3Token10',
      'Basic256Sha256',
      'Lax',
      'IncludeTimestamp',
      'ProtectTokens',
      'OnlySignEntireHeadersAndBody',
      'Wss10',
      'MustSupportRefKeyIdentifier',
      'MustSupportRefIssuerSerial',
      'SignedParts',
    ]) {
      expect(names).toContain(`{${NS.sp}}${assertion}"`);
    }
    expect(names).not.toContain(`{${NS.sp}}Basic256"`);
  });

  (publishedAvailable ? describe : describe.skip)('compared with the published (provider) WSDL', () => {
    const published = () => parseXml(fs.readFileSync(PUBLISHED_WSDL, 'utf8'));

    it('the published WSDL states the same facts table, with provider fault elements', () => {
      expect(wsdlFacts(published())).toEqual(expectedFacts(NS.sperr));
    });

    it('has the same policy, but for the algorithm suite', () => {
      const ours = policyTree(x509Policy(ourWsdl()));
      const theirs = renameSuite(policyTree(x509Policy(published())), 'Basic256', 'Basic256Sha256');
      expect(ours).toEqual(theirs);
    });
  });
});
