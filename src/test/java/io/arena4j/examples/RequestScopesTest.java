package io.arena4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class RequestScopesTest {

    @Test
    void eachRequestFreesWhatItAllocatedAndTheBodyGrowsInPlace() {
        List<String> lines = ExampleSupport.linesPrintedBy(() -> RequestScopes.main(new String[0]));
        // the peer's 15 bytes stay; each request's 8192 come and go; one 64 KiB block all along
        assertEquals(List.of(
                "request 1: 8207 bytes in use",
                "request 2: 8207 bytes in use",
                "request 3: 8207 bytes in use",
                "after the requests: 15 bytes in use, peer 10.0.0.7:51234, 65536 bytes reserved",
                "21 bytes, grown in place: true, Wikipedia in\\r\\nchunks."), lines);
        ExampleSupport.assertDocumentShows("README.md", lines.get(0));
        ExampleSupport.assertDocumentShows("README.md", lines.get(3));
        ExampleSupport.assertDocumentShows("docs/design.md", lines.get(4));
    }
}
