package io.ragproxy.server.catalog;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The names of the built-in functions of MySQL, MariaDB and TiDB (the resource
 * {@code builtin-function-names.txt}), which the catalog refuses as names of Aurora functions and MindsDB models: a
 * user object named {@code lower} or {@code count} would turn other accounts' plain SQL into model calls. Immutable.
 */
public final class BuiltinNames {
    private static final String RESOURCE = "builtin-function-names.txt";

    private final Set<String> names;

    private BuiltinNames(Set<String> names) {
        this.names = Collections.unmodifiableSet(names);
    }

    /** The list shipped with ragproxy. */
    public static BuiltinNames load() {
        try (InputStream in = BuiltinNames.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the resource " + RESOURCE + " is missing from the build");
            }
            Set<String> names = new TreeSet<>();
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                String name = line.trim();
                if (!name.isEmpty() && !name.startsWith("#")) {
                    names.add(name.toLowerCase(Locale.ROOT));
                }
            }
            return new BuiltinNames(names);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether {@code name} (any case) is a built-in function's name. */
    public boolean contains(String name) {
        return names.contains(name.toLowerCase(Locale.ROOT));
    }

    /** Every name, lower case, sorted. */
    public Set<String> names() {
        return names;
    }
}
