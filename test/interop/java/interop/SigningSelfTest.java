package interop;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.soap.MessageFactory;
import javax.xml.soap.SOAPConstants;
import javax.xml.soap.SOAPElement;
import javax.xml.soap.SOAPMessage;

import org.apache.ws.security.WSSecurityEngine;
import org.apache.ws.security.WSSecurityEngineResult;
import org.w3c.dom.Document;

/**
 * Offline check of {@link WssSigningHandler}: signs a getStatus request built with SAAJ, serialises it as it
 * would go on the wire, verifies that text again with WSS4J, and prints {"event":"signed","xml":...}.
 */
public final class SigningSelfTest {
    public static void main(String[] args) throws Exception {
        WssSigningHandler handler = WssSigningHandler.fromEnvironment();

        SOAPMessage message = MessageFactory.newInstance(SOAPConstants.SOAP_1_1_PROTOCOL).createMessage();
        SOAPElement request = message.getSOAPBody()
                .addChildElement("GetStatusRequest", "rm", "http://socialsecurity.be/registeredmail/v1");
        request.addChildElement("Ticket", "t", "http://socialsecurity.be/registeredmail/types/v1")
                .addTextNode("0123456789ABC");
        handler.sign(message);

        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        message.writeTo(wire);
        String xml = wire.toString(StandardCharsets.UTF_8);

        Json.event("signed").put("xml", xml).put("wss4jVerifiedActions", verify(handler, wire.toByteArray())).print();
    }

    /** Runs the WSS4J 1.6 receiver over the serialised bytes; returns how many actions it validated. */
    private static int verify(WssSigningHandler handler, byte[] wire) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Document doc = factory.newDocumentBuilder().parse(new ByteArrayInputStream(wire));
        List<WSSecurityEngineResult> results =
                new WSSecurityEngine().processSecurityHeader(doc, null, null, handler.crypto());
        return results == null ? 0 : results.size();
    }
}
