package io.ragproxy.it.ai;

import java.sql.SQLException;
import org.junit.jupiter.api.Assumptions;

/**
 * Statements that use AI calls over columns outside the select list's top level (nested in JSON functions, in
 * INSERT … SELECT, in a MindsDB model's JOIN) run once the materialized and streamed plans (issue #4) are merged;
 * until then the proxy answers ERR 7001 "… over columns …". Tests of them abort (skipped, with the reason) on
 * exactly that error and run fully as soon as the plans exist.
 */
final class UntilMaterialized {
    private UntilMaterialized() {}

    /** A block of SQL work that may hit that error. */
    interface Work {
        void run() throws Exception;
    }

    static void run(Work work) throws Exception {
        try {
            work.run();
        } catch (SQLException e) {
            if (e.getErrorCode() == 7001 && e.getMessage() != null && e.getMessage().contains("over columns")) {
                Assumptions.abort("needs the materialized plan (issue #4): " + e.getMessage());
            }
            throw e;
        }
    }
}
