package io.ragproxy.server.budget;

import io.ragproxy.server.access.Account;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.Locale;
import java.util.Objects;

/**
 * What one account may spend on model calls through ragproxy in one period: {@code SET RAG BUDGET FOR 'app'@'%' =
 * 5.00 USD PER DAY} or {@code = 2000000 TOKENS PER MONTH}. Periods are calendar days and months in UTC. Immutable.
 *
 * @param account the account the budget is set for, as SET RAG BUDGET named it
 * @param limit   the amount, in {@code unit}s; not negative
 * @param unit    US dollars (the estimated cost) or tokens (input plus output)
 * @param period  a UTC day or a UTC calendar month
 */
public record Budget(Account account, BigDecimal limit, Unit unit, Period period) {

    /** What a budget counts. */
    public enum Unit {
        USD, TOKENS;

        /** Reads {@code USD} or {@code TOKENS} (any case). */
        static Unit parse(String s) {
            return valueOf(s.toUpperCase(Locale.ROOT));
        }
    }

    /** How long a budget lasts before it starts afresh. */
    public enum Period {
        DAY, MONTH;

        /** Reads {@code DAY} or {@code MONTH} (any case). */
        static Period parse(String s) {
            return valueOf(s.toUpperCase(Locale.ROOT));
        }

        /** The first day of the period {@code today} is in. */
        public LocalDate start(LocalDate today) {
            return this == DAY ? today : today.withDayOfMonth(1);
        }
    }

    public Budget {
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(limit, "limit");
        Objects.requireNonNull(unit, "unit");
        Objects.requireNonNull(period, "period");
        if (limit.signum() < 0) {
            throw new IllegalArgumentException("a budget cannot be negative: " + limit);
        }
    }

    /** As SET RAG BUDGET writes it: {@code 5.00 USD PER DAY}. */
    public String describe() {
        return amount() + " " + unit + " PER " + period;
    }

    /** The limit as a user writes it: dollars with at least two decimals ({@code 0.50}), tokens as a whole number. */
    public String amount() {
        BigDecimal stripped = limit.stripTrailingZeros();
        return unit == Unit.TOKENS ? stripped.setScale(0, java.math.RoundingMode.CEILING).toPlainString()
                : stripped.setScale(Math.max(2, stripped.scale())).toPlainString();
    }
}
