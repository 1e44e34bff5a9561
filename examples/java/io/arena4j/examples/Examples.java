package io.arena4j.examples;

import java.io.PrintStream;
import java.util.List;

/**
 * What {@code mvn -q test-compile exec:exec@example -Dexample=NAME} starts: the example of that
 * name, with {@code -Dexample.args="..."} as its arguments. Without {@code -Dexample} it lists the
 * examples. A name it does not know gets the list too, on standard error, and exit status 2, so
 * that a typo is not mistaken for a run; Maven then adds its own report of the failed command.
 *
 * <p>The name comes as the system property {@code arena4j.example} (the pom passes it), not as an
 * argument, so that the example's own arguments, {@code --help} among them, reach the example.
 */
public final class Examples {

    /** An example's {@code main}. */
    @FunctionalInterface
    interface Main {
        void run(String[] args) throws Exception;
    }

    /** One example: the name {@code -Dexample} takes, what it shows, and its {@code main}. */
    record Example(String name, String shows, Main main) {}

    /** Every example with a {@code main} in this package, in the order the README's table lists them. */
    static final List<Example> ALL = List.of(
            new Example("FirstProgram", "the README's first program: an arena per connection, reset per request",
                    FirstProgram::main),
            new Example("QuickStart", "reset, a large request, an arena's settings, a SlotPool",
                    QuickStart::main),
            new Example("RequestScopes", "a checkpoint per request in a connection's arena; a body grown in place",
                    RequestScopes::main),
            new Example("PoolBounds", "a pool with a memory budget and a bound on leases; its statistics",
                    PoolBounds::main),
            new Example("SessionTable", "a day of logins whose peak overflows a SlotPool of 6000 slots",
                    SessionTable::main),
            new Example("MallocVersusPool", "rounds of 5000 allocations of 1000 bytes: malloc/free, the JDK's"
                    + " arenas and arena4j's (-Dexample.args=--help: its options)", MallocVersusPool::main));

    private Examples() {}

    /** Runs the example named by {@code -Darena4j.example}, or lists them all. */
    public static void main(String[] args) throws Exception {
        int status = run(System.getProperty("arena4j.example", ""), args, System.out, System.err);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Runs the example called {@code name} with {@code args}, or lists them all; returns the exit status. */
    static int run(String name, String[] args, PrintStream out, PrintStream err) throws Exception {
        if (name.isEmpty()) {
            out.print(list());
            return 0;
        }
        for (Example example : ALL) {
            if (example.name().equals(name)) {
                example.main().run(args);
                return 0;
            }
        }
        err.println("error: no example is called " + name);
        err.print(list());
        return 2;
    }

    /** The examples, one a line, and how to run one. */
    static String list() {
        StringBuilder list = new StringBuilder("Run an example with"
                + " mvn -q test-compile exec:exec@example -Dexample=NAME [-Dexample.args=\"...\"]\n");
        for (Example example : ALL) {
            list.append(String.format("  %-17s %s%n", example.name(), example.shows()));
        }
        return list.append("The HTTP server, its Netty peer and the load test start from scripts:"
                + " see docs/server.md.\n").toString();
    }
}
