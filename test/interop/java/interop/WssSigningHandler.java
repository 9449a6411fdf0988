package interop;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.xml.namespace.QName;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.soap.SOAPMessage;
import javax.xml.transform.Source;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.handler.Handler;
import javax.xml.ws.handler.MessageContext;
import javax.xml.ws.handler.soap.SOAPHandler;
import javax.xml.ws.handler.soap.SOAPMessageContext;

import org.apache.ws.security.WSConstants;
import org.apache.ws.security.WSEncryptionPart;
import org.apache.ws.security.WSSConfig;
import org.apache.ws.security.components.crypto.Crypto;
import org.apache.ws.security.components.crypto.Merlin;
import org.apache.ws.security.message.WSSecHeader;
import org.apache.ws.security.message.WSSecSignature;
import org.apache.ws.security.message.WSSecTimestamp;
import org.w3c.dom.Document;

/**
 * Signs every outbound request the way an integrator using WSS4J 1.6 does: a wsse:Security header with a
 * wsu:Timestamp (300 s), the sender certificate as a BinarySecurityToken referenced directly, and an
 * RSA-SHA256 signature (SHA-256 digests, exclusive c14n) over the Body, the Timestamp and the token.
 * With another key identifier ({@link #useKeyIdentifier}: issuer-serial, ski, thumbprint), the
 * certificate is named in KeyInfo instead, with no token in the header.
 */
public final class WssSigningHandler implements SOAPHandler<SOAPMessageContext> {
    static final String RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    static final int TIMESTAMP_TTL_SECONDS = 300;
    /** WSS4J's key identifier types by the names RM_WSS_KEY_IDENTIFIER takes. */
    static final Map<String, Integer> KEY_IDENTIFIERS = Map.of(
            "bst", WSConstants.BST_DIRECT_REFERENCE,
            "issuer-serial", WSConstants.ISSUER_SERIAL,
            "ski", WSConstants.SKI_KEY_IDENTIFIER,
            "thumbprint", WSConstants.THUMBPRINT_IDENTIFIER);

    static {
        // WSS4J would put Bouncy Castle first among the JCE providers, which breaks the JDK's reading of
        // PBES2 (AES) protected PKCS#12 keys; the JDK's own providers do RSA-SHA256 and SHA-256.
        WSSConfig.setAddJceProviders(false);
    }

    private final Crypto crypto;
    private final String alias;
    private final String password;
    private int keyIdentifierType = WSConstants.BST_DIRECT_REFERENCE;
    private XopPackager xopPackager;

    /** Loads the sender key and chain from a PKCS#12 file whose key entry is named {@code alias}. */
    public WssSigningHandler(Path p12, String alias, String password) throws Exception {
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            keyStore.load(in, password.toCharArray());
        }
        if (!keyStore.isKeyEntry(alias)) {
            throw new IllegalArgumentException("no key entry '" + alias + "' in " + p12);
        }
        Merlin merlin = new Merlin();
        merlin.setKeyStore(keyStore);
        this.crypto = merlin;
        this.alias = alias;
        this.password = password;
    }

    /** How KeyInfo names the certificate: bst (default), issuer-serial, ski or thumbprint. */
    public WssSigningHandler useKeyIdentifier(String name) {
        Integer type = KEY_IDENTIFIERS.get(name);
        if (type == null) {
            throw new IllegalArgumentException(
                    "key identifier must be one of " + KEY_IDENTIFIERS.keySet() + ": " + name);
        }
        keyIdentifierType = type;
        return this;
    }

    /**
     * Packages the content of some elements as XOP (MTOM) parts before signing, so that the signature
     * covers the xop:Include form that goes on the wire (see {@link XopPackager} for why JAX-WS RI does
     * not do it when a SOAPHandler is on the port).
     */
    public WssSigningHandler withXopPackaging(XopPackager packager) {
        xopPackager = packager;
        return this;
    }

    /**
     * Reads RM_P12, RM_P12_ALIAS, RM_P12_PASSWORD (default {@code changeit}) and RM_WSS_KEY_IDENTIFIER
     * (default {@code bst}, see {@link #useKeyIdentifier}) from the environment.
     */
    public static WssSigningHandler fromEnvironment() throws Exception {
        String p12 = System.getenv("RM_P12");
        String alias = System.getenv("RM_P12_ALIAS");
        if (p12 == null || alias == null) {
            throw new IllegalStateException("set RM_P12 and RM_P12_ALIAS");
        }
        String password = System.getenv().getOrDefault("RM_P12_PASSWORD", "changeit");
        return new WssSigningHandler(Path.of(p12), alias, password)
                .useKeyIdentifier(System.getenv().getOrDefault("RM_WSS_KEY_IDENTIFIER", "bst"));
    }

    /** Adds this handler to a port's handler chain. */
    @SuppressWarnings("rawtypes")
    public void installOn(Object port) {
        BindingProvider provider = (BindingProvider) port;
        List<Handler> chain = new ArrayList<>(provider.getBinding().getHandlerChain());
        chain.add(this);
        provider.getBinding().setHandlerChain(chain);
    }

    /** The sender's key store as WSS4J sees it (the self-test verifies with it). */
    Crypto crypto() {
        return crypto;
    }

    /** Adds the security header to {@code message} in place. */
    public void sign(SOAPMessage message) throws Exception {
        // SAAJ 1.4's SOAPPart wraps its own DOM and rejects nodes WSS4J creates: sign a plain DOM copy of
        // the envelope and put it back. Attachments stay where they are.
        Document doc = plainDomCopy(message.getSOAPPart().getContent());
        String soapNs = doc.getDocumentElement().getNamespaceURI();
        List<XopPackager.Part> xopParts = xopPackager == null ? List.of() : xopPackager.extract(doc);

        WSSecHeader header = new WSSecHeader();
        header.setMustUnderstand(true);
        header.insertSecurityHeader(doc);

        WSSecTimestamp timestamp = new WSSecTimestamp();
        timestamp.setTimeToLive(TIMESTAMP_TTL_SECONDS);
        timestamp.build(doc, header);

        WSSecSignature signature = new WSSecSignature();
        signature.setUserInfo(alias, password);
        signature.setKeyIdentifierType(keyIdentifierType);
        signature.setSignatureAlgorithm(RSA_SHA256);
        signature.setDigestAlgo(WSConstants.SHA256);
        signature.setSigCanonicalization(WSConstants.C14N_EXCL_OMIT_COMMENTS);
        signature.prepare(doc, crypto, header);

        // Header order: Timestamp, token, Signature (the token must be in the tree before it can be referenced).
        boolean directReference = keyIdentifierType == WSConstants.BST_DIRECT_REFERENCE;
        if (directReference) signature.appendBSTElementToHeader(header);
        List<WSEncryptionPart> parts = new ArrayList<>();
        parts.add(new WSEncryptionPart(WSConstants.ELEM_BODY, soapNs, "Element"));
        parts.add(new WSEncryptionPart(timestamp.getId()));
        if (directReference) parts.add(new WSEncryptionPart(signature.getBSTTokenId()));
        signature.computeSignature(signature.addReferencesToSign(parts, header), false, null);

        message.getSOAPPart().setContent(new DOMSource(doc));
        XopPackager.attach(message, xopParts);
        message.saveChanges();
    }

    private static Document plainDomCopy(Source envelope) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TransformerFactory.newInstance().newTransformer().transform(envelope, new StreamResult(bytes));
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(bytes.toByteArray()));
    }

    @Override
    public boolean handleMessage(SOAPMessageContext context) {
        if (Boolean.TRUE.equals(context.get(MessageContext.MESSAGE_OUTBOUND_PROPERTY))) {
            try {
                sign(context.getMessage());
            } catch (Exception e) {
                throw new IllegalStateException("WS-Security signing failed: " + e, e);
            }
        }
        return true;
    }

    @Override
    public boolean handleFault(SOAPMessageContext context) {
        return true;
    }

    @Override
    public void close(MessageContext context) {}

    @Override
    public Set<QName> getHeaders() {
        return Collections.emptySet();
    }
}
