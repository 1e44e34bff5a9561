package io.arena4j.examples.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.arena4j.ArenaPool;
import io.arena4j.LeakDetection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The example server's request parsing (the head, {@code Content-Length}, chunked bodies,
 * pipelining) fed arbitrary bytes by the fuzzer, over loopback, to a server in each memory mode.
 * The bytes go once in one write and once split at points the fuzzer chooses; the client then
 * closes its side and reads until the server closes. For every input:
 * <ul>
 * <li>the server answers with HTTP responses or closes cleanly, and no exception escapes any of
 *     its threads (an out-of-bounds read of a slice would be one);</li>
 * <li>the answer is the same byte for byte however the bytes were split;</li>
 * <li>arena mode answers exactly as heap mode does.</li>
 * </ul>
 */
class HttpRequestFuzzTest {

    /** Far below the server's own timeouts: a hung exchange fails the input instead of stalling. */
    private static final int READ_TIMEOUT_MILLIS = 20_000;

    /** The two servers, started once per JVM; a fuzzing run feeds them hundreds of inputs a second. */
    private static final class Servers {
        static final List<Throwable> ESCAPED = new CopyOnWriteArrayList<>();
        static final ArenaHttpServer ARENA;
        static final ArenaHttpServer HEAP;

        static {
            Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
            Thread.setDefaultUncaughtExceptionHandler((thread, thrown) -> {
                if (Arrays.stream(thrown.getStackTrace())
                        .anyMatch(frame -> frame.getClassName().startsWith(ArenaHttpServer.class.getName()))) {
                    ESCAPED.add(thrown);
                }
                if (previous != null) {
                    previous.uncaughtException(thread, thrown);
                } else {
                    System.err.print("Exception in thread \"" + thread.getName() + "\" ");
                    thrown.printStackTrace();
                }
            });
            ArenaHttpServer.Limits limits = new ArenaHttpServer.Limits(Duration.ofSeconds(5), Duration.ofSeconds(5),
                    64, Duration.ofSeconds(5));
            try {
                ARENA = ArenaHttpServer.start(new InetSocketAddress("127.0.0.1", 0), ArenaHttpServer.Mode.ARENA,
                        ArenaPool.builder().name("fuzz").leakDetection(LeakDetection.EVERY).build(), limits);
                HEAP = ArenaHttpServer.start(new InetSocketAddress("127.0.0.1", 0), ArenaHttpServer.Mode.HEAP,
                        ArenaPool.builder().name("fuzz-heap").build(), limits);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    ARENA.close();
                    HEAP.close();
                } catch (IOException ignored) {
                    // the JVM is ending
                }
            }));
        }
    }

    @FuzzTest(maxDuration = "")
    // libFuzzer's dictionary syntax: bytes other than printable ASCII as \xNN.
    @DictionaryEntries({"GET ", "POST ", " HTTP/1.1\\x0D\\x0A", " HTTP/1.0\\x0D\\x0A", "\\x0D\\x0A",
            "\\x0D\\x0A\\x0D\\x0A", "Host: a\\x0D\\x0A", "Content-Length: ",
            "Transfer-Encoding: chunked\\x0D\\x0A", "Connection: close\\x0D\\x0A",
            "Connection: keep-alive\\x0D\\x0A", "0\\x0D\\x0A\\x0D\\x0A", ";ext=1", "ffffffffffffffff", "\\x09", ":"})
    void anyBytesGetTheSameAnswerHoweverTheyAreSplit(FuzzedDataProvider data) throws IOException {
        int pieces = data.consumeInt(1, 6);
        int[] cuts = new int[pieces - 1];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = data.consumeInt(0, 1 << 16);
        }
        byte[] request = data.consumeRemainingAsBytes();
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = request.length == 0 ? 0 : cuts[i] % (request.length + 1);
        }
        Arrays.sort(cuts);

        byte[] whole = exchange(Servers.ARENA, request, new int[0]);
        byte[] split = exchange(Servers.ARENA, request, cuts);
        byte[] heap = exchange(Servers.HEAP, request, cuts);

        assertEquals(List.of(), Servers.ESCAPED, "no exception escapes the server");
        assertTrue(whole.length == 0 || startsWith(whole, "HTTP/1.1 "), () -> "an HTTP answer or a clean close: "
                + new String(whole, StandardCharsets.ISO_8859_1));
        assertArrayEquals(whole, split, () -> "split at " + Arrays.toString(cuts) + " the answer was\n"
                + new String(split, StandardCharsets.ISO_8859_1) + "\ninstead of\n"
                + new String(whole, StandardCharsets.ISO_8859_1));
        assertArrayEquals(whole, heap, () -> "heap mode answered\n" + new String(heap, StandardCharsets.ISO_8859_1)
                + "\ninstead of\n" + new String(whole, StandardCharsets.ISO_8859_1));
    }

    /** The exchange itself works, so that the comparisons above are not between two empty answers. */
    @Test
    void aPlainRequestIsAnsweredInBothModesAlike() throws IOException {
        byte[] request = "GET /x HTTP/1.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        byte[] answer = exchange(Servers.ARENA, request, new int[] {3, 9});
        assertTrue(startsWith(answer, "HTTP/1.1 200 OK\r\n"), new String(answer, StandardCharsets.ISO_8859_1));
        assertTrue(new String(answer, StandardCharsets.ISO_8859_1).contains("\"target\":\"/x\""));
        assertArrayEquals(answer, exchange(Servers.HEAP, request, new int[0]));
    }

    /**
     * Sends {@code request} in pieces cut at {@code cuts}, each flushed on its own, then closes
     * the sending side and reads every byte the server sends until it closes.
     */
    private static byte[] exchange(ArenaHttpServer server, byte[] request, int[] cuts) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(READ_TIMEOUT_MILLIS);
            OutputStream out = socket.getOutputStream();
            try {
                int from = 0;
                for (int cut : cuts) {
                    out.write(request, from, cut - from);
                    out.flush();
                    from = cut;
                }
                out.write(request, from, request.length - from);
                out.flush();
                socket.shutdownOutput();
            } catch (IOException closedAlready) {
                // the server answered and closed before taking every byte: what it sent is still read
            }
            return readAll(socket.getInputStream());
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int read; (read = in.read(buffer)) >= 0; ) {
                answer.write(buffer, 0, read);
            }
        } catch (java.net.SocketException reset) {
            // a reset after the server's lingering close drained its bound: the answer came before it
        }
        return answer.toByteArray();
    }

    private static boolean startsWith(byte[] bytes, String prefix) {
        byte[] expected = prefix.getBytes(StandardCharsets.ISO_8859_1);
        return bytes.length >= expected.length
                && Arrays.equals(bytes, 0, expected.length, expected, 0, expected.length);
    }
}
