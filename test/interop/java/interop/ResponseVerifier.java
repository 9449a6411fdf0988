package interop;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

import javax.xml.namespace.QName;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.Source;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.stream.StreamResult;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.ProtocolException;
import javax.xml.ws.handler.Handler;
import javax.xml.ws.handler.MessageContext;
import javax.xml.ws.handler.soap.SOAPHandler;
import javax.xml.ws.handler.soap.SOAPMessageContext;

import org.apache.ws.security.WSConstants;
import org.apache.ws.security.WSDataRef;
import org.apache.ws.security.WSSConfig;
import org.apache.ws.security.WSSecurityEngine;
import org.apache.ws.security.WSSecurityEngineResult;
import org.apache.ws.security.components.crypto.Merlin;
import org.w3c.dom.Document;

/**
 * Verifies every inbound response (faults included) the way a WSS4J 1.6 integrator does: WSSecurityEngine
 * processes the response's wsse:Security header with a Merlin crypto that trusts only the service's CA
 * (signature value, reference digests, the token certificate's path to that CA, the Timestamp's
 * validity). Prints a {"event":"response-verified",...} line per response, saying which elements the
 * signature covers; a response that does not verify prints "response-rejected" and fails the call.
 */
public final class ResponseVerifier implements SOAPHandler<SOAPMessageContext> {
    static {
        // As in WssSigningHandler: keep the JDK's JCE providers first.
        WSSConfig.setAddJceProviders(false);
    }

    private static final QName SECURITY = new QName(WSConstants.WSSE_NS, WSConstants.WSSE_LN);

    private final Merlin crypto;

    /** Trusts the CA certificate in {@code caPem} (PEM) and nothing else. */
    public ResponseVerifier(Path caPem) throws Exception {
        X509Certificate ca;
        try (InputStream in = Files.newInputStream(caPem)) {
            ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        trusted.setCertificateEntry("service-ca", ca);
        crypto = new Merlin();
        crypto.setKeyStore(trusted);
        crypto.setTrustStore(trusted);
    }

    /** Adds this handler to a port's handler chain. */
    @SuppressWarnings("rawtypes")
    public void installOn(Object port) {
        BindingProvider provider = (BindingProvider) port;
        List<Handler> chain = new ArrayList<>(provider.getBinding().getHandlerChain());
        chain.add(this);
        provider.getBinding().setHandlerChain(chain);
    }

    /**
     * Runs the WSS4J receiver over an envelope and describes what it verified.
     * @throws Exception when WSS4J refuses the security header (or finds none)
     */
    Json verify(Document doc) throws Exception {
        List<WSSecurityEngineResult> results =
                new WSSecurityEngine().processSecurityHeader(doc, null, null, crypto);
        if (results == null || results.isEmpty()) throw new IllegalStateException("no wsse:Security header");
        Json line = Json.event("response-verified");
        for (WSSecurityEngineResult result : results) {
            int action = (Integer) result.get(WSSecurityEngineResult.TAG_ACTION);
            if (action == WSConstants.SIGN) {
                List<String> signed = new ArrayList<>();
                @SuppressWarnings("unchecked")
                List<WSDataRef> references = (List<WSDataRef>) result.get(WSSecurityEngineResult.TAG_DATA_REF_URIS);
                for (WSDataRef reference : references) signed.add(reference.getName().getLocalPart());
                X509Certificate certificate =
                        (X509Certificate) result.get(WSSecurityEngineResult.TAG_X509_CERTIFICATE);
                line.put("signedElements", String.join(",", signed))
                        .put("signatureMethod", result.get(WSSecurityEngineResult.TAG_SIGNATURE_METHOD))
                        .put("certificateSubject", certificate.getSubjectX500Principal().getName())
                        .put("keyReference", String.valueOf(result.get(WSSecurityEngineResult.TAG_X509_REFERENCE_TYPE)));
            } else if (action == WSConstants.TS) {
                line.put("timestamp", true);
            }
        }
        return line;
    }

    @Override
    public boolean handleMessage(SOAPMessageContext context) {
        if (!Boolean.TRUE.equals(context.get(MessageContext.MESSAGE_OUTBOUND_PROPERTY))) check(context);
        return true;
    }

    @Override
    public boolean handleFault(SOAPMessageContext context) {
        check(context);
        return true;
    }

    private void check(SOAPMessageContext context) {
        Json line;
        try {
            line = verify(plainDomCopy(context.getMessage().getSOAPPart().getContent()));
        } catch (Exception e) {
            Json.event("response-rejected").put("error", e.toString()).print();
            throw new ProtocolException("the response's WS-Security signature does not verify: " + e, e);
        }
        line.put("fault", isFault(context)).print();
    }

    private static boolean isFault(SOAPMessageContext context) {
        try {
            return context.getMessage().getSOAPBody().hasFault();
        } catch (Exception e) {
            return false;
        }
    }

    /** The SAAJ envelope as a plain namespace-aware DOM, as WssSigningHandler does. */
    private static Document plainDomCopy(Source envelope) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TransformerFactory.newInstance().newTransformer().transform(envelope, new StreamResult(bytes));
        return parse(bytes.toByteArray());
    }

    private static Document parse(byte[] xml) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml));
    }

    @Override
    public void close(MessageContext context) {}

    @Override
    public Set<QName> getHeaders() {
        return Collections.singleton(SECURITY);
    }

    /** {@code ResponseVerifier CA.pem ENVELOPE.xml}: verifies a saved response, prints the line. */
    public static void main(String[] args) throws Exception {
        new ResponseVerifier(Path.of(args[0])).verify(parse(Files.readAllBytes(Path.of(args[1])))).print();
    }
}
