package io.arena4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SessionTableTest {

    @Test
    void aDayPeaksPastTheTableAndOverflowsOnlyThen() {
        SessionTable.Day day = SessionTable.simulate(42, 40_000);
        assertEquals(40_000, day.logins());
        assertEquals(day.logins() - day.logouts(), day.onlineAtEnd(), "every logout released its slot");
        assertTrue(day.peakOnline() > SessionTable.MAX_SESSION_NUM, "peak " + day.peakOnline());
        assertTrue(day.overflowedAcquires() > 0, "the peak needed overflow slots");
        assertTrue(day.overflowedAcquires() < day.logins() / 10, "overflow stays the exception: "
                + day.overflowedAcquires());
    }

    @Test
    void theLayoutIsTheDocumentsStruct() {
        assertEquals(40, SessionTable.SESSION.byteSize(), "char[32] + int + int");
        assertEquals(0, SessionTable.IP);
    }
}
