package io.arena4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class FirstProgramTest {

    /** Each request's line is the only slice in use: reset() freed the one before. */
    @Test
    void eachRequestFindsTheArenaEmptiedByTheLastReset() {
        List<String> lines = ExampleSupport.linesPrintedBy(() -> FirstProgram.main(new String[0]));
        assertEquals(List.of(
                "GET /hello/1 HTTP/1.1: 22 bytes in use",
                "GET /hello/2 HTTP/1.1: 22 bytes in use",
                "GET /hello/3 HTTP/1.1: 22 bytes in use"), lines);
        ExampleSupport.assertDocumentShows("README.md", lines.getFirst());
    }
}
