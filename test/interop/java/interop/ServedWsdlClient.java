package interop;

import java.net.URL;
import java.nio.file.Path;

import javax.xml.ws.BindingProvider;

import be.socialsecurity.registeredmail.v1.RegisteredMailPortType;
import be.socialsecurity.registeredmail.v1.RegisteredMailService;

/**
 * A client compiled against what wsimport generates from the WSDL our service serves
 * ({@code <base>/RegisteredMail/v1?wsdl}). Scenarios: send-citizen, send-enterprise, digest-mismatch.
 * Options: --wsdl=URL (required), --endpoint=URL (default: the WSDL's soap:address), --check-ebox=VALUE,
 * --response-ca=PEM (verify every response's WS-Security signature with WSS4J, trusting that CA),
 * --proof-dir=DIR (where the send scenarios save the ProofOfDispatch; not saved without it).
 * Sender key: environment RM_P12, RM_P12_ALIAS, RM_P12_PASSWORD. Prints one JSON object per line.
 */
public final class ServedWsdlClient {
    public static void main(String[] args) throws Exception {
        CliArgs cli = new CliArgs(args);
        RegisteredMailService service = new RegisteredMailService(new URL(cli.required("wsdl")));
        RegisteredMailPortType port = service.getRegisteredMailSOAP11();
        if (cli.optional("endpoint") != null) {
            ((BindingProvider) port).getRequestContext()
                    .put(BindingProvider.ENDPOINT_ADDRESS_PROPERTY, cli.optional("endpoint"));
        }
        WssSigningHandler.fromEnvironment().installOn(port);
        if (cli.optional("response-ca") != null) {
            new ResponseVerifier(Path.of(cli.optional("response-ca"))).installOn(port);
        }
        String checkEbox = cli.optional("check-ebox");
        Path proofDir = cli.optional("proof-dir") == null ? null : Path.of(cli.optional("proof-dir"));

        Scenarios.reportingFaults(() -> run(cli.scenario, port, checkEbox, proofDir));
    }

    private static void run(String scenario, RegisteredMailPortType port, String checkEbox, Path proofDir)
            throws Exception {
        switch (scenario) {
            case "send-citizen":
                Scenarios.sendAndStatus(
                        port, Scenarios.citizen("85073003328"), "citizen", checkEbox, proofDir);
                break;
            case "send-enterprise":
                Scenarios.sendAndStatus(port, Scenarios.enterprise("0206731645", "QUAL_EMP_NOSS"),
                        "enterprise", checkEbox, proofDir);
                break;
            case "digest-mismatch":
                Scenarios.digestMismatch(port, checkEbox);
                break;
            default:
                throw new IllegalArgumentException("unknown scenario: " + scenario);
        }
    }
}
