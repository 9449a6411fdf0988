package interop;

import java.util.LinkedHashMap;
import java.util.Map;

/** One flat JSON object per stdout line: what the jest tests parse. Values: String, Number, Boolean, null. */
public final class Json {
    private final Map<String, Object> fields = new LinkedHashMap<>();

    private Json(String event) {
        fields.put("event", event);
    }

    /** Starts a line describing {@code event}. */
    public static Json event(String event) {
        return new Json(event);
    }

    public Json put(String key, Object value) {
        fields.put(key, value);
        return this;
    }

    /** Writes the object as one line on stdout. */
    public void print() {
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<String, Object> field : fields.entrySet()) {
            if (out.length() > 1) out.append(',');
            out.append(quote(field.getKey())).append(':');
            Object value = field.getValue();
            if (value == null) out.append("null");
            else if (value instanceof Number || value instanceof Boolean) out.append(value);
            else out.append(quote(value.toString()));
        }
        System.out.println(out.append('}'));
        System.out.flush();
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
