package io.arena4j;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The leak reports of one test, which LeakDetection logs through System.Logger (here,
 * java.util.logging), taken from the console; and collections forced until a leak is found.
 * Register it with {@code @RegisterExtension}.
 */
final class LeakReports implements BeforeEachCallback, AfterEachCallback {

    /** Held here: java.util.logging keeps its loggers weakly. */
    private final Logger logger = Logger.getLogger("io.arena4j.LeakDetection");
    private final List<LogRecord> reports = new CopyOnWriteArrayList<>();
    /** Counted down at each report, so that a wait for one ends as soon as it comes. */
    private volatile CountDownLatch nextReport = new CountDownLatch(1);
    private final Handler collect = new Handler() {
        @Override
        public void publish(LogRecord record) {
            reports.add(record);
            nextReport.countDown();
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @Override
    public void beforeEach(ExtensionContext context) {
        logger.addHandler(collect);
        logger.setUseParentHandlers(false);      // the reports are the test's, not the console's
    }

    @Override
    public void afterEach(ExtensionContext context) {
        logger.removeHandler(collect);
        logger.setUseParentHandlers(true);
    }

    /** {@return every report so far} */
    List<LogRecord> all() {
        return List.copyOf(reports);
    }

    /** {@return the reports of leases of the pool called {@code pool}} */
    List<LogRecord> of(String pool) {
        return reports.stream().filter(r -> r.getMessage().contains("pool " + pool + " ")).toList();
    }

    /**
     * Forces collections until {@code condition} holds; false if it still does not after about
     * 10 s. After each collection it waits for the cleaner's next report, a bounded wait that
     * ends as soon as one comes: no timing is measured.
     */
    boolean collectUntil(BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 400 && !condition.getAsBoolean(); i++) {
            CountDownLatch report = new CountDownLatch(1);
            nextReport = report;
            System.gc();
            report.await(25, TimeUnit.MILLISECONDS);
        }
        return condition.getAsBoolean();
    }
}
