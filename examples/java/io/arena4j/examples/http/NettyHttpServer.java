package io.arena4j.examples.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;

/**
 * The load test's peer: a server written the way a Netty 4.2 user writes one (HTTP codec, NIO,
 * one event-loop thread, a pooled allocator), answering every request with the same JSON as
 * {@link ArenaHttpServer}. It reads the body in one of two ways:
 * <ul>
 * <li>{@link Body#STREAM}: the CRC-32 is computed chunk by chunk as the body arrives, and no
 *     buffer ever holds the whole body. Cheaper, but not the work {@link ArenaHttpServer} does.
 * <li>{@link Body#AGGREGATE}: {@link HttpObjectAggregator} first collects the body into one
 *     buffer, as {@link ArenaHttpServer} reads it into one slice, then the CRC-32 is computed.
 * </ul>
 * and takes its buffers from Netty's {@link PooledByteBufAllocator} or its
 * {@link AdaptiveByteBufAllocator} (the default of Netty 4.2). One difference in the JSON: a
 * Content-Length field repeated with the same value, which both servers accept, is merged into
 * one by Netty's decoder, so the answer counts one header fewer.
 *
 * <p>Where the two servers refuse a request, their statuses may differ: Netty's codec has its
 * own limits on the request line and headers (400 where the arena server answers 431), and its
 * aggregator answers 413 but keeps a kept-alive connection open, where the arena server closes.
 *
 * <p>Run it with {@code bash examples/http-server --netty --body aggregate --allocator pooled}. On
 * JDK 25 Netty needs {@code --sun-misc-unsafe-memory-access=allow} to use {@code sun.misc.Unsafe}
 * as it was built to (without it, the server says at start that Unsafe is not in use); the
 * scripts pass it, as a Netty user on JDK 25 would.
 */
public final class NettyHttpServer implements AutoCloseable {

    /** How the body is read. */
    public enum Body { STREAM, AGGREGATE }

    /** Where the buffers come from. */
    public enum Allocator { POOLED, ADAPTIVE }

    private final EventLoopGroup group;
    private final Channel listener;

    private NettyHttpServer(EventLoopGroup group, Channel listener) {
        this.group = group;
        this.listener = listener;
    }

    /**
     * Binds and starts serving on one event-loop thread.
     *
     * @param address      where to listen; port 0 picks a free one
     * @param body         how the body is read
     * @param allocator    where the buffers come from
     * @param maxBodyBytes the largest body served; larger ones get 413
     * @return the running server
     * @throws InterruptedException if interrupted while binding
     */
    public static NettyHttpServer start(InetSocketAddress address, Body body, Allocator allocator, long maxBodyBytes)
            throws InterruptedException {
        ByteBufAllocator buffers = allocator == Allocator.POOLED
                ? PooledByteBufAllocator.DEFAULT : new AdaptiveByteBufAllocator();
        int maxContent = (int) Math.min(Integer.MAX_VALUE, maxBodyBytes);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.ALLOCATOR, buffers)
                    .childOption(ChannelOption.ALLOCATOR, buffers)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            ChannelPipeline pipeline = channel.pipeline();
                            // RFC 9112 section 6.3 allows a Content-Length repeated with the same value,
                            // and the arena server serves it: Netty refuses it unless told.
                            pipeline.addLast(new HttpServerCodec(
                                    new HttpDecoderConfig().setAllowDuplicateContentLengths(true)));
                            if (body == Body.AGGREGATE) {
                                AggregatedBody handler = new AggregatedBody();
                                pipeline.addLast(handler.headerCounter());
                                pipeline.addLast(new HttpObjectAggregator(maxContent));
                                pipeline.addLast(handler);
                            } else {
                                pipeline.addLast(new StreamedBody(maxBodyBytes));
                            }
                            pipeline.addLast(new CloseOnFailure());
                        }
                    })
                    .bind(address).sync().channel();
            return new NettyHttpServer(group, listener);
        } catch (Throwable e) {     // bind() rethrows a BindException it does not declare
            group.shutdownGracefully();
            throw e;
        }
    }

    /** {@return the port the server listens on} */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Stops listening, closes every connection and ends the event-loop thread. */
    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The aggregated body: the whole request in one buffer, then its CRC-32. */
    private static final class AggregatedBody extends SimpleChannelInboundHandler<FullHttpRequest> {
        /**
         * The header fields the last request came with: the aggregator adds Content-Length to a
         * request without one, and the answer counts what the client sent. One field is enough:
         * the aggregator hands on each request, or answers it itself (413, 417), before the next
         * request's head reaches the counter.
         */
        private int headerCount;
        private long served;

        /** The handler, before the aggregator, that counts each request's header fields. */
        ChannelInboundHandlerAdapter headerCounter() {
            return new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext context, Object message) {
                    if (message instanceof HttpRequest head) {
                        headerCount = head.headers().size();
                    }
                    context.fireChannelRead(message);
                }
            };
        }

        @Override
        protected void channelRead0(ChannelHandlerContext context, FullHttpRequest request) {
            int headers = headerCount;
            if (request.decoderResult().isFailure()) {
                refuse(context, HttpResponseStatus.BAD_REQUEST);
                return;
            }
            CRC32 crc = new CRC32();
            update(crc, request.content());
            respond(context, request, headers, request.content().readableBytes(), crc.getValue(), ++served);
        }
    }

    /**
     * Closes a connection whose read or write failed (a client that reset it, say), as the arena
     * server does, instead of Netty's warning with a stack trace for each.
     */
    private static final class CloseOnFailure extends ChannelInboundHandlerAdapter {
        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            context.close();
        }
    }

    /** The streamed body: its CRC-32 is updated with each piece as it arrives. */
    private static final class StreamedBody extends SimpleChannelInboundHandler<HttpObject> {
        private final long maxBodyBytes;
        private final CRC32 crc = new CRC32();
        private HttpRequest request;
        private long bodyBytes;
        private long served;

        StreamedBody(long maxBodyBytes) {
            this.maxBodyBytes = maxBodyBytes;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext context, HttpObject message) {
            if (message.decoderResult().isFailure()) {
                refuse(context, HttpResponseStatus.BAD_REQUEST);
                return;
            }
            if (message instanceof HttpRequest head) {
                if (HttpUtil.getContentLength(head, 0L) > maxBodyBytes) {
                    refuse(context, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
                    return;
                }
                request = head;
                bodyBytes = 0;
                crc.reset();
            }
            if (message instanceof HttpContent piece && request != null) {
                bodyBytes += piece.content().readableBytes();
                if (bodyBytes > maxBodyBytes) {
                    request = null;
                    refuse(context, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
                    return;
                }
                update(crc, piece.content());
                if (piece instanceof LastHttpContent) {
                    respond(context, request, request.headers().size(), bodyBytes, crc.getValue(), ++served);
                    request = null;
                }
            }
        }
    }

    /** Adds the readable bytes of {@code buffer} to {@code crc}, without copying them. */
    private static void update(CRC32 crc, ByteBuf buffer) {
        for (ByteBuffer part : buffer.nioBuffers()) {
            crc.update(part);
        }
    }

    /** Answers with the JSON {@link ArenaHttpServer} answers with, and closes if the client asked for it. */
    private static void respond(ChannelHandlerContext context, HttpRequest request, int headers, long bodyBytes,
            long crc32, long served) {
        ByteBuf json = context.alloc().buffer();
        ascii(json, "{\"method\":");
        jsonString(json, request.method().name());
        ascii(json, ",\"target\":");
        jsonString(json, request.uri());
        ascii(json, ",\"headers\":" + headers + ",\"bodyBytes\":" + bodyBytes + ",\"bodyCrc32\":"
                + crc32 + ",\"requestOnConnection\":" + served + "}\n");
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, json);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, json.readableBytes());
        if (HttpUtil.isKeepAlive(request)) {
            context.writeAndFlush(response, context.voidPromise());
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            context.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static void refuse(ChannelHandlerContext context, HttpResponseStatus status) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        context.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    private static void ascii(ByteBuf out, String text) {
        for (int i = 0; i < text.length(); i++) {
            out.writeByte(text.charAt(i));
        }
    }

    /** The JSON string {@link ResponseWriter#jsonString} writes: the codec keeps each byte as a char. */
    private static void jsonString(ByteBuf out, String text) {
        out.writeByte('"');
        for (int i = 0; i < text.length(); i++) {
            int b = text.charAt(i) & 0xff;
            if (b == '"' || b == '\\') {
                out.writeByte('\\').writeByte(b);
            } else if (b < 0x20 || b >= 0x7f) {
                ascii(out, String.format("\\u%04x", b));
            } else {
                out.writeByte(b);
            }
        }
        out.writeByte('"');
    }

    static final String USAGE = "usage: NettyHttpServer [--host 127.0.0.1] [--port 8080]"
            + " [--body stream|aggregate] [--allocator pooled|adaptive] [--max-body-kib "
            + (ArenaHttpServer.DEFAULT_MAX_BODY >> 10) + "]";

    /** What {@code --help} prints: the usage, and what each option does, as ArenaHttpServer's help says it. */
    static final String HELP = USAGE + """

              --host          the address to listen on
              --port          the port to listen on; 0 picks a free one
              --body          aggregate: HttpObjectAggregator collects the body into one buffer, then
                              its CRC-32 is computed, the work ArenaHttpServer does; stream: the
                              CRC-32 is updated chunk by chunk and no buffer holds the whole body
              --allocator     pooled: PooledByteBufAllocator.DEFAULT; adaptive: a new
                              AdaptiveByteBufAllocator, the default of Netty 4.2
              --max-body-kib  the largest request body served; larger ones are answered 413
            Netty uses sun.misc.Unsafe on JDK 25 only with --sun-misc-unsafe-memory-access=allow,
            which bash examples/http-server --netty passes; the server says at start whether it does.
            """;

    /** The command line, parsed. */
    record Options(InetSocketAddress address, Body body, Allocator allocator, long maxBodyBytes) {}

    /** Parses {@code main}'s options ({@link #USAGE}), refusing anything else by name. */
    static Options parse(String[] args) {
        String host = "127.0.0.1";
        int port = 8080;
        Body body = Body.AGGREGATE;
        Allocator allocator = Allocator.POOLED;
        long maxBodyKib = ArenaHttpServer.DEFAULT_MAX_BODY >> 10;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--host" -> host = ArenaHttpServer.valueOf(args, i);
                case "--port" -> port = (int) ArenaHttpServer.numberOf(args, i, 0, 65535);
                case "--body" -> body = switch (ArenaHttpServer.valueOf(args, i)) {
                    case "stream" -> Body.STREAM;
                    case "aggregate" -> Body.AGGREGATE;
                    default -> throw new IllegalArgumentException("--body is stream or aggregate, not " + args[i + 1]);
                };
                case "--allocator" -> allocator = switch (ArenaHttpServer.valueOf(args, i)) {
                    case "pooled" -> Allocator.POOLED;
                    case "adaptive" -> Allocator.ADAPTIVE;
                    default -> throw new IllegalArgumentException("--allocator is pooled or adaptive, not "
                            + args[i + 1]);
                };
                case "--max-body-kib" -> maxBodyKib = ArenaHttpServer.numberOf(args, i, 0,
                        Integer.MAX_VALUE >> 10);   // Netty's aggregator holds at most 2 GiB
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        return new Options(ArenaHttpServer.address(host, port), body, allocator, maxBodyKib << 10);
    }

    /** Serves until the process is stopped. Bad options print the usage and exit with status 2. */
    public static void main(String[] args) throws Exception {
        if (java.util.Arrays.asList(args).contains("--help")) {
            System.out.print(HELP);
            return;
        }
        Options options = ArenaHttpServer.parseOrExit(args, NettyHttpServer::parse, USAGE);
        NettyHttpServer server = start(options.address(), options.body(), options.allocator(),
                options.maxBodyBytes());
        System.err.println("listening on " + options.address() + ", body " + options.body() + ", allocator "
                + options.allocator() + ", Unsafe " + (io.netty.util.internal.PlatformDependent.hasUnsafe()
                ? "in use" : "not in use"));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        server.listener.closeFuture().sync();
    }
}
