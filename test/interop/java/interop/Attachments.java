package interop;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import javax.activation.DataHandler;
import javax.activation.DataSource;

/** Bytes in and out of swaRef attachments (javax.activation has no byte-array DataSource of its own). */
public final class Attachments {
    private Attachments() {}

    /** A DataHandler over {@code bytes} with the given MIME type: what wsimport's {@code Content} setter takes. */
    public static DataHandler of(byte[] bytes, String mimeType) {
        return new DataHandler(new DataSource() {
            @Override
            public InputStream getInputStream() {
                return new ByteArrayInputStream(bytes);
            }

            @Override
            public OutputStream getOutputStream() {
                throw new UnsupportedOperationException("read-only");
            }

            @Override
            public String getContentType() {
                return mimeType;
            }

            @Override
            public String getName() {
                return "attachment";
            }
        });
    }

    /** Reads an attachment received in a response. */
    public static byte[] bytes(DataHandler handler) throws Exception {
        try (InputStream in = handler.getInputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        }
    }

    public static byte[] sha256(byte[] bytes) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(bytes);
    }

    /** A small byte array that starts like a PDF; {@code label} makes each document distinct. */
    public static byte[] samplePdf(String label) {
        String text = "%PDF-1.4\n% interop test document: " + label + "\n1 0 obj << /Type /Catalog >> endobj\n"
                + "trailer << /Root 1 0 R >>\n%%EOF\n";
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
