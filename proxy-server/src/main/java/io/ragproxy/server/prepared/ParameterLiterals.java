package io.ragproxy.server.prepared;

import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.wire.ColumnType;
import io.ragproxy.server.wire.ParameterValue;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Writes the client's binary parameter values as SQL literals that read the same under every {@code sql_mode}:
 * numbers as numbers, text quoted with its quotes doubled (or as a hex literal converted to utf8mb4 when it holds a
 * backslash or NUL), bytes that are not UTF-8 as a hex literal, dates and times as quoted text.
 */
public final class ParameterLiterals {
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private ParameterLiterals() {}

    /** The literals of {@code values}, in order. */
    public static List<String> of(List<ParameterValue> values) {
        List<String> out = new ArrayList<>(values.size());
        for (ParameterValue v : values) {
            out.add(of(v));
        }
        return out;
    }

    /**
     * One value's literal.
     *
     * @throws ProxyException (1210) for a number SQL cannot write (NaN, infinity) or a decimal that is not a number
     */
    public static String of(ParameterValue value) {
        if (value instanceof ParameterValue.Null) {
            return "NULL";
        }
        if (value instanceof ParameterValue.Default) {
            return "DEFAULT";
        }
        if (value instanceof ParameterValue.Integer i) {
            return i.value().toString();
        }
        if (value instanceof ParameterValue.Real r) {
            if (Double.isNaN(r.value()) || Double.isInfinite(r.value())) {
                throw PreparedErrors.wrongArguments("a parameter is " + r.value() + ", which SQL cannot store;"
                        + " bind NULL or a finite number");
            }
            return Double.toString(r.value());
        }
        if (value instanceof ParameterValue.Temporal t) {
            return "'" + t.text() + "'";
        }
        ParameterValue.Bytes b = (ParameterValue.Bytes) value;
        if (b.type() == ColumnType.DECIMAL || b.type() == ColumnType.NEWDECIMAL) {
            String text = b.text();
            if (!DECIMAL.matcher(text).matches()) {
                throw PreparedErrors.wrongArguments("the DECIMAL parameter '" + text + "' is not a number");
            }
            return text;
        }
        String text = utf8(b.value());
        if (text == null) {
            return "X'" + HexFormat.of().formatHex(b.value()) + "'";
        }
        if (text.indexOf('\\') >= 0 || text.indexOf('\0') >= 0) {
            return "CONVERT(X'" + HexFormat.of().formatHex(b.value()) + "' USING utf8mb4)";
        }
        return "'" + text.replace("'", "''") + "'";
    }

    /** The bytes as text when they are valid UTF-8, else null. */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
