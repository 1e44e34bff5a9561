package io.arena4j.examples;

import io.arena4j.Arena;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.commons.lang3.time.StopWatch;

/**
 * The block-chain pool's timing test (docs/design.md, "Where it comes from"), in Java: rounds of
 * "allocate 5000 buffers of 1000 bytes, keep each in an array, free them all", for libc's
 * malloc/free and for every way Java offers instead.
 *
 * <p>Run it with {@code mvn -q test-compile exec:exec@example -Dexample=MallocVersusPool}, or add
 * {@code -Dexample.args="--help"} for the options.
 */
public final class MallocVersusPool {

    /** One way of doing the timing test's rounds. */
    enum Contender {
        MALLOC("malloc", "libc malloc/free (FFM downcalls)", false, MallocVersusPool::mallocRounds),
        NEW_BYTES("new-bytes", "new byte[size] (the GC frees)", true, MallocVersusPool::newByteRounds),
        JDK_CONFINED("jdk-confined", "JDK Arena.ofConfined(), closed per round", true,
                MallocVersusPool::jdkConfinedRounds),
        ARENA_CLOSE_ZEROED("arena-close-zeroed", "arena4j Arena, built and closed per round, zeroed", true,
                (count, size) -> closedPerRound(count, size, true)),
        ARENA_CLOSE("arena-close", "arena4j Arena, built and closed per round, not zeroed", false,
                (count, size) -> closedPerRound(count, size, false)),
        ARENA_RESET_ZEROED("arena-reset-zeroed", "arena4j Arena, reset per round, zeroed", true,
                (count, size) -> resetPerRound(count, size, true)),
        ARENA_RESET("arena-reset", "arena4j Arena, reset per round, not zeroed", false,
                (count, size) -> resetPerRound(count, size, false));

        final String option;
        final String description;
        final boolean zeroes;
        private final RoundFactory rounds;

        Contender(String option, String description, boolean zeroes, RoundFactory rounds) {
            this.option = option;
            this.description = description;
            this.zeroes = zeroes;
            this.rounds = rounds;
        }

        /** Makes the state one round needs; the returned round may hold resources until closed. */
        Round prepare(int count, int size) {
            return rounds.prepare(count, size);
        }

        static Contender byOption(String option) {
            for (Contender c : values()) {
                if (c.option.equals(option)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("unknown contender: " + option);
        }
    }

    /** Makes a contender's {@link Round} for {@code count} allocations of {@code size} bytes. */
    @FunctionalInterface
    interface RoundFactory {
        Round prepare(int count, int size);
    }

    /** One round of the timing test: allocate {@code count} buffers, keep them, free them all. */
    interface Round extends AutoCloseable {
        void run();

        @Override
        default void close() {}
    }

    /** The C test's baseline: the pointers are kept in an array, as C keeps them. */
    private static Round mallocRounds(int count, int size) {
        long[] memory = new long[count];
        return () -> {
            for (int j = 0; j < count; j++) {
                memory[j] = LibC.malloc(size);
            }
            for (int j = 0; j < count; j++) {
                LibC.free(memory[j]);
            }
        };
    }

    /** What Java does instead of malloc: dropping the references is the free. */
    private static Round newByteRounds(int count, int size) {
        byte[][] memory = new byte[count][];
        return () -> {
            for (int j = 0; j < count; j++) {
                memory[j] = new byte[size];
            }
            Arrays.fill(memory, null);
        };
    }

    /** The JDK's own arena, used as the C test uses its pool. */
    private static Round jdkConfinedRounds(int count, int size) {
        MemorySegment[] memory = new MemorySegment[count];
        return () -> {
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                for (int j = 0; j < count; j++) {
                    memory[j] = arena.allocate(size);
                }
            }
        };
    }

    /** The C test's pool: initialised, used and freed each round. */
    private static Round closedPerRound(int count, int size, boolean zeroed) {
        MemorySegment[] memory = new MemorySegment[count];
        return () -> {
            try (Arena arena = Arena.builder().zeroed(zeroed).build()) {
                for (int j = 0; j < count; j++) {
                    memory[j] = arena.allocate(size);
                }
            }
        };
    }

    /** How a server uses an arena: one per connection, reset per request, blocks kept. */
    private static Round resetPerRound(int count, int size, boolean zeroed) {
        MemorySegment[] memory = new MemorySegment[count];
        long roundBytes = (long) count * size;
        Arena arena = Arena.builder().zeroed(zeroed)
                .retainBytes(Math.max(Arena.DEFAULT_BLOCK_SIZE, 2 * roundBytes)).build();
        return new Round() {
            @Override
            public void run() {
                for (int j = 0; j < count; j++) {
                    memory[j] = arena.allocate(size);
                }
                arena.reset();
            }

            @Override
            public void close() {
                arena.close();
            }
        };
    }

    /** What the command line asked for. */
    record Options(int rounds, int count, int size, List<Contender> contenders) {}

    /** What one contender measured. */
    record Result(Contender contender, double seconds, long allocations, long gcCount, long gcMillis) {
        double nanosPerAllocation() {
            return seconds * 1e9 / allocations;
        }
    }

    private MallocVersusPool() {}

    /** Runs the demo; exits with 2 on a bad option. */
    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Runs the demo with the given output streams; returns the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            err.println(usage());
            return 2;
        }
        if (options == null) {
            out.println(usage());
            return 0;
        }
        out.printf(Locale.ROOT, "%d rounds of %d allocations of %d bytes, freed at the end of each round;"
                + " each contender runs one warm-up round first.%n", options.rounds(), options.count(), options.size());
        out.println("JVM: " + System.getProperty("java.vm.name") + " " + Runtime.version() + ", "
                + ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName).toList()
                + ", options " + ManagementFactory.getRuntimeMXBean().getInputArguments());
        List<Result> results = new ArrayList<>();
        int index = 0;
        for (Contender contender : options.contenders()) {
            index++;
            results.add(measure(contender, options, new Progress(err, index, options.contenders().size(), contender)));
        }
        printTable(results, out);
        return 0;
    }

    static Result measure(Contender contender, Options options, Progress progress) {
        try (Round round = contender.prepare(options.count(), options.size())) {
            round.run();                                  // the warm-up round
            long gcCountBefore = gcCount();
            long gcMillisBefore = gcMillis();
            StopWatch watch = StopWatch.createStarted();
            for (int i = 0; i < options.rounds(); i++) {
                round.run();
                progress.roundDone(i + 1, options.rounds());
            }
            watch.stop();
            return new Result(contender, watch.getNanoTime() / 1e9, (long) options.rounds() * options.count(),
                    gcCount() - gcCountBefore, gcMillis() - gcMillisBefore);
        }
    }

    /** Shows which contender runs and how far it is: in place on a terminal, a line each otherwise. */
    static final class Progress {
        private final PrintStream err;
        private final String label;
        private final boolean terminal = System.console() != null;
        private int shownPercent = -1;

        Progress(PrintStream err, int index, int total, Contender contender) {
            this.err = err;
            this.label = "[" + index + "/" + total + "] " + contender.description;
            if (!terminal) {
                err.println(label + " ...");
            }
        }

        void roundDone(int done, int rounds) {
            int percent = (int) (100L * done / rounds);
            if (terminal && percent != shownPercent) {
                shownPercent = percent;
                err.print("\r" + label + ": " + percent + " %" + (done == rounds ? "\n" : ""));
            }
        }
    }

    static void printTable(List<Result> results, PrintStream out) {
        Result malloc = results.stream().filter(r -> r.contender() == Contender.MALLOC).findFirst().orElse(null);
        String format = "%-56s %-6s %9s %9s %12s %9s %8s%n";
        out.println();
        out.printf(Locale.ROOT, format, "contender", "zeroes", "seconds", "ns/alloc", "vs malloc", "GC count", "GC ms");
        for (Result r : results) {
            String ratio = malloc == null ? "n/a"
                    : String.format(Locale.ROOT, "%.2fx", r.nanosPerAllocation() / malloc.nanosPerAllocation());
            out.printf(Locale.ROOT, format, r.contender().description, r.contender().zeroes ? "yes" : "no",
                    String.format(Locale.ROOT, "%.3f", r.seconds()),
                    String.format(Locale.ROOT, "%.1f", r.nanosPerAllocation()),
                    ratio, r.gcCount(), r.gcMillis());
        }
        out.println();
        out.println("vs malloc: time relative to malloc/free (below 1x is faster). GC: collections during the"
                + " timed rounds.");
    }

    private static long gcCount() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
    }

    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
    }

    /** Parses the options; returns null for {@code --help}. */
    static Options parse(String[] args) {
        int rounds = 1000;
        int count = 5000;
        int size = 1000;
        List<Contender> contenders = List.of(Contender.values());
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (option.equals("--help") || option.equals("-h")) {
                return null;
            }
            // An option nobody knows is named as such, even last on the line, before any value is looked for.
            if (!List.of("--rounds", "--count", "--size", "--contenders").contains(option)) {
                throw new IllegalArgumentException("unknown option: " + option);
            }
            if (i + 1 == args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            String value = args[++i];
            switch (option) {
                case "--rounds" -> rounds = positive(option, value);
                case "--count" -> count = positive(option, value);
                case "--size" -> size = positive(option, value);
                default -> contenders = Arrays.stream(value.split(",")).map(String::trim)
                        .map(Contender::byOption).distinct().toList();
            }
        }
        return new Options(rounds, count, size, contenders);
    }

    private static int positive(String option, String value) {
        int number;
        try {
            number = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a positive whole number, not \"" + value + "\"");
        }
        if (number <= 0) {
            throw new IllegalArgumentException(option + " needs a positive whole number, not " + number);
        }
        return number;
    }

    static String usage() {
        StringBuilder names = new StringBuilder();
        for (Contender c : Contender.values()) {
            names.append(String.format(Locale.ROOT, "%n    %-20s %s", c.option, c.description));
        }
        return """
                usage: MallocVersusPool [--rounds N] [--count N] [--size BYTES] [--contenders NAME,...] [--help]

                The block-chain pool's timing test: each round allocates COUNT buffers of SIZE bytes, keeps
                them in an array, and frees them all. Defaults: --rounds 1000 --count 5000 --size 1000,
                every contender. Contenders:""" + names;
    }
}
