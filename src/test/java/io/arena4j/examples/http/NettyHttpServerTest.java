package io.arena4j.examples.http;

import static io.arena4j.examples.http.HttpExchanges.chunked;
import static io.arena4j.examples.http.HttpExchanges.exchange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.arena4j.ArenaPool;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The load test's Netty peer answers exactly as the arena server does, in each of its variants. */
class NettyHttpServerTest {

    private static final long MAX_BODY = 1 << 20;

    private NettyHttpServer netty;
    private ArenaHttpServer reference;

    @AfterEach
    void stop() throws IOException {
        if (netty != null) {
            netty.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    /** Requests of every kind the load test sends, and more: bodies to 1 MiB, framed both ways. */
    private static List<String> requests() {
        SplittableRandom random = new SplittableRandom(5);
        List<String> requests = new ArrayList<>();
        requests.add("GET /items/42?user=alice HTTP/1.1\r\nHost: x\r\n\r\n");
        for (int length : new int[] {0, 1, 16 << 10, 64 << 10, 256 << 10, 1 << 20}) {
            byte[] content = new byte[length];
            random.nextBytes(content);
            requests.add("POST /upload HTTP/1.1\r\nContent-Length: " + length + "\r\n\r\n"
                    + new String(content, StandardCharsets.ISO_8859_1));
            requests.add("POST /chunks HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(content, random));
        }
        return requests;
    }

    private static String body(String answer) {
        return answer.substring(answer.indexOf("\r\n\r\n") + 4);
    }

    @ParameterizedTest
    @CsvSource({"STREAM, POOLED", "STREAM, ADAPTIVE", "AGGREGATE, POOLED", "AGGREGATE, ADAPTIVE"})
    void answersEveryRequestWithTheArenaServersJson(NettyHttpServer.Body body, NettyHttpServer.Allocator allocator)
            throws Exception {
        netty = NettyHttpServer.start(new InetSocketAddress("127.0.0.1", 0), body, allocator, MAX_BODY);
        reference = ArenaHttpServer.start(new InetSocketAddress("127.0.0.1", 0), ArenaHttpServer.Mode.ARENA,
                ArenaPool.builder().arenas(ArenaHttpServer.arenaSettings(MAX_BODY))
                        .registerMXBean(false).build(),
                new ArenaHttpServer.Limits(java.time.Duration.ofSeconds(30), java.time.Duration.ofSeconds(30), 16,
                        java.time.Duration.ofSeconds(1), MAX_BODY));
        try (Socket toNetty = new Socket("127.0.0.1", netty.port());
             Socket toReference = new Socket("127.0.0.1", reference.port())) {
            toNetty.setSoTimeout(30_000);
            toReference.setSoTimeout(30_000);
            for (String request : requests()) {
                String expected = exchange(toReference, request);
                String answer = exchange(toNetty, request);
                assertTrue(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer);
                assertEquals(body(expected), body(answer), answer);
            }
        }
    }

    /**
     * A body over the limit gets 413. Netty's aggregator keeps a kept-alive connection open after
     * it, where the arena server closes: either way the next request on a new connection is served.
     */
    @ParameterizedTest
    @CsvSource({"STREAM, POOLED", "AGGREGATE, POOLED", "AGGREGATE, ADAPTIVE"})
    void aBodyOverTheLimitGets413AndMalformedRequestsGet400(NettyHttpServer.Body body,
            NettyHttpServer.Allocator allocator) throws Exception {
        netty = NettyHttpServer.start(new InetSocketAddress("127.0.0.1", 0), body, allocator, 1000);
        for (String refused : List.of("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n",
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + "x".repeat(1000) + "\r\n1\r\nx\r\n")) {
            try (Socket socket = connect()) {
                String answer = exchange(socket, refused);
                assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
            }
        }
        try (Socket socket = connect()) {
            socket.getOutputStream().write("GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
        }
        try (Socket socket = connect()) {
            assertTrue(exchange(socket, "GET /after HTTP/1.1\r\n\r\n").contains("\"target\":\"/after\""));
        }
    }

    /** The aggregator answers 413 itself and keeps the connection: the next answer still counts its own headers. */
    @ParameterizedTest
    @CsvSource({"AGGREGATE, POOLED", "AGGREGATE, ADAPTIVE"})
    void afterA413OnAKeptConnectionTheNextAnswerCountsItsOwnHeaders(NettyHttpServer.Body body,
            NettyHttpServer.Allocator allocator) throws Exception {
        netty = NettyHttpServer.start(new InetSocketAddress("127.0.0.1", 0), body, allocator, 1000);
        try (Socket socket = connect()) {
            String refused = exchange(socket, "POST / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 1001\r\n\r\n"
                    + "x".repeat(1001));          // read and dropped by the aggregator, which keeps the connection
            assertTrue(refused.startsWith("HTTP/1.1 413 "), refused);
            String next = exchange(socket, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(next.contains("\"target\":\"/next\",\"headers\":1,"), next);
        }
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket("127.0.0.1", netty.port());
        socket.setSoTimeout(10_000);
        return socket;
    }

    @Test
    void optionsReachTheServerAndBadOnesAreRefusedByName() {
        NettyHttpServer.Options options = NettyHttpServer.parse(new String[] {"--port", "0", "--body", "stream",
            "--allocator", "adaptive", "--max-body-kib", "1024"});
        assertEquals(new NettyHttpServer.Options(new InetSocketAddress("127.0.0.1", 0), NettyHttpServer.Body.STREAM,
                NettyHttpServer.Allocator.ADAPTIVE, 1 << 20), options);
        assertEquals("--body is stream or aggregate, not both", assertThrows(IllegalArgumentException.class,
                () -> NettyHttpServer.parse(new String[] {"--body", "both"})).getMessage());
        assertEquals("--allocator is pooled or adaptive, not unpooled", assertThrows(IllegalArgumentException.class,
                () -> NettyHttpServer.parse(new String[] {"--allocator", "unpooled"})).getMessage());
        assertEquals("unknown option --mode", assertThrows(IllegalArgumentException.class,
                () -> NettyHttpServer.parse(new String[] {"--mode", "arena"})).getMessage());
    }
}
