package io.ragproxy.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.ragproxy.server.command.ResponseTracker;
import io.ragproxy.server.wire.FrameDecoder;
import io.ragproxy.server.wire.Packets;

/**
 * The backend leg's fast path, before its frame decoder: while the connection relays blindly (a relayed response
 * that the proxy neither reads nor amends, see {@link ProxyConnection#relaysBlindly()}), what one read brings goes
 * to the client as one write of the very same buffer, and the response boundaries are followed by walking the frame
 * headers in place. Nothing is allocated per frame: a frame that straddles two reads has its first bytes copied
 * into one small buffer per connection, the tracker reads them there once the frame's last byte has passed.
 * Otherwise reads go on to the frame decoder and the per-frame path; a frame already begun here is finished here
 * first, so the decoder always starts at a frame boundary.
 *
 * <p>The client is flushed once per read batch ({@code channelReadComplete}). Event loop only.
 */
final class ResponseForwarder extends ChannelInboundHandlerAdapter {
    private static final int HEAD_BYTES = Packets.HEADER_SIZE + ResponseTracker.INSPECTED_PAYLOAD_BYTES;

    private final ProxyConnection connection;
    private final FrameDecoder decoder;
    /** The first bytes of the frame in progress (header and what the tracker reads), when it straddles reads. */
    private ByteBuf head;
    /** Bytes of the frame in progress to gather into {@link #head}; 0 at a frame boundary. */
    private int headTarget;
    /** Whether {@link #head} holds the header of the frame in progress (its length is known). */
    private boolean lengthKnown;
    /** Bytes of the frame in progress after its head still to come. */
    private long rest;
    /** Whether the walk just ended a response (its follow-ups run after the write). */
    private boolean completed;
    /** Whether the frame decoder got a read in this batch (then it gets the read-complete event too). */
    private boolean decoderRead;

    /** @param decoder the frame decoder right after this handler */
    ResponseForwarder(ProxyConnection connection, FrameDecoder decoder) {
        this.connection = connection;
        this.decoder = decoder;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        boolean blind = connection.relaysBlindly() && !decoder.isBuffering();
        if (!blind && headTarget == 0) {
            decoderRead = true;
            ctx.fireChannelRead(in);
            return;
        }
        CommandRelay commands = connection.commands();
        int start = in.readerIndex();
        int end = in.writerIndex();
        int stop = walk(commands, in, start, end, !blind);
        connection.writeClient(stop == end ? in : in.retainedSlice(start, stop - start));
        if (completed) {
            completed = false;
            commands.forwardedResponseEnded();
        }
        if (stop < end) {
            in.readerIndex(stop);
            decoderRead = true;
            ctx.fireChannelRead(in);
        }
    }

    /**
     * Walks the frames of {@code in} from {@code i}, telling the tracker of each as it ends; with {@code toBoundary}
     * it stops after the frame in progress. Returns where it stopped.
     */
    private int walk(CommandRelay commands, ByteBuf in, int i, int end, boolean toBoundary) {
        while (i < end) {
            if (headTarget == 0) {
                if (toBoundary) {
                    return i;
                }
                int available = end - i;
                if (available >= Packets.HEADER_SIZE) {
                    int length = Packets.HEADER_SIZE + in.getUnsignedMediumLE(i);
                    if (available >= length) {
                        completed |= commands.trackForwarded(in, i);
                        i += length;
                        continue;
                    }
                }
                if (head == null) {
                    head = Unpooled.buffer(HEAD_BYTES, HEAD_BYTES);
                }
                head.clear();
                headTarget = Packets.HEADER_SIZE;
                lengthKnown = false;
                rest = 0;
            }
            if (head.writerIndex() < headTarget) {
                int n = Math.min(headTarget - head.writerIndex(), end - i);
                head.writeBytes(in, i, n);
                i += n;
                if (!lengthKnown && head.writerIndex() == Packets.HEADER_SIZE) {
                    lengthKnown = true;
                    int payload = head.getUnsignedMediumLE(0);
                    int inspected = Math.min(payload, ResponseTracker.INSPECTED_PAYLOAD_BYTES);
                    headTarget = Packets.HEADER_SIZE + inspected;
                    rest = payload - inspected;
                }
            } else {
                int n = (int) Math.min(rest, end - i);
                i += n;
                rest -= n;
            }
            if (lengthKnown && head.writerIndex() == headTarget && rest == 0) {
                headTarget = 0;
                completed |= commands.trackForwarded(head, 0);
            }
        }
        return i;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (decoderRead) {
            decoderRead = false;
            ctx.fireChannelReadComplete(); // the decoder's own bookkeeping; the last handler flushes the client
        } else {
            connection.flushClient();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (head != null) {
            head.release();
            head = null;
        }
    }
}
