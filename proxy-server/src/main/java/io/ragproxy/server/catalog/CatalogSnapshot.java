package io.ragproxy.server.catalog;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One immutable state of the catalog: every user object, indexed by what the scan and the rewrites look up.
 * Thread-safe.
 */
public final class CatalogSnapshot {

    /** The catalog of a backend where no object was ever created. */
    public static final CatalogSnapshot EMPTY = new CatalogSnapshot(0, "", List.of());

    private final long version;
    private final String epoch;
    private final List<CatalogEntry> entries;
    private final Map<String, CatalogEntry> index;
    private final Set<String> functionNames;
    private final Set<String> modelNames;
    private final Set<String> embeddingTableNames;
    private final Set<String> knowledgeBaseNames;
    private final List<ModelGrantRow> modelGrants;

    /**
     * @param version the catalog's version counter when the objects were read (0 before the first object is created)
     * @param epoch drawn when the catalog's schema was set up (empty before): with the counter, identifies a state
     * @param entries the objects with their owners
     */
    public CatalogSnapshot(long version, String epoch, List<CatalogEntry> entries) {
        this(version, epoch, entries, List.of());
    }

    /**
     * @param version the catalog's version counter when the objects were read (0 before the first object is created)
     * @param epoch drawn when the catalog's schema was set up (empty before): with the counter, identifies a state
     * @param entries the objects with their owners
     * @param modelGrants the rows of {@code ragproxy.model_grants}: who may call which model
     */
    public CatalogSnapshot(long version, String epoch, List<CatalogEntry> entries, List<ModelGrantRow> modelGrants) {
        this.modelGrants = List.copyOf(modelGrants);
        this.version = version;
        this.epoch = epoch == null ? "" : epoch;
        this.entries = List.copyOf(entries);
        Map<String, CatalogEntry> m = new LinkedHashMap<>();
        for (CatalogEntry e : this.entries) {
            m.put(e.object().kind().name() + ":" + e.object().qualifiedKey(), e);
        }
        this.index = Collections.unmodifiableMap(m);
        this.functionNames = names(CatalogObject.Kind.FUNCTION);
        Set<String> tables = new TreeSet<>();
        for (EmbeddingRule r : rules()) {
            tables.add(CatalogObject.key(r.table()));
        }
        this.modelNames = names(CatalogObject.Kind.MODEL);
        this.embeddingTableNames = Collections.unmodifiableSet(tables);
        this.knowledgeBaseNames = names(CatalogObject.Kind.KNOWLEDGE_BASE);
    }

    /** The catalog's version counter when the objects were read. */
    public long version() {
        return version;
    }

    /** Drawn when the catalog's schema was set up; empty before. */
    public String epoch() {
        return epoch;
    }

    /** Whether this snapshot is the state {@code counter} of epoch {@code epoch}. */
    boolean isState(long counter, String epoch) {
        return version == counter && this.epoch.equals(epoch);
    }

    /** Who may call which model: the rows of {@code ragproxy.model_grants}. */
    public List<ModelGrantRow> modelGrants() {
        return modelGrants;
    }

    /** The objects with their owners. */
    public List<CatalogEntry> entries() {
        return entries;
    }

    /**
     * The object of {@code kind} named {@code name} (any case), or null. For an Aurora function {@code name} is
     * {@code schema.name} (see {@link #function(String, String)}).
     */
    public CatalogObject find(CatalogObject.Kind kind, String name) {
        CatalogEntry e = index.get(kind.name() + ":" + CatalogObject.key(name));
        return e == null ? null : e.object();
    }

    /** The entry of {@code kind} named {@code name} (any case), or null. */
    public CatalogEntry entry(CatalogObject.Kind kind, String name) {
        return index.get(kind.name() + ":" + CatalogObject.key(name));
    }

    /** The Aurora function {@code name} of database {@code schema} (any case), or null; null schema: none. */
    public AliasFunction function(String schema, String name) {
        return schema == null ? null : (AliasFunction) find(CatalogObject.Kind.FUNCTION, AliasFunction.key(schema, name));
    }

    /** The MindsDB model called {@code name}, or null. */
    public MindsModel model(String name) {
        return (MindsModel) find(CatalogObject.Kind.MODEL, name);
    }

    /** The knowledge base called {@code name}, or null. */
    public KnowledgeBase knowledgeBase(String name) {
        return (KnowledgeBase) find(CatalogObject.Kind.KNOWLEDGE_BASE, name);
    }

    /** Names the scanner flags when read or written as tables: the knowledge bases (lower case). */
    public Set<String> knowledgeBaseNames() {
        return knowledgeBaseNames;
    }

    /** The auto-embedding columns of table {@code schema.table} (any case), possibly none. */
    public List<EmbeddingRule> rules(String schema, String table) {
        List<EmbeddingRule> out = new ArrayList<>();
        String key = EmbeddingRule.tableKey(schema, table);
        for (CatalogEntry e : entries) {
            if (e.object() instanceof EmbeddingRule r && r.tableKey().equals(key)) {
                out.add(r);
            }
        }
        return out;
    }

    /** Every auto-embedding column. */
    public List<EmbeddingRule> rules() {
        List<EmbeddingRule> out = new ArrayList<>();
        for (CatalogEntry e : entries) {
            if (e.object() instanceof EmbeddingRule r) {
                out.add(r);
            }
        }
        return out;
    }

    /** Whether some auto-embedding column belongs to a table named {@code table} (any case) in any database. */
    public boolean hasRulesForTableName(String table) {
        for (CatalogEntry e : entries) {
            if (e.object() instanceof EmbeddingRule r && r.table().equalsIgnoreCase(table)) {
                return true;
            }
        }
        return false;
    }

    /** Names the scanner flags when called: the Aurora functions of every database (lower case, unqualified). */
    public Set<String> functionNames() {
        return functionNames;
    }

    /** Names the scanner flags after FROM or JOIN: the MindsDB models (lower case). */
    public Set<String> modelNames() {
        return modelNames;
    }

    /** Table names the scanner flags when written: the tables with auto-embedding columns (lower case). */
    public Set<String> embeddingTableNames() {
        return embeddingTableNames;
    }

    /**
     * Whether {@code sql} may use an object of this catalog: it holds the name of a function, a model or a table
     * with auto-embedding columns (ASCII case ignored). A cheap test that spares a statement the rewrite's tree walks.
     */
    public boolean mentionedIn(String sql) {
        if (entries.isEmpty()) {
            return false;
        }
        String lower = sql.toLowerCase(java.util.Locale.ROOT);
        for (Set<String> names : List.of(functionNames, modelNames, embeddingTableNames,
                knowledgeBaseNames)) {
            for (String name : names) {
                if (lower.contains(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether the snapshot holds no object at all (the common case: nothing to rewrite). */
    public boolean isEmpty() {
        return entries.isEmpty();
    }

    private Set<String> names(CatalogObject.Kind kind) {
        Set<String> out = new TreeSet<>();
        for (CatalogEntry e : entries) {
            if (e.object().kind() == kind) {
                out.add(e.object().name());
            }
        }
        return Collections.unmodifiableSet(out);
    }
}
