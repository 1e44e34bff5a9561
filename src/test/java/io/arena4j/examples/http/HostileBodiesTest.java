package io.arena4j.examples.http;

import static io.arena4j.examples.http.HttpExchanges.crc32;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.arena4j.ArenaPool;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile clients against what the example servers promise about request bodies: the body limit
 * exactly and one byte beyond it, both framings, chunk sizes beyond a long, many tiny chunks,
 * extensions and trailers, bodies and heads in many pieces, pipelining, clients that go away
 * mid-body; answers exact to the byte (method, target, fields, body length and CRC-32, request
 * number) in both memory modes and from every variant of the Netty peer; no request's bytes in
 * another's answer although the arenas are not zeroed; and the command lines refusing bad values
 * by name.
 */
class HostileBodiesTest {

    private static final Duration PATIENT = Duration.ofSeconds(30);
    private static final int DEFAULT_LIMIT = (int) ArenaHttpServer.DEFAULT_MAX_BODY;
    private static final String[] METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"};
    private static final String TARGET_CHARS = "abcxyzABCXYZ0189-._~!$&'()*+,;=:@";
    private static final String[] EXTENSIONS = {"", "", ";a", ";a=b", ";name=\"v;a\\\"l\"", ";x=1;y=two",
        ";long=" + "e".repeat(500)};
    private static final byte[] NONE = new byte[0];

    private final List<AutoCloseable> running = new ArrayList<>();
    private ArenaPool pool;

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable server : running.reversed()) {
            server.close();
        }
    }

    // ---------------------------------------------------------------- servers

    /** An arena server that allows bodies of {@code limit} bytes, with arenas set as its main sets them. */
    private ArenaHttpServer arena(ArenaHttpServer.Mode mode, long limit) throws IOException {
        return arena(mode, limit, Integer.MAX_VALUE);
    }

    /** The same, with at most {@code maxLeased} arenas out: with 1, every request is served from one arena. */
    private ArenaHttpServer arena(ArenaHttpServer.Mode mode, long limit, int maxLeased) throws IOException {
        ArenaPool.Builder settings = ArenaPool.builder().arenas(ArenaHttpServer.arenaSettings(limit))
                .registerMXBean(false);
        if (maxLeased != Integer.MAX_VALUE) {
            settings.maxLeased(maxLeased);
        }
        pool = settings.build();
        ArenaHttpServer server = ArenaHttpServer.start(new InetSocketAddress("127.0.0.1", 0), mode, pool,
                new ArenaHttpServer.Limits(PATIENT, PATIENT, 64, Duration.ofSeconds(5), limit));
        running.add(server);
        return server;
    }

    /** An arena server started as main starts it, from a command line. */
    private ArenaHttpServer fromCommandLine(String... args) throws IOException {
        ArenaHttpServer.Options options = ArenaHttpServer.parse(args);
        pool = options.pool().registerMXBean(false).build();
        ArenaHttpServer server = ArenaHttpServer.start(options.address(), options.mode(), pool, options.limits());
        running.add(server);
        return server;
    }

    private NettyHttpServer netty(NettyHttpServer.Body body, NettyHttpServer.Allocator allocator, long limit)
            throws InterruptedException {
        NettyHttpServer server = NettyHttpServer.start(new InetSocketAddress("127.0.0.1", 0), body, allocator,
                limit);
        running.add(server);
        return server;
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    /** Waits, up to a deadline, for something the server does on its own. */
    private static void await(BooleanSupplier condition, String what) {
        HttpExchanges.await(condition, what, Duration.ofSeconds(5));
    }

    // ---------------------------------------------------------------- the wire

    private static byte[] ascii(String text) {
        return text.getBytes(ISO_8859_1);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] randomBytes(SplittableRandom random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    /** One answer off the wire: status, head, and the body its Content-Length frames (or up to the close). */
    record Answer(int status, String head, String body) {

        /** The next answer, or null if the server closed before sending a byte of one. */
        static Answer read(InputStream in) throws IOException {
            StringBuilder head = new StringBuilder();
            while (head.length() < 4 || head.lastIndexOf("\r\n\r\n") != head.length() - 4) {
                int next = in.read();
                if (next < 0) {
                    assertEquals("", head.toString(), "the server closed mid-answer");
                    return null;
                }
                head.append((char) next);
                assertTrue(head.length() < 16_384, "no end of the answer's head: " + head);
            }
            String text = head.toString();
            assertTrue(text.startsWith("HTTP/1.1 "), text);
            int status = Integer.parseInt(text.substring(9, 12));
            String lowered = text.toLowerCase(Locale.ROOT);
            int at = lowered.indexOf("\r\ncontent-length:");
            byte[] body;
            if (at < 0) {
                body = in.readAllBytes();
            } else {
                int from = at + "\r\ncontent-length:".length();
                int length = Integer.parseInt(lowered.substring(from, lowered.indexOf("\r\n", from)).strip());
                body = in.readNBytes(length);
                assertEquals(length, body.length, "the server closed mid-body: " + text);
            }
            return new Answer(status, text, new String(body, ISO_8859_1));
        }
    }

    /** A kept-alive connection on a raw socket, its segments sent at once (no Nagle). */
    private static final class Client implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Client(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        Client send(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
            return this;
        }

        Client send(String text) throws IOException {
            return send(ascii(text));
        }

        /**
         * Sends {@code bytes} in up to {@code pieces} writes, half the cuts in the first {@code near}
         * bytes, with a short pause after each so that each leaves in a segment of its own.
         */
        Client sendInPieces(byte[] bytes, SplittableRandom random, int pieces, int near) throws IOException {
            int[] cuts = IntStream.range(1, pieces)
                    .map(i -> random.nextBoolean() ? random.nextInt(1, Math.max(2, Math.min(bytes.length, near)))
                            : random.nextInt(1, Math.max(2, bytes.length)))
                    .filter(cut -> cut < bytes.length).sorted().distinct().toArray();
            int from = 0;
            for (int cut : cuts) {
                out.write(bytes, from, cut - from);
                out.flush();
                pause();
                from = cut;
            }
            out.write(bytes, from, bytes.length - from);
            out.flush();
            return this;
        }

        /** Sends the pieces, a pause after each. */
        Client sendPieces(byte[]... pieces) throws IOException {
            for (byte[] piece : pieces) {
                send(piece);
                pause();
            }
            return this;
        }

        Answer answer() throws IOException {
            Answer answer = Answer.read(in);
            assertNotNull(answer, "the server closed without answering");
            return answer;
        }

        /** Every answer until the server closes. */
        List<Answer> rest() throws IOException {
            List<Answer> answers = new ArrayList<>();
            for (Answer answer; (answer = Answer.read(in)) != null; ) {
                answers.add(answer);
            }
            return answers;
        }

        void shutdownOutput() throws IOException {
            socket.shutdownOutput();
        }

        /** Closes with a reset instead of a FIN. */
        void reset() throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }

        private static void pause() {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    // ---------------------------------------------------------------- requests and the answers they must get

    enum Framing { NONE, LENGTH, CHUNKED }

    /** A request on the wire and what the servers must say about it. */
    record Request(String method, String target, int headers, byte[] body, byte[] wire, int headLength) {
        String json(int onConnection) {
            return HostileBodiesTest.json(method, target, headers, body, onConnection);
        }
    }

    static String json(String method, String target, int headers, byte[] body, int onConnection) {
        return "{\"method\":\"" + method + "\",\"target\":\"" + target + "\",\"headers\":" + headers
                + ",\"bodyBytes\":" + body.length + ",\"bodyCrc32\":" + crc32(body)
                + ",\"requestOnConnection\":" + onConnection + "}\n";
    }

    /**
     * A request with the given fields and body, the framing field among them at a random place;
     * chunks of 1 to {@code maxChunk} bytes. Decorated: the framing field's name in any case,
     * Content-Length with leading zeros and spaces or tabs around it, chunk sizes in either case
     * with leading zeros and extensions, and trailer fields.
     */
    static Request request(String method, String target, List<String> fields, Framing framing, byte[] body,
            SplittableRandom random, int maxChunk, boolean decorate) {
        List<String> all = new ArrayList<>(fields);
        byte[] framed = NONE;
        switch (framing) {
            case NONE -> assertEquals(0, body.length, "a body needs a framing");
            case LENGTH -> {
                String name = decorate && random.nextBoolean() ? "content-length" : "Content-Length";
                String value = Integer.toString(body.length);
                String field = decorate ? name + ":" + ows(random) + "0".repeat(random.nextInt(3)) + value + ows(random)
                        : name + ": " + value;
                all.add(random.nextInt(all.size() + 1), field);
                framed = body;
            }
            case CHUNKED -> {
                String name = decorate && random.nextBoolean() ? "TRANSFER-ENCODING" : "Transfer-Encoding";
                all.add(random.nextInt(all.size() + 1), name + ": chunked");
                framed = chunked(body, random, maxChunk, decorate);
            }
        }
        StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        for (String field : all) {
            head.append(field).append("\r\n");
        }
        byte[] headBytes = ascii(head.append("\r\n").toString());
        return new Request(method, target, all.size(), body, concat(headBytes, framed), headBytes.length);
    }

    private static String ows(SplittableRandom random) {
        return switch (random.nextInt(4)) {
            case 0 -> "";
            case 1 -> " ";
            case 2 -> "\t";
            default -> " \t ";
        };
    }

    static byte[] chunked(byte[] content, SplittableRandom random, int maxChunk, boolean decorate) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + content.length / 2 + 64);
        for (int at = 0; at < content.length; ) {
            int size = Math.min(content.length - at, random.nextInt(1, maxChunk + 1));
            out.writeBytes(ascii(chunkSize(size, random, decorate) + "\r\n"));
            out.write(content, at, size);
            out.writeBytes(ascii("\r\n"));
            at += size;
        }
        out.writeBytes(ascii(chunkSize(0, random, decorate) + "\r\n"));
        for (int i = decorate ? random.nextInt(4) : 0; i > 0; i--) {
            out.writeBytes(ascii("X-Trailer-" + i + ": t" + random.nextInt(100) + "\r\n"));
        }
        out.writeBytes(ascii("\r\n"));
        return out.toByteArray();
    }

    private static String chunkSize(int size, SplittableRandom random, boolean decorate) {
        String hex = Integer.toHexString(size);
        if (!decorate) {
            return hex;
        }
        if (random.nextBoolean()) {
            hex = hex.toUpperCase(Locale.ROOT);
        }
        return "0".repeat(random.nextInt(3)) + hex + EXTENSIONS[random.nextInt(EXTENSIONS.length)];
    }

    private static String randomTarget(SplittableRandom random) {
        StringBuilder target = new StringBuilder("/");
        for (int i = random.nextInt(40); i > 0; i--) {
            target.append(TARGET_CHARS.charAt(random.nextInt(TARGET_CHARS.length())));
        }
        if (random.nextBoolean()) {
            target.append("?q=").append(random.nextInt(1000)).append("&r=%2F");
        }
        return target.toString();
    }

    /** A size at an edge (the waiting buffer, the head limit, a power of two, the body limit) or anywhere. */
    private static int randomSize(SplittableRandom random, int limit) {
        int[] edges = {0, 1, 2, 1023, 1024, 1025, 8191, 8192, 8193, 65535, 65536, 65537, limit - 1, limit};
        int size = random.nextInt(4) == 0 ? random.nextInt(limit + 1) : edges[random.nextInt(edges.length)];
        return Math.max(0, Math.min(limit, size));
    }

    static Request randomRequest(SplittableRandom random, int limit, boolean decorate) {
        int size = randomSize(random, limit);
        Framing framing = size == 0 && random.nextInt(3) == 0 ? Framing.NONE
                : random.nextBoolean() ? Framing.LENGTH : Framing.CHUNKED;
        List<String> fields = new ArrayList<>();
        for (int i = random.nextInt(12); i > 0; i--) {
            fields.add("X-F" + i + ": v" + random.nextInt(1000));
        }
        int maxChunk = switch (random.nextInt(3)) {
            case 0 -> 16;
            case 1 -> 5000;
            default -> Math.max(1, size);
        };
        return request(METHODS[random.nextInt(METHODS.length)], randomTarget(random), fields, framing,
                randomBytes(random, size), random, maxChunk, decorate);
    }

    private static Request post(String target, Framing framing, byte[] body, SplittableRandom random, int maxChunk) {
        return request("POST", target, List.of(), framing, body, random, maxChunk, false);
    }

    static Stream<ArenaHttpServer.Mode> modes() {
        return Stream.of(ArenaHttpServer.Mode.values());
    }

    /** {@return each mode with each framing and its index, which names the case} */
    private static Stream<Arguments> inEachMode(List<String> framings) {
        return modes().flatMap(mode -> IntStream.range(0, framings.size())
                .mapToObj(i -> Arguments.of(mode, i, framings.get(i))));
    }

    static Stream<Arguments> modesAndSeeds() {
        return modes().flatMap(mode -> LongStream.rangeClosed(1, 8).mapToObj(seed -> Arguments.of(mode, seed)));
    }

    // ---------------------------------------------------------------- the body limit

    /** How a body of some length goes on the wire. */
    enum Shape {
        LENGTH(Framing.LENGTH, Integer.MAX_VALUE), ONE_CHUNK(Framing.CHUNKED, Integer.MAX_VALUE),
        TINY_CHUNKS(Framing.CHUNKED, 3);

        final Framing framing;
        final int maxChunk;

        Shape(Framing framing, int maxChunk) {
            this.framing = framing;
            this.maxChunk = maxChunk;
        }

        Request request(String target, SplittableRandom random, int length) {
            return post(target, framing, randomBytes(random, length), random, Math.max(1, Math.min(maxChunk, length)));
        }
    }

    static Stream<Arguments> limitCases() {
        return modes().flatMap(mode -> IntStream.of(0, 1, 7).boxed()
                .flatMap(kib -> Arrays.stream(Shape.values()).map(shape -> Arguments.of(mode, kib, shape))));
    }

    /**
     * The limit set by {@code --max-body-kib}: a body of exactly it is served (twice on one
     * connection, and the connection goes on); one byte more gets 413, and nothing after it on
     * that connection is answered as anything but itself.
     */
    @ParameterizedTest(name = "{0} --max-body-kib {1}, {2}")
    @MethodSource("limitCases")
    void aBodyOfExactlyTheLimitIsServedAndOneByteMoreGets413(ArenaHttpServer.Mode mode, int kib, Shape shape)
            throws IOException {
        ArenaHttpServer server = fromCommandLine("--port", "0", "--mode", lower(mode), "--max-body-kib", "" + kib);
        int limit = kib << 10;
        SplittableRandom random = new SplittableRandom(kib * 31L + shape.ordinal());
        try (Client client = new Client(server.port())) {
            for (int round = 1; round <= 2; round++) {
                Request atLimit = shape.request("/at-limit", random, limit);
                assertEquals(atLimit.json(round), client.send(atLimit.wire()).answer().body());
            }
            assertEquals(json("GET", "/after", 0, NONE, 3), client.send("GET /after HTTP/1.1\r\n\r\n").answer().body());
        }
        try (Client client = new Client(server.port())) {
            Answer refused = client.send(shape.request("/over", random, limit + 1).wire()).answer();
            assertEquals(413, refused.status(), refused.head() + refused.body());
            client.send("GET /next HTTP/1.1\r\n\r\n").shutdownOutput();
            for (Answer later : client.rest()) {
                assertTrue(later.body().contains("\"target\":\"/next\""), later.head() + later.body());
            }
        }
    }

    /**
     * A body far over the limit (limit 1000, 900 KB sent, within what a refused request may still
     * send): the client finishes writing and still reads its 413, not a reset.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("modesAndFramings")
    void aRefusedLargeBodyStillGetsItsAnswerWhole(ArenaHttpServer.Mode mode, Framing framing) throws Exception {
        ArenaHttpServer server = arena(mode, 1000);
        SplittableRandom random = new SplittableRandom(71);
        Request over = post("/over", framing, randomBytes(random, 900_000), random, 64 << 10);
        assertTrue(over.wire().length < ArenaHttpServer.MAX_DRAIN);
        for (int attempt = 0; attempt < 5; attempt++) {
            try (Client client = new Client(server.port())) {
                Thread writer = Thread.ofVirtual().start(() -> {
                    try {
                        client.send(over.wire());
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                writer.join();
                Answer refused = client.answer();
                assertEquals(413, refused.status(), refused.head());
            }
        }
    }

    static Stream<Arguments> modesAndFramings() {
        return modes().flatMap(mode -> Stream.of(Framing.LENGTH, Framing.CHUNKED).map(f -> Arguments.of(mode, f)));
    }

    /** 256 KiB in one-byte chunks, the most framing per byte there is, served whole; one chunk more gets 413. */
    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void oneByteChunksUpToTheDefaultLimitAreServedAndOneMoreGets413(ArenaHttpServer.Mode mode) throws IOException {
        ArenaHttpServer server = fromCommandLine("--port", "0", "--mode", lower(mode));
        SplittableRandom random = new SplittableRandom(99);
        try (Client client = new Client(server.port())) {
            Request atLimit = post("/tiny", Framing.CHUNKED, randomBytes(random, DEFAULT_LIMIT), random, 1);
            assertEquals(atLimit.json(1), client.send(atLimit.wire()).answer().body());
        }
        try (Client client = new Client(server.port())) {
            Request over = post("/tiny", Framing.CHUNKED, randomBytes(random, DEFAULT_LIMIT + 1), random, 1);
            Answer refused = client.send(over.wire()).answer();
            assertEquals(413, refused.status(), refused.head());
        }
    }

    /**
     * A chunked body of the limit, however its chunks make its slice grow, fits the arena that
     * {@code --max-body-kib} sizes for it ("almost three times its size").
     */
    @ParameterizedTest(name = "{0}, first chunk {1}, then {2}")
    @MethodSource("growthCases")
    void aChunkedBodyOfTheLimitFitsItsArenaWhateverItsChunks(ArenaHttpServer.Mode mode, int first, int then)
            throws IOException {
        ArenaHttpServer server = fromCommandLine("--port", "0", "--mode", lower(mode), "--max-body-kib", "1024");
        int limit = 1 << 20;
        SplittableRandom random = new SplittableRandom(first * 7919L + then);
        byte[] body = randomBytes(random, limit);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.writeBytes(ascii("POST /grow HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
        for (int at = 0, size = first; at < limit; at += size, size = then) {
            size = Math.min(size, limit - at);
            wire.writeBytes(ascii(Integer.toHexString(size) + "\r\n"));
            wire.write(body, at, size);
            wire.writeBytes(ascii("\r\n"));
        }
        wire.writeBytes(ascii("0\r\n\r\n"));
        try (Client client = new Client(server.port())) {
            Answer answer = client.send(wire.toByteArray()).answer();
            assertEquals(json("POST", "/grow", 1, body, 1), answer.body(), answer.head());
        }
    }

    static Stream<Arguments> growthCases() {
        return modes().flatMap(mode -> Stream.of(new int[] {1, 4096}, new int[] {3, 3000}, new int[] {5, 65536},
                new int[] {(1 << 19) + 1, 1}, new int[] {(1 << 19) - 1, 4097}, new int[] {(1 << 20) - 1, 1},
                new int[] {65537, 65535}).map(sizes -> Arguments.of(mode, sizes[0], sizes[1])));
    }

    static Stream<Arguments> budgetCases() {
        return Stream.of(Arguments.of(256, 1), Arguments.of(64, 1), Arguments.of(1024, 4), Arguments.of(0, 1));
    }

    /**
     * The smallest pool budget the command line accepts for a body limit: one body of the limit
     * at a time, in any chunks, must still be served, connection after connection and on one.
     */
    @ParameterizedTest(name = "--max-body-kib {0} --max-total-mib {1}")
    @MethodSource("budgetCases")
    void aBodyOfTheLimitIsServedUnderTheSmallestBudgetTheParserAccepts(int kib, int totalMib) throws IOException {
        ArenaHttpServer server = fromCommandLine("--port", "0", "--max-body-kib", "" + kib, "--max-total-mib",
                "" + totalMib);
        int limit = kib << 10;
        SplittableRandom random = new SplittableRandom(kib);
        int[][] patterns = {{limit, limit}, {1, 4096}, {limit / 2 + 1, 7}, {3, 3000}, {Math.max(1, limit - 1), 1}};
        for (int connection = 0; connection < 3; connection++) {
            await(() -> pool.statistics().leased() == 0, "the last connection's arena to come back");
            try (Client client = new Client(server.port())) {
                for (int round = 0; round < patterns.length; round++) {
                    byte[] body = randomBytes(random, limit);
                    ByteArrayOutputStream wire = new ByteArrayOutputStream();
                    wire.writeBytes(ascii("POST /budget HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
                    for (int at = 0, size = patterns[round][0]; at < limit; at += size, size = patterns[round][1]) {
                        size = Math.max(1, Math.min(size, limit - at));
                        wire.writeBytes(ascii(Integer.toHexString(size) + "\r\n"));
                        wire.write(body, at, size);
                        wire.writeBytes(ascii("\r\n"));
                    }
                    wire.writeBytes(ascii("0\r\n\r\n"));
                    Answer answer = client.send(wire.toByteArray()).answer();
                    assertEquals(json("POST", "/budget", 1, body, round + 1), answer.body(),
                            "pattern " + Arrays.toString(patterns[round]) + ": " + answer.head());
                }
            }
            await(() -> pool.statistics().leased() == 0, "the last connection's arena to come back");
            try (Client client = new Client(server.port())) {
                Request sized = post("/budget", Framing.LENGTH, randomBytes(random, limit), random, 1);
                Answer answer = client.send(sized.wire()).answer();
                assertEquals(sized.json(1), answer.body(), answer.head() + ", leased " + pool.statistics());
            }
        }
    }

    /** Connections at once, each with its own arena: every answer is its own request's, to the byte. */
    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void concurrentConnectionsGetTheirOwnAnswers(ArenaHttpServer.Mode mode) throws Exception {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        List<Thread> clients = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int c = 0; c < 8; c++) {
            long seed = 1000 + c;
            clients.add(Thread.ofPlatform().start(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                try (Client client = new Client(server.port())) {
                    for (int i = 1; i <= 6; i++) {
                        Request request = randomRequest(random, 70_000, true);
                        client.sendInPieces(request.wire(), random, random.nextInt(1, 8), request.headLength());
                        assertEquals(request.json(i), client.answer().body(), "client " + seed + ", request " + i);
                    }
                } catch (Throwable failure) {
                    failures.add(failure);
                }
            }));
        }
        for (Thread client : clients) {
            client.join();
        }
        assertEquals(List.of(), failures);
    }

    static Stream<Arguments> refusedFramings() {
        String chunked = "Transfer-Encoding: chunked\r\n\r\n";
        String rest = "\r\nx\r\n0\r\n\r\n";
        List<String> framings = List.of(
                chunked + "fffffffffffffff" + rest,              // 2^60 - 1: fits a long, far over the limit
                chunked + "ffffffffffffffff" + rest,             // -1 as a long
                chunked + "8000000000000001" + rest,             // negative as a long
                chunked + "10000000000000001" + rest,            // 2^64 + 1: 1 if it wraps
                chunked + "f".repeat(40) + rest,
                chunked + "40001" + rest,                        // the limit + 1 in one chunk
                chunked + "3ffff\r\n" + "x".repeat(DEFAULT_LIMIT - 1) + "\r\n2\r\nxx\r\n0\r\n\r\n",
                chunked + "40000\r\n" + "x".repeat(DEFAULT_LIMIT) + "\r\nfffffffffffffff" + rest,
                "Content-Length: 262145\r\n\r\nx",
                "Content-Length: 9223372036854775807\r\n\r\nx",
                "Content-Length: 9223372036854775808\r\n\r\nx",
                "Content-Length: 18446744073709551617\r\n\r\nx",  // 2^64 + 1: 1 if it wraps
                "Content-Length: " + "9".repeat(40) + "\r\n\r\nx");
        return inEachMode(framings);
    }

    /** Sizes beyond the limit or beyond a long: 413 or 400, never served, and the server goes on. */
    @ParameterizedTest(name = "{0} #{1}")
    @MethodSource("refusedFramings")
    void sizesBeyondTheLimitOrALongAreRefusedNeverServed(ArenaHttpServer.Mode mode, int index, String framing)
            throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        try (Client client = new Client(server.port())) {
            Answer answer = client.send("POST /huge HTTP/1.1\r\n" + framing).answer();
            assertTrue(answer.status() == 413 || answer.status() == 400,
                    framing.substring(0, Math.min(80, framing.length())) + " -> " + answer.head() + answer.body());
        }
        assertServesANewConnection(server);
    }

    /** A body that holds requests, within or over the limit, is a body: nothing in it is ever answered. */
    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void requestsInsideABodyAreNeverAnswered(ArenaHttpServer.Mode mode) throws IOException {
        ArenaHttpServer server = arena(mode, 1000);
        String smuggled = "GET /smuggled HTTP/1.1\r\n\r\n";
        byte[] inside = ascii("0\r\n\r\n" + smuggled + smuggled);
        SplittableRandom random = new SplittableRandom(5);
        try (Client client = new Client(server.port())) {
            Request sized = post("/a", Framing.LENGTH, inside, random, 1);
            Request chunked = post("/b", Framing.CHUNKED, inside, random, inside.length);
            client.send(concat(sized.wire(), chunked.wire())).shutdownOutput();
            List<Answer> answers = client.rest();
            assertEquals(List.of(sized.json(1), chunked.json(2)), answers.stream().map(Answer::body).toList());
        }
        byte[] over = ascii("x".repeat(1001 - smuggled.length()) + smuggled);
        for (Framing framing : List.of(Framing.LENGTH, Framing.CHUNKED)) {
            for (byte[] body : List.of(over, concat(ascii(smuggled), over))) {
                try (Client client = new Client(server.port())) {
                    client.send(post("/over", framing, body, random, body.length).wire()).shutdownOutput();
                    List<Answer> answers = client.rest();
                    assertFalse(answers.isEmpty(), "no 413");
                    assertEquals(413, answers.getFirst().status(), answers.getFirst().head());
                    for (Answer answer : answers) {
                        assertFalse(answer.body().contains("smuggled"), framing + ": " + answer.body());
                    }
                }
            }
        }
    }

    /** The server goes on after what a test threw at it: a new connection's GET is served. */
    private static void assertServesANewConnection(ArenaHttpServer server) throws IOException {
        try (Client client = new Client(server.port())) {
            assertEquals(json("GET", "/ok", 0, NONE, 1), client.send("GET /ok HTTP/1.1\r\n\r\n").answer().body());
        }
    }

    static Stream<Arguments> badFramings() {
        List<String> framings = List.of(
                "Content-Length : 5\r\n\r\nhello",               // whitespace before the colon (RFC 9112 5.1)
                "Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "Content-Length: +5\r\n\r\nhello",
                "Content-Length: 0x5\r\n\r\nhello",
                "Content-Length: 5 5\r\n\r\nhello",
                "Content-Length: 5.0\r\n\r\nhello",
                "Content-Length: \u0665\r\n\r\nhello",          // an Arabic-Indic five
                "Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
                "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
                "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
                "Transfer-Encoding: chunked\r\n\r\n\u0665\r\nhello\r\n0\r\n\r\n");
        return inEachMode(framings);
    }

    /**
     * Framing that is not plain: whitespace before the colon, signs, hex and non-ASCII digits in
     * a length. The server must not frame the body by it (400), nor serve "hello" as a request.
     */
    @ParameterizedTest(name = "{0} #{1}")
    @MethodSource("badFramings")
    void framingThatIsNotPlainDigitsGets400(ArenaHttpServer.Mode mode, int index, String framing)
            throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        try (Client client = new Client(server.port())) {
            client.send(("POST /framed HTTP/1.1\r\n" + framing).getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    .shutdownOutput();
            List<Answer> answers = client.rest();
            assertFalse(answers.isEmpty(), framing);
            assertEquals(400, answers.getFirst().status(), framing + " -> " + answers.getFirst().body());
            assertEquals(1, answers.size(), framing + " -> " + answers);
        }
    }

    /** Transfer-coding names are case-insensitive (RFC 9112 section 7): "Chunked" frames a chunked body. */
    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void transferCodingNamesAreCaseInsensitive(ArenaHttpServer.Mode mode) throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        int served = 0;
        try (Client client = new Client(server.port())) {
            for (String coding : List.of("chunked", "Chunked", "CHUNKED", " chunked ")) {
                Answer answer = client.send("POST /te HTTP/1.1\r\nTransfer-Encoding:" + coding
                        + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n").answer();
                assertEquals(json("POST", "/te", 1, ascii("hello"), ++served), answer.body(),
                        "Transfer-Encoding:" + coding + " -> " + answer.head());
            }
        }
    }

    /** A head near its 8 KiB limit, then a body of exactly the body limit, both framings, in one write. */
    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void aHeadNearItsLimitWithABodyOfTheLimitIsServed(ArenaHttpServer.Mode mode) throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        SplittableRandom random = new SplittableRandom(61);
        List<String> fields = List.of("X-Pad: " + "p".repeat(ArenaHttpServer.MAX_HEAD - 300));
        try (Client client = new Client(server.port())) {
            int served = 0;
            for (Framing framing : List.of(Framing.LENGTH, Framing.CHUNKED, Framing.LENGTH)) {
                byte[] body = randomBytes(random, DEFAULT_LIMIT);
                Request request = request("PUT", "/near", fields, framing, body, random, 100_000, false);
                assertTrue(request.headLength() < ArenaHttpServer.MAX_HEAD);
                assertEquals(request.json(++served), client.send(request.wire()).answer().body(), framing.name());
            }
        }
    }

    /** Cuts at and around the idle connection's waiting buffer, in the head and in the body. */
    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void cutsAroundTheWaitingBufferLoseNoByte(ArenaHttpServer.Mode mode) throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        SplittableRandom random = new SplittableRandom(67);
        int waiting = ArenaHttpServer.WAITING_BUFFER;
        int served = 0;
        try (Client client = new Client(server.port())) {
            for (int headExtra : new int[] {0, waiting - 40, waiting, 2 * waiting + 1}) {
                for (Framing framing : List.of(Framing.LENGTH, Framing.CHUNKED)) {
                    for (int cut : new int[] {waiting - 1, waiting, waiting + 1}) {
                        List<String> fields = headExtra == 0 ? List.of() : List.of("X-Pad: " + "p".repeat(headExtra));
                        Request request = request("POST", "/w", fields, framing, randomBytes(random, 3 * waiting),
                                random, 700, false);
                        byte[] wire = request.wire();
                        client.sendPieces(Arrays.copyOf(wire, cut), Arrays.copyOfRange(wire, cut, 2 * cut),
                                Arrays.copyOfRange(wire, 2 * cut, wire.length));
                        assertEquals(request.json(++served), client.answer().body(),
                                framing + ", head " + request.headLength() + ", cut at " + cut);
                    }
                }
            }
        }
    }

    /**
     * A chunk line or a trailer that never ends (a megabyte, no CRLF): the server refuses or
     * closes instead of reading it into memory for ever; and it goes on serving.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("endlessLines")
    void anEndlessChunkLineOrTrailerIsCutOff(ArenaHttpServer.Mode mode, String start) throws Exception {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        try (Client client = new Client(server.port())) {
            byte[] endless = concat(ascii("POST /endless HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + start),
                    ascii("e".repeat(1 << 20)));
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    client.send(endless);
                } catch (IOException refused) {
                    // the server closed on it
                }
            });
            List<Answer> answers = client.rest();     // a socket timeout here: the server is still reading
            for (Answer answer : answers) {
                assertTrue(answer.status() >= 400 && answer.status() < 500, answer.head());
            }
            writer.join();
        }
        assertServesANewConnection(server);
    }

    static Stream<Arguments> endlessLines() {
        return modes().flatMap(mode -> Stream.of("5;ext=", "1\r\nx\r\n0\r\nX-Trailer: ", "0\r\nX-T: t\r\nX-")
                .map(start -> Arguments.of(mode, start)));
    }

    /**
     * The same request (chunk lines with extensions of up to 6000 bytes, a trailer section of
     * 6000) after a first request that shifts where its lines fall in the connection's buffer,
     * in one write or in pieces, in either mode: the same answer every time.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void theAnswerIsTheSameWhereverTheLongLinesFallAndHoweverTheBytesAreSplit(long seed) throws IOException {
        ArenaHttpServer arenaServer = arena(ArenaHttpServer.Mode.ARENA, DEFAULT_LIMIT);
        ArenaHttpServer heapServer = arena(ArenaHttpServer.Mode.HEAP, DEFAULT_LIMIT);
        SplittableRandom random = new SplittableRandom(seed);
        ByteArrayOutputStream chunks = new ByteArrayOutputStream();
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        for (int i = 0; i < 6; i++) {
            byte[] data = randomBytes(random, random.nextInt(1, 3000));
            content.writeBytes(data);
            chunks.writeBytes(ascii(Integer.toHexString(data.length) + ";e=" + "x".repeat(random.nextInt(6000))
                    + "\r\n"));
            chunks.writeBytes(data);
            chunks.writeBytes(ascii("\r\n"));
        }
        chunks.writeBytes(ascii("0\r\nX-Trailer: " + "t".repeat(6000) + "\r\n\r\n"));
        byte[] request = concat(ascii("POST /long-lines HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
                chunks.toByteArray());
        String expected = "200 " + json("POST", "/long-lines", 1, content.toByteArray(), 2);
        List<String> answers = new ArrayList<>();
        for (int shift : random.ints(6, 0, ArenaHttpServer.MAX_HEAD - 100).toArray()) {
            byte[] first = ascii("GET /shift HTTP/1.1\r\nX-Pad: " + "s".repeat(shift) + "\r\n\r\n");
            for (ArenaHttpServer server : List.of(arenaServer, heapServer)) {
                for (boolean inPieces : new boolean[] {false, true}) {
                    try (Client client = new Client(server.port())) {
                        if (inPieces) {
                            client.sendInPieces(concat(first, request), random, 20, first.length + 9000);
                        } else {
                            client.send(concat(first, request));
                        }
                        assertEquals(200, client.answer().status());
                        Answer answer = client.answer();
                        answers.add("shift " + shift + (inPieces ? " in pieces" : "") + ": " + answer.status() + " "
                                + answer.body());
                    }
                }
            }
        }
        for (String answer : answers) {
            assertEquals(expected, answer.substring(answer.indexOf(": ") + 2), answer);
        }
    }

    // ---------------------------------------------------------------- exact answers

    /** Random requests of every size to the limit, both framings, decorated, one at a time on one connection. */
    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("modesAndSeeds")
    void answersAreExactForBodiesOfEverySizeBothFramings(ArenaHttpServer.Mode mode, long seed) throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        SplittableRandom random = new SplittableRandom(seed);
        try (Client client = new Client(server.port())) {
            for (int i = 1; i <= 12; i++) {
                Request request = randomRequest(random, DEFAULT_LIMIT, random.nextBoolean());
                assertEquals(request.json(i), client.send(request.wire()).answer().body(), "request " + i);
            }
        }
    }

    /** Chunk extensions (quoted, long) and trailer fields are read and ignored; the connection goes on. */
    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("modesAndSeeds")
    void chunkExtensionsAndTrailersAreIgnoredAndTheConnectionGoesOn(ArenaHttpServer.Mode mode, long seed)
            throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        SplittableRandom random = new SplittableRandom(seed);
        try (Client client = new Client(server.port())) {
            for (int i = 1; i <= 8; i++) {
                byte[] body = randomBytes(random, random.nextInt(20_000));
                Request request = request("POST", "/ext/" + i, List.of("Host: x"), Framing.CHUNKED, body, random,
                        random.nextInt(1, 3000), true);
                assertEquals(request.json(2 * i - 1), client.send(request.wire()).answer().body(), "request " + i);
                assertEquals(json("GET", "/then", 0, NONE, 2 * i),
                        client.send("GET /then HTTP/1.1\r\n\r\n").answer().body());
            }
        }
    }

    /** Each request cut into up to 60 writes with pauses, half the cuts in or near its head. */
    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("modesAndSeeds")
    void bodiesSplitAcrossManyWritesWithPausesArriveWhole(ArenaHttpServer.Mode mode, long seed) throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        SplittableRandom random = new SplittableRandom(seed);
        try (Client client = new Client(server.port())) {
            for (int i = 1; i <= 5; i++) {
                Request request = randomRequest(random, DEFAULT_LIMIT, true);
                client.sendInPieces(request.wire(), random, random.nextInt(2, 60), request.headLength() + 64);
                assertEquals(request.json(i), client.answer().body(), "request " + i);
            }
        }
    }

    /**
     * A head in pieces (its first byte alone, the end of the head with the start of the body), a
     * large body, the next request's head starting in the body's last write; framed both ways.
     */
    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void aHeadInPiecesAroundALargeBodyAndTheNextRequestAreServed(ArenaHttpServer.Mode mode) throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        SplittableRandom random = new SplittableRandom(17);
        byte[] body = randomBytes(random, 200_000);
        String longField = "X-Long: " + "h".repeat(3 * ArenaHttpServer.WAITING_BUFFER);
        try (Client client = new Client(server.port())) {
            for (Framing framing : List.of(Framing.LENGTH, Framing.CHUNKED)) {
                Request big = request("POST", "/big", List.of(longField), framing, body, random, 70_000, false);
                byte[] wire = big.wire();
                int head = big.headLength();
                client.sendPieces(Arrays.copyOfRange(wire, 0, 1), Arrays.copyOfRange(wire, 1, 20),
                        Arrays.copyOfRange(wire, 20, head - 1), Arrays.copyOfRange(wire, head - 1, head + 3),
                        Arrays.copyOfRange(wire, head + 3, head + 100), Arrays.copyOfRange(wire, head + 100, 150_000),
                        concat(Arrays.copyOfRange(wire, 150_000, wire.length), ascii("GET /next HT")),
                        ascii("TP/1.1\r\nHost: y\r\n\r\n"));
                int first = framing == Framing.LENGTH ? 1 : 3;
                assertEquals(big.json(first), client.answer().body(), framing.toString());
                assertEquals(json("GET", "/next", 1, NONE, first + 1), client.answer().body(), framing.toString());
            }
        }
    }

    /** Pipelined requests with bodies, in one write: answered in order, exactly, and nothing more. */
    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("modesAndSeeds")
    void pipelinedRequestsWithBodiesAreAnsweredInOrderExactly(ArenaHttpServer.Mode mode, long seed)
            throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT);
        SplittableRandom random = new SplittableRandom(seed);
        List<Request> requests = new ArrayList<>();
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (int i = 0; i < 12; i++) {
            Request request = randomRequest(random, 70_000, true);
            requests.add(request);
            wire.writeBytes(request.wire());
        }
        try (Client client = new Client(server.port())) {
            client.send(wire.toByteArray()).shutdownOutput();
            List<String> expected = IntStream.range(0, requests.size())
                    .mapToObj(i -> requests.get(i).json(i + 1)).toList();
            assertEquals(expected, client.rest().stream().map(Answer::body).toList());
        }
    }

    // ---------------------------------------------------------------- clients that go away

    enum Abort {
        FIN_AFTER_HEAD, FIN_MID_LENGTH_BODY, RESET_MID_LENGTH_BODY, FIN_MID_CHUNK_SIZE, FIN_MID_CHUNK_DATA,
        RESET_MID_CHUNK_DATA, FIN_MID_TRAILERS, HALF_CLOSE_MID_LENGTH_BODY, HALF_CLOSE_MID_CHUNK_DATA;

        String prefix() {
            String sized = "POST /gone HTTP/1.1\r\nContent-Length: 100000\r\n\r\n";
            String chunked = "POST /gone HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
            return switch (this) {
                case FIN_AFTER_HEAD -> sized;
                case FIN_MID_LENGTH_BODY, RESET_MID_LENGTH_BODY, HALF_CLOSE_MID_LENGTH_BODY ->
                        sized + "g".repeat(60_000);
                case FIN_MID_CHUNK_SIZE -> chunked + "10\r\n" + "g".repeat(16) + "\r\n1";
                case FIN_MID_CHUNK_DATA, RESET_MID_CHUNK_DATA, HALF_CLOSE_MID_CHUNK_DATA ->
                        chunked + "186a0\r\n" + "g".repeat(60_000);
                case FIN_MID_TRAILERS -> chunked + "3\r\nggg\r\n0\r\nX-Trailer: y";
            };
        }
    }

    static Stream<Arguments> aborts() {
        return modes().flatMap(mode -> Arrays.stream(Abort.values()).map(abort -> Arguments.of(mode, abort)));
    }

    /**
     * A client that goes away mid-request is never answered as if its request were whole; with
     * one arena for the whole server, the next client is served exactly, its body's CRC its own;
     * then no connection and no arena is left behind.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("aborts")
    void aClientThatGoesAwayMidBodyLeavesNothingBehind(ArenaHttpServer.Mode mode, Abort abort) throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT, 1);
        try (Client gone = new Client(server.port())) {
            gone.send(abort.prefix());
            switch (abort) {
                case RESET_MID_LENGTH_BODY, RESET_MID_CHUNK_DATA -> gone.reset();
                case HALF_CLOSE_MID_LENGTH_BODY, HALF_CLOSE_MID_CHUNK_DATA -> {
                    gone.shutdownOutput();
                    for (Answer answer : gone.rest()) {
                        assertEquals(400, answer.status(), "a cut request: " + answer.head() + answer.body());
                    }
                }
                default -> { }
            }
        }
        SplittableRandom random = new SplittableRandom(abort.ordinal());
        try (Client next = new Client(server.port())) {
            for (Framing framing : List.of(Framing.LENGTH, Framing.CHUNKED)) {
                Request request = post("/next", framing, randomBytes(random, 30_000), random, 1000);
                next.sendInPieces(request.wire(), random, 10, request.headLength() + 64);
                assertEquals(request.json(framing == Framing.LENGTH ? 1 : 2), next.answer().body(), framing.name());
            }
        }
        await(() -> server.openConnections() == 0, "every connection to end");
        await(() -> pool.statistics().leased() == 0, "the arena to come back");
    }

    // ---------------------------------------------------------------- unzeroed arenas

    /**
     * One arena serves every request (maxLeased 1) and is not zeroed: short bodies after long ones,
     * on one connection and the next, framed both ways, each carry the CRC of their own bytes.
     */
    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void aShortBodyAfterALongOneCarriesTheCrcOfItsOwnBytes(ArenaHttpServer.Mode mode) throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT, 1);
        SplittableRandom random = new SplittableRandom(41);
        int[] sizes = {DEFAULT_LIMIT, 10, DEFAULT_LIMIT - 7, 1, 100_000, 0, 65_536, 3, DEFAULT_LIMIT, 2};
        for (int connection = 0; connection < 2; connection++) {
            try (Client client = new Client(server.port())) {
                int served = 0;
                for (int size : sizes) {
                    for (Framing framing : List.of(Framing.LENGTH, Framing.CHUNKED)) {
                        byte[] body = size < 100 ? new byte[size] : randomBytes(random, size);   // zeros after noise
                        Request request = post("/leak", framing, body, random, random.nextBoolean() ? 7 : 100_000);
                        served++;
                        assertEquals(request.json(served), client.send(request.wire()).answer().body(),
                                size + " bytes, " + framing);
                    }
                    served++;
                    assertEquals(json("GET", "/g", 0, NONE, served), client.send("GET /g HTTP/1.1\r\n\r\n").answer()
                            .body());
                }
            }
        }
    }

    /** A short head after a long one (long target, 200 fields), alone and pipelined: only its own fields count. */
    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void aShortHeadAfterALongOneCountsOnlyItsOwnFields(ArenaHttpServer.Mode mode) throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT, 1);
        SplittableRandom random = new SplittableRandom(43);
        List<String> fields = IntStream.range(0, 200).mapToObj(i -> "X-" + i + ": " + i).toList();
        String target = "/" + "t".repeat(3000);
        Request longHead = request("POST", target, fields, Framing.LENGTH, randomBytes(random, 5000), random, 1,
                false);
        Request shortHead = request("POST", "/s", List.of(), Framing.LENGTH, new byte[] {'s'}, random, 1, false);
        byte[] bare = ascii("GET / HTTP/1.1\r\n\r\n");
        String bareJson = json("GET", "/", 0, NONE, 3);
        try (Client client = new Client(server.port())) {
            assertEquals(longHead.json(1), client.send(longHead.wire()).answer().body());
            assertEquals(shortHead.json(2), client.send(shortHead.wire()).answer().body());
            assertEquals(bareJson, client.send(bare).answer().body());
        }
        try (Client client = new Client(server.port())) {
            client.send(concat(longHead.wire(), shortHead.wire(), bare)).shutdownOutput();
            assertEquals(List.of(longHead.json(1), shortHead.json(2), bareJson),
                    client.rest().stream().map(Answer::body).toList());
        }
    }

    /**
     * A long body cut short by its client, then on another connection served by the same arena a
     * body of the same declared length whose bytes trickle in: its CRC is that of its own bytes.
     */
    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void aBodyAfterAnAbortedLongerOneHasTheCrcOfItsOwnBytes(ArenaHttpServer.Mode mode) throws IOException {
        ArenaHttpServer server = arena(mode, DEFAULT_LIMIT, 1);
        SplittableRandom random = new SplittableRandom(47);
        for (Framing framing : List.of(Framing.LENGTH, Framing.CHUNKED)) {
            Request aborted = post("/cut", framing, randomBytes(random, 200_000), random, 200_000);
            try (Client client = new Client(server.port())) {
                client.send(Arrays.copyOf(aborted.wire(), 150_000));
            }
            byte[] other = new byte[200_000];
            Arrays.fill(other, 100_000, 200_000, (byte) 1);
            Request request = post("/whole", framing, other, random, 200_000);
            try (Client client = new Client(server.port())) {
                client.sendInPieces(request.wire(), random, 30, request.headLength() + 64);
                assertEquals(request.json(1), client.answer().body(), framing.name());
            }
        }
    }

    // ---------------------------------------------------------------- Netty, the same JSON

    static Stream<Arguments> nettyVariants() {
        return Arrays.stream(NettyHttpServer.Body.values()).flatMap(body -> Arrays
                .stream(NettyHttpServer.Allocator.values()).map(allocator -> Arguments.of(body, allocator)));
    }

    static Stream<Arguments> nettyVariantsAndSeeds() {
        return nettyVariants().flatMap(variant -> LongStream.rangeClosed(1, 3)
                .mapToObj(seed -> Arguments.of(variant.get()[0], variant.get()[1], seed)));
    }

    /** The same random requests to the arena server and to each Netty variant: the same exact JSON. */
    @ParameterizedTest(name = "{0} {1} seed {2}")
    @MethodSource("nettyVariantsAndSeeds")
    void nettyAnswersTheSameJsonAsTheArenaServer(NettyHttpServer.Body body, NettyHttpServer.Allocator allocator,
            long seed) throws Exception {
        ArenaHttpServer reference = arena(ArenaHttpServer.Mode.ARENA, DEFAULT_LIMIT);
        NettyHttpServer peer = netty(body, allocator, DEFAULT_LIMIT);
        SplittableRandom random = new SplittableRandom(seed);
        try (Client toReference = new Client(reference.port()); Client toPeer = new Client(peer.port())) {
            for (int i = 1; i <= 10; i++) {
                Request request = randomRequest(random, DEFAULT_LIMIT, random.nextBoolean());
                Answer expected = toReference.send(request.wire()).answer();
                Answer answer = toPeer.send(request.wire()).answer();
                assertEquals(request.json(i), expected.body(), "arena, request " + i);
                assertEquals(200, answer.status(), "netty, request " + i + ": " + answer.head());
                assertEquals(expected.body(), answer.body(), "netty, request " + i);
            }
        }
    }

    /** Odd but valid requests: the same status and the same JSON from each Netty variant as from the arena server. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("nettyVariants")
    void nettyAnswersOddRequestsAsTheArenaServerDoes(NettyHttpServer.Body body, NettyHttpServer.Allocator allocator)
            throws Exception {
        ArenaHttpServer reference = arena(ArenaHttpServer.Mode.ARENA, DEFAULT_LIMIT);
        NettyHttpServer peer = netty(body, allocator, DEFAULT_LIMIT);
        String chunkedHello = "\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        List<String> requests = List.of(
                "post /lower HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi",
                "POST /dup HTTP/1.1\r\nX-A: 1\r\nX-A: 2\r\nx-a: 3\r\nContent-Length: 2\r\n\r\nhi",
                "POST /empty HTTP/1.1\r\nX-Empty:\r\nX-Blank: \t \r\nContent-Length: 0\r\n\r\n",
                "POST /zeros HTTP/1.1\r\nContent-Length: 0002\r\n\r\nhi",
                "POST /ows HTTP/1.1\r\nContent-Length:\t2 \t\r\n\r\nhi",
                "POST /te-case HTTP/1.1\r\nTransfer-Encoding: Chunked" + chunkedHello,
                "POST /trailers HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b;c\"\r\nhello\r\n0;z\r\n"
                        + "X-T1: 1\r\nX-T2: 2\r\n\r\n",
                "POST /framing-trailers HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
                        + "Content-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n",
                "POST /many-trailers HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
                        + "X-T: 0123456789\r\n".repeat(300) + "\r\n",
                "POST /upper-hex HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
                "POST /zero-chunk-size HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n000\r\n\r\n",
                "GET /q?a=%22b%22&c=d;e HTTP/1.1\r\nHost: x\r\n\r\n",
                "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /a\\b HTTP/1.1\r\n\r\n",
                "GET /\u00e9t\u00e9 HTTP/1.1\r\n\r\n");
        try (Client toReference = new Client(reference.port()); Client toPeer = new Client(peer.port())) {
            for (String request : requests) {
                Answer expected = toReference.send(request).answer();
                Answer answer = toPeer.send(request).answer();
                assertEquals(expected.status(), answer.status(), request + "\n" + expected.body() + answer.head());
                if (expected.status() == 200) {
                    assertEquals(expected.body(), answer.body(), request);
                }
            }
        }
    }

    /**
     * Content-Length repeated with the same value, as fields or as a list: the arena server serves
     * it (RFC 9112 section 6.3 lets a recipient take the one value), so the Netty peer must too.
     * Its decoder merges the repeated fields into one before any handler sees them, which its
     * Javadoc states: its answer counts them as one header.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("nettyVariants")
    void nettyServesARepeatedEqualContentLengthAsTheArenaServerDoes(NettyHttpServer.Body body,
            NettyHttpServer.Allocator allocator) throws Exception {
        ArenaHttpServer reference = arena(ArenaHttpServer.Mode.ARENA, DEFAULT_LIMIT);
        NettyHttpServer peer = netty(body, allocator, DEFAULT_LIMIT);
        List<String> expected = new ArrayList<>();
        List<String> answers = new ArrayList<>();
        for (String request : List.of("POST /cl-twice HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi",
                "POST /cl-list HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nhi")) {
            try (Client toReference = new Client(reference.port()); Client toPeer = new Client(peer.port())) {
                Answer reference200 = toReference.send(request).answer();
                assertEquals(200, reference200.status(), request);
                expected.add(reference200.status() + " " + (request.contains("/cl-twice")
                        ? reference200.body().replace("\"headers\":2,", "\"headers\":1,") : reference200.body()));
                Answer answer = toPeer.send(request).answer();
                answers.add(answer.status() + " " + answer.body());
            }
        }
        assertEquals(expected, answers);
    }

    /** The same pipeline of random requests, sent in pieces: the same answers from Netty as from the arena server. */
    @ParameterizedTest(name = "{0} {1} seed {2}")
    @MethodSource("nettyVariantsAndSeeds")
    void nettyAnswersPipelinedRequestsAsTheArenaServerDoes(NettyHttpServer.Body body,
            NettyHttpServer.Allocator allocator, long seed) throws Exception {
        ArenaHttpServer reference = arena(ArenaHttpServer.Mode.ARENA, DEFAULT_LIMIT);
        NettyHttpServer peer = netty(body, allocator, DEFAULT_LIMIT);
        SplittableRandom random = new SplittableRandom(seed * 101);
        List<Request> requests = new ArrayList<>();
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (int i = 0; i < 10; i++) {
            Request request = randomRequest(random, 40_000, true);
            requests.add(request);
            wire.writeBytes(request.wire());
        }
        try (Client toReference = new Client(reference.port()); Client toPeer = new Client(peer.port())) {
            toReference.sendInPieces(wire.toByteArray(), new SplittableRandom(seed), 30, 2000);
            toPeer.sendInPieces(wire.toByteArray(), new SplittableRandom(seed), 30, 2000);
            for (int i = 0; i < requests.size(); i++) {
                assertEquals(requests.get(i).json(i + 1), toReference.answer().body(), "arena, request " + (i + 1));
                assertEquals(requests.get(i).json(i + 1), toPeer.answer().body(), "netty, request " + (i + 1));
            }
        }
    }

    /** Each Netty variant serves a body of exactly its limit, both framings, and refuses one byte more with 413. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("nettyVariants")
    void nettyServesExactlyTheLimitAndRefusesOneByteMore(NettyHttpServer.Body body,
            NettyHttpServer.Allocator allocator) throws Exception {
        for (int limit : new int[] {0, 1000}) {
            NettyHttpServer peer = netty(body, allocator, limit);
            SplittableRandom random = new SplittableRandom(limit);
            for (Shape shape : Shape.values()) {
                try (Client client = new Client(peer.port())) {
                    Request atLimit = shape.request("/at-limit", random, limit);
                    Answer answer = client.send(atLimit.wire()).answer();
                    assertEquals(atLimit.json(1), answer.body(), shape + " at " + limit + ": " + answer.head());
                }
                try (Client client = new Client(peer.port())) {
                    Answer refused = client.send(shape.request("/over", random, limit + 1).wire()).answer();
                    assertEquals(413, refused.status(), shape + " over " + limit + ": " + refused.head());
                }
            }
        }
    }

    /** Chunk sizes beyond a long: Netty refuses them too, never serving them. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("nettyVariants")
    void nettyRefusesChunkSizesBeyondALong(NettyHttpServer.Body body, NettyHttpServer.Allocator allocator)
            throws Exception {
        NettyHttpServer peer = netty(body, allocator, DEFAULT_LIMIT);
        for (String size : List.of("fffffffffffffff", "ffffffffffffffff", "10000000000000001", "40001")) {
            try (Client client = new Client(peer.port())) {
                client.send("POST /huge HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\nx\r\n0\r\n\r\n")
                        .shutdownOutput();
                for (Answer answer : client.rest()) {
                    assertTrue(answer.status() == 413 || answer.status() == 400, size + " -> " + answer.head());
                }
            }
        }
    }

    // ---------------------------------------------------------------- command lines

    static Stream<Arguments> badArenaOptions() {
        return Stream.of(
                Arguments.of(new String[] {"--max-body-kib", "1.5"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", ""}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", "0x10"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", "1e3"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", " 1"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", "99999999999999999999"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", "-9223372036854775808"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", "--port"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", "1", "--max-body-kib", "x"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", "1024", "--max-total-mib", "3"}, "--max-total-mib"),
                Arguments.of(new String[] {"--max-total-mib", "3", "--max-body-kib", "1024"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", "1048576"}, "--max-total-mib"),
                Arguments.of(new String[] {"--max-connections", "-5"}, "--max-connections"),
                Arguments.of(new String[] {"--max-leased", "0"}, "--max-leased"),
                Arguments.of(new String[] {"--port", "80.0"}, "--port"),
                Arguments.of(new String[] {"--host"}, "--host"),
                Arguments.of(new String[] {"--port=80"}, "--port=80"),
                Arguments.of(new String[] {"--PORT", "80"}, "--PORT"),
                Arguments.of(new String[] {"-port", "80"}, "-port"),
                Arguments.of(new String[] {"--mode", "both"}, "--mode"));
    }

    /** Every bad value or option is refused with a message that names the option. */
    @ParameterizedTest
    @MethodSource("badArenaOptions")
    void theArenaServersParserRefusesBadValuesByName(String[] args, String option) {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> ArenaHttpServer.parse(args), String.join(" ", args));
        assertNotNull(refused.getMessage(), String.join(" ", args));
        assertTrue(refused.getMessage().contains(option), String.join(" ", args) + " -> " + refused.getMessage());
    }

    static Stream<Arguments> badNettyOptions() {
        return Stream.of(
                Arguments.of(new String[] {"--max-body-kib", "-1"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", "2097152"}, "--max-body-kib"),   // 2 GiB: not an int
                Arguments.of(new String[] {"--max-body-kib", "x"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", "99999999999999999999"}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib", ""}, "--max-body-kib"),
                Arguments.of(new String[] {"--max-body-kib"}, "--max-body-kib"),
                Arguments.of(new String[] {"--port", "65536"}, "--port"),
                Arguments.of(new String[] {"--port"}, "--port"),
                Arguments.of(new String[] {"--body"}, "--body"),
                Arguments.of(new String[] {"--allocator"}, "--allocator"),
                Arguments.of(new String[] {"--body", "STREAMED"}, "--body"),
                Arguments.of(new String[] {"--host", "no such host"}, "--host"),
                Arguments.of(new String[] {"--max-leased", "3"}, "--max-leased"),
                Arguments.of(new String[] {"stray"}, "stray"));
    }

    @ParameterizedTest
    @MethodSource("badNettyOptions")
    void theNettyServersParserRefusesBadValuesByName(String[] args, String option) {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> NettyHttpServer.parse(args), String.join(" ", args));
        assertNotNull(refused.getMessage(), String.join(" ", args));
        assertTrue(refused.getMessage().contains(option), String.join(" ", args) + " -> " + refused.getMessage());
    }

    /** Both command lines read {@code --max-body-kib} the same, from 0 to 1 GiB. */
    @ParameterizedTest
    @ValueSource(longs = {0, 1, 256, 1023, 1048576})
    void bothParsersReadTheBodyLimitAlike(long kib) {
        long arenaLimit = ArenaHttpServer.parse(new String[] {"--max-body-kib", "" + kib, "--max-total-mib", "4096"})
                .limits().maxBodyBytes();
        long nettyLimit = NettyHttpServer.parse(new String[] {"--max-body-kib", "" + kib}).maxBodyBytes();
        assertEquals(kib << 10, arenaLimit);
        assertEquals(kib << 10, nettyLimit);
    }

    @Test
    void limitsRefuseANegativeBodyLimit() {
        assertThrows(IllegalArgumentException.class,
                () -> new ArenaHttpServer.Limits(PATIENT, PATIENT, 1, PATIENT, -1));
    }
}
