package io.arena4j.examples.http;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.arena4j.Arena;
import io.arena4j.ArenaLimitException;
import io.arena4j.ArenaPool;
import io.arena4j.ArenaPoolExhaustedException;
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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * An HTTP/1.1 server on the JDK alone, one virtual thread per connection, that answers every
 * request with a small JSON description of it. In {@link Mode#ARENA} a connection leases an
 * arena from an {@link ArenaPool} while it has requests to serve (an idle one holds none), and
 * serves each request in a checkpoint of it: the request is
 * read into arena memory, parsed into slices of it, and the response is built and written from
 * arena memory, all freed when the checkpoint closes, while the bytes already read of the next
 * request stay in the connection's buffer. Chunked bodies are read into one slice that
 * {@linkplain Arena#grow grows}. {@link Mode#HEAP} runs the same code with a {@code byte[]} per
 * buffer instead, so that the two can be compared under the same load.
 *
 * <p>Run it with {@code bash examples/http-server --port 8080 --mode heap}: the script becomes
 * the server's JVM, so Ctrl-C or one {@code kill} stops it.
 *
 * <p>Nothing a client does can hold the server's memory or threads for ever: a connection that
 * sends nothing for {@link Limits#idleTimeout()}, or does not read its answers for
 * {@link Limits#writeTimeout()}, is closed, and at most {@link Limits#maxConnections()} are served
 * at once (more wait in the kernel's backlog). The pool's own bounds cap the native memory of all
 * connections together: a request that finds no arena within {@link Limits#acquireTimeout()}
 * (the pool's {@code maxLeased} are all out), or needs a block beyond the pool's
 * {@code maxTotalBytes}, is answered {@code 503 Service Unavailable}. A failing {@code accept()}
 * (too many open files, say) is logged once and retried.
 */
public final class ArenaHttpServer implements AutoCloseable {

    /**
     * Connections the kernel completes before the server accepts them. Java's default is 50: 400
     * clients connecting at once overflowed it (TcpExtListenOverflows), and each dropped handshake
     * waited for the client's one-second SYN retransmission, which was the 99th-percentile tail
     * of the load test. The kernel caps it at net.core.somaxconn.
     */
    private static final int LISTEN_BACKLOG = 4096;

    /**
     * What an idle connection in arena mode reads the first bytes of its next request into: it
     * holds no arena while it waits (see Connection).
     */
    static final int WAITING_BUFFER = 1024;

    /** Where per-request memory comes from. */
    public enum Mode { ARENA, HEAP }

    /** Request heads larger than this are refused with 431. */
    static final int MAX_HEAD = 8 * 1024;

    /** Request bodies larger than this are refused with 413 unless {@code --max-body-kib} says otherwise. */
    static final long DEFAULT_MAX_BODY = 256 * 1024;

    /** What a refused request may still send before the server closes on it. */
    static final long MAX_DRAIN = 1 << 20;

    /** How long the acceptor waits before it tries again after {@code accept()} failed. */
    static final Duration ACCEPT_RETRY = Duration.ofMillis(100);

    private static final System.Logger LOG = System.getLogger(ArenaHttpServer.class.getName());

    /**
     * What the server allows a client.
     *
     * @param idleTimeout    how long a connection may send nothing before it is closed
     * @param writeTimeout   how long writing one answer may take (a client that does not read)
     *                       before the connection is closed
     * @param maxConnections how many connections are served at once; more wait to be accepted
     * @param acquireTimeout how long a request waits for an arena while the pool's maxLeased are
     *                       out, before it is answered 503
     * @param maxBodyBytes   the largest request body served, in either mode; larger ones get 413
     */
    public record Limits(Duration idleTimeout, Duration writeTimeout, int maxConnections, Duration acquireTimeout,
                         long maxBodyBytes) {

        /** 10 s to send or read, 1024 connections, 1 s to wait for an arena, bodies up to 256 KiB. */
        public static final Limits DEFAULT = new Limits(Duration.ofSeconds(10), Duration.ofSeconds(10), 1024,
                Duration.ofSeconds(1));

        /** Checks the values. */
        public Limits {
            if (!isPositive(idleTimeout) || !isPositive(writeTimeout) || !isPositive(acquireTimeout)) {
                throw new IllegalArgumentException("timeouts must be positive: " + idleTimeout + ", " + writeTimeout
                        + ", " + acquireTimeout);
            }
            if (maxConnections <= 0) {
                throw new IllegalArgumentException("maxConnections must be positive: " + maxConnections);
            }
            if (maxBodyBytes < 0 || maxBodyBytes > MAX_BODY_KIB << 10) {
                throw new IllegalArgumentException("maxBodyBytes must be from 0 to " + (MAX_BODY_KIB << 10) + ": "
                        + maxBodyBytes);
            }
        }

        /** The limits with bodies up to {@link ArenaHttpServer#DEFAULT_MAX_BODY} bytes. */
        public Limits(Duration idleTimeout, Duration writeTimeout, int maxConnections, Duration acquireTimeout) {
            this(idleTimeout, writeTimeout, maxConnections, acquireTimeout, DEFAULT_MAX_BODY);
        }

        private static boolean isPositive(Duration duration) {
            return !duration.isNegative() && !duration.isZero();
        }
    }

    /** Heap mode's allocator: a new array per buffer, freed by the garbage collector. */
    private static final SegmentAllocator HEAP = (size, alignment) -> MemorySegment.ofArray(new byte[(int) size]);

    private final ServerSocketChannel server;
    private final Mode mode;
    private final ArenaPool pool;
    private final Limits limits;
    private final Semaphore connectionSlots;
    /** Runs {@link #closeExpired()}: one sweep for all connections, not a timer per read or write. */
    private final ScheduledExecutorService timeouts;
    private final Map<SocketChannel, Deadline> connections = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong acceptFailures = new AtomicLong();
    private final Thread acceptor;

    private ArenaHttpServer(ServerSocketChannel server, Mode mode, ArenaPool pool, Limits limits) {
        this.server = server;
        this.mode = mode;
        this.pool = pool;
        this.limits = limits;
        this.connectionSlots = new Semaphore(limits.maxConnections());
        this.timeouts = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().factory());
        // A timeout fires at most a tenth of itself late.
        long sweep = Math.max(10, Math.min(limits.idleTimeout().toMillis(), limits.writeTimeout().toMillis()) / 10);
        timeouts.scheduleAtFixedRate(this::closeExpired, sweep, sweep, TimeUnit.MILLISECONDS);
        this.acceptor = Thread.ofPlatform().name("http-acceptor").start(this::accept);
    }

    /**
     * Binds and starts accepting connections.
     *
     * @param address     where to listen; port 0 picks a free one
     * @param mode        where per-request memory comes from
     * @param pool        the arenas of {@link Mode#ARENA}; the server closes it when it stops
     * @param limits      what the server allows a client
     * @return the running server
     * @throws IOException if the address cannot be bound
     */
    public static ArenaHttpServer start(InetSocketAddress address, Mode mode, ArenaPool pool, Limits limits)
            throws IOException {
        ArenaHttpServer server = new ArenaHttpServer(ServerSocketChannel.open().bind(address, LISTEN_BACKLOG), mode,
                pool, limits);
        // The first message loads what logging needs while files can still be opened.
        log(System.Logger.Level.INFO, "listening on " + server.server.getLocalAddress() + " in " + mode + " mode, "
                + limits);
        return server;
    }

    /** {@return the port the server listens on} */
    public int port() throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    /** {@return the number of requests answered so far} */
    public long requests() {
        return requests.get();
    }

    /** {@return the number of connections being served right now} */
    public int openConnections() {
        return connections.size();
    }

    /** {@return how many times {@code accept()} has failed and been retried} */
    public long acceptFailures() {
        return acceptFailures.get();
    }

    private void accept() {
        boolean failing = false;
        try {
            while (true) {
                connectionSlots.acquire();      // at the cap, new connections wait in the backlog
                SocketChannel connection;
                try {
                    connection = server.accept();
                } catch (ClosedChannelException stopped) {
                    return;                      // close() was called
                } catch (IOException e) {
                    // Out of file descriptors, say: the listening socket is fine, and connections
                    // that end give descriptors back. Say so once, not once per retry.
                    connectionSlots.release();
                    acceptFailures.incrementAndGet();
                    if (!failing) {
                        log(System.Logger.Level.WARNING, "accept() failed; retrying every "
                                + ACCEPT_RETRY.toMillis() + " ms until it succeeds: " + e);
                        failing = true;
                    }
                    Thread.sleep(ACCEPT_RETRY);
                    continue;
                }
                if (failing) {
                    log(System.Logger.Level.INFO, "accept() works again");
                    failing = false;
                }
                startServing(connection);
            }
        } catch (InterruptedException stopped) {
            // close() interrupted a wait for a free connection slot or a retry
        }
    }

    /**
     * Logs without letting a failure of logging end the acceptor: out of file descriptors, a
     * logger that has yet to open a file (the JDK's time-zone data, say) throws.
     */
    private static void log(System.Logger.Level level, String message) {
        try {
            LOG.log(level, message);
        } catch (RuntimeException | Error e) {
            System.err.println(message);
        }
    }

    /** When the read or write a connection is blocked in must end, or 0 while it is in none. */
    private static final class Deadline {
        volatile long nanos;
    }

    /** Closes every connection blocked in a read or write past its deadline: the call then fails. */
    private void closeExpired() {
        long now = System.nanoTime();
        connections.forEach((channel, deadline) -> {
            long nanos = deadline.nanos;
            if (nanos != 0 && now - nanos > 0) {
                closeQuietly(channel);
            }
        });
    }

    private void startServing(SocketChannel connection) {
        Deadline deadline = new Deadline();
        connections.put(connection, deadline);
        try {
            // Answers are complete when written: waiting for Nagle's ACK only adds latency.
            connection.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Thread.ofVirtual().start(() -> serve(connection, deadline));
        } catch (IOException | RuntimeException e) {
            closeQuietly(connection);
            connections.remove(connection);
            connectionSlots.release();
        }
    }

    private void serve(SocketChannel channel, Deadline deadline) {
        try (channel) {
            new Connection(channel, deadline).run();
        } catch (IOException | IllegalStateException e) {
            // the client went away, timed out, or the server stopped: the connection ends
        } finally {
            connections.remove(channel);
            connectionSlots.release();
        }
    }

    /**
     * One connection: requests in turn. In arena mode the connection leases an arena only while it
     * has a request to serve, as nginx frees the buffers of idle keep-alive connections: it waits
     * for the next request with a {@value #WAITING_BUFFER}-byte heap buffer, and when bytes arrive
     * it leases an arena, copies them into the connection's buffer there, and serves each request
     * in a checkpoint of the arena: everything the request allocated is freed when it ends, while
     * the bytes already read of the next (pipelined) request stay in the buffer. Once no byte of
     * a next request is buffered, the arena goes back to the pool. Heap mode has one buffer for
     * the connection's life.
     */
    private final class Connection {
        private final SocketChannel channel;
        private final Deadline deadline;
        private final ByteBuffer waiting;          // arena mode: where an idle connection reads
        private Arena arena;                       // arena mode: leased while a request is served
        private SegmentAllocator allocator;
        /** Bytes read from the client: [consumed, filled) are not yet parsed. */
        private MemorySegment inbound;
        private long filled;
        private long consumed;
        private long served;

        Connection(SocketChannel channel, Deadline deadline) {
            this.channel = channel;
            this.deadline = deadline;
            if (mode == Mode.ARENA) {
                this.waiting = ByteBuffer.allocate(WAITING_BUFFER);
            } else {
                this.waiting = null;
                this.allocator = HEAP;
                this.inbound = HEAP.allocate(MAX_HEAD);
            }
        }

        void run() throws IOException {
            try {
                boolean keepAlive = true;
                while (keepAlive) {
                    try {
                        if (waiting != null && arena == null && !awaitRequest()) {
                            return;                    // closed by the client while idle
                        }
                        keepAlive = arena == null ? serveOne() : serveOneInCheckpoint();
                    } catch (ArenaPoolExhaustedException noArena) {
                        respondAndClose("503 Service Unavailable");
                        return;
                    } catch (ArenaLimitException refused) {
                        // The pool's budget says the server is full; the arena's own limit, that
                        // this request is too large.
                        respondAndClose(refused.poolName() != null ? "503 Service Unavailable"
                                : "413 Content Too Large");
                        return;
                    }
                    if (arena != null && consumed == filled) {
                        releaseArena();                // idle until the client sends again
                    }
                }
            } finally {
                if (arena != null) {
                    releaseArena();
                }
            }
        }

        /**
         * Waits, holding no arena, for the first bytes of the next request, then leases an arena
         * and moves them into the connection's buffer there; false if the client closed instead.
         */
        private boolean awaitRequest() throws IOException {
            int read = read(waiting.clear());
            if (read < 0) {
                return false;
            }
            arena = pool.acquire(limits.acquireTimeout());
            allocator = arena;
            inbound = arena.allocate(MAX_HEAD);
            MemorySegment.copy(MemorySegment.ofBuffer(waiting.flip()), 0, inbound, 0, read);
            filled = read;
            consumed = 0;
            return true;
        }

        private void releaseArena() {
            arena.close();
            arena = null;
            allocator = null;
            inbound = null;
            filled = 0;
            consumed = 0;
        }

        private boolean serveOneInCheckpoint() throws IOException {
            try (var _ = arena.checkpoint()) {
                return serveOne();         // whatever it allocates is freed here; inbound stays
            }
        }

        /** Reads, parses and answers one request; returns whether the connection stays open. */
        private boolean serveOne() throws IOException {
            keepUnconsumedBytes();
            long end;
            while ((end = RequestHead.endOfHead(inbound, filled)) < 0) {
                if (filled == MAX_HEAD) {
                    respondAndClose("431 Request Header Fields Too Large");
                    return false;
                }
                if (readMore() < 0) {
                    return false;                  // closed by the client, maybe mid-request
                }
            }
            consumed = end;
            RequestHead head;
            MemorySegment body;
            try {
                head = RequestHead.parse(inbound, end);
                if (isChunked(head)) {
                    // Reading chunk lines may move bytes to the front of the buffer, over the
                    // head's: the head is parsed again from a copy of its own first.
                    head = RequestHead.parse(copyOfHead(end), end);
                    body = readChunkedBody();
                } else {
                    body = readBody(contentLength(head));
                }
            } catch (RequestHead.MalformedException e) {
                respondAndClose("400 Bad Request");
                return false;
            } catch (BodyTooLargeException e) {
                respondAndClose("413 Content Too Large");
                return false;
            }
            if (body == null) {
                return false;                      // closed by the client mid-body
            }
            respond(head, body);
            if (!head.keepAlive()) {
                lingerBeforeClose();               // pipelined requests after this one go unanswered
                return false;
            }
            return true;
        }

        /** The head's {@code end} bytes, out of the buffer, in the request's memory. */
        private MemorySegment copyOfHead(long end) {
            return allocator.allocate(end).copyFrom(inbound.asSlice(0, end));
        }

        /** Moves the bytes of the next request, read with the last one, to the front of the buffer. */
        private void keepUnconsumedBytes() {
            MemorySegment.copy(inbound, consumed, inbound, 0, filled - consumed);
            filled -= consumed;
            consumed = 0;
        }

        /** Reads what the client sent into the free end of the buffer: the count, or -1 at its end. */
        private int readMore() throws IOException {
            int read = read(inbound.asSlice(filled).asByteBuffer());
            if (read > 0) {
                filled += read;
            }
            return read;
        }

        /** A body of {@code length} bytes: what was read with the head, then straight from the socket. */
        private MemorySegment readBody(long length) throws IOException, BodyTooLargeException {
            if (length > limits.maxBodyBytes()) {
                throw new BodyTooLargeException();
            }
            MemorySegment body = allocator.allocate(length);
            return readInto(body, 0, length) ? body : null;
        }

        /** Fills {@code length} bytes of {@code target} from {@code offset}; false if the client closed first. */
        private boolean readInto(MemorySegment target, long offset, long length) throws IOException {
            long inBuffer = Math.min(length, filled - consumed);
            MemorySegment.copy(inbound, consumed, target, offset, inBuffer);
            consumed += inBuffer;
            for (long got = inBuffer; got < length; ) {
                int read = read(target.asSlice(offset + got, length - got).asByteBuffer());
                if (read < 0) {
                    return false;
                }
                got += read;
            }
            return true;
        }

        /**
         * A chunked body (RFC 9112 section 7.1), read into one slice that grows as chunks arrive:
         * in arena mode it grows in place while its block has room, and its capacity doubles, so
         * that a body of n bytes takes at most 2n bytes however many chunks it came in.
         * Extensions and trailer fields are read and ignored.
         *
         * @return the body, or null if the client closed first
         */
        private MemorySegment readChunkedBody() throws IOException, RequestHead.MalformedException,
                BodyTooLargeException {
            MemorySegment body = allocator.allocate(0);
            long length = 0;
            for (long size; (size = readChunkSize()) != 0; ) {
                if (size < 0) {
                    return null;
                }
                if (size > limits.maxBodyBytes() - length) {
                    throw new BodyTooLargeException();
                }
                if (length + size > body.byteSize()) {
                    body = grow(body, Math.min(limits.maxBodyBytes(), Math.max(length + size, 2 * body.byteSize())));
                }
                if (!readInto(body, length, size)) {
                    return null;
                }
                long crlf = readLine();
                if (crlf < 0) {
                    return null;
                }
                if (crlf != consumed) {
                    throw new RequestHead.MalformedException("chunk data longer than its size");
                }
                consumed = crlf + 2;
                length += size;
            }
            for (long line; (line = readLine()) != consumed; consumed = line + 2) {   // trailer fields
                if (line < 0) {
                    return null;
                }
            }
            consumed += 2;
            return body.asSlice(0, length);
        }

        /** In arena mode {@link Arena#grow}; in heap mode a new array and a copy, as ArrayList grows. */
        private MemorySegment grow(MemorySegment slice, long newSize) {
            if (arena != null) {
                return arena.grow(slice, newSize);
            }
            MemorySegment grown = allocator.allocate(newSize);
            MemorySegment.copy(slice, 0, grown, 0, slice.byteSize());
            return grown;
        }

        /** Reads a chunk-size line: the size, or -1 if the client closed first. */
        private long readChunkSize() throws IOException, RequestHead.MalformedException {
            long end = readLine();
            if (end < 0) {
                return -1;
            }
            long digitsEnd = RequestHead.indexOf(inbound, consumed, end, ';');   // an extension follows
            MemorySegment digits = RequestHead.trim(inbound.asSlice(consumed, digitsEnd - consumed));
            consumed = end + 2;
            return parseNumber(digits, 16, "bad chunk size");
        }

        /**
         * Makes sure a whole line, ended by CRLF, is in the buffer from {@code consumed}, reading
         * more if needed: returns where its CR is, or -1 if the client closed first.
         */
        private long readLine() throws IOException, RequestHead.MalformedException {
            long cr;
            while ((cr = RequestHead.indexOf(inbound, consumed, filled - 1, '\r')) >= filled - 1
                    || inbound.get(JAVA_BYTE, cr + 1) != '\n') {
                if (cr < filled - 1) {
                    throw new RequestHead.MalformedException("CR without LF");
                }
                if (filled == MAX_HEAD) {
                    if (consumed == 0) {
                        throw new RequestHead.MalformedException("line too long");
                    }
                    keepUnconsumedBytes();
                }
                if (readMore() < 0) {
                    return -1;
                }
            }
            return cr;
        }

        private boolean isChunked(RequestHead head) throws RequestHead.MalformedException {
            MemorySegment coding = head.header("Transfer-Encoding");
            if (coding == null) {
                return false;
            }
            if (!RequestHead.equalsAsciiIgnoreCase(RequestHead.trim(coding), "chunked")
                    || !head.headers("Content-Length").isEmpty()) {
                throw new RequestHead.MalformedException("only chunked, and never with Content-Length");
            }
            return true;
        }

        /**
         * The body's length, as RFC 9112 section 6.3 frames it: no Content-Length means none; every
         * Content-Length field, and every member of a comma-separated list in one, must be the
         * same number, or the framing is invalid and the request gets 400.
         */
        private long contentLength(RequestHead head) throws RequestHead.MalformedException {
            long length = -1;
            for (MemorySegment value : head.headers("Content-Length")) {
                long start = 0;
                do {
                    long comma = RequestHead.indexOf(value, start, value.byteSize(), ',');
                    long member = parseNumber(RequestHead.trim(value.asSlice(start, comma - start)), 10,
                            "bad Content-Length");
                    if (length >= 0 && member != length) {
                        throw new RequestHead.MalformedException("different Content-Length values");
                    }
                    length = member;
                    start = comma + 1;
                } while (start <= value.byteSize());
            }
            return Math.max(length, 0);
        }

        /**
         * Parses ASCII digits in {@code radix}, 1 to 15 of them, so that the number fits in a long
         * whatever the radix; anything else is malformed, with {@code problem} as the reason.
         */
        private static long parseNumber(MemorySegment digits, int radix, String problem)
                throws RequestHead.MalformedException {
            if (digits.byteSize() == 0 || digits.byteSize() > 15) {
                throw new RequestHead.MalformedException(problem);
            }
            long number = 0;
            for (long i = 0; i < digits.byteSize(); i++) {
                int digit = Character.digit(digits.get(JAVA_BYTE, i), radix);   // -1 for any non-ASCII byte too
                if (digit < 0) {
                    throw new RequestHead.MalformedException(problem);
                }
                number = number * radix + digit;
            }
            return number;
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
                    .ascii(",\"bodyCrc32\":").number(crc32(body))
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
            lingerBeforeClose();
        }

        /**
         * A lingering close, as nginx does: closing with request bytes still unread makes the
         * kernel reset the connection, and the client may lose answers it was sent but has not
         * read yet. Drains a bounded amount until the client closes its side.
         */
        private void lingerBeforeClose() throws IOException {
            channel.shutdownOutput();
            ByteBuffer discard = ByteBuffer.allocate(4096);
            for (long drained = 0; drained < MAX_DRAIN && read(discard.clear()) >= 0; drained += discard.position()) {
                // discard
            }
        }

        /**
         * Writes the segments in order, with as few system calls as the socket allows, closing
         * the connection if the client does not take them in time.
         */
        private void write(MemorySegment... parts) throws IOException {
            ByteBuffer[] buffers = new ByteBuffer[parts.length];
            long remaining = 0;
            for (int i = 0; i < parts.length; i++) {
                buffers[i] = parts[i].asByteBuffer();
                remaining += parts[i].byteSize();
            }
            deadline.nanos = System.nanoTime() + limits.writeTimeout().toNanos();
            try {
                while (remaining > 0) {
                    remaining -= channel.write(buffers);
                }
            } finally {
                deadline.nanos = 0;
            }
        }

        /** Reads what is there, closing the connection if the client stays silent too long. */
        private int read(ByteBuffer into) throws IOException {
            deadline.nanos = System.nanoTime() + limits.idleTimeout().toNanos();
            try {
                return channel.read(into);
            } finally {
                deadline.nanos = 0;
            }
        }
    }

    /** A body larger than {@link Limits#maxBodyBytes()}: the request gets 413. */
    private static final class BodyTooLargeException extends Exception {
        BodyTooLargeException() {
            super(null, null, false, false);
        }
    }

    /** {@return the CRC-32 of the bytes, so that a client can check the body arrived whole} */
    private static long crc32(MemorySegment bytes) {
        if (bytes.byteSize() == 0) {
            return 0;
        }
        CRC32 crc = new CRC32();
        crc.update(bytes.asByteBuffer());
        return crc.getValue();
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a socket that is going away anyway
        }
    }

    /** Stops accepting, closes every connection, and closes the pool. */
    @Override
    public void close() throws IOException {
        server.close();
        acceptor.interrupt();          // it may wait for a connection slot or a retry
        try {
            acceptor.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (SocketChannel connection : connections.keySet()) {
            connection.close();
        }
        timeouts.shutdownNow();
        pool.close();
    }

    /**
     * What one request's arena may hold at most: its head buffer and answer, and a body of
     * {@code maxBodyBytes}. A chunked body may need almost three times that: its slice doubles as
     * it grows by copying, and each copy it leaves stays alive until the request ends. At least
     * 1 MiB.
     */
    static long arenaMaxBytes(long maxBodyBytes) {
        return Math.max(1 << 20, 3 * maxBodyBytes + (256 << 10));
    }

    /** The pool's maxTotalBytes, in MiB, unless {@code --max-total-mib} says otherwise. */
    static final long DEFAULT_MAX_TOTAL_MIB = 256;

    /**
     * The settings of the server's arenas. A return to the pool keeps a block for a body of the
     * limit, so that the next large body finds one instead of a fresh mapping of the C library
     * that the kernel faults in and clears page by page. The arenas are not zeroed: the server
     * writes every byte of a slice before it reads it (bodies are filled by reads, answers by
     * {@link ResponseWriter}, and the connection's buffer is read only where it was filled), so
     * clearing what each request used would buy nothing but a pass over every body. What
     * zeroing would add is that a slice read before it is written shows zeros, not an earlier
     * request's bytes; slices still die when their request ends, zeroed or not.
     */
    static Arena.Builder arenaSettings(long maxBodyBytes) {
        long maxBytes = arenaMaxBytes(maxBodyBytes);
        return Arena.builder().maxBytes(maxBytes).retainBytes(Math.min(maxBytes, maxBodyBytes + (64 << 10)))
                .zeroed(false);
    }

    /** The largest {@code --max-body-kib}: 1 GiB. */
    static final long MAX_BODY_KIB = 1 << 20;

    /** Arenas leased at once unless {@code --max-leased} says otherwise. */
    static final int DEFAULT_MAX_LEASED = 512;

    static final String USAGE = "usage: ArenaHttpServer [--host 127.0.0.1] [--port 8080] [--mode arena|heap]"
            + " [--max-connections " + Limits.DEFAULT.maxConnections() + "] [--max-leased " + DEFAULT_MAX_LEASED
            + "] [--max-total-mib " + DEFAULT_MAX_TOTAL_MIB + "] [--max-body-kib " + (DEFAULT_MAX_BODY >> 10) + "]";

    static final String HELP = USAGE + """

              --host             the address to listen on
              --port             the port to listen on; 0 picks a free one
              --mode             arena: each request's memory comes from a leased arena and is freed
                                 when it ends; heap: a new byte[] per buffer, freed by the collector
              --max-connections  connections served at once; more wait in the kernel's backlog
              --max-leased       arena mode: arenas leased at once; a request that finds none
                                 within 1 s is answered 503
              --max-total-mib    arena mode: native memory of all arenas together; a request
                                 beyond it is answered 503
              --max-body-kib     the largest request body served; larger ones are answered 413
            """;

    /** The command line, parsed: where to listen, the mode, the limits, and the pool to build. */
    record Options(InetSocketAddress address, Mode mode, Limits limits, ArenaPool.Builder pool) {}

    /**
     * Parses {@code main}'s options ({@link #USAGE}); anything it cannot use, an unknown option,
     * a missing or malformed value, a host that does not resolve, throws IllegalArgumentException
     * with a message that names the option.
     */
    static Options parse(String[] args) {
        String host = "127.0.0.1";
        int port = 8080;
        Mode mode = Mode.ARENA;
        int maxConnections = Limits.DEFAULT.maxConnections();
        int maxLeased = DEFAULT_MAX_LEASED;
        long maxTotalMib = DEFAULT_MAX_TOTAL_MIB;
        long maxBodyKib = DEFAULT_MAX_BODY >> 10;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--host" -> host = valueOf(args, i);
                case "--port" -> port = (int) numberOf(args, i, 0, 65535);
                case "--mode" -> mode = switch (valueOf(args, i)) {
                    case "arena" -> Mode.ARENA;
                    case "heap" -> Mode.HEAP;
                    default -> throw new IllegalArgumentException("--mode is arena or heap, not " + args[i + 1]);
                };
                case "--max-connections" -> maxConnections = (int) numberOf(args, i, 1, Integer.MAX_VALUE);
                case "--max-leased" -> maxLeased = (int) numberOf(args, i, 1, Integer.MAX_VALUE);
                case "--max-total-mib" -> maxTotalMib = numberOf(args, i, 1, Long.MAX_VALUE >> 20);
                case "--max-body-kib" -> maxBodyKib = numberOf(args, i, 0, MAX_BODY_KIB);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        InetSocketAddress address = address(host, port);
        if (arenaMaxBytes(maxBodyKib << 10) > maxTotalMib << 20) {
            // Such a body would be refused by the pool's budget (503), never served.
            throw new IllegalArgumentException("--max-body-kib " + maxBodyKib + " needs arenas of up to "
                    + (arenaMaxBytes(maxBodyKib << 10) >> 20) + " MiB, more than --max-total-mib " + maxTotalMib);
        }
        Limits limits = new Limits(Limits.DEFAULT.idleTimeout(), Limits.DEFAULT.writeTimeout(), maxConnections,
                Limits.DEFAULT.acquireTimeout(), maxBodyKib << 10);
        ArenaPool.Builder pool = ArenaPool.builder().arenas(arenaSettings(limits.maxBodyBytes())).name("http")
                .maxIdle(256)
                .maxIdleBytes(32 << 20).maxLeased(maxLeased).maxTotalBytes(maxTotalMib << 20);
        return new Options(address, mode, limits, pool);
    }

    /** Where {@code --host} and {@code --port} say to listen, if the host resolves. */
    static InetSocketAddress address(String host, int port) {
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("--host " + host + " does not resolve");
        }
        return address;
    }

    /** The value that follows the option at {@code i}: an option last on the line has none. */
    static String valueOf(String[] args, int i) {
        if (i + 1 == args.length) {
            throw new IllegalArgumentException(args[i] + " needs a value");
        }
        return args[i + 1];
    }

    /** The value after the option at {@code i}, if it is a whole number from {@code min} to {@code max}. */
    static long numberOf(String[] args, int i, long min, long max) {
        String value = valueOf(args, i);
        try {
            long number = Long.parseLong(value);
            if (number >= min && number <= max) {
                return number;
            }
        } catch (NumberFormatException notANumber) {
            // refused below, with the option's name and range, which parseLong's message lacks
        }
        throw new IllegalArgumentException(args[i] + " needs a whole number from " + min + " to " + max + ", not "
                + value);
    }

    /** What {@code parse} makes of {@code args}; if it refuses them, prints why and the usage and exits with 2. */
    static <T> T parseOrExit(String[] args, java.util.function.Function<String[], T> parse, String usage) {
        try {
            return parse.apply(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(usage);
            System.exit(2);
            throw e;     // exit does not return, but the compiler cannot know that
        }
    }

    /**
     * Makes the JDK wait for socket readiness on platform threads ({@code jdk.pollerMode=1})
     * unless the command line chose a mode; called before the first virtual thread does I/O,
     * which is when the JDK reads the property.
     *
     * <p>Why: by default (mode 2) the JDK's pollers are virtual threads that a platform thread
     * wakes through the scheduler's shared submission queue, and a carrier takes from that
     * queue only once its own queue is empty. With one carrier (a server that sees one CPU, as
     * the load test pins it) and every connection busy, its own queue seldom empties: a poller,
     * and every connection waiting on it, waited up to half a second. Measured with the load
     * test's 16 KiB POSTs, 50 connections, 8 fresh servers each: p99.9 above 50 ms in 4 of 8
     * runs (64 to 505 ms) in mode 2, below 20 ms in 8 of 8 (10 to 19 ms) in mode 1. nginx on
     * the same core and load stayed below 7 ms, so the stalls were the server's, and the
     * kernel counted no retransmission during them. A second carrier
     * ({@code jdk.virtualThreadScheduler.parallelism=2}) made them rarer but did not end them.
     */
    static void usePlatformPollersUnlessTold() {
        if (System.getProperty("jdk.pollerMode") == null) {
            System.setProperty("jdk.pollerMode", "1");
        }
    }

    /**
     * Starts the server until the process is stopped (Ctrl-C, or {@code kill}, which runs the
     * same shutdown). Bad options print the usage and exit with status 2.
     */
    public static void main(String[] args) throws Exception {
        if (java.util.Arrays.asList(args).contains("--help")) {
            System.out.print(HELP);
            return;
        }
        usePlatformPollersUnlessTold();
        Options options = parseOrExit(args, ArenaHttpServer::parse, USAGE);
        ArenaPool pool = options.pool().build();
        ArenaHttpServer server = start(options.address(), options.mode(), pool, options.limits());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
                long answered = server.requests();
                System.err.println("stopped after " + answered + (answered == 1 ? " request" : " requests"));
            } catch (IOException e) {
                System.err.println("stopping: " + e);
            }
        }));
        server.acceptor.join();
    }
}
