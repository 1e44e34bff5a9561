package io.arena4j.architecture.cycle;

/** With {@link Hen}, a dependency cycle that the architecture test must find. */
public final class Egg {

    /** {@return the hen this egg hatches into} */
    public Hen hatch() {
        return new Hen();
    }
}
