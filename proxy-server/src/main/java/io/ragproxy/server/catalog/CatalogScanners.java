package io.ragproxy.server.catalog;

import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.scan.FunctionNames;
import io.ragproxy.server.scan.StatementScanner;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The scanners of one catalog state: the built-in AI functions and the user's functions as calls, MindsDB models as
 * tables read, auto-embedding tables as tables written; for a MariaDB backend also the TiDB vector spellings it needs
 * translated. Immutable; rebuilt when the catalog changes.
 *
 * @param tidb the scanner for a TiDB backend
 * @param mariadb the scanner for a MariaDB backend
 * @param residue flags what must never reach the backend: a call of a built-in AI function (a user function's name
 *     left after the rewrite is not one of the catalog's in that database, so the backend's own)
 */
public record CatalogScanners(StatementScanner tidb, StatementScanner mariadb, StatementScanner residue) {

    /** The scanners for {@code snapshot} and the built-in function names {@code builtIns}. */
    public static CatalogScanners of(CatalogSnapshot snapshot, Collection<String> builtIns) {
        List<String> calls = new ArrayList<>(builtIns);
        calls.addAll(identifiers(snapshot.functionNames()));
        // Knowledge bases are read (SELECT … FROM kb) and written (INSERT INTO kb …) like tables.
        List<String> read = new ArrayList<>(snapshot.modelNames());
        read.addAll(snapshot.knowledgeBaseNames());
        List<String> write = new ArrayList<>(snapshot.embeddingTableNames());
        write.addAll(snapshot.knowledgeBaseNames());
        FunctionNames models = FunctionNames.of(identifiers(read));
        FunctionNames written = FunctionNames.of(identifiers(write));
        List<String> withTranslations = new ArrayList<>(calls);
        withTranslations.addAll(Dialect.MARIADB.translatedFunctionNames());
        // db.fn( calls a database's Aurora function from anywhere.
        FunctionNames qualified = FunctionNames.of(identifiers(snapshot.functionNames()));
        return new CatalogScanners(new StatementScanner(FunctionNames.of(calls), models, written, qualified),
                new StatementScanner(FunctionNames.of(withTranslations), models, written, qualified),
                new StatementScanner(FunctionNames.of(builtIns)));
    }

    /** The names the scanner can look for (the DDL only makes such names; a hand-edited row may not). */
    private static List<String> identifiers(Collection<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            try {
                FunctionNames.of(n);
                out.add(n);
            } catch (IllegalArgumentException e) {
                // not findable by the scan; skipped rather than failing every statement
            }
        }
        return out;
    }

    /** The scanner for statements sent to a backend of {@code dialect}. */
    public StatementScanner forDialect(Dialect dialect) {
        return dialect == Dialect.MARIADB ? mariadb : tidb;
    }
}
