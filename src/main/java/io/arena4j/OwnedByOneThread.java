package io.arena4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Confinement, as the JDK's confined session has it, with a hand-off: an object owned by one
 * thread at a time. Its owner may give it up ({@link #disown()}); the next thread to
 * {@linkplain #claim() claim} it then owns it, and two threads can never both succeed.
 *
 * <p>The owner is a plain field, read without a fence on every call of the owner: a thread sees
 * itself there only if it wrote itself there, and the claim's compare-and-set and the disown's
 * release publish everything the last owner did to the next one.
 */
abstract sealed class OwnedByOneThread permits Arena {

    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(OwnedByOneThread.class, "owner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The owner, or null between {@link #disown()} and the next {@link #claim()}. */
    Thread owner = Thread.currentThread();

    /** {@return whether the calling thread owns this object} */
    final boolean ownedByCaller() {
        return owner == Thread.currentThread();
    }

    /**
     * Makes the calling thread, which does not own this object, its owner if nobody does.
     *
     * @throws WrongThreadException if another thread owns it
     */
    final void claim() {
        Thread caller = Thread.currentThread();
        Thread holder = (Thread) OWNER.compareAndExchange(this, (Thread) null, caller);
        if (holder != null) {
            throw wrongThread(holder, caller);
        }
    }

    /** Gives up ownership, publishing every write of the owner to the thread that claims it next. */
    final void disown() {
        OWNER.setRelease(this, (Thread) null);
    }

    /**
     * Refuses a caller other than the owner without claiming an object nobody owns: for calls that
     * need something only an owner can have made, such as a live slice or an open checkpoint.
     *
     * @throws WrongThreadException if another thread owns it
     */
    final void refuseOtherOwner() {
        Thread holder = owner;
        Thread caller = Thread.currentThread();
        if (holder != caller && holder != null) {
            throw wrongThread(holder, caller);
        }
    }

    /** {@return the owner's name, or "none"} */
    final String ownerName() {
        Thread holder = owner;
        return holder == null ? "none" : holder.getName();
    }

    /** The JDK's message for a confined arena used from another thread, with both threads named. */
    private static WrongThreadException wrongThread(Thread holder, Thread caller) {
        return new WrongThreadException("Attempted access outside owning thread: the arena is owned by \""
                + holder.getName() + "\", not by the calling thread \"" + caller.getName() + "\"");
    }
}
