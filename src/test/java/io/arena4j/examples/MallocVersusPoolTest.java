package io.arena4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MallocVersusPoolTest {

    /** What one run printed and returned. */
    record Run(int status, String out, String err) {
        List<String> tableRows() {
            List<String> lines = out.lines().toList();
            int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("contender")).findFirst().orElseThrow());
            return lines.subList(header + 1, lines.size()).stream().takeWhile(l -> !l.isBlank()).toList();
        }
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = MallocVersusPool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void everyContenderRunsAndGetsARowOfTheTable() {
        Run run = run("--rounds", "3", "--count", "50", "--size", "100");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("3 rounds of 50 allocations of 100 bytes"), run.out());
        assertTrue(run.out().contains("warm-up round"), "the output says each contender warms up");
        List<String> rows = run.tableRows();
        MallocVersusPool.Contender[] contenders = MallocVersusPool.Contender.values();
        assertEquals(contenders.length, rows.size(), run.out());
        for (int i = 0; i < contenders.length; i++) {
            String row = rows.get(i);
            assertTrue(row.startsWith(contenders[i].description), row);
            assertTrue(run.err().contains(contenders[i].description), "progress names " + contenders[i]);
            String[] cells = row.substring(contenders[i].description.length()).trim().split("\\s+");
            assertEquals(6, cells.length, row);
            assertEquals(contenders[i].zeroes ? "yes" : "no", cells[0]);
            assertTrue(Double.parseDouble(cells[1]) >= 0, row);
            assertTrue(Double.parseDouble(cells[2]) > 0, "ns per allocation: " + row);
            assertTrue(cells[3].endsWith("x"), row);
            assertTrue(Long.parseLong(cells[4]) >= 0 && Long.parseLong(cells[5]) >= 0, row);
        }
        assertTrue(rows.getFirst().contains(" 1.00x "), "malloc/free is its own baseline: " + rows.getFirst());
    }

    @Test
    void aChosenSubsetRunsInTheGivenOrder() {
        Run run = run("--rounds", "2", "--count", "10", "--size", "64", "--contenders", "arena-reset,jdk-confined");
        assertEquals(0, run.status(), run.err());
        List<String> rows = run.tableRows();
        assertEquals(2, rows.size());
        assertTrue(rows.get(0).startsWith(MallocVersusPool.Contender.ARENA_RESET.description));
        assertTrue(rows.get(1).startsWith(MallocVersusPool.Contender.JDK_CONFINED.description));
        assertTrue(rows.get(0).contains("n/a"), "no malloc, no ratio: " + rows.get(0));
    }

    @Test
    void helpPrintsTheUsageAndEveryContender() {
        Run run = run("--help");
        assertEquals(0, run.status());
        assertTrue(run.out().startsWith("usage: MallocVersusPool"), run.out());
        for (MallocVersusPool.Contender c : MallocVersusPool.Contender.values()) {
            assertTrue(run.out().contains(c.option), c.option);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--rounds 0", "--count -5", "--size x", "--bogus 1", "--contenders nope", "--rounds",
            "stray", "--contenders malloc,,arena-reset"})
    void aBadOptionGetsAClearMessageAndStatusTwo(String args) {
        Run run = run(args.split(" "));
        assertEquals(2, run.status());
        assertTrue(run.err().startsWith("error: "), run.err());
        assertTrue(run.err().contains("usage:"), run.err());
        assertEquals("", run.out(), "nothing ran");
    }

    /** An unknown option is named as unknown wherever it stands, not as one that lacks a value. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--bogus            | unknown option: --bogus",
        "--rounds 3 --bogus | unknown option: --bogus",
        "--rounds           | --rounds needs a value",
    })
    void theMessageNamesWhatIsWrong(String args, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MallocVersusPool.parse(args.split(" ")));
        assertEquals(message, e.getMessage());
    }
}
