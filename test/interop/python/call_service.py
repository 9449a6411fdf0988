"""Call RegisteredMail v1 from Python with zeep, every request signed as the service requires.

Usage:
  /usr/bin/python3 call_service.py --wsdl URL --key SENDER.key.pem --cert SENDER.cert.pem
                                   --service-ca CA.pem [--document FILE.pdf --inss 85073003328]

Every response (faults included) is verified before zeep reads it: the service signs its responses
with WS-Security, and a response whose signature, token certificate (issued by --service-ca) or
Timestamp does not check out raises zeep's SignatureVerificationFailed.

Prints one JSON object per line:
  {"event": "healthCheck", "level": "OK", ...}             healthCheck type PING
  {"event": "fault", "operation": "getStatus", ...}        getStatus of a well-formed unknown ticket
and with --document (sendDocument as SOAP with Attachments, then getStatus of the new ticket):
  {"event": "sent", "ticket": ..., ...}
  {"event": "status", "status": "PENDING", ...}
then:
  {"event": "tampered", "rejected": true, ...}             a healthCheck response with one byte changed
  {"event": "verified", "responses": N, ...}               responses whose signature was verified

Needs Debian's python3-zeep and python3-xmlsec (run it with /usr/bin/python3).
"""

import argparse
import base64
import datetime
import hashlib
import json
import re
import sys
import uuid

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from zeep import Client
from zeep.exceptions import Fault, SignatureVerificationFailed
from zeep.wsse.signature import BinarySignature, MemorySignature
from zeep.wsse.utils import WSU, get_security_header

TYPES_NS = "http://socialsecurity.be/registeredmail/types/v1"
SERVICE = "RegisteredMailService"
PORT = "RegisteredMailSOAP11"
# A well-formed ticket ([0-9A-HJ-NP-Z]{13}) that the service never issued.
UNKNOWN_TICKET = "ZZZZZZZZZZZZZ"
TIMESTAMP_TTL = datetime.timedelta(seconds=300)
CLOCK_SKEW = datetime.timedelta(seconds=60)
NS = {
    "soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}


class SignedRequest(BinarySignature):
    """zeep's BinarySignature (the certificate in a wsse:BinarySecurityToken, exclusive c14n) with
    RSA-SHA256 and SHA-256 digests, plus the wsu:Timestamp that the service requires.

    zeep 4.2 signs a Timestamp when the Security header already has one, but never adds one: apply()
    adds it before signing, so the signature covers the Body and the Timestamp.

    Responses are verified with the certificate of their BinarySecurityToken once it is shown to be
    issued by the service's CA (zeep's own verify() would use our sender certificate instead).
    """

    def __init__(self, key_file, cert_file, service_ca_file):
        super().__init__(
            key_file,
            cert_file,
            signature_method=xmlsec.constants.TransformRsaSha256,
            digest_method=xmlsec.constants.TransformSha256,
        )
        with open(service_ca_file, "rb") as file:
            self.service_ca = x509.load_pem_x509_certificate(file.read())
        self.verified = 0
        self.service_certificate = None

    def apply(self, envelope, headers):
        created = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        get_security_header(envelope).append(
            WSU.Timestamp(WSU.Created(_zulu(created)), WSU.Expires(_zulu(created + TIMESTAMP_TTL)))
        )
        return super().apply(envelope, headers)

    def verify(self, envelope):
        """Accepts a response only when its WS-Security signature verifies (zeep and xmlsec) with the
        token's certificate, that certificate is issued by the service CA and valid, the signature
        covers the Body and the Timestamp, and the Timestamp is current."""
        security = envelope.find("soapenv:Header/wsse:Security", NS)
        if security is None:
            raise SignatureVerificationFailed("the response has no wsse:Security header")
        certificate = self._trusted_token_certificate(security)
        _require_signed(envelope, security)
        _require_current(security.find("wsu:Timestamp", NS))
        pem = certificate.public_bytes(serialization.Encoding.PEM)
        MemorySignature(None, pem).verify(envelope)  # zeep's verification: BinarySignature.verify
        self.verified += 1
        self.service_certificate = certificate
        return envelope

    def _trusted_token_certificate(self, security):
        tokens = security.findall("wsse:BinarySecurityToken", NS)
        if len(tokens) != 1:
            raise SignatureVerificationFailed("expected one BinarySecurityToken")
        certificate = x509.load_der_x509_certificate(base64.b64decode(tokens[0].text))
        ca = self.service_ca
        if certificate.issuer != ca.subject:
            raise SignatureVerificationFailed("the token certificate is not issued by the service CA")
        try:
            ca.public_key().verify(
                certificate.signature,
                certificate.tbs_certificate_bytes,
                padding.PKCS1v15(),
                certificate.signature_hash_algorithm,
            )
        except Exception as error:  # InvalidSignature, or a CA key of another kind
            raise SignatureVerificationFailed("the token certificate's signature does not verify") from error
        now = datetime.datetime.utcnow()
        if not certificate.not_valid_before <= now <= certificate.not_valid_after:
            raise SignatureVerificationFailed("the token certificate is not valid now")
        return certificate


def _require_signed(envelope, security):
    """zeep verifies whatever the references name: require the Body and the Timestamp among them."""
    uris = {ref.get("URI") for ref in security.findall("ds:Signature/ds:SignedInfo/ds:Reference", NS)}
    for element in (envelope.find("soapenv:Body", NS), security.find("wsu:Timestamp", NS)):
        wsu_id = None if element is None else element.get("{%s}Id" % NS["wsu"])
        if wsu_id is None or "#" + wsu_id not in uris:
            raise SignatureVerificationFailed("the Body and the Timestamp must both be signed")


def _require_current(timestamp):
    created = _parse_zulu(timestamp.findtext("wsu:Created", namespaces=NS))
    expires = _parse_zulu(timestamp.findtext("wsu:Expires", namespaces=NS))
    now = datetime.datetime.now(datetime.timezone.utc)
    if created - CLOCK_SKEW > now or expires <= now:
        raise SignatureVerificationFailed("the response Timestamp is not current")


def _parse_zulu(text):
    if not text or not text.endswith("Z"):
        raise SignatureVerificationFailed("Timestamp values must be UTC")
    return datetime.datetime.fromisoformat(text[:-1]).replace(tzinfo=datetime.timezone.utc)


def _zulu(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def health_check(client):
    response = client.service.healthCheck(type="PING")
    return {
        "event": "healthCheck",
        "level": response.Status.Level,
        "component": response.Component.Name,
    }


def get_status(client, ticket):
    response = client.service.getStatus(Ticket=ticket)
    # Once the item is SENT the answer is multipart (the ProofOfDispatch content is a cid: part): zeep
    # then answers a MessagePack whose root is the response and whose attachments hold the parts.
    attachments = getattr(response, "attachments", [])
    status = getattr(response, "root", response)
    proof = status.ProofOfDispatch
    content_id = proof.Content[len("cid:"):] if proof is not None else None
    return {
        "event": "status",
        "ticket": status.Ticket,
        "token": status.Token,
        "status": status.Status,
        "proofOfDispatch": proof is not None,
        "proofAttached": any(part.content_id.strip("<>") == content_id for part in attachments),
    }


def tampered_health_check(client):
    """A healthCheck response read twice by zeep: as received (accepted), then with one byte of its
    Body changed (rejected by the signature verification)."""
    envelope = client.create_message(client.service, "healthCheck", type="PING")
    port = client.wsdl.services[SERVICE].ports[PORT]
    operation = port.binding.get("healthCheck")
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"%s"' % operation.soapaction}
    body = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    response = client.transport.post(port.binding_options["address"], body, headers)
    received = response.content
    accepted = port.binding.process_reply(client, operation, response).Status.Level == "OK"

    at = re.search(rb":Body [^>]*>(?:<[^>]*>)*([^<\s])", received).start(1)
    changed = b"Y" if received[at : at + 1] == b"X" else b"X"
    response._content = received[:at] + changed + received[at + 1 :]
    line = {"event": "tampered", "operation": "healthCheck", "acceptedAsReceived": accepted}
    try:
        port.binding.process_reply(client, operation, response)
    except SignatureVerificationFailed as error:
        return dict(line, rejected=True, error=type(error).__name__)
    return dict(line, rejected=False)


def fault_line(operation, fault):
    """The fault as zeep raises it: faultstring in message, the errors/v1 element in detail."""
    line = {
        "event": "fault",
        "operation": operation,
        "faultstring": fault.message,
        "faultcode": str(fault.code),
    }
    error = fault.detail[0] if fault.detail is not None and len(fault.detail) else None
    if error is not None:
        name = etree.QName(error)
        line.update(
            detailNamespace=name.namespace,
            detailElement=name.localname,
            id=error.get("Id"),
            code=error.findtext("{%s}Code" % name.namespace),
            origin=error.findtext("{%s}Origin" % name.namespace),
            errorMessage=error.findtext("{%s}Message" % name.namespace),
        )
    return line


def send_document(client, document_path, inss):
    """sendDocument as SOAP with Attachments, which zeep cannot send: zeep builds and signs the
    envelope (create_message applies the client's wsse), the standard library frames the
    multipart/related request, zeep's transport posts it and zeep reads the (multipart) reply."""
    with open(document_path, "rb") as file:
        document = file.read()
    content_id = "document-%s@registered-mail.example" % uuid.uuid4()
    citizen = client.get_type("{%s}Citizen" % TYPES_NS)
    item = {
        "Token": "py-%s" % uuid.uuid4(),
        "Recipient": citizen(INSS=inss, QualityCode="CITIZEN"),
        "Document": {
            "Title": "Interop test document",
            "Digest": {"DigestMethod": "SHA-256", "DigestValue": hashlib.sha256(document).digest()},
            "DownloadFileName": "document.pdf",
            "MIME": "application/pdf",
            "Type": "EDER501",
            "Language": "en",
            "Content": "cid:" + content_id,
        },
    }
    envelope = client.create_message(
        client.service, "sendDocument", RegisteredMailItem=item, CheckEboxStatus="BYPASS"
    )
    body, content_type = _multipart_related(
        etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"),
        [(content_id, "application/pdf", document)],
    )
    port = client.wsdl.services[SERVICE].ports[PORT]
    headers = {"Content-Type": content_type, "SOAPAction": '""'}
    response = client.transport.post(port.binding_options["address"], body, headers)
    try:
        reply = port.binding.process_reply(client, port.binding.get("sendDocument"), response)
    except Fault as fault:
        return fault_line("sendDocument", fault)
    receipt = reply.root  # zeep unwraps DocumentResponse to its one child, the Receipt
    attachment = reply.get_by_content_id("<%s>" % receipt.Document.Content[len("cid:"):])
    return {
        "event": "sent",
        "ticket": receipt.Ticket,
        "token": receipt.Token,
        "requestToken": item["Token"],
        "receiptFileName": receipt.Document.DownloadFileName,
        "receiptDigestMethod": receipt.Document.Digest.DigestMethod,
        "receiptDigest": _base64(receipt.Document.Digest.DigestValue),
        # zeep's Attachment.content strips CR/LF at both ends of a binary part: compared with the
        # receipt's Digest, this shows the receipt bytes reach a zeep client intact.
        "receiptBytesSha256": _base64(hashlib.sha256(attachment.content).digest()),
        "receiptSignatureBytes": len(receipt.Document.Signature),
    }


def _multipart_related(envelope, attachments):
    """A multipart/related (type text/xml) body: the envelope as root part, then each attachment
    (content id, MIME type, bytes) in binary with its Content-ID."""
    boundary = "----=_Part_%s" % uuid.uuid4().hex
    parts = [("root.envelope", "text/xml; charset=UTF-8", envelope)] + list(attachments)
    body = b""
    for content_id, mime, data in parts:
        head = "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <%s>\r\n\r\n"
        body += (head % (boundary, mime, content_id)).encode("ascii") + data + b"\r\n"
    body += ("--%s--\r\n" % boundary).encode("ascii")
    content_type = 'multipart/related; type="text/xml"; start="<root.envelope>"; boundary="%s"' % boundary
    return body, content_type


def _base64(data):
    return base64.b64encode(data).decode("ascii")


def main(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wsdl", required=True, help="the served WSDL, <base>/RegisteredMail/v1?wsdl")
    parser.add_argument("--key", required=True, help="the sender's private key (PEM, unencrypted)")
    parser.add_argument("--cert", required=True, help="the sender's certificate (PEM)")
    parser.add_argument("--service-ca", required=True, help="the CA that issued the service's certificate (PEM)")
    parser.add_argument("--document", help="a PDF to send with sendDocument")
    parser.add_argument("--inss", default="85073003328", help="the recipient citizen's INSS")
    args = parser.parse_args(argv[1:])

    wsse = SignedRequest(args.key, args.cert, args.service_ca)
    client = Client(args.wsdl, wsse=wsse)

    print(json.dumps(health_check(client)), flush=True)
    try:
        print(json.dumps(get_status(client, UNKNOWN_TICKET)), flush=True)
    except Fault as fault:
        print(json.dumps(fault_line("getStatus", fault)), flush=True)
    if args.document:
        sent = send_document(client, args.document, args.inss)
        print(json.dumps(sent), flush=True)
        if sent["event"] == "sent":
            print(json.dumps(get_status(client, sent["ticket"])), flush=True)
    verified = wsse.verified
    print(json.dumps(tampered_health_check(client)), flush=True)
    print(
        json.dumps(
            {
                "event": "verified",
                "responses": verified,
                "certificateSubject": wsse.service_certificate.subject.rfc4514_string(),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
