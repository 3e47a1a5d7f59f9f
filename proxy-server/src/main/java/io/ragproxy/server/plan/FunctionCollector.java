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
 * Finds every {@link Function} node (or node of another type) in a JSqlParser tree, outer calls before the calls in their arguments.
 *
 * <p>JSqlParser's visitors each cover part of the grammar (its table finder skips ORDER BY, for one), and an AI
 * call the proxy missed would reach the backend unrewritten. So this walks the tree's fields generically: every
 * object of a JSqlParser class, every collection and map, once each.
 */
public final class FunctionCollector {
    private static final Map<Class<?>, List<Field>> FIELDS = new ConcurrentHashMap<>();

    private FunctionCollector() {}

    /** Every function call in the tree under {@code root}, outer before inner. */
    public static List<Function> collect(Object root) {
        return collect(root, Function.class);
    }

    /** Every node of {@code type} in the tree under {@code root}, outer before inner. */
    public static <T> List<T> collect(Object root, Class<T> type) {
        List<T> out = new ArrayList<>();
        visit(root, node -> {
            if (type.isInstance(node)) {
                out.add(type.cast(node));
            }
        });
        return out;
    }

    /** Receives the nodes of a tree walk: {@link #enter} before a node's children, {@link #exit} after them. */
    interface TreeVisitor {
        void enter(Object node);

        default void exit(Object node) {}
    }

    /** Walks every SQL node under {@code root} (each once), depth first. */
    static void visit(Object root, TreeVisitor visitor) {
        walk(root, visitor, Collections.newSetFromMap(new IdentityHashMap<>()));
    }

    private static void walk(Object node, TreeVisitor visitor, Set<Object> seen) {
        if (node == null || !seen.add(node)) {
            return;
        }
        if (node instanceof Iterable<?> items) {
            for (Object item : items) {
                walk(item, visitor, seen);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                walk(e.getKey(), visitor, seen);
                walk(e.getValue(), visitor, seen);
            }
            return;
        }
        if (node instanceof Object[] array) {
            for (Object item : array) {
                walk(item, visitor, seen);
            }
            return;
        }
        if (node instanceof Enum<?> || !isTreeClass(node.getClass())) {
            return; // strings, numbers, enums and the parser's own token objects hold no SQL nodes
        }
        visitor.enter(node);
        for (Field field : fields(node.getClass())) {
            try {
                walk(field.get(node), visitor, seen);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot read " + field, e);
            }
        }
        visitor.exit(node);
    }

    private static boolean isTreeClass(Class<?> c) {
        String name = c.getName();
        return name.startsWith("net.sf.jsqlparser.") && !name.startsWith("net.sf.jsqlparser.parser.");
    }

    private static List<Field> fields(Class<?> type) {
        return FIELDS.computeIfAbsent(type, t -> {
            List<Field> fields = new ArrayList<>();
            for (Class<?> c = t; c != null && isTreeClass(c); c = c.getSuperclass()) {
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
