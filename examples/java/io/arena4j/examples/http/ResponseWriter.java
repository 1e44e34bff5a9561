package io.arena4j.examples.http;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;

/** Writes ASCII text into a segment: the response is built where it is sent from. */
final class ResponseWriter {

    private final MemorySegment buffer;
    private long position;

    ResponseWriter(MemorySegment buffer) {
        this.buffer = buffer;
    }

    ResponseWriter ascii(String text) {
        for (int i = 0; i < text.length(); i++) {
            buffer.set(JAVA_BYTE, position++, (byte) text.charAt(i));
        }
        return this;
    }

    ResponseWriter number(long value) {
        return ascii(Long.toString(value));
    }

    /** Writes {@code text} as a JSON string, quotes included. */
    ResponseWriter jsonString(MemorySegment text) {
        buffer.set(JAVA_BYTE, position++, (byte) '"');
        for (long i = 0; i < text.byteSize(); i++) {
            byte b = text.get(JAVA_BYTE, i);
            if (b == '"' || b == '\\') {
                buffer.set(JAVA_BYTE, position++, (byte) '\\');
                buffer.set(JAVA_BYTE, position++, b);
            } else if (b < 0x20 || b >= 0x7f) {
                ascii(String.format("\\u%04x", b & 0xff));
            } else {
                buffer.set(JAVA_BYTE, position++, b);
            }
        }
        buffer.set(JAVA_BYTE, position++, (byte) '"');
        return this;
    }

    /** {@return what was written so far} */
    MemorySegment written() {
        return buffer.asSlice(0, position);
    }
}
