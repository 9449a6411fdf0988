package interop;

import java.net.URL;
import java.nio.file.Path;

import javax.xml.ws.BindingProvider;

import be.socialsecurity.registeredmail.v1.RegisteredMailPortType;
import be.socialsecurity.registeredmail.v1.RegisteredMailService;

/**
 * What an integrator holds: a client compiled against what wsimport generates from the published
 * RegisteredMail_v1.wsdl (provider fault namespace, address REPLACE_WITH_ACTUAL_URL), pointed at our
 * service with BindingProvider.ENDPOINT_ADDRESS_PROPERTY. Scenarios: send-and-status, fault.
 * Options: --wsdl=URL of the published WSDL file, --endpoint=URL (both required), --check-ebox=VALUE,
 * --proof-dir=DIR (where send-and-status saves the ProofOfDispatch; not saved without it).
 * Sender key: environment RM_P12, RM_P12_ALIAS, RM_P12_PASSWORD. Prints one JSON object per line.
 */
public final class PublishedWsdlClient {
    public static void main(String[] args) throws Exception {
        CliArgs cli = new CliArgs(args);
        RegisteredMailService service = new RegisteredMailService(new URL(cli.required("wsdl")));
        RegisteredMailPortType port = service.getRegisteredMailSOAP11();
        ((BindingProvider) port).getRequestContext()
                .put(BindingProvider.ENDPOINT_ADDRESS_PROPERTY, cli.required("endpoint"));
        WssSigningHandler.fromEnvironment().installOn(port);
        String checkEbox = cli.optional("check-ebox");
        Path proofDir = cli.optional("proof-dir") == null ? null : Path.of(cli.optional("proof-dir"));

        Scenarios.reportingFaults(() -> run(cli.scenario, port, checkEbox, proofDir));
    }

    private static void run(String scenario, RegisteredMailPortType port, String checkEbox, Path proofDir)
            throws Exception {
        switch (scenario) {
            case "send-and-status":
                Scenarios.sendAndStatus(
                        port, Scenarios.citizen("85073003328"), "published", checkEbox, proofDir);
                break;
            case "fault":
                // Consumer mode: a SOAPFaultException carrying the errors/v1 detail (the published WSDL
                // declares errors/serviceprovider/v1 faults). Provider mode: the generated BusinessError.
                Scenarios.digestMismatch(port, checkEbox);
                break;
            default:
                throw new IllegalArgumentException("unknown scenario: " + scenario);
        }
    }
}
