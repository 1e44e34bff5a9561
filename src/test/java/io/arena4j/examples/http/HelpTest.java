package io.arena4j.examples.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What {@code bash examples/http-server [--netty] --help} prints: the usage, then what each option does. */
class HelpTest {

    /** An example server's main, its usage line and its help text. */
    record Server(Main main, String usage, String help) {}

    @FunctionalInterface
    interface Main {
        void run(String[] args) throws Exception;
    }

    private static Server server(String name) {
        return name.equals("netty")
                ? new Server(NettyHttpServer::main, NettyHttpServer.USAGE, NettyHttpServer.HELP)
                : new Server(ArenaHttpServer::main, ArenaHttpServer.USAGE, ArenaHttpServer.HELP);
    }

    @ParameterizedTest
    @ValueSource(strings = {"arena", "netty"})
    void helpSaysWhatEveryOptionOfTheUsageDoes(String name) {
        Server server = server(name);
        assertTrue(server.help().startsWith(server.usage() + "\n"), server.help());
        List<String> options = Pattern.compile("--[a-z-]+").matcher(server.usage()).results()
                .map(option -> option.group()).toList();
        assertTrue(options.size() >= 5, options.toString());
        for (String option : options) {
            assertTrue(Pattern.compile("(?m)^  " + option + " +\\S").matcher(server.help()).find(),
                    "a line of the help explains " + option + ":\n" + server.help());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"arena", "netty"})
    void mainPrintsTheHelpAndStartsNothing(String name) throws Exception {
        Server server = server(name);
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            server.main().run(new String[] {"--port", "1", "--help"});
        } finally {
            System.setOut(stdout);
        }
        assertEquals(server.help(), printed.toString(StandardCharsets.UTF_8));
    }
}
