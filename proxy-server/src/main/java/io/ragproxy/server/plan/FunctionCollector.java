package io.ragproxy.server.plan;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import net.sf.jsqlparser.expression.Function;

/**
 * Finds every {@link Function} node in a JSqlParser tree, outer calls before the calls in their arguments.
 *
 * <p>JSqlParser's visitors each cover part of the grammar (its table finder skips ORDER BY, for one), and an AI
 * call the proxy missed would reach the backend unrewritten. So this walks the tree's fields generically: every
 * object of a JSqlParser class, every collection and map, once each.
 */
final class FunctionCollector {
    private static final Map<Class<?>, List<Field>> FIELDS = new ConcurrentHashMap<>();

    private FunctionCollector() {}

    static List<Function> collect(Object root) {
        List<Function> out = new ArrayList<>();
        walk(root, Collections.newSetFromMap(new IdentityHashMap<>()), out);
        return out;
    }

    private static void walk(Object node, Set<Object> seen, List<Function> out) {
        if (node == null || !seen.add(node)) {
            return;
        }
        if (node instanceof Iterable<?> items) {
            for (Object item : items) {
                walk(item, seen, out);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                walk(e.getKey(), seen, out);
                walk(e.getValue(), seen, out);
            }
            return;
        }
        if (node instanceof Object[] array) {
            for (Object item : array) {
                walk(item, seen, out);
            }
            return;
        }
        if (!node.getClass().getName().startsWith("net.sf.jsqlparser.")
                || node.getClass().getName().startsWith("net.sf.jsqlparser.parser.")) {
            return; // strings, numbers, and the parser's own token objects hold no SQL nodes
        }
        if (node instanceof Function f) {
            out.add(f);
        }
        for (Field field : fields(node.getClass())) {
            try {
                walk(field.get(node), seen, out);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot read " + field, e);
            }
        }
    }

    private static List<Field> fields(Class<?> type) {
        return FIELDS.computeIfAbsent(type, t -> {
            List<Field> fields = new ArrayList<>();
            for (Class<?> c = t; c != null && c != Object.class; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                        continue;
                    }
                    f.setAccessible(true);
                    fields.add(f);
                }
            }
            return fields;
        });
    }
}
