package interop;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

import javax.xml.namespace.QName;
import javax.xml.soap.AttachmentPart;
import javax.xml.soap.SOAPException;
import javax.xml.soap.SOAPMessage;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Does the XOP packaging of MTOM by hand, for a handler that signs the message: JAX-WS RI turns the
 * message into SAAJ for a SOAPHandler, and JAXB then writes base64Binary content inline, so with a
 * signing handler an MTOMFeature port sends an XOP package whose root still holds every byte as base64
 * (metro-jax-ws issues 715 and 971: "MTOM + SOAPHandler == inlined"). Applied to the envelope before it
 * is signed, this moves the base64 content of the named elements into attachment parts and leaves an
 * {@code xop:Include href="cid:..."} in its place, so that the signature covers the envelope as it is
 * transmitted; JAX-WS's MTOM codec then writes those attachments as the package's parts.
 */
public final class XopPackager {
    static final String XOP_NS = "http://www.w3.org/2004/08/xop/include";

    private final QName element;
    private final String partContentType;

    /** Packages the content of every {@code element} in the envelope, as parts of {@code partContentType}. */
    public XopPackager(QName element, String partContentType) {
        this.element = element;
        this.partContentType = partContentType;
    }

    /** The bytes taken out of the envelope, to be added to the message as attachment parts. */
    public static final class Part {
        final String contentId;
        final byte[] bytes;
        final String contentType;

        Part(String contentId, byte[] bytes, String contentType) {
            this.contentId = contentId;
            this.bytes = bytes;
            this.contentType = contentType;
        }
    }

    /** Replaces the base64 text of each element by an xop:Include; returns the parts it refers to. */
    public List<Part> extract(Document envelope) {
        List<Part> parts = new ArrayList<>();
        NodeList found = envelope.getElementsByTagNameNS(element.getNamespaceURI(), element.getLocalPart());
        for (int i = 0; i < found.getLength(); i++) {
            Element content = (Element) found.item(i);
            byte[] bytes = Base64.getMimeDecoder().decode(content.getTextContent());
            String contentId = UUID.randomUUID() + "@interop.registeredmail";
            while (content.getFirstChild() != null) content.removeChild(content.getFirstChild());
            Element include = envelope.createElementNS(XOP_NS, "xop:Include");
            include.setAttributeNS("http://www.w3.org/2000/xmlns/", "xmlns:xop", XOP_NS);
            include.setAttributeNS(null, "href", "cid:" + contentId);
            content.appendChild(include);
            parts.add(new Part(contentId, bytes, partContentType));
        }
        return parts;
    }

    /** Adds the parts {@link #extract} took out as attachments of {@code message}. */
    public static void attach(SOAPMessage message, List<Part> parts) throws SOAPException {
        for (Part part : parts) {
            AttachmentPart attachment = message.createAttachmentPart();
            attachment.setRawContentBytes(part.bytes, 0, part.bytes.length, part.contentType);
            attachment.setContentId("<" + part.contentId + ">");
            message.addAttachmentPart(attachment);
        }
    }
}
