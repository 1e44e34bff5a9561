package io.arena4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * An {@link Arena} driven by the fuzzer's bytes: its settings, then a program of allocations at
 * the edges of its rules, grows of the last, an older, an outer level's and a dead slice,
 * checkpoints closed in and out of order and twice, resets, a hand-off to another thread and
 * back, cleanup actions that throw, and a close. Beside it runs a model: the slices alive with
 * the byte written into each and their level, the cleanups registered in each level, and a
 * {@link ReferenceArena} that says which requests an arena which kept nothing would serve.
 *
 * <p>After every step: every live slice holds its bytes, a dead one throws on access, the bytes
 * handed out and the native bytes held are what the model says, and a refused call changed
 * nothing. Alignments above 16 are fuzzed in arenas without a limit, where no request but one
 * beyond any address space is refused, so the reference is not needed to tell which.
 */
class ArenaFuzzTest {

    private static final long[] BLOCK_SIZES = {256, 1024, 4096};
    private static final long[] ALIGNMENTS = {1, 2, 4, 8, 16, 32, 64, 4096};

    /** A slice the model expects alive: where the reference put it, its pattern, and its level. */
    private record Live(MemorySegment slice, ReferenceArena.Place place, byte pattern, int level) {}

    /** A cleanup action registered in a level, and whether it throws. */
    private static final class Cleanup implements Consumer<MemorySegment> {
        final int level;
        final boolean throwing;
        int runs;

        Cleanup(int level, boolean throwing) {
            this.level = level;
            this.throwing = throwing;
        }

        @Override
        public void accept(MemorySegment ignored) {
            runs++;
            if (throwing) {
                throw new IllegalStateException("cleanup of level " + level + " fails (fuzz)");
            }
        }
    }

    /** The model and the objects under test for one input. */
    private static final class Program {
        final FuzzedDataProvider data;
        final CountingBlocks blocks = new CountingBlocks();
        final long blockSize;
        final long maxBytes;
        final boolean zeroed;
        final boolean anyAlignment;
        final Arena arena;
        final ReferenceArena reference;
        final List<Live> live = new ArrayList<>();
        final List<MemorySegment> dead = new ArrayList<>();
        final List<Arena.Checkpoint> checkpoints = new ArrayList<>();
        final List<Arena.Checkpoint> closedCheckpoints = new ArrayList<>();
        final List<long[]> marks = new ArrayList<>();
        final List<Cleanup> cleanups = new ArrayList<>();
        ExecutorService other;
        long allocated;
        boolean closed;

        Program(FuzzedDataProvider data) {
            this.data = data;
            blockSize = data.pickValue(BLOCK_SIZES);
            maxBytes = data.consumeBoolean() ? Arena.UNLIMITED
                    : blockSize * data.consumeLong(1, 24) + data.consumeLong(0, blockSize);
            long retainBytes = Math.min(maxBytes, data.consumeLong(0, 16 * blockSize));
            zeroed = data.consumeBoolean();
            anyAlignment = maxBytes == Arena.UNLIMITED;
            arena = Arena.builder().blockAllocator(blocks).blockSize(blockSize).maxBytes(maxBytes)
                    .retainBytes(retainBytes).zeroed(zeroed).leakDetection(LeakDetection.OFF).build();
            reference = new ReferenceArena(blockSize, maxBytes);
        }

        int depth() {
            return checkpoints.size();
        }

        String state() {
            return arena + " out=" + blocks.outstandingBytes() + " allocations=" + blocks.allocatedBlocks();
        }

        long size() {
            return switch (data.consumeInt(0, 9)) {
                case 0 -> 0;
                case 1 -> data.consumeLong(1, 64);
                case 2 -> blockSize / 4 - 1 + data.consumeInt(0, 2);             // the large threshold ± 1
                case 3 -> blockSize - 1 + data.consumeInt(0, 2);                 // a block ± 1
                case 4 -> maxBytes == Arena.UNLIMITED ? data.consumeLong(1, 64 * blockSize)
                        : maxBytes - 1 + data.consumeInt(0, 2);                  // the limit ± 1
                case 5 -> data.pickValue(new long[] {Long.MAX_VALUE, Long.MAX_VALUE - 8, 1L << 62});
                default -> data.consumeLong(0, 3 * blockSize);
            };
        }

        /** Allocates, or checks that a refusal is the reference's and changed nothing. */
        void allocate() {
            long size = size();
            long alignment = anyAlignment ? data.pickValue(ALIGNMENTS) : 1L << data.consumeInt(0, 4);
            boolean huge = size > (1L << 40);
            ReferenceArena.Place expected = anyAlignment || huge ? null : reference.allocate(size, alignment);
            String before = state();
            MemorySegment slice;
            try {
                slice = arena.allocate(size, alignment);
            } catch (OutOfMemoryError refused) {
                assertTrue(huge || (!anyAlignment && expected == null), "refused " + size + " bytes aligned to "
                        + alignment + " that an arena which kept nothing serves: " + refused);
                assertEquals(maxBytes != Arena.UNLIMITED, refused instanceof ArenaLimitException, refused.toString());
                assertEquals(before, state(), "a refused request changes nothing");
                return;
            }
            assertFalse(huge, "a huge request was served");
            assertTrue(anyAlignment || expected != null, "served a request the reference refuses");
            assertEquals(size, slice.byteSize());
            assertEquals(0, slice.address() % alignment);
            if (zeroed) {
                assertTrue(TestSupport.isZero(slice), "zeroed");
            }
            addLive(slice, expected);
            allocated += size;
        }

        void addLive(MemorySegment slice, ReferenceArena.Place place) {
            for (Live l : live) {
                MemorySegment other = l.slice();
                assertTrue(slice.byteSize() == 0 || other.byteSize() == 0   // no bytes: may lie anywhere
                        || other.address() + other.byteSize() <= slice.address()
                        || slice.address() + slice.byteSize() <= other.address(),
                        () -> slice + " overlaps the live " + l + " in " + arena);
            }
            byte pattern = data.consumeByte();
            slice.fill(pattern);
            live.add(new Live(slice, place, pattern, depth()));
        }

        void grow() {
            int kind = data.consumeInt(0, 3);
            if (kind == 3 && !dead.isEmpty()) {
                MemorySegment stale = dead.get(data.consumeInt(0, dead.size() - 1));
                String before = state();
                assertThrows(IllegalStateException.class, () -> arena.grow(stale, stale.byteSize() + 1));
                assertEquals(before, state(), "growing a dead slice changes nothing");
                return;
            }
            List<Live> outer = live.stream().filter(l -> l.level() < depth()).toList();
            if (kind == 2 && !outer.isEmpty()) {
                Live old = outer.get(data.consumeInt(0, outer.size() - 1));
                String before = state();
                assertThrows(IllegalArgumentException.class, () -> arena.grow(old.slice(), old.slice().byteSize() + 1));
                assertEquals(before, state(), "growing an outer level's slice changes nothing");
                return;
            }
            List<Live> innermost = live.stream().filter(l -> l.level() == depth()).toList();
            if (innermost.isEmpty()) {
                return;
            }
            Live old = kind == 0 ? innermost.getLast() : innermost.get(data.consumeInt(0, innermost.size() - 1));
            long oldSize = old.slice().byteSize();
            long newSize = oldSize + data.consumeLong(0, 2 * blockSize);
            boolean modelled = old.place() != null;
            boolean inPlace = modelled && reference.growsInPlace(old.place(), oldSize, newSize - oldSize);
            ReferenceArena.Place copy = modelled && !inPlace
                    ? reference.allocate(newSize, Long.lowestOneBit(old.slice().address() | 16)) : null;
            String before = state();
            MemorySegment grown;
            try {
                grown = arena.grow(old.slice(), newSize);
            } catch (ArenaLimitException refused) {
                assertTrue(modelled && !inPlace && copy == null, "refused a grow the reference serves: " + refused);
                assertEquals(before, state(), "a refused grow changes nothing");
                return;
            }
            assertTrue(!modelled || inPlace || copy != null, "served a grow the reference refuses");
            assertTrue(!modelled || inPlace == (grown.address() == old.slice().address()),
                    "in place as the reference says");
            assertEquals(newSize, grown.byteSize());
            assertEquals(-1, grown.asSlice(0, oldSize).mismatch(old.slice()), "starts with the slice's bytes");
            if (zeroed) {
                assertTrue(TestSupport.isZero(grown.asSlice(oldSize)), "the new bytes read as zeros");
            }
            boolean grewInPlace = grown.address() == old.slice().address();
            if (grewInPlace) {
                live.removeIf(l -> l == old);   // by identity: segments are equal when their addresses are
                if (modelled) {
                    reference.growInPlace(newSize - oldSize);
                }
                allocated += newSize - oldSize;
                addLive(grown, old.place());
            } else {
                allocated += newSize;
                addLive(grown, copy);
            }
        }

        void checkpoint() {
            if (depth() < 6) {
                checkpoints.add(arena.checkpoint());
                marks.add(reference.mark());
            }
        }

        /** Closes a level and those inside it, or an already closed checkpoint, which must change nothing. */
        void closeCheckpoint() {
            if (data.consumeBoolean() && !closedCheckpoints.isEmpty()) {
                Arena.Checkpoint stale = closedCheckpoints.get(data.consumeInt(0, closedCheckpoints.size() - 1));
                String before = state();
                assertThrows(IllegalStateException.class, stale::close);
                assertEquals(before, state(), "closing a closed checkpoint changes nothing");
                return;
            }
            if (checkpoints.isEmpty()) {
                return;
            }
            int level = data.consumeInt(1, depth());
            Arena.Checkpoint checkpoint = checkpoints.get(level - 1);
            expectLevelsEnd(level, checkpoint::close);
            reference.rewind(marks.get(level - 1));
            closedCheckpoints.addAll(checkpoints.subList(level - 1, depth()));
            checkpoints.subList(level - 1, depth()).clear();
            marks.subList(level - 1, marks.size()).clear();
        }

        /**
         * Runs {@code end}, which ends the levels from {@code level} up: their slices die, their
         * cleanups run once each, and if any throws, {@code end} throws one of their exceptions
         * with the others suppressed, after the levels ended all the same.
         */
        void expectLevelsEnd(int level, Runnable end) {
            checkAllBytes();
            List<Cleanup> ending = cleanups.stream().filter(c -> c.level >= level).toList();
            long throwing = ending.stream().filter(c -> c.throwing).count();
            Throwable thrown = null;
            try {
                end.run();
            } catch (IllegalStateException e) {
                thrown = e;
            }
            assertEquals(throwing, thrown == null ? 0 : countWithSuppressed(thrown),
                    "every failing cleanup reported once");
            for (Cleanup cleanup : ending) {
                assertEquals(1, cleanup.runs, "each cleanup ran once");
            }
            cleanups.removeAll(ending);
            live.removeIf(l -> l.level() >= level && dead.add(l.slice()));
            allocated = live.stream().mapToLong(l -> l.slice().byteSize()).sum();
            if (dead.size() > 64) {
                dead.subList(0, 32).clear();
            }
        }

        void reset() {
            expectLevelsEnd(0, arena::reset);
            roundEnded();
        }

        void roundEnded() {
            reference.reset();
            closedCheckpoints.addAll(checkpoints);
            checkpoints.clear();
            marks.clear();
        }

        /**
         * Hands the arena to another thread and back: it refuses this thread while the other owns
         * it, and every slice of the other thread's round dies when it hands the arena back.
         */
        void handOff() throws InterruptedException, ExecutionException {
            expectLevelsEnd(0, arena::resetAndDisown);
            roundEnded();
            if (other == null) {
                other = Executors.newSingleThreadExecutor();
            }
            long size = data.consumeLong(0, 2 * blockSize);
            Future<MemorySegment> claimed = other.submit(() -> {
                try {
                    return arena.allocate(size);
                } catch (ArenaLimitException refused) {
                    return null;         // a refused request claims nothing
                }
            });
            MemorySegment otherSlice = claimed.get();
            if (otherSlice != null) {
                String before = state();
                assertInstanceOf(WrongThreadException.class,
                        assertThrows(RuntimeException.class, () -> arena.allocate(1)));
                assertInstanceOf(WrongThreadException.class, assertThrows(RuntimeException.class, arena::reset));
                assertEquals(before, state(), "a call from a thread that does not own the arena changes nothing");
                other.submit(arena::resetAndDisown).get();
                assertFalse(otherSlice.scope().isAlive(), "the other thread's slices died with its round");
            }
            arena.reset();           // claims the arena back: a reset is one of the calls that claim
        }

        /** Registers a cleanup action, which may throw, with a new view of a live slice or of nothing. */
        void registerCleanup() {
            Cleanup cleanup = new Cleanup(depth(), data.consumeBoolean());
            MemorySegment base = live.isEmpty() ? MemorySegment.NULL : live.getLast().slice();
            MemorySegment view = reinterpret(base, cleanup);     // registered in the innermost level
            assertEquals(arena.scope(), view.scope());
            cleanups.add(cleanup);
        }

        @SuppressWarnings("restricted")
        MemorySegment reinterpret(MemorySegment base, Cleanup cleanup) {
            return base.reinterpret(arena, cleanup);
        }

        void close() {
            expectLevelsEnd(0, arena::close);
            closed = true;
            assertThrows(IllegalStateException.class, () -> arena.allocate(1));
            assertThrows(IllegalStateException.class, arena::reset);
            assertThrows(IllegalStateException.class, arena::close);
            blocks.assertAllFreed();
        }

        void checkAllBytes() {
            for (Live l : live) {
                assertTrue(TestSupport.allBytes(l.slice(), l.pattern()), "a live slice lost its bytes");
            }
        }

        void checkInvariants() {
            assertEquals(allocated, arena.statistics().allocatedBytes(), "bytes handed out");
            assertEquals(arena.statistics().reservedBytes(), blocks.outstandingBytes(), "native bytes held");
            assertTrue(arena.statistics().reservedBytes() <= maxBytes, "the limit holds");
            if (!dead.isEmpty()) {
                MemorySegment stale = dead.get(data.consumeInt(0, dead.size() - 1));
                assertFalse(stale.scope().isAlive());
                if (stale.byteSize() > 0) {
                    assertThrows(IllegalStateException.class, () -> stale.get(JAVA_BYTE, 0));
                }
            }
        }

        private static long countWithSuppressed(Throwable thrown) {
            long count = 1;
            for (Throwable suppressed : thrown.getSuppressed()) {
                count += countWithSuppressed(suppressed);
            }
            return count;
        }
    }

    @FuzzTest(maxDuration = "")
    void arenaMatchesItsModel(FuzzedDataProvider data) throws Exception {
        Program program = new Program(data);
        try {
            for (int step = 0; step < 300 && data.remainingBytes() > 0 && !program.closed; step++) {
                switch (data.consumeInt(0, 12)) {
                    case 0, 1, 2, 3 -> program.allocate();
                    case 4, 5 -> program.grow();
                    case 6 -> program.checkpoint();
                    case 7 -> program.closeCheckpoint();
                    case 8 -> program.reset();
                    case 9 -> program.handOff();
                    case 10 -> program.registerCleanup();
                    case 11 -> program.checkAllBytes();
                    default -> program.close();
                }
                if (!program.closed) {
                    program.checkInvariants();
                }
            }
            if (!program.closed) {
                program.close();
            }
        } finally {
            if (program.other != null) {
                program.other.shutdownNow();
            }
        }
    }
}
