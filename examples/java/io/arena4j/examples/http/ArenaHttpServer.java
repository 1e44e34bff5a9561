package io.arena4j.examples.http;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.arena4j.Arena;
import io.arena4j.ArenaLimitException;
import io.arena4j.ArenaPool;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/1.1 server on the JDK alone, one virtual thread per connection, that answers every
 * request with a small JSON description of it. In {@link Mode#ARENA} each connection leases one
 * arena from an {@link ArenaPool}: the request is read into arena memory, parsed into slices of
 * it, and the response is built and written from arena memory, all freed by one reset per
 * request. {@link Mode#HEAP} runs the same code with a {@code byte[]} per buffer instead, so that
 * the two can be compared under the same load.
 *
 * <p>Run it with {@code mvn -q test-compile exec:exec@example -Dexample=http.ArenaHttpServer}
 * and {@code -Dexample.args="--port 8080 --mode heap"}; Ctrl-C stops it.
 */
public final class ArenaHttpServer implements AutoCloseable {

    /** Where per-request memory comes from. */
    public enum Mode { ARENA, HEAP }

    /** Request heads larger than this are refused with 431. */
    static final int MAX_HEAD = 8 * 1024;

    /** Request bodies larger than this are refused with 413, in either mode. */
    static final long MAX_BODY = 256 * 1024;

    /** What a refused request may still send before the server closes on it. */
    static final long MAX_DRAIN = 1 << 20;

    /** Heap mode's allocator: a new array per buffer, freed by the garbage collector. */
    private static final SegmentAllocator HEAP = (size, alignment) -> MemorySegment.ofArray(new byte[(int) size]);

    private final ServerSocketChannel server;
    private final Mode mode;
    private final ArenaPool pool;
    private final Duration idleTimeout;
    private final ScheduledExecutorService timeouts;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong requests = new AtomicLong();
    private final Thread acceptor;

    private ArenaHttpServer(ServerSocketChannel server, Mode mode, ArenaPool pool, Duration idleTimeout) {
        this.server = server;
        this.mode = mode;
        this.pool = pool;
        this.idleTimeout = idleTimeout;
        this.timeouts = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().factory());
        this.acceptor = Thread.ofPlatform().name("http-acceptor").start(this::accept);
    }

    /**
     * Binds and starts accepting connections.
     *
     * @param address     where to listen; port 0 picks a free one
     * @param mode        where per-request memory comes from
     * @param pool        the arenas of {@link Mode#ARENA}; the server closes it when it stops
     * @param idleTimeout how long a connection may send nothing before it is closed
     * @return the running server
     * @throws IOException if the address cannot be bound
     */
    public static ArenaHttpServer start(InetSocketAddress address, Mode mode, ArenaPool pool, Duration idleTimeout)
            throws IOException {
        return new ArenaHttpServer(ServerSocketChannel.open().bind(address), mode, pool, idleTimeout);
    }

    /** {@return the port the server listens on} */
    public int port() throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    /** {@return the number of requests answered so far} */
    public long requests() {
        return requests.get();
    }

    private void accept() {
        try {
            while (true) {
                SocketChannel connection = server.accept();
                // Answers are complete when written: waiting for Nagle's ACK only adds latency.
                connection.setOption(StandardSocketOptions.TCP_NODELAY, true);
                connections.add(connection);
                Thread.ofVirtual().start(() -> serve(connection));
            }
        } catch (ClosedChannelException stopped) {
            // close() was called
        } catch (IOException e) {
            System.err.println("accept failed, server stops: " + e);
        }
    }

    private void serve(SocketChannel channel) {
        try (channel) {
            if (mode == Mode.ARENA) {
                try (Arena arena = pool.acquire()) {
                    new Connection(channel, arena, arena).run();
                }
            } else {
                new Connection(channel, HEAP, null).run();
            }
        } catch (IOException | IllegalStateException e) {
            // the client went away, timed out, or the server stopped: the connection ends
        } finally {
            connections.remove(channel);
        }
    }

    /** One connection: requests in turn, each freed by one reset in arena mode. */
    private final class Connection {
        private final SocketChannel channel;
        private final SegmentAllocator allocator;
        private final Arena arena;                 // null in heap mode
        private byte[] pipelined = new byte[0];    // bytes of the next request, read with this one
        private long served;

        Connection(SocketChannel channel, SegmentAllocator allocator, Arena arena) {
            this.channel = channel;
            this.allocator = allocator;
            this.arena = arena;
        }

        void run() throws IOException {
            boolean keepAlive = true;
            while (keepAlive) {
                try {
                    keepAlive = serveOne();
                } catch (ArenaLimitException tooBig) {
                    respondAndClose("413 Content Too Large");
                    return;
                }
                if (arena != null) {
                    arena.reset();
                }
            }
        }

        /** Reads, parses and answers one request; returns whether the connection stays open. */
        private boolean serveOne() throws IOException {
            MemorySegment buffer = allocator.allocate(MAX_HEAD);
            MemorySegment.copy(MemorySegment.ofArray(pipelined), 0, buffer, 0, pipelined.length);
            long filled = pipelined.length;
            long end;
            while ((end = RequestHead.endOfHead(buffer, filled)) < 0) {
                if (filled == MAX_HEAD) {
                    respondAndClose("431 Request Header Fields Too Large");
                    return false;
                }
                int read = read(buffer.asSlice(filled).asByteBuffer());
                if (read < 0) {
                    return false;                  // closed by the client, maybe mid-request
                }
                filled += read;
            }
            RequestHead head;
            long bodyBytes;
            try {
                head = RequestHead.parse(buffer, end);
                bodyBytes = contentLength(head);
            } catch (RequestHead.MalformedException e) {
                respondAndClose("400 Bad Request");
                return false;
            }
            if (bodyBytes > MAX_BODY) {
                respondAndClose("413 Content Too Large");
                return false;
            }
            MemorySegment body = allocator.allocate(bodyBytes);
            long inBuffer = Math.min(bodyBytes, filled - end);
            MemorySegment.copy(buffer, end, body, 0, inBuffer);
            for (long got = inBuffer; got < bodyBytes; ) {
                int read = read(body.asSlice(got).asByteBuffer());
                if (read < 0) {
                    return false;
                }
                got += read;
            }
            pipelined = buffer.asSlice(end + inBuffer, filled - end - inBuffer).toArray(JAVA_BYTE);
            respond(head, body);
            return head.keepAlive();
        }

        private long contentLength(RequestHead head) throws RequestHead.MalformedException {
            if (head.header("Transfer-Encoding") != null) {
                throw new RequestHead.MalformedException("chunked bodies are not supported");
            }
            MemorySegment value = head.header("Content-Length");
            if (value == null) {
                return 0;
            }
            long length = 0;
            for (long i = 0; i < value.byteSize(); i++) {
                int digit = value.get(JAVA_BYTE, i) - '0';
                if (digit < 0 || digit > 9 || i >= 15) {
                    throw new RequestHead.MalformedException("bad Content-Length");
                }
                length = length * 10 + digit;
            }
            return length;
        }

        private void respond(RequestHead head, MemorySegment body) throws IOException {
            served++;
            // Room for the fixed text, and for every byte of method and target as a 6-character escape.
            MemorySegment json = allocator.allocate(256 + 6 * (head.method().byteSize() + head.target().byteSize()));
            MemorySegment out = new ResponseWriter(json)
                    .ascii("{\"method\":").jsonString(head.method())
                    .ascii(",\"target\":").jsonString(head.target())
                    .ascii(",\"headers\":").number(head.headers().size())
                    .ascii(",\"bodyBytes\":").number(body.byteSize())
                    .ascii(",\"requestOnConnection\":").number(served)
                    .ascii("}\n").written();
            MemorySegment response = new ResponseWriter(allocator.allocate(160 + out.byteSize()))
                    .ascii("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ")
                    .number(out.byteSize())
                    .ascii(head.keepAlive() ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n")
                    .written();
            write(response, out);
            requests.incrementAndGet();
        }

        private void respondAndClose(String status) throws IOException {
            write(MemorySegment.ofArray(("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            // A lingering close, as nginx does: closing with request bytes still unread makes the
            // kernel reset the connection, and the client may lose the answer. Drain a bounded amount.
            channel.shutdownOutput();
            ByteBuffer discard = ByteBuffer.allocate(4096);
            for (long drained = 0; drained < MAX_DRAIN && read(discard.clear()) >= 0; drained += discard.position()) {
                // discard
            }
        }

        /** Writes the segments in order, with as few system calls as the socket allows. */
        private void write(MemorySegment... parts) throws IOException {
            ByteBuffer[] buffers = new ByteBuffer[parts.length];
            long remaining = 0;
            for (int i = 0; i < parts.length; i++) {
                buffers[i] = parts[i].asByteBuffer();
                remaining += parts[i].byteSize();
            }
            while (remaining > 0) {
                remaining -= channel.write(buffers);
            }
        }

        /** Reads what is there, closing the connection if the client stays silent too long. */
        private int read(ByteBuffer into) throws IOException {
            ScheduledFuture<?> timeout = timeouts.schedule(this::closeQuietly, idleTimeout.toNanos(),
                    TimeUnit.NANOSECONDS);
            try {
                return channel.read(into);
            } finally {
                timeout.cancel(false);
            }
        }

        private void closeQuietly() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing a socket that is going away anyway
            }
        }
    }

    /** Stops accepting, closes every connection, and closes the pool. */
    @Override
    public void close() throws IOException {
        server.close();
        try {
            acceptor.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (SocketChannel connection : connections) {
            connection.close();
        }
        timeouts.shutdownNow();
        pool.close();
    }

    /** Starts the server; Ctrl-C stops it. */
    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 8080;
        Mode mode = Mode.ARENA;
        try {
            if (args.length % 2 != 0) {
                throw new IllegalArgumentException("every option needs a value");
            }
            for (int i = 0; i < args.length; i += 2) {
                switch (args[i]) {
                    case "--host" -> host = args[i + 1];
                    case "--port" -> port = Integer.parseInt(args[i + 1]);
                    case "--mode" -> mode = Mode.valueOf(args[i + 1].toUpperCase(java.util.Locale.ROOT));
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
        } catch (IllegalArgumentException e) {     // NumberFormatException included
            System.err.println("error: " + e.getMessage());
            System.err.println("usage: ArenaHttpServer [--host 127.0.0.1] [--port 8080] [--mode arena|heap]");
            System.exit(2);
        }
        ArenaPool pool = ArenaPool.builder().maxBytes(1 << 20).maxIdle(256).maxIdleBytes(32 << 20).build();
        ArenaHttpServer server = start(new InetSocketAddress(host, port), mode, pool, Duration.ofSeconds(10));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
                System.err.println("stopped after " + server.requests() + " requests");
            } catch (IOException e) {
                System.err.println("stopping: " + e);
            }
        }));
        System.err.println("listening on " + host + ":" + server.port() + " in " + mode + " mode");
        server.acceptor.join();
    }
}
