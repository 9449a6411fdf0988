package interop;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;

import javax.xml.namespace.QName;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.soap.MTOMFeature;
import javax.xml.ws.soap.SOAPBinding;

import be.socialsecurity.registeredmail.types.v1.CheckEboxStatus;
import be.socialsecurity.registeredmail.types.v1.Citizen;
import be.socialsecurity.registeredmail.types.v1.Digest;
import be.socialsecurity.registeredmail.types.v1.DigestMethod;
import be.socialsecurity.registeredmail.types.v1.Language;
import be.socialsecurity.registeredmail.types.v1.MIME;
import registeredmail.service.v1.AnnexFile;
import registeredmail.service.v1.BusinessError;
import registeredmail.service.v1.DocumentFile;
import registeredmail.service.v1.GetProofRequest;
import registeredmail.service.v1.GetProofResponse;
import registeredmail.service.v1.GetStatusRequest;
import registeredmail.service.v1.GetStatusResponse;
import registeredmail.service.v1.Proof;
import registeredmail.service.v1.ProofFile;
import registeredmail.service.v1.ProofSelection;
import registeredmail.service.v1.RegisteredMailService;
import registeredmail.service.v1.RegisteredMailService_Service;
import registeredmail.service.v1.SendRegisteredMailRequest;
import registeredmail.service.v1.SendRegisteredMailResponse;
import registeredmail.service.v1.StatusEvent;

/**
 * A client of the service's own port (RegisteredMailService), compiled against what wsimport generates
 * from the WSDL the service serves ({@code <base>/RegisteredMailService?wsdl}), with MTOM enabled on the
 * port and every request signed by {@link WssSigningHandler} (WSS4J 1.6).
 *
 * <p>Scenarios, run as two invocations so that the test can act between them:
 * <ul>
 *   <li>{@code send}: SendRegisteredMail of a PDF-like document ({@code --document-bytes}, default
 *       150 KiB, so that MTOM puts it in its own MIME part) and one annex, with their SHA-256 digests;
 *       saves the receipt of the answer; polls GetStatus until the item is PUBLISHED; then asks GetProof
 *       CONSULTATION, which is not issued yet (PROOF_B01).
 *   <li>{@code follow --ticket=T}: polls GetStatus until the history holds CONSULTED (after the test
 *       marked the message read in the e-Box), then GetProof RECEIPT, DISPATCH, CONSULTATION and ALL,
 *       saving each proof's content and signature.
 * </ul>
 * Options: --wsdl=URL (required), --endpoint=URL (default: the WSDL's soap:address), --check-ebox=VALUE,
 * --proof-dir=DIR (required: where proofs are saved as {@code <name>.xml} + {@code <name>.p7s}),
 * --xop=handler|jaxws: who puts the document and annex bytes in XOP parts. {@code handler} (the default):
 * the signing handler, before it signs ({@link XopPackager}); {@code jaxws}: left to JAX-WS RI's MTOM,
 * which, because a SOAPHandler is on the port, sends an XOP package with the bytes inline as base64.
 * Sender key: environment RM_P12, RM_P12_ALIAS, RM_P12_PASSWORD. Prints one JSON object per line.
 */
public final class OwnPortClient {
    /** How often, and for how long at most, GetStatus is asked before the awaited event shows. */
    static final long POLL_INTERVAL_MILLIS = 250;
    static final long POLL_LIMIT_MILLIS = 60_000;
    static final int DEFAULT_DOCUMENT_BYTES = 150 * 1024;
    static final String SERVICE_NS = "urn:registeredmail:service:v1";

    private final RegisteredMailService port;
    private final Path proofDir;

    private OwnPortClient(RegisteredMailService port, Path proofDir) {
        this.port = port;
        this.proofDir = proofDir;
    }

    public static void main(String[] args) throws Exception {
        CliArgs cli = new CliArgs(args);
        RegisteredMailService_Service service = new RegisteredMailService_Service(new URL(cli.required("wsdl")));
        // MTOM on the port: base64Binary content typed as a DataHandler goes in its own MIME part.
        RegisteredMailService port = service.getRegisteredMailServiceSOAP11(new MTOMFeature(true));
        BindingProvider provider = (BindingProvider) port;
        if (cli.optional("endpoint") != null) {
            provider.getRequestContext().put(BindingProvider.ENDPOINT_ADDRESS_PROPERTY, cli.optional("endpoint"));
        }
        String xop = cli.optional("xop") == null ? "handler" : cli.optional("xop");
        WssSigningHandler signer = WssSigningHandler.fromEnvironment();
        switch (xop) {
            case "handler":
                signer.withXopPackaging(
                        new XopPackager(new QName(SERVICE_NS, "Content"), "application/octet-stream"));
                break;
            case "jaxws":
                break; // JAX-WS RI's own MTOM, which a SOAPHandler on the port turns into inline base64
            default:
                throw new IllegalArgumentException("--xop must be handler or jaxws: " + xop);
        }
        signer.installOn(port);
        Json.event("client")
                .put("mtomEnabled", ((SOAPBinding) provider.getBinding()).isMTOMEnabled())
                .put("xop", xop)
                .print();

        OwnPortClient client = new OwnPortClient(port, Path.of(cli.required("proof-dir")));
        Files.createDirectories(client.proofDir);
        switch (cli.scenario) {
            case "send":
                String documentBytes = cli.optional("document-bytes");
                client.send(
                        documentBytes == null ? DEFAULT_DOCUMENT_BYTES : Integer.parseInt(documentBytes),
                        cli.optional("check-ebox"));
                break;
            case "follow":
                client.follow(cli.required("ticket"));
                break;
            default:
                throw new IllegalArgumentException("unknown scenario: " + cli.scenario);
        }
    }

    /** SendRegisteredMail, GetStatus until PUBLISHED, then GetProof CONSULTATION (not issued yet). */
    private void send(int documentSize, String checkEbox) throws Exception {
        byte[] documentBytes = largePdf(documentSize);
        byte[] annexBytes = Attachments.samplePdf("own port annex " + UUID.randomUUID());

        DocumentFile document = new DocumentFile();
        document.setTitle("Interop own port");
        document.setDigest(sha256Digest(documentBytes));
        document.setDownloadFileName("document.pdf");
        document.setMIME(MIME.APPLICATION_PDF);
        document.setType("EDER501");
        document.setLanguage(Language.EN);
        document.setContent(Attachments.of(documentBytes, "application/pdf"));

        AnnexFile annex = new AnnexFile();
        annex.setTitle("Annex 1");
        annex.setDigest(sha256Digest(annexBytes));
        annex.setDownloadFileName("annex-1.pdf");
        annex.setMIME(MIME.APPLICATION_PDF);
        annex.setContent(Attachments.of(annexBytes, "application/pdf"));

        Citizen recipient = new Citizen();
        recipient.setINSS("85073003328");
        recipient.setQualityCode("CITIZEN");
        SendRegisteredMailRequest request = new SendRegisteredMailRequest();
        request.setToken("own-port-" + UUID.randomUUID());
        request.setRecipient(recipient);
        if (checkEbox != null) request.setCheckEboxStatus(CheckEboxStatus.fromValue(checkEbox));
        request.setDocument(document);
        request.getAnnex().add(annex);

        SendRegisteredMailResponse response = port.sendRegisteredMail(request);
        Base64.Encoder base64 = Base64.getEncoder();
        Json.event("sent")
                .put("ticket", response.getTicket())
                .put("token", response.getToken())
                .put("requestToken", request.getToken())
                .put("documentBytes", documentBytes.length)
                .put("documentSha256", base64.encodeToString(Attachments.sha256(documentBytes)))
                .put("annexBytes", annexBytes.length)
                .put("annexSha256", base64.encodeToString(Attachments.sha256(annexBytes)))
                .print();
        saveProof("send", response.getTicket(), "RECEIPT", response.getReceipt(),
                "SendResponse-" + response.getTicket() + "-RECEIPT");

        pollUntil(response.getTicket(), "PUBLISHED");
        try {
            GetProofResponse early = getProof(response.getTicket(), ProofSelection.CONSULTATION);
            Json.event("unexpected-proof").put("proofs", early.getProof().size()).print();
        } catch (BusinessError e) {
            Json.event("proof-not-issued")
                    .put("selection", "CONSULTATION")
                    .put("code", e.getFaultInfo().getCode())
                    .put("faultstring", e.getMessage())
                    .print();
        }
    }

    /** GetStatus until CONSULTED, then every proof kind, one by one and ALL. */
    private void follow(String ticket) throws Exception {
        GetStatusResponse status = pollUntil(ticket, "CONSULTED");
        for (StatusEvent event : status.getEvent()) {
            Json.event("history")
                    .put("ticket", ticket)
                    .put("name", event.getName().value())
                    .put("time", event.getTime().toXMLFormat())
                    .put("status", event.getStatus().value())
                    .put("eboxMessageId", event.getEboxMessageId())
                    .put("detail", event.getDetail())
                    .print();
        }
        for (ProofSelection selection : new ProofSelection[] {
                ProofSelection.RECEIPT, ProofSelection.DISPATCH, ProofSelection.CONSULTATION, ProofSelection.ALL}) {
            GetProofResponse response = getProof(ticket, selection);
            if (!ticket.equals(response.getTicket())) {
                throw new IllegalStateException("GetProof answered ticket " + response.getTicket());
            }
            int index = 0;
            for (Proof proof : response.getProof()) {
                String kind = proof.getKind().value();
                String name = "GetProof-" + ticket + "-" + selection.value() + "-" + (index++) + "-" + kind;
                saveProof(selection.value(), ticket, kind, proof.getFile(), name);
            }
        }
    }

    private GetProofResponse getProof(String ticket, ProofSelection selection) throws Exception {
        GetProofRequest request = new GetProofRequest();
        request.setTicket(ticket);
        request.setKind(selection);
        return port.getProof(request);
    }

    /**
     * GetStatus until the history holds {@code awaited}, every {@link #POLL_INTERVAL_MILLIS} ms for at most
     * {@link #POLL_LIMIT_MILLIS} ms; each answer is printed as a "status" line.
     * @throws IllegalStateException when the item ends in ERROR or the event does not show in time
     */
    private GetStatusResponse pollUntil(String ticket, String awaited) throws Exception {
        long deadline = System.nanoTime() + POLL_LIMIT_MILLIS * 1_000_000;
        GetStatusRequest request = new GetStatusRequest();
        request.setTicket(ticket);
        while (true) {
            GetStatusResponse status = port.getStatus(request);
            List<String> names = new ArrayList<>();
            for (StatusEvent event : status.getEvent()) names.add(event.getName().value());
            Json.event("status")
                    .put("ticket", status.getTicket())
                    .put("token", status.getToken())
                    .put("status", status.getStatus().value())
                    .put("events", names.stream().collect(Collectors.joining(",")))
                    .print();
            if (names.contains(awaited)) return status;
            if ("ERROR".equals(status.getStatus().value())) {
                throw new IllegalStateException("item " + ticket + " ended in ERROR: " + names);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(
                        "no " + awaited + " for " + ticket + " after " + POLL_LIMIT_MILLIS + " ms: " + names);
            }
            Thread.sleep(POLL_INTERVAL_MILLIS);
        }
    }

    /**
     * Writes a proof's content to {@code <name>.xml} and its signature to {@code <name>.p7s} in the proof
     * directory and prints a "proof" line with its description and both paths.
     */
    private void saveProof(String selection, String ticket, String kind, ProofFile file, String name)
            throws Exception {
        byte[] content = file.getContent();
        Path contentPath = Files.write(proofDir.resolve(name + ".xml"), content);
        Path signaturePath = Files.write(proofDir.resolve(name + ".p7s"), file.getSignature());
        Base64.Encoder base64 = Base64.getEncoder();
        Json.event("proof")
                .put("selection", selection)
                .put("ticket", ticket)
                .put("kind", kind)
                .put("title", file.getTitle())
                .put("fileName", file.getDownloadFileName())
                .put("mime", file.getMIME() == null ? null : file.getMIME().value())
                .put("type", file.getType())
                .put("language", file.getLanguage() == null ? null : file.getLanguage().value())
                .put("digestMethod", file.getDigest().getDigestMethod().value())
                .put("digest", base64.encodeToString(file.getDigest().getDigestValue()))
                .put("contentBytesSha256", base64.encodeToString(Attachments.sha256(content)))
                .put("contentClass", file.getContent().getClass().getName())
                .put("contentPath", contentPath.toAbsolutePath().toString())
                .put("signaturePath", signaturePath.toAbsolutePath().toString())
                .print();
    }

    /** A PDF-like file of {@code size} bytes: a header, a binary stream of random bytes, a trailer. */
    static byte[] largePdf(int size) {
        byte[] head = "%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj << /Type /EmbeddedFile >>\nstream\n"
                .getBytes(StandardCharsets.ISO_8859_1);
        byte[] tail = "\nendstream\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".getBytes(StandardCharsets.US_ASCII);
        if (size < head.length + tail.length) throw new IllegalArgumentException("document too small: " + size);
        byte[] bytes = new byte[size];
        byte[] body = new byte[size - head.length - tail.length];
        new SecureRandom().nextBytes(body);
        System.arraycopy(head, 0, bytes, 0, head.length);
        System.arraycopy(body, 0, bytes, head.length, body.length);
        System.arraycopy(tail, 0, bytes, head.length + body.length, tail.length);
        return bytes;
    }

    private static Digest sha256Digest(byte[] bytes) throws Exception {
        Digest digest = new Digest();
        digest.setDigestMethod(DigestMethod.SHA_256);
        digest.setDigestValue(Attachments.sha256(bytes));
        return digest;
    }
}
