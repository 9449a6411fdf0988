// Loads a PKCS#12 the way Java clients do (KeyStore.getInstance("PKCS12")), signs with its key and
// verifies with its certificate. Run by test/pki/dev-pki.test.ts as `java LoadPkcs12.java <p12> <password> <alias>`.

import java.io.FileInputStream;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;

public class LoadPkcs12 {
  public static void main(String[] args) throws Exception {
    char[] password = args[1].toCharArray();
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(args[0])) { store.load(in, password); }
    PrivateKey key = (PrivateKey) store.getKey(args[2], password);
    Certificate[] chain = store.getCertificateChain(args[2]);
    Signature signature = Signature.getInstance("SHA256withRSA");
    signature.initSign(key);
    signature.update(new byte[] {1, 2, 3});
    byte[] value = signature.sign();
    signature.initVerify(chain[0].getPublicKey());
    signature.update(new byte[] {1, 2, 3});
    System.out.println("aliases=" + java.util.Collections.list(store.aliases()) + " key=" + key.getAlgorithm() + " chain=" + chain.length + " verified=" + signature.verify(value));
  }
}
