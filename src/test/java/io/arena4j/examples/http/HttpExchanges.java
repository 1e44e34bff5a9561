package io.arena4j.examples.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32;

/** What the example servers' tests send and check: requests on a raw socket, bodies and their CRC-32. */
final class HttpExchanges {

    private HttpExchanges() {}

    /** Waits, up to {@code within}, for something a server does on its own; fails naming {@code what}. */
    static void await(BooleanSupplier condition, String what, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "gave up waiting: " + what);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    /** A chunked body of {@code content}, cut into chunks of random sizes, with an extension and a trailer. */
    static String chunked(byte[] content, SplittableRandom random) {
        StringBuilder body = new StringBuilder();
        for (int at = 0; at < content.length; ) {
            int size = Math.min(content.length - at, random.nextInt(1, 5000));
            body.append(Integer.toHexString(size)).append(random.nextBoolean() ? ";ext=1" : "").append("\r\n")
                    .append(new String(content, at, size, StandardCharsets.ISO_8859_1)).append("\r\n");
            at += size;
        }
        return body.append("0\r\nX-Trailer: yes\r\n\r\n").toString();
    }

    static long crc32(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }

    /**
     * Writes {@code request} and reads one whole answer (head and Content-Length body) off a
     * kept-alive socket. Header names are matched in any case: Netty writes them in lower case.
     */
    static String exchange(Socket socket, String request) throws IOException {
        socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        InputStream in = socket.getInputStream();
        StringBuilder answer = new StringBuilder();
        int headEnd;
        while ((headEnd = answer.indexOf("\r\n\r\n")) < 0) {
            int next = in.read();
            assertTrue(next >= 0, "the server closed the connection after: " + answer);
            answer.append((char) next);
        }
        String head = answer.toString().toLowerCase(Locale.ROOT);
        int at = head.indexOf("content-length: ") + "content-length: ".length();
        int length = Integer.parseInt(head.substring(at, head.indexOf("\r\n", at)));
        answer.append(new String(in.readNBytes(length), StandardCharsets.ISO_8859_1));
        assertEquals(headEnd + 4 + length, answer.length());
        return answer.toString();
    }
}
