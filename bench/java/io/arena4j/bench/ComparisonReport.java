package io.arena4j.bench;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Turns the JSON of {@code bash bench/compare} into what docs/performance.md shows: a bar chart of
 * nanoseconds per allocation for every contender and workload, a table of the figures and their
 * ratios to arena4j, and the project's targets with what was measured.
 *
 * <p>Run it with {@code mvn -q test-compile exec:exec@report}: it reads
 * {@code bench/results/comparison.json}, writes {@code bench/results/comparison.png} and prints
 * the two tables as Markdown.
 */
public final class ComparisonReport {

    /** Workloads by JMH class, in the order docs/performance.md shows them. */
    static final Map<String, String> WORKLOADS = ordered(
            "DocumentWorkloadBenchmark", "DocumentWorkloadBenchmark: 5000 × 1000 B",
            "MixedWorkloadBenchmark", "MixedWorkloadBenchmark: 200 × 16–512 B + body",
            "DocumentWorkloadTwoThreadsBenchmark", "DocumentWorkloadTwoThreadsBenchmark: 5000 × 1000 B, 2 threads");

    /** Contenders by benchmark method, in the order docs/performance.md shows them. */
    static final Map<String, String> CONTENDERS = ordered(
            "arena", "arena4j Arena",
            "arenaZeroed", "arena4j Arena, zeroed",
            "slicing", "JDK slicingAllocator, one segment",
            "mallocFree", "libc malloc/free (FFM)",
            "newBytes", "new byte[]",
            "allocateDirect", "ByteBuffer.allocateDirect",
            "jdkConfinedArena", "JDK Arena.ofConfined()",
            "nettyPooled", "Netty PooledByteBufAllocator",
            "nettyAdaptive", "Netty AdaptiveByteBufAllocator");

    /** One benchmark's result: nanoseconds and garbage bytes per allocation. */
    record Score(String workload, String contender, double nanos, double error, double garbageBytes) {}

    /** A claim of docs/performance.md: {@code slower} takes at least {@code factor} times as long as {@code faster}. */
    record Target(String claim, String workload, String faster, String slower, double factor) {
        /** A target that {@code contender} stays within {@code factor} of {@code reference}. */
        static Target within(String claim, String workload, String contender, String reference, double factor) {
            return new Target(claim, workload, contender, reference, 1 / factor);
        }
    }

    static final List<Target> TARGETS = List.of(
            Target.within("arena4j within 1.3× of the JDK slicing allocator", "DocumentWorkloadBenchmark",
                    "arena", "slicing", 1.3),
            new Target("arena4j ≥ 4× faster than malloc/free", "DocumentWorkloadBenchmark", "arena", "mallocFree", 4),
            new Target("arena4j ≥ 8× faster than the JDK's Arena.ofConfined()", "DocumentWorkloadBenchmark",
                    "arena", "jdkConfinedArena", 8),
            new Target("arena4j ≥ 8× faster than Netty's pooled allocator", "DocumentWorkloadBenchmark",
                    "arena", "nettyPooled", 8),
            new Target("zeroed arena4j ≥ 1.5× faster than new byte[1000]", "DocumentWorkloadBenchmark",
                    "arenaZeroed", "newBytes", 1.5),
            new Target("MixedWorkloadBenchmark: arena4j ≥ 3× faster than malloc/free", "MixedWorkloadBenchmark",
                    "arena", "mallocFree", 3));

    private ComparisonReport() {}

    /** Writes the chart and prints the tables; arguments: the JSON and the PNG, both optional. */
    public static void main(String[] args) throws IOException {
        Path json = Path.of(args.length > 0 ? args[0] : "bench/results/comparison.json");
        Path png = Path.of(args.length > 1 ? args[1] : "bench/results/comparison.png");
        boolean verdicts = !(args.length > 2 && args[2].equals("--no-verdicts"));
        List<Score> scores;
        try (Reader reader = Files.newBufferedReader(json)) {
            scores = read(reader);
        }
        writeChart(scores, png);
        System.out.println(scoreTable(scores));
        System.out.println(targetTable(scores, verdicts));
        System.out.println("chart: " + png);
    }

    /** Reads JMH's JSON result file. */
    static List<Score> read(Reader json) {
        List<Score> scores = new ArrayList<>();
        for (JsonElement element : JsonParser.parseReader(json).getAsJsonArray()) {
            JsonObject result = element.getAsJsonObject();
            String[] name = result.get("benchmark").getAsString().split("\\.");
            JsonObject primary = result.getAsJsonObject("primaryMetric");
            JsonObject garbage = result.getAsJsonObject("secondaryMetrics").getAsJsonObject("gc.alloc.rate.norm");
            scores.add(new Score(name[name.length - 2], name[name.length - 1],
                    primary.get("score").getAsDouble(), primary.get("scoreError").getAsDouble(),
                    garbage == null ? Double.NaN : garbage.get("score").getAsDouble()));
        }
        return scores;
    }

    static Optional<Score> find(List<Score> scores, String workload, String contender) {
        return scores.stream().filter(s -> s.workload().equals(workload) && s.contender().equals(contender)).findFirst();
    }

    /** Every contender's nanoseconds per allocation in each workload, and the ratio to arena4j there. */
    static String scoreTable(List<Score> scores) {
        StringBuilder table = new StringBuilder("| contender |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String workload : WORKLOADS.values()) {
            table.append(" ").append(workload).append(", ns/alloc | × arena4j |");
            rule.append("---:|---:|");
        }
        table.append(" garbage, B/alloc |\n").append(rule).append("---:|\n");
        for (var contender : CONTENDERS.entrySet()) {
            table.append("| ").append(contender.getValue()).append(" |");
            for (String workload : WORKLOADS.keySet()) {
                Optional<Score> score = find(scores, workload, contender.getKey());
                Optional<Score> arena = find(scores, workload, "arena");
                table.append(score.map(s -> format(" %.1f ± %.1f |", s.nanos(), s.error())).orElse(" – |"));
                table.append(score.flatMap(s -> arena.map(a -> format(" %.2f |", s.nanos() / a.nanos())))
                        .orElse(" – |"));
            }
            table.append(find(scores, "DocumentWorkloadBenchmark", contender.getKey())
                    .map(s -> format(" %.0f |", s.garbageBytes())).orElse(" – |")).append('\n');
        }
        return table.toString();
    }

    /** The targets of docs/performance.md, each with the ratio measured and whether it was met. */
    static String targetTable(List<Score> scores) {
        return targetTable(scores, true);
    }

    /**
     * The targets of docs/performance.md with the ratios measured, and whether each was met only if
     * {@code verdicts}: a quick run's errors are often larger than its scores, so it cannot
     * decide a target.
     */
    static String targetTable(List<Score> scores, boolean verdicts) {
        StringBuilder table = new StringBuilder("| target | measured | met |\n|---|---:|:-:|\n");
        for (Target target : TARGETS) {
            Optional<Double> ratio = find(scores, target.workload(), target.slower())
                    .flatMap(slow -> find(scores, target.workload(), target.faster()).map(fast -> slow.nanos() / fast.nanos()));
            table.append("| ").append(target.claim()).append(" | ")
                    .append(ratio.map(r -> target.factor() >= 1
                            ? format("%.2f× faster", r) : format("%.2f× as long", 1 / r)).orElse("not measured"))
                    .append(" | ").append(!verdicts ? "– (a quick run cannot decide)"
                            : ratio.map(r -> r >= target.factor() ? "yes" : "**no**").orElse("–"))
                    .append(" |\n");
        }
        return table.toString();
    }

    /** A bar chart of nanoseconds per allocation, contenders along the x axis, one series a workload. */
    static void writeChart(List<Score> scores, Path png) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(1200).height(650)
                .title("Nanoseconds per allocation (log scale, lower is better)").yAxisTitle("ns per allocation")
                .build();
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setYAxisMin(1.0);          // bars start at 1 ns: a log axis has no zero
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setAvailableSpaceFill(0.8);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (var workload : WORKLOADS.entrySet()) {
            List<String> names = new ArrayList<>();
            List<Double> nanos = new ArrayList<>();
            for (var contender : CONTENDERS.entrySet()) {
                names.add(contender.getValue());
                nanos.add(find(scores, workload.getKey(), contender.getKey()).map(Score::nanos).orElse(Double.NaN));
            }
            if (nanos.stream().anyMatch(n -> !n.isNaN())) {
                chart.addSeries(workload.getValue(), names, nanos);
            }
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static String format(String pattern, Object... values) {
        return String.format(Locale.ROOT, pattern, values);
    }

    private static Map<String, String> ordered(String... keysAndValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }
}
