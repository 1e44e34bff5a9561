package io.arena4j.examples.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What one idle keep-alive connection costs the example server: opens connections to it on
 * loopback, has each answered once, and prints the server's resident memory before and after,
 * read from {@code /proc}. {@code examples/load-test --idle} runs it against both modes.
 *
 * <p>Usage: {@code IdleConnections PORT SERVER_PID CONNECTIONS}.
 */
public final class IdleConnections {

    private IdleConnections() {}

    /**
     * Opens the connections, measures, and closes them.
     *
     * @param args the server's port, its process id, and how many connections to open
     * @throws IOException if a connection fails or the server's memory cannot be read
     * @throws InterruptedException if interrupted while the server settles
     */
    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 3) {
            System.err.println("usage: IdleConnections PORT SERVER_PID CONNECTIONS");
            System.exit(2);
        }
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0]));
        Path status = Path.of("/proc", args[1], "status");
        int count = Integer.parseInt(args[2]);
        byte[] request = "GET /idle HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

        long before = residentKiB(status);
        List<SocketChannel> connections = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                SocketChannel connection = SocketChannel.open(server);
                connections.add(connection);
                connection.write(ByteBuffer.wrap(request));
            }
            for (SocketChannel connection : connections) {
                ByteBuffer status12 = ByteBuffer.allocate(12);
                while (status12.hasRemaining() && connection.read(status12) >= 0) {
                    // until the status line is in; the rest of the answer stays unread
                }
                if (!"HTTP/1.1 200".equals(new String(status12.array(), StandardCharsets.US_ASCII))) {
                    throw new IOException("unexpected answer on connection " + connections.indexOf(connection));
                }
            }
            Thread.sleep(2000);       // the server's threads park; resident memory settles
            long after = residentKiB(status);
            System.out.printf("%d idle connections: server RSS %d -> %d KiB, %.1f KiB per connection%n",
                    count, before, after, (after - before) / (double) count);
        } finally {
            for (SocketChannel connection : connections) {
                connection.close();
            }
        }
    }

    private static long residentKiB(Path status) throws IOException {
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IOException("no VmRSS in " + status);
    }
}
