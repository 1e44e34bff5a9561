package io.arena4j;

/**
 * Sixty-four bytes, and the gap after the object header, before the fields of a subclass that one
 * thread writes on every lease. Objects of two threads may lie side by side, after a collection
 * has moved them if not before, and two threads writing to one cache line slow each other down
 * as much as a shared lock would.
 */
@SuppressWarnings("unused")
abstract class CacheLinePadding {
    private int inHeaderGap;      // else the JVM puts a subclass's int there, next to another object
    private long p01, p02, p03, p04, p05, p06, p07, p08;
}
