package io.arena4j.examples.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.arena4j.ArenaPool;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The example server answering real clients over loopback, in both memory modes. */
class ArenaHttpServerTest {

    private static final int MAX_IDLE = 8;
    private static final long MAX_IDLE_BYTES = 1 << 20;

    private ArenaPool pool;
    private ArenaHttpServer server;

    private void start(ArenaHttpServer.Mode mode) throws IOException {
        pool = ArenaPool.builder().maxBytes(1 << 20).maxIdle(MAX_IDLE).maxIdleBytes(MAX_IDLE_BYTES).build();
        server = ArenaHttpServer.start(new InetSocketAddress("127.0.0.1", 0), mode, pool, Duration.ofMillis(500));
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    private URI uri(String path) throws IOException {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    /** Sends raw bytes on a new connection and returns everything the server answers until it closes. */
    private String raw(byte[] request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request);
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void answersTheJdkHttpClientAndKeepsTheConnectionAlive(ArenaHttpServer.Mode mode) throws Exception {
        start(mode);
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            for (int i = 1; i <= 3; i++) {
                HttpResponse<String> response = client.send(
                        HttpRequest.newBuilder(uri("/items/" + i + "?q=%22x%22")).header("X-Test", "yes").build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode());
                assertEquals("application/json", response.headers().firstValue("Content-Type").orElseThrow());
                String body = response.body();
                assertTrue(body.contains("\"method\":\"GET\""), body);
                assertTrue(body.contains("\"target\":\"/items/" + i + "?q=%22x%22\""), body);
                assertTrue(body.contains("\"requestOnConnection\":" + i), "keep-alive: one connection, one arena: " + body);
            }
            HttpResponse<String> post = client.send(HttpRequest.newBuilder(uri("/upload"))
                    .POST(HttpRequest.BodyPublishers.ofString("x".repeat(20_000))).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(post.body().contains("\"bodyBytes\":20000"), post.body());
        }
    }

    @ParameterizedTest
    @EnumSource(ArenaHttpServer.Mode.class)
    void malformedRequestsGetAnErrorOrAClosedConnectionAndTheServerGoesOn(ArenaHttpServer.Mode mode) throws Exception {
        start(mode);
        assertTrue(raw("GARBAGE\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 400 "));
        assertTrue(raw("GET / HTTP/9.9\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 400 "));
        assertTrue(raw("GET / HTTP/1.1\r\nno colon here\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 400 "));
        String huge = "GET / HTTP/1.1\r\nX-Big: " + "a".repeat(ArenaHttpServer.MAX_HEAD) + "\r\n\r\n";
        assertTrue(raw(huge.getBytes(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 431 "));
        String tooLong = "POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n";
        assertTrue(raw(tooLong.getBytes(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 413 "));
        byte[] binary = new byte[4096];
        new java.util.SplittableRandom(7).nextBytes(binary);
        String answer = raw(binary);
        assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 4"), answer);
        // cut mid-request: the server sees the close and moves on
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.getOutputStream().write("GET /half HTTP/1.1\r\nHost: x".getBytes(StandardCharsets.ISO_8859_1));
        }
        // a client that sends nothing is closed after the idle timeout
        assertEquals("", raw(new byte[0]));
        assertTrue(raw("GET /after HTTP/1.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1))
                .startsWith("HTTP/1.1 200 "), "still serving");
    }

    @ParameterizedTest
    @EnumSource(value = ArenaHttpServer.Mode.class, names = "ARENA")
    void thousandsOfConnectionsLeaveThePoolBounded(ArenaHttpServer.Mode mode) throws Exception {
        start(mode);
        for (int i = 0; i < 2000; i++) {
            String answer = raw(("GET /c/" + i + " HTTP/1.1\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
        }
        assertEquals(2000, server.requests());
        assertTrue(pool.idleCount() <= MAX_IDLE, "idle " + pool.idleCount());
        assertTrue(pool.reservedBytes() <= MAX_IDLE_BYTES, "reserved " + pool.reservedBytes());
    }
}
