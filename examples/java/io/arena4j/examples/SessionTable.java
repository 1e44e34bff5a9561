package io.arena4j.examples;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.arena4j.SlotPool;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The fixed-size session pool's table (docs/design.md, "Where it comes from"): 6000 session records in
 * one preallocated {@link SlotPool}, and a day of users logging in and out whose peak goes past
 * 6000 online, so that some acquires fall back to overflow slots.
 *
 * <p>Run it with {@code mvn -q test-compile exec:exec@example -Dexample=SessionTable}.
 */
public final class SessionTable {

    /** {@code struct session { char c_ip[32]; int c_port; int c_sock; }}: the free-list link lives in the pool. */
    static final StructLayout SESSION = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(32, JAVA_BYTE).withName("ip"),
            JAVA_INT.withName("port"),
            JAVA_INT.withName("sock"));
    static final long IP = SESSION.byteOffset(groupElement("ip"));
    static final VarHandle PORT = SESSION.varHandle(groupElement("port"));
    static final VarHandle SOCK = SESSION.varHandle(groupElement("sock"));

    /** The C pool's {@code MAX_SESSION_NUM}. */
    static final int MAX_SESSION_NUM = 6000;

    /** What a simulated day did. */
    record Day(long logins, long logouts, int peakOnline, long overflowedAcquires, int onlineAtEnd) {}

    private SessionTable() {}

    /** Simulates a day and prints what happened. */
    public static void main(String[] args) {
        Day day = simulate(42, 40_000);
        System.out.printf("session table: %d slots of %d bytes%n", MAX_SESSION_NUM, SESSION.byteSize());
        System.out.printf("logins %d, logouts %d, peak online %d%n", day.logins(), day.logouts(), day.peakOnline());
        System.out.printf("acquires that overflowed the table: %d%n", day.overflowedAcquires());
        System.out.printf("online at the end of the day: %d%n", day.onlineAtEnd());
    }

    /**
     * Runs {@code logins} logins through the table. The number of users online follows the day:
     * from a few hundred at night to a peak of 6500 in the evening.
     */
    static Day simulate(long seed, int logins) {
        SplittableRandom random = new SplittableRandom(seed);
        List<MemorySegment> online = new ArrayList<>();
        long loggedIn = 0;
        long loggedOut = 0;
        int peak = 0;
        try (SlotPool sessions = SlotPool.of(SESSION, MAX_SESSION_NUM)) {
            while (loggedIn < logins) {
                double timeOfDay = (double) loggedIn / logins;                      // 0 = midnight
                int wanted = (int) (300 + 6200 * Math.pow(Math.sin(Math.PI * timeOfDay), 2));
                if (online.size() < wanted || online.isEmpty()) {
                    online.add(login(sessions, random));
                    loggedIn++;
                    peak = Math.max(peak, online.size());
                } else {
                    logout(sessions, online, random.nextInt(online.size()));
                    loggedOut++;
                }
                if (random.nextInt(3) == 0 && !online.isEmpty()) {           // somebody leaves anyway
                    logout(sessions, online, random.nextInt(online.size()));
                    loggedOut++;
                }
            }
            return new Day(loggedIn, loggedOut, peak, sessions.overflowCount(), sessions.inUse());
        }
    }

    private static MemorySegment login(SlotPool sessions, SplittableRandom random) {
        MemorySegment session = sessions.acquire();
        int port = random.nextInt(1024, 65536);
        session.asSlice(IP, 32).setString(0, "10." + random.nextInt(256) + "." + random.nextInt(256) + "."
                + random.nextInt(1, 255));
        PORT.set(session, 0L, port);
        SOCK.set(session, 0L, port ^ 0x5A5A);      // a descriptor the check below can recompute
        return session;
    }

    private static void logout(SlotPool sessions, List<MemorySegment> online, int index) {
        MemorySegment session = online.get(index);
        online.set(index, online.getLast());
        online.removeLast();
        int port = (int) PORT.get(session, 0L);
        if ((int) SOCK.get(session, 0L) != (port ^ 0x5A5A) || !session.getString(IP).startsWith("10.")) {
            throw new IllegalStateException("session record corrupted: " + session);
        }
        sessions.release(session);
    }
}
