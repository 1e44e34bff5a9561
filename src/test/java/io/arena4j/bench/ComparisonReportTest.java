package io.arena4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ComparisonReportTest {

    /** A JMH result entry as JMH 1.37 writes it, cut down to what the report reads. */
    static String entry(String benchmark, double score, double error, double garbage) {
        return """
                {"benchmark": "io.arena4j.bench.%s",
                 "primaryMetric": {"score": %s, "scoreError": %s},
                 "secondaryMetrics": {"gc.alloc.rate.norm": {"score": %s}}}""".formatted(benchmark, score, error, garbage);
    }

    static final String JSON = "[" + String.join(",",
            entry("DocumentWorkloadBenchmark.arena", 5.0, 0.5, 40),
            entry("DocumentWorkloadBenchmark.slicing", 4.0, 0.1, 40),
            entry("DocumentWorkloadBenchmark.mallocFree", 50.0, 2.0, 0),
            entry("DocumentWorkloadBenchmark.arenaZeroed", 40.0, 1.0, 40),
            entry("DocumentWorkloadBenchmark.newBytes", 50.0, 1.0, 1016),
            entry("MixedWorkloadBenchmark.arena", 10.0, 1.0, 40),
            entry("MixedWorkloadBenchmark.mallocFree", 20.0, 1.0, 0)) + "]";

    @Test
    void readsWorkloadContenderScoreErrorAndGarbage() {
        List<ComparisonReport.Score> scores = ComparisonReport.read(new StringReader(JSON));
        assertEquals(7, scores.size());
        assertEquals(new ComparisonReport.Score("DocumentWorkloadBenchmark", "mallocFree", 50.0, 2.0, 0),
                scores.get(2));
    }

    @Test
    void theScoreTableShowsRatiosToArenaAndDashesForWhatDidNotRun() {
        String table = ComparisonReport.scoreTable(ComparisonReport.read(new StringReader(JSON)));
        assertTrue(table.contains("| libc malloc/free (FFM) | 50.0 ± 2.0 | 10.00 | 20.0 ± 1.0 | 2.00 | – | – | 0 |"),
                table);
        assertTrue(table.contains("| arena4j Arena | 5.0 ± 0.5 | 1.00 |"), table);
        assertEquals(2 + ComparisonReport.CONTENDERS.size(), table.lines().count());
    }

    @Test
    void theTargetTableJudgesEveryTargetFromTheRatios() {
        String table = ComparisonReport.targetTable(ComparisonReport.read(new StringReader(JSON)));
        assertTrue(table.contains("| arena4j within 1.3× of the JDK slicing allocator | 1.25× as long | yes |"), table);
        assertTrue(table.contains("| arena4j ≥ 4× faster than malloc/free | 10.00× faster | yes |"), table);
        assertTrue(table.contains("| zeroed arena4j ≥ 1.5× faster than new byte[1000] | 1.25× faster | **no** |"), table);
        assertTrue(table.contains("| MixedWorkloadBenchmark: arena4j ≥ 3× faster than malloc/free | 2.00× faster"
                + " | **no** |"), table);
        assertTrue(table.contains("| arena4j ≥ 8× faster than Netty's pooled allocator | not measured | – |"), table);
    }

    @Test
    void aQuickRunShowsTheRatiosButDecidesNoTarget() {
        String quick = ComparisonReport.targetTable(ComparisonReport.read(new StringReader(JSON)), false);
        assertTrue(quick.contains("| arena4j ≥ 4× faster than malloc/free | 10.00× faster"
                + " | – (a quick run cannot decide) |"), quick);
        assertFalse(quick.contains("yes") || quick.contains("**no**"), quick);
    }

    /** The figures of docs/performance.md are the committed run's, as the report prints them. */
    @Test
    void thePerformanceDocumentShowsTheTablesOfTheCommittedRun() throws IOException {
        List<ComparisonReport.Score> scores;
        try (Reader json = Files.newBufferedReader(Path.of("bench/results/comparison.json"))) {
            scores = ComparisonReport.read(json);
        }
        String performance = Files.readString(Path.of("docs/performance.md"));
        assertTrue(performance.contains(ComparisonReport.scoreTable(scores)),
                "docs/performance.md: score table is stale");
        assertTrue(performance.contains(ComparisonReport.targetTable(scores)),
                "docs/performance.md: target table is stale");
    }
}
