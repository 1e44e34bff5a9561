package io.arena4j.examples;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.arena4j.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Request scopes: a checkpoint per request (the README's snippet) and a slice that grows
 * (docs/design.md's), each between {@code snippet:begin} and {@code snippet:end}. Tests check that
 * the documentation shows exactly this code, which the build compiles, and what it prints.
 *
 * <p>Run it with {@code mvn -q test-compile exec:exec@example -Dexample=RequestScopes}.
 */
public final class RequestScopes {

    private RequestScopes() {}

    public static void main(String[] args) {
        checkpointPerRequest();
        chunkedBodyInOneSlice();
    }

    /** A connection's arena, and a checkpoint per request on it. */
    static void checkpointPerRequest() {
        // snippet:begin
        try (Arena arena = Arena.create()) {                            // one per connection
            MemorySegment peer = arena.allocateFrom("10.0.0.7:51234");  // lives as long as the connection
            for (int request = 1; request <= 3; request++) {
                try (var _ = arena.checkpoint()) {                      // one per request
                    MemorySegment head = arena.allocate(8192);          // freed when the checkpoint closes
                    System.out.println("request " + request + ": " + arena.statistics().allocatedBytes()
                            + " bytes in use");
                }
            }
            Arena.Statistics figures = arena.statistics();
            System.out.println("after the requests: " + figures.allocatedBytes() + " bytes in use, peer "
                    + peer.getString(0) + ", " + figures.reservedBytes() + " bytes reserved");
        }
        // snippet:end
    }

    /** A body that arrives in pieces of unknown number, read into one slice. */
    static void chunkedBodyInOneSlice() {
        List<String> chunks = List.of("Wiki", "pedia ", "in\r\n", "chunks.");
        // snippet:begin
        try (Arena arena = Arena.create()) {
            MemorySegment body = arena.allocate(0);
            long start = body.address();
            long length = 0;
            for (String chunk : chunks) {                               // as the chunks arrive
                byte[] bytes = chunk.getBytes(StandardCharsets.US_ASCII);
                if (length + bytes.length > body.byteSize()) {          // capacity doubles, as ArrayList's
                    body = arena.grow(body, Math.max(length + bytes.length, 2 * body.byteSize()));
                }
                MemorySegment.copy(bytes, 0, body, JAVA_BYTE, length, bytes.length);
                length += bytes.length;
            }
            String text = new String(body.asSlice(0, length).toArray(JAVA_BYTE), StandardCharsets.US_ASCII);
            System.out.println(length + " bytes, grown in place: " + (body.address() == start) + ", "
                    + text.replace("\r\n", "\\r\\n"));
        }
        // snippet:end
    }
}
