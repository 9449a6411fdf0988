package interop;

import java.util.HashMap;
import java.util.Map;

/** {@code <scenario> [--name=value ...]}: the command lines the jest tests pass to the clients. */
public final class CliArgs {
    public final String scenario;
    private final Map<String, String> options = new HashMap<>();

    public CliArgs(String[] args) {
        if (args.length == 0 || args[0].startsWith("--")) {
            throw new IllegalArgumentException(
                    "usage: <scenario> --wsdl=URL [--endpoint=URL] [--check-ebox=BYPASS]");
        }
        scenario = args[0];
        for (int i = 1; i < args.length; i++) {
            String arg = args[i];
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 0) {
                throw new IllegalArgumentException("expected --name=value: " + arg);
            }
            options.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
    }

    public String required(String name) {
        String value = options.get(name);
        if (value == null) throw new IllegalArgumentException("missing --" + name + "=...");
        return value;
    }

    /** The option's value, or null when it was not given. */
    public String optional(String name) {
        return options.get(name);
    }
}
