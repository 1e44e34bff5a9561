package io.arena4j.architecture.cycle;

/** With {@link Egg}, a dependency cycle that the architecture test must find. */
public final class Hen {

    /** {@return an egg this hen lays} */
    public Egg lay() {
        return new Egg();
    }
}
