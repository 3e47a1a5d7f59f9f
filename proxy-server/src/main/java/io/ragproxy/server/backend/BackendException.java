package io.ragproxy.server.backend;

import io.ragproxy.server.command.ProxyException;

/** The backend answered a statement the proxy sent with an ERR packet; its number, SQLSTATE and text pass on. */
public final class BackendException extends ProxyException {
    public BackendException(int code, String sqlState, String message) {
        super(code, sqlState, message, null);
    }

    /** The error an ERR packet's payload holds: {@code length} bytes at {@code p} of {@code frame}, from 0xFF. */
    static BackendException ofErrPacket(io.netty.buffer.ByteBuf frame, int p, int length) {
        int code = length >= 3 ? frame.getUnsignedShortLE(p + 1) : 0;
        String sqlState = "HY000";
        int messageStart = p + 3;
        if (length >= 9 && frame.getUnsignedByte(p + 3) == '#') {
            sqlState = frame.toString(p + 4, 5, java.nio.charset.StandardCharsets.US_ASCII);
            messageStart = p + 9;
        }
        String message = frame.toString(messageStart, Math.max(0, p + length - messageStart),
                java.nio.charset.StandardCharsets.UTF_8);
        return new BackendException(code, sqlState, message);
    }

    /** The backend error in {@code e}'s cause chain (a failed future's {@code CompletionException} included), or null. */
    public static BackendException in(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof BackendException be) {
                return be;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }
}
