package interop;

import java.math.BigInteger;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.Security;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.asn1.ess.ESSCertIDv2;
import org.bouncycastle.asn1.ess.SigningCertificateV2;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.IssuerSerial;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerId;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.util.Store;

/**
 * Verifies detached CAdES-T receipts with Bouncy Castle, as a recipient of a proof would: the CMS
 * signature over the content with the signer certificate the SignedData carries, signing-certificate-v2
 * against that certificate, the signature-time-stamp's imprint against the SHA-256 of the signature
 * value, and the time-stamp token's signature with the TSA certificate (Bouncy Castle also checks its
 * critical timeStamping extended key usage, its validity at genTime and the token's ESS certificate id).
 *
 * <p>Usage: {@code VerifyReceipt <dir>}: every {@code <name>.p7s} in the directory is the signature of
 * {@code <name>.xml}. Prints one JSON line per receipt ({@code {"event":"receipt","name":...,"ok":...}})
 * and exits 0 only when every receipt verifies (1 otherwise, 2 on a usage error).
 */
public final class VerifyReceipt {
  private VerifyReceipt() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: VerifyReceipt <directory of name.xml + name.p7s>");
      System.exit(2);
    }
    Security.addProvider(new BouncyCastleProvider());
    Path dir = Paths.get(args[0]);
    List<Path> signatures = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.p7s")) {
      entries.forEach(signatures::add);
    }
    signatures.sort(null);
    boolean allVerified = true;
    for (Path signatureFile : signatures) {
      String file = signatureFile.getFileName().toString();
      String name = file.substring(0, file.length() - ".p7s".length());
      Result result = new Result();
      try {
        byte[] content = Files.readAllBytes(dir.resolve(name + ".xml"));
        verify(content, Files.readAllBytes(signatureFile), result);
      } catch (Exception e) {
        result.error = e.getClass().getSimpleName() + ": " + e.getMessage();
        allVerified = false;
      }
      System.out.println(result.toJson(name));
    }
    System.exit(allVerified ? 0 : 1);
  }

  /** What was checked, and when the proof says it was signed and time-stamped. */
  private static final class Result {
    final List<String> passed = new ArrayList<>();
    String signingTime;
    String genTime;
    String error;

    String toJson(String name) {
      StringBuilder json = new StringBuilder("{\"event\":\"receipt\",\"name\":").append(quote(name));
      json.append(",\"ok\":").append(error == null);
      json.append(",\"passed\":[");
      for (int i = 0; i < passed.size(); i++) json.append(i == 0 ? "" : ",").append(quote(passed.get(i)));
      json.append("],\"signingTime\":").append(quote(signingTime));
      json.append(",\"genTime\":").append(quote(genTime));
      json.append(",\"error\":").append(quote(error)).append('}');
      return json.toString();
    }
  }

  private static void verify(byte[] content, byte[] signature, Result result) throws Exception {
    CMSSignedData signed = new CMSSignedData(new CMSProcessableByteArray(content), signature);
    Collection<SignerInformation> signers = signed.getSignerInfos().getSigners();
    require(signers.size() == 1, "the SignedData has " + signers.size() + " SignerInfos, not one");
    SignerInformation signer = signers.iterator().next();

    X509CertificateHolder signerCertificate = certificateOf(signer.getSID(), signed.getCertificates());
    require(signerCertificate != null, "the signer certificate is not in the SignedData");
    // Checks the message-digest (over the detached content) and the signature over the signed attributes.
    require(
        signer.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(signerCertificate)),
        "the CMS signature does not verify");
    result.passed.add("cms-signature");

    AttributeTable signedAttributes = signer.getSignedAttributes();
    ASN1Encodable contentType = onlyValue(signedAttributes, CMSAttributes.contentType, "content-type");
    require(PKCSObjectIdentifiers.data.equals(contentType), "content-type is not id-data");
    result.signingTime =
        Time.getInstance(onlyValue(signedAttributes, CMSAttributes.signingTime, "signing-time"))
            .getDate()
            .toInstant()
            .toString();
    result.passed.add("content-type-and-signing-time");

    checkSigningCertificateV2(signedAttributes, signerCertificate);
    result.passed.add("signing-certificate-v2");

    AttributeTable unsignedAttributes = signer.getUnsignedAttributes();
    require(unsignedAttributes != null, "no unsigned attributes: no signature-time-stamp");
    TimeStampToken token =
        new TimeStampToken(
            ContentInfo.getInstance(
                onlyValue(
                    unsignedAttributes,
                    PKCSObjectIdentifiers.id_aa_signatureTimeStampToken,
                    "signature-time-stamp")));
    require(
        NISTObjectIdentifiers.id_sha256.equals(token.getTimeStampInfo().getMessageImprintAlgOID()),
        "the time-stamp imprint is not SHA-256");
    byte[] signatureValueDigest = MessageDigest.getInstance("SHA-256").digest(signer.getSignature());
    require(
        Arrays.equals(signatureValueDigest, token.getTimeStampInfo().getMessageImprintDigest()),
        "the time-stamp imprint is not the SHA-256 of the signature value");
    result.passed.add("time-stamp-imprint");

    X509CertificateHolder tsaCertificate = certificateOf(token.getSID(), token.getCertificates());
    if (tsaCertificate == null) tsaCertificate = certificateOf(token.getSID(), signed.getCertificates());
    require(tsaCertificate != null, "the TSA certificate is neither in the token nor in the SignedData");
    // Throws when the signature, the ESS certificate id, the validity at genTime or the EKU is wrong.
    token.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(tsaCertificate));
    Date genTime = token.getTimeStampInfo().getGenTime();
    result.genTime = genTime.toInstant().toString();
    result.passed.add("time-stamp-signature");
  }

  /** RFC 5035: one ESSCertIDv2 whose hash (SHA-256) and IssuerSerial name the signer certificate. */
  private static void checkSigningCertificateV2(
      AttributeTable signedAttributes, X509CertificateHolder signerCertificate) throws Exception {
    SigningCertificateV2 signingCertificate =
        SigningCertificateV2.getInstance(
            onlyValue(
                signedAttributes,
                PKCSObjectIdentifiers.id_aa_signingCertificateV2,
                "signing-certificate-v2"));
    ESSCertIDv2[] ids = signingCertificate.getCerts();
    require(ids.length >= 1, "signing-certificate-v2 names no certificate");
    ESSCertIDv2 id = ids[0];
    require(
        NISTObjectIdentifiers.id_sha256.equals(id.getHashAlgorithm().getAlgorithm()),
        "signing-certificate-v2 hash is not SHA-256");
    byte[] hash = MessageDigest.getInstance("SHA-256").digest(signerCertificate.getEncoded());
    require(
        Arrays.equals(hash, id.getCertHash()),
        "signing-certificate-v2 hash is not the signer certificate's");
    IssuerSerial issuerSerial = id.getIssuerSerial();
    if (issuerSerial != null) {
      BigInteger serial = issuerSerial.getSerial().getValue();
      GeneralName[] names = issuerSerial.getIssuer().getNames();
      require(
          serial.equals(signerCertificate.getSerialNumber())
              && names.length == 1
              && names[0].getTagNo() == GeneralName.directoryName
              && X500Name.getInstance(names[0].getName()).equals(signerCertificate.getIssuer()),
          "signing-certificate-v2 IssuerSerial is not the signer certificate's");
    }
  }

  private static X509CertificateHolder certificateOf(SignerId id, Store<X509CertificateHolder> store) {
    if (store == null) return null;
    Collection<X509CertificateHolder> matches = store.getMatches(id);
    return matches.isEmpty() ? null : matches.iterator().next();
  }

  private static ASN1Encodable onlyValue(
      AttributeTable attributes, ASN1ObjectIdentifier type, String name) {
    require(attributes != null, "no " + name + " attribute");
    Attribute attribute = attributes.get(type);
    require(attribute != null, "no " + name + " attribute");
    require(
        attribute.getAttrValues().size() == 1,
        name + " has " + attribute.getAttrValues().size() + " values, not one");
    require(attributes.getAll(type).size() == 1, name + " appears more than once");
    return attribute.getAttrValues().getObjectAt(0);
  }

  private static void require(boolean condition, String failure) {
    if (!condition) throw new IllegalStateException(failure);
  }

  private static String quote(String text) {
    if (text == null) return "null";
    StringBuilder quoted = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      if (c == '"' || c == '\\') quoted.append('\\').append(c);
      else if (c < 0x20) quoted.append(String.format("\\u%04x", (int) c));
      else quoted.append(c);
    }
    return quoted.append('"').toString();
  }
}
