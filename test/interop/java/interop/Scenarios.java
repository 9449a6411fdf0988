package interop;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import java.util.UUID;

import javax.xml.soap.Detail;
import javax.xml.soap.SOAPElement;
import javax.xml.soap.SOAPFault;
import javax.xml.ws.soap.SOAPFaultException;

import be.socialsecurity.registeredmail.types.v1.AnnexFile;
import be.socialsecurity.registeredmail.types.v1.CheckEboxStatus;
import be.socialsecurity.registeredmail.types.v1.Citizen;
import be.socialsecurity.registeredmail.types.v1.Digest;
import be.socialsecurity.registeredmail.types.v1.DigestMethod;
import be.socialsecurity.registeredmail.types.v1.DocumentRequest;
import be.socialsecurity.registeredmail.types.v1.DocumentResponse;
import be.socialsecurity.registeredmail.types.v1.Enterprise;
import be.socialsecurity.registeredmail.types.v1.Entity;
import be.socialsecurity.registeredmail.types.v1.File;
import be.socialsecurity.registeredmail.types.v1.Language;
import be.socialsecurity.registeredmail.types.v1.MIME;
import be.socialsecurity.registeredmail.types.v1.RegisteredMailItem;
import be.socialsecurity.registeredmail.types.v1.SignedFile;
import be.socialsecurity.registeredmail.types.v1.StatusRequest;
import be.socialsecurity.registeredmail.types.v1.StatusResponse;
import be.socialsecurity.registeredmail.v1.BusinessError;
import be.socialsecurity.registeredmail.v1.RegisteredMailPortType;
import be.socialsecurity.registeredmail.v1.SystemError;

/**
 * What the clients do, written only against the wsimport-generated types. The served and the published
 * WSDL generate the same type classes; only the fault detail type differs (errors/v1 ErrorType versus
 * errors/serviceprovider/v1 ServiceErrorType), which is why the fault info is read through {@code var}.
 */
final class Scenarios {
    private Scenarios() {}

    static Citizen citizen(String inss) {
        Citizen citizen = new Citizen();
        citizen.setINSS(inss);
        citizen.setQualityCode("CITIZEN");
        return citizen;
    }

    static Enterprise enterprise(String cbe, String qualityCode) {
        Enterprise enterprise = new Enterprise();
        enterprise.setCompanyID(cbe);
        enterprise.setQualityCode(qualityCode);
        return enterprise;
    }

    /** A PDF document with two PDF annexes; {@code wrongDigest} announces a digest of other bytes. */
    static DocumentRequest request(Entity recipient, String label, boolean wrongDigest, String checkEbox)
            throws Exception {
        byte[] documentBytes = Attachments.samplePdf(label + " main document");
        File document = new File();
        document.setTitle("Interop " + label);
        document.setDigest(sha256(wrongDigest ? Attachments.samplePdf("other bytes") : documentBytes));
        document.setDownloadFileName("document.pdf");
        document.setMIME(MIME.APPLICATION_PDF);
        document.setType("EDER501");
        document.setLanguage(Language.EN);
        document.setContent(Attachments.of(documentBytes, "application/pdf"));

        RegisteredMailItem item = new RegisteredMailItem();
        item.setToken(label + "-" + UUID.randomUUID());
        item.setRecipient(recipient);
        item.setDocument(document);
        for (int n = 1; n <= 2; n++) {
            byte[] annexBytes = Attachments.samplePdf(label + " annex " + n);
            AnnexFile annex = new AnnexFile();
            annex.setContent(Attachments.of(annexBytes, "application/pdf"));
            annex.setTitle("Annex " + n);
            annex.setDigest(sha256(annexBytes));
            annex.setDownloadFileName("annex-" + n + ".pdf");
            annex.setMIME(MIME.APPLICATION_PDF);
            item.getAnnex().add(annex);
        }

        DocumentRequest request = new DocumentRequest();
        request.setRegisteredMailItem(item);
        if (checkEbox != null) request.setCheckEboxStatus(CheckEboxStatus.fromValue(checkEbox));
        return request;
    }

    /** How often, and for how long at most, a client asks getStatus before the item is SENT. */
    static final long POLL_INTERVAL_MILLIS = 200;
    static final long POLL_LIMIT_MILLIS = 30_000;

    /**
     * sendDocument, then getStatus on the ticket until the item is SENT (every {@link #POLL_INTERVAL_MILLIS}
     * ms, at most {@link #POLL_LIMIT_MILLIS} ms: the service delivers in the background), then reads the
     * ProofOfDispatch and, when {@code proofDir} is not null, saves its attachment and Signature there.
     * Prints a "sent" line, one "status" line per getStatus answer and a "proof-of-dispatch" line.
     * @throws IllegalStateException when the item ends in ERROR or is not SENT within the limit
     */
    static void sendAndStatus(
            RegisteredMailPortType port, Entity recipient, String label, String checkEbox, Path proofDir)
            throws Exception {
        DocumentRequest request = request(recipient, label, false, checkEbox);
        DocumentResponse response = port.sendDocument(request);
        String ticket = response.getReceipt().getTicket();
        SignedFile receipt = response.getReceipt().getDocument();
        byte[] receiptBytes = Attachments.bytes(receipt.getContent());
        Base64.Encoder base64 = Base64.getEncoder();
        Json.event("sent")
                .put("ticket", ticket)
                .put("token", response.getReceipt().getToken())
                .put("requestToken", request.getRegisteredMailItem().getToken())
                .put("receiptTitle", receipt.getTitle())
                .put("receiptFileName", receipt.getDownloadFileName())
                .put("receiptMime", receipt.getMIME() == null ? null : receipt.getMIME().value())
                .put("receiptType", receipt.getType())
                .put("receiptLanguage", receipt.getLanguage() == null ? null : receipt.getLanguage().value())
                .put("receiptDigestMethod", receipt.getDigest().getDigestMethod().value())
                .put("receiptDigest", base64.encodeToString(receipt.getDigest().getDigestValue()))
                .put("receiptBytesSha256", base64.encodeToString(Attachments.sha256(receiptBytes)))
                .put("receiptBase64", base64.encodeToString(receiptBytes))
                .put("signatureBase64", base64.encodeToString(receipt.getSignature()))
                .print();

        StatusResponse status = pollUntilSent(port, ticket);
        saveProofOfDispatch(ticket, status.getProofOfDispatch(), proofDir);
    }

    /** getStatus until the status is SENT; each answer is printed as a "status" line. */
    private static StatusResponse pollUntilSent(RegisteredMailPortType port, String ticket) throws Exception {
        long deadline = System.nanoTime() + POLL_LIMIT_MILLIS * 1_000_000;
        StatusRequest statusRequest = new StatusRequest();
        statusRequest.setTicket(ticket);
        while (true) {
            StatusResponse status = port.getStatus(statusRequest);
            String value = status.getStatus().value();
            Json.event("status")
                    .put("ticket", status.getTicket())
                    .put("token", status.getToken())
                    .put("status", value)
                    .put("hasProofOfDispatch", status.getProofOfDispatch() != null)
                    .print();
            if ("SENT".equals(value)) return status;
            if (!"PENDING".equals(value)) {
                throw new IllegalStateException("item " + ticket + " ended in " + value + ", not SENT");
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(
                        "item " + ticket + " still PENDING after " + POLL_LIMIT_MILLIS + " ms");
            }
            Thread.sleep(POLL_INTERVAL_MILLIS);
        }
    }

    /**
     * Prints a "proof-of-dispatch" line with the SignedFile's fields and the SHA-256 of its attachment
     * (read through its swaRef DataHandler, as the receipt's). With a {@code proofDir}, first writes the
     * attachment to {@code ProofOfDispatch-<ticket>.xml} and the Signature to {@code .p7s} there, and the
     * line gives both paths (contentPath, signaturePath; null without a directory).
     */
    private static void saveProofOfDispatch(String ticket, SignedFile proof, Path proofDir) throws Exception {
        if (proof == null) {
            throw new IllegalStateException("item " + ticket + " is SENT without a ProofOfDispatch");
        }
        byte[] content = Attachments.bytes(proof.getContent());
        Path contentFile = null;
        Path signatureFile = null;
        if (proofDir != null) {
            Files.createDirectories(proofDir);
            contentFile = Files.write(proofDir.resolve("ProofOfDispatch-" + ticket + ".xml"), content);
            signatureFile =
                    Files.write(proofDir.resolve("ProofOfDispatch-" + ticket + ".p7s"), proof.getSignature());
        }
        Base64.Encoder base64 = Base64.getEncoder();
        Json.event("proof-of-dispatch")
                .put("ticket", ticket)
                .put("title", proof.getTitle())
                .put("fileName", proof.getDownloadFileName())
                .put("mime", proof.getMIME() == null ? null : proof.getMIME().value())
                .put("type", proof.getType())
                .put("language", proof.getLanguage() == null ? null : proof.getLanguage().value())
                .put("digestMethod", proof.getDigest().getDigestMethod().value())
                .put("digest", base64.encodeToString(proof.getDigest().getDigestValue()))
                .put("contentBytesSha256", base64.encodeToString(Attachments.sha256(content)))
                .put("contentPath", contentFile == null ? null : contentFile.toAbsolutePath().toString())
                .put("signaturePath", signatureFile == null ? null : signatureFile.toAbsolutePath().toString())
                .print();
    }

    /** Sends a document whose digest does not match it (the service must refuse it with FILE_B01). */
    static void digestMismatch(RegisteredMailPortType port, String checkEbox) throws Exception {
        DocumentResponse response = port.sendDocument(request(citizen("85073003328"), "mismatch", true, checkEbox));
        Json.event("sent").put("ticket", response.getReceipt().getTicket()).print();
    }

    /** What a scenario does with the port. */
    interface Scenario {
        void run() throws Exception;
    }

    /** Runs {@code scenario}; a fault it meets is printed as a "fault" line saying how it arrived. */
    static void reportingFaults(Scenario scenario) throws Exception {
        try {
            scenario.run();
        } catch (BusinessError e) {
            var info = e.getFaultInfo(); // ErrorType or ServiceErrorType, depending on the WSDL
            generatedFault("BusinessError", e, info, info.getCode(), info.getOrigin(), info.getId());
        } catch (SystemError e) {
            var info = e.getFaultInfo();
            generatedFault("SystemError", e, info, info.getCode(), info.getOrigin(), info.getId());
        } catch (SOAPFaultException e) {
            untypedFault(e);
        }
    }

    /** The fault arrived as the generated exception class; its faultInfo is the unmarshalled detail. */
    private static void generatedFault(
            String kind, Exception e, Object info, String code, String origin, String id) {
        Json line = Json.event("fault").put("via", "generated-exception").put("kind", kind)
                .put("exceptionClass", e.getClass().getName()).put("faultstring", e.getMessage())
                .put("faultInfoClass", info.getClass().getName())
                .put("code", code).put("origin", origin).put("id", id);
        // Actor and DateTime exist only in the provider form (errors/serviceprovider/v1 ServiceErrorType).
        for (String field : new String[] {"Actor", "DateTime"}) {
            try {
                Object value = info.getClass().getMethod("get" + field).invoke(info);
                String key = field.substring(0, 1).toLowerCase() + field.substring(1);
                line.put(key, value == null ? null : value.toString());
            } catch (ReflectiveOperationException absent) {
                // consumer form (errors/v1 ErrorType)
            }
        }
        line.print();
    }

    /** The fault arrived as a plain SOAPFaultException: the detail did not match a declared fault. */
    private static void untypedFault(SOAPFaultException e) {
        SOAPFault fault = e.getFault();
        Json line = Json.event("fault").put("via", "soap-fault-exception")
                .put("faultcode", fault.getFaultCode()).put("faultstring", fault.getFaultString());
        Detail detail = fault.getDetail();
        Iterator<?> entries = detail == null ? null : detail.getDetailEntries();
        if (entries != null && entries.hasNext()) {
            SOAPElement error = (SOAPElement) entries.next();
            line.put("detailNamespace", error.getNamespaceURI()).put("detailElement", error.getLocalName())
                    .put("id", error.getAttribute("Id"))
                    .put("code", childText(error, "Code")).put("origin", childText(error, "Origin"))
                    .put("message", childText(error, "Message"));
        }
        line.print();
    }

    private static String childText(SOAPElement parent, String localName) {
        for (Iterator<?> it = parent.getChildElements(); it.hasNext(); ) {
            Object child = it.next();
            if (child instanceof SOAPElement && localName.equals(((SOAPElement) child).getLocalName())) {
                return ((SOAPElement) child).getValue();
            }
        }
        return null;
    }

    private static Digest sha256(byte[] bytes) throws Exception {
        Digest digest = new Digest();
        digest.setDigestMethod(DigestMethod.SHA_256);
        digest.setDigestValue(Attachments.sha256(bytes));
        return digest;
    }
}
