package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile programs against "a round starts in its first kept block": seeded sequences of resets,
 * hand-offs to other threads (platform and virtual), new leases, checkpoints, empty slices,
 * alignments from 1 to 4096, large requests, grows and refusals, under tight {@code maxBytes},
 * a pool's {@code maxTotalBytes} with another leased arena and idle arenas beside, or both, each
 * request checked against {@link NothingKeptModel}, an arena that kept nothing (see
 * {@link ModelledArena} for every check). The native memory held never crosses the bound at any
 * instant ({@link CountingBlocks} fails the allocation that would), every native byte held is one
 * the arena or pool counts, and at the end every one is freed.
 *
 * <p>A seed fixes the program's choices, but not where the C library puts blocks, and where a
 * slice aligned beyond 16 lands depends on that, as do the sizes chosen to fill a block exactly:
 * two runs of one seed may differ. A failure names the calls that led to it.
 */
class RoundStartHostileModelTest {

    enum Bound { NONE, ARENA_LIMIT, POOL_BUDGET, BOTH }

    private static final long[] BLOCK_SIZES = {256, 1000, 1008, 4096};
    private static final int STEPS = 2_500;

    static List<Arguments> programs() {
        List<Arguments> programs = new ArrayList<>();
        for (Bound bound : Bound.values()) {
            for (long blockSize : BLOCK_SIZES) {
                for (long seed = 1; seed <= 2; seed++) {
                    programs.add(Arguments.of(bound, blockSize, seed * 7919 + blockSize));
                }
            }
        }
        return programs;
    }

    @ParameterizedTest(name = "{0}, blocks of {1}, seed {2}")
    @MethodSource("programs")
    void everyAnswerIsThatOfAnArenaThatKeptNothing(Bound bound, long blockSize, long seed) throws Exception {
        Program program = new Program(bound, blockSize, seed);
        boolean first = true;
        int handOffs = 0;
        while (true) {
            Program.Segment segment = program.new Segment(first);
            first = false;
            Thread thread = handOffs % 2 == 0 ? Thread.ofVirtual().start(segment) : Thread.ofPlatform().start(segment);
            thread.join();
            if (segment.failure != null) {
                throw new AssertionError("in segment " + handOffs + " of " + program + ", after\n"
                        + String.join("\n", program.main.trace), segment.failure);
            }
            if (!segment.handedOff) {
                break;
            }
            handOffs++;
        }
        program.blocks.assertAllFreed();
        ModelledArena main = program.main;
        assertTrue(main.served > 200 && main.grownInPlace > 10 && main.grownByCopy > 10,
                "every kind of outcome happened: " + main.counts());
        assertTrue(bound == Bound.NONE || main.refused > 10, "refusals happened: " + main.counts());
        assertTrue(program.retainBytes < blockSize || main.roundStartChecks + main.largeAtRoundStart > 5,
                "rounds started in kept blocks: " + main.counts());
        assertTrue(handOffs > 2, "the arena changed threads: " + handOffs);
    }

    /** One program: its settings, its pool, and the state segments on successive threads share. */
    static final class Program {
        final Bound bound;
        final long blockSize;
        final long seed;
        final SplittableRandom random;
        final long maxBytes;
        final long maxTotalBytes;
        final long retainBytes;
        final boolean zeroed;
        /** How often a round ends beside the usual 2 %: short rounds make many round starts. */
        final int roundEndsPerMille;
        final CountingBlocks blocks;
        final ArenaPool pool;
        ModelledArena main;
        Arena helper;
        int step;

        Program(Bound bound, long blockSize, long seed) {
            this.bound = bound;
            this.blockSize = blockSize;
            this.seed = seed;
            random = new SplittableRandom(seed);
            boolean arenaLimit = bound == Bound.ARENA_LIMIT || bound == Bound.BOTH;
            boolean poolBudget = bound == Bound.POOL_BUDGET || bound == Bound.BOTH;
            maxBytes = arenaLimit ? random.nextLong(3, 12) * blockSize + random.nextLong(blockSize) : Arena.UNLIMITED;
            maxTotalBytes = poolBudget ? random.nextLong(5, 16) * blockSize + random.nextLong(blockSize)
                    : Arena.UNLIMITED;
            long retainCap = Math.min(maxBytes, Math.min(maxTotalBytes / 2, 6 * blockSize));
            retainBytes = switch (random.nextInt(4)) {
                case 0 -> blockSize;
                case 1 -> 2 * blockSize + random.nextLong(blockSize);
                case 2 -> random.nextLong(0, retainCap + 1);
                default -> retainCap;
            };
            zeroed = random.nextInt(4) > 0;
            roundEndsPerMille = random.nextBoolean() ? 0 : random.nextInt(50, 200);
            blocks = new CountingBlocks(poolBudget ? maxTotalBytes : maxBytes);
            pool = !poolBudget ? null : ArenaPool.builder()
                    .arenas(arenas()).maxTotalBytes(maxTotalBytes).leakDetection(LeakDetection.OFF).build();
        }

        Arena.Builder arenas() {
            return Arena.builder().blockAllocator(blocks).blockSize(blockSize).maxBytes(maxBytes)
                    .retainBytes(retainBytes).zeroed(zeroed).leakDetection(LeakDetection.OFF);
        }

        String state() {
            return main.arena + " " + (helper == null ? "" : helper.toString()) + " "
                    + (pool == null ? "" : pool.statistics()) + " out=" + blocks.outstandingBytes() + " blocks="
                    + blocks.allocatedBlocks();
        }

        /** The bound on the main arena now: its own limit, and the budget less what the helper holds. */
        long limit() {
            return pool == null ? maxBytes : Math.min(maxBytes, maxTotalBytes - helper.statistics().reservedBytes());
        }

        @Override
        public String toString() {
            return "Program[" + bound + ", blockSize=" + blockSize + ", seed=" + seed + ", maxBytes=" + maxBytes
                    + ", maxTotalBytes=" + maxTotalBytes + ", retainBytes=" + retainBytes + ", zeroed=" + zeroed
                    + ", roundEndsPerMille=" + roundEndsPerMille + ", step=" + step + "]";
        }

        /** Steps on one thread, until the program ends or hands the arenas off to the next thread. */
        final class Segment implements Runnable {
            final boolean first;
            boolean handedOff;
            Throwable failure;

            Segment(boolean first) {
                this.first = first;
            }

            @Override
            public void run() {
                try {
                    if (first) {
                        start();
                    }
                    handedOff = steps();
                    if (!handedOff) {
                        finish();
                    }
                } catch (Throwable t) {
                    failure = t;
                }
            }
        }

        private void start() {
            Arena arena = pool == null ? arenas().build() : pool.acquire();
            main = new ModelledArena(arena, blockSize, zeroed, random, blocks, this::state);
            if (pool != null) {
                helper = pool.acquire();
            }
        }

        /** {@return whether the arenas were disowned, for another thread to take over} */
        private boolean steps() {
            while (step < STEPS) {
                step++;
                int dice = step % 500 == 0 ? 0 : random.nextInt(200);     // a hand-off at least every 500 steps
                if (dice < 4 || random.nextInt(1000) < roundEndsPerMille) {
                    if (endRound(dice)) {
                        return true;
                    }
                } else if (dice < 12 && main.checkpoints.size() < 4) {
                    main.checkpoint();
                } else if (dice < 18) {
                    main.closeCheckpoint();
                } else if (dice < 20) {
                    main.growForbiddenKinds();
                } else if (dice < 21) {
                    main.scope();
                } else if (dice < 26 && pool != null) {
                    helperStep();
                } else if (dice < 60) {
                    main.grow(limit());
                } else {
                    main.allocate(limit());
                }
                main.checkFigures(maxBytes);
                long held = pool == null ? main.arena.statistics().reservedBytes() : pool.reservedBytes();
                assertEquals(held, blocks.outstandingBytes(), "every native byte out is counted");
                assertTrue(held <= (pool == null ? maxBytes : maxTotalBytes), "the bound holds");
                if (step % 64 == 0) {
                    main.checkPatterns();
                }
            }
            return false;
        }

        /** Resets, hands off, or (in a pool) takes a new lease; {@return whether it handed off} */
        private boolean endRound(int dice) {
            main.endRound();
            if (dice == 0) {
                main.trace("resetAndDisown(), then another thread");
                main.arena.resetAndDisown();
                if (helper != null) {
                    helper.resetAndDisown();
                }
                main.dead.clear();     // a dead slice read from another thread throws WrongThreadException
                main.startRound(true, retainBytes);
                main.owned = false;
                return true;
            }
            if (dice == 1 && pool != null) {
                main.trace("close(), acquire()");
                main.arena.close();
                main.dead.clear();
                if (random.nextBoolean()) {
                    TestSupport.leaveIdleArenas(pool, random, blockSize, 4);
                }
                main.arena = pool.acquire();
                main.owned = true;
                main.startRound(false, retainBytes);
                return false;
            }
            main.trace("reset()");
            main.arena.reset();
            main.owned = true;
            main.startRound(true, retainBytes);
            return false;
        }

        /** The other leased arena allocates, resets, or is returned and leased again. */
        private void helperStep() {
            int dice = random.nextInt(10);
            main.trace("helper " + dice + " holding " + helper.statistics().reservedBytes());
            if (dice == 0) {
                helper.reset();
            } else if (dice == 1) {
                helper.close();
                helper = pool.acquire();
            } else {
                String before = state();
                try {
                    helper.allocate(random.nextLong(1, 2 * blockSize), 1L << random.nextInt(5));
                } catch (ArenaLimitException e) {
                    assertEquals(before, state(), "a refused request of the other arena changes nothing");
                }
            }
        }

        private void finish() {
            main.checkPatterns();
            main.arena.close();
            if (helper != null) {
                helper.close();
            }
            if (pool != null) {
                pool.close();
            }
        }
    }
}
