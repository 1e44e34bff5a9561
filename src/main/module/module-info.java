/**
 * arena4j: request- and connection-scoped off-heap memory for servers. The module exports one
 * package, {@code io.arena4j}; see its summary.
 *
 * <p>Its arenas call restricted methods of {@code java.lang.foreign}, so programs that use it
 * grant it native access: {@code --enable-native-access=io.arena4j} on the module path, or
 * {@code --enable-native-access=ALL-UNNAMED} on the class path.
 */
module io.arena4j {
    requires java.management;     // ArenaPool's optional MXBean
    requires jdk.jfr;             // the events of Events
    exports io.arena4j;
}
