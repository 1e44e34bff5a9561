package io.arena4j;

/**
 * What JConsole and JMX monitoring see of an {@link ArenaPool} built with
 * {@link ArenaPool.Builder#registerMXBean(boolean) registerMXBean(true)}: the figures of
 * {@link ArenaPool#statistics()}, under {@code io.arena4j:type=ArenaPool,name=}<em>its name</em>.
 *
 * {@snippet :
 * ArenaPool pool = ArenaPool.builder().name("http").registerMXBean(true).build();
 * ObjectName name = new ObjectName("io.arena4j:type=ArenaPool,name=\"http\"");
 * ArenaPoolMXBean bean = JMX.newMXBeanProxy(ManagementFactory.getPlatformMBeanServer(), name, ArenaPoolMXBean.class);
 * long reserved = bean.getReservedBytes();
 * }
 */
public interface ArenaPoolMXBean {

    /** {@return the pool's name} */
    String getName();

    /** {@return the arenas acquired and not yet closed} */
    int getLeased();

    /** {@return the arenas waiting for the next acquire} */
    int getIdle();

    /** {@return threads waiting for an arena because maxLeased arenas are leased} */
    int getWaiting();

    /** {@return the calls of {@code acquire()} that returned an arena} */
    long getAcquires();

    /** {@return the arenas made because none was idle} */
    long getArenasCreated();

    /** {@return the arenas whose blocks were freed} */
    long getArenasFreed();

    /** {@return the native memory freed as arenas came back, in bytes} */
    long getBytesTrimmed();

    /** {@return the native memory held by the pool's arenas now, in bytes} */
    long getReservedBytes();

    /** {@return the most native memory the pool's arenas ever held at once, in bytes} */
    long getPeakReservedBytes();

    /** {@return the leased arenas found unreachable without having been closed} */
    long getLeaks();
}
