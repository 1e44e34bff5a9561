package io.arena4j.examples.http;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The request line and headers of one HTTP/1.1 request, as slices of the buffer they were read
 * into: parsing copies nothing.
 *
 * @param method   the method token, e.g. {@code GET}
 * @param target   the request target, e.g. {@code /items/1}
 * @param version  {@code HTTP/1.1} or {@code HTTP/1.0}
 * @param headers  every header line, in order
 * @param length   the bytes of the head, final empty line included
 */
record RequestHead(MemorySegment method, MemorySegment target, MemorySegment version, List<Header> headers,
                   long length) {

    /** One header line: name and value, the value without surrounding blanks. */
    record Header(MemorySegment name, MemorySegment value) {}

    /** The request is malformed: the server answers 400 and closes the connection. */
    static final class MalformedException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedException(String message) {
            super(message, null, false, false);
        }
    }

    /** Where the head ends in {@code buffer[0, filled)}: the offset after the first CRLF CRLF, or -1. */
    static long endOfHead(MemorySegment buffer, long filled) {
        for (long i = 3; i < filled; i++) {
            if (buffer.get(JAVA_BYTE, i) == '\n' && buffer.get(JAVA_BYTE, i - 1) == '\r'
                    && buffer.get(JAVA_BYTE, i - 2) == '\n' && buffer.get(JAVA_BYTE, i - 3) == '\r') {
                return i + 1;
            }
        }
        return -1;
    }

    /** Parses {@code buffer[0, end)}, where {@code end} came from {@link #endOfHead}. */
    static RequestHead parse(MemorySegment buffer, long end) throws MalformedException {
        long lineEnd = indexOf(buffer, 0, end, '\r');
        long firstSpace = indexOf(buffer, 0, lineEnd, ' ');
        long secondSpace = indexOf(buffer, firstSpace + 1, lineEnd, ' ');
        if (firstSpace <= 0 || secondSpace <= firstSpace + 1 || secondSpace >= lineEnd) {
            throw new MalformedException("request line is not METHOD SP TARGET SP VERSION");
        }
        MemorySegment method = buffer.asSlice(0, firstSpace);
        MemorySegment target = buffer.asSlice(firstSpace + 1, secondSpace - firstSpace - 1);
        MemorySegment version = buffer.asSlice(secondSpace + 1, lineEnd - secondSpace - 1);
        if (!isToken(method) || !(equalsAscii(version, "HTTP/1.1") || equalsAscii(version, "HTTP/1.0"))
                || buffer.get(JAVA_BYTE, lineEnd + 1) != '\n') {
            throw new MalformedException("bad method or version");
        }
        List<Header> headers = new ArrayList<>();
        long start = lineEnd + 2;
        while (start < end - 2) {
            long stop = indexOf(buffer, start, end, '\r');
            if (stop + 1 >= end || buffer.get(JAVA_BYTE, stop + 1) != '\n') {
                throw new MalformedException("header line without CRLF");
            }
            long colon = indexOf(buffer, start, stop, ':');
            MemorySegment name = buffer.asSlice(start, Math.max(0, colon - start));
            if (colon >= stop || !isToken(name)) {
                throw new MalformedException("header line without a name");
            }
            headers.add(new Header(name, trim(buffer.asSlice(colon + 1, stop - colon - 1))));
            start = stop + 2;
        }
        return new RequestHead(method, target, version, headers, end);
    }

    /** {@return the value of the first header named {@code name}, ignoring case, or null} */
    MemorySegment header(String name) {
        for (Header header : headers) {
            if (equalsAsciiIgnoreCase(header.name(), name)) {
                return header.value();
            }
        }
        return null;
    }

    /** {@return the values of every header named {@code name}, ignoring case, in order} */
    List<MemorySegment> headers(String name) {
        List<MemorySegment> values = new ArrayList<>();
        for (Header header : headers) {
            if (equalsAsciiIgnoreCase(header.name(), name)) {
                values.add(header.value());
            }
        }
        return values;
    }

    /** Whether the client wants the connection kept open after this request. */
    boolean keepAlive() {
        MemorySegment connection = header("Connection");
        if (equalsAscii(version, "HTTP/1.0")) {
            return connection != null && equalsAsciiIgnoreCase(connection, "keep-alive");
        }
        return connection == null || !equalsAsciiIgnoreCase(connection, "close");
    }

    /** {@return the index of the first {@code c} in {@code buffer[from, to)}, or {@code to}} */
    static long indexOf(MemorySegment buffer, long from, long to, char c) {
        for (long i = from; i < to; i++) {
            if (buffer.get(JAVA_BYTE, i) == c) {
                return i;
            }
        }
        return to;
    }

    /** {@return the segment without the blanks (spaces and tabs) around it} */
    static MemorySegment trim(MemorySegment segment) {
        long start = 0;
        long end = segment.byteSize();
        while (start < end && isBlank(segment.get(JAVA_BYTE, start))) {
            start++;
        }
        while (end > start && isBlank(segment.get(JAVA_BYTE, end - 1))) {
            end--;
        }
        return segment.asSlice(start, end - start);
    }

    private static boolean isBlank(byte b) {
        return b == ' ' || b == '\t';
    }

    /** RFC 9110 token characters: visible ASCII except delimiters. */
    private static boolean isToken(MemorySegment segment) {
        if (segment.byteSize() == 0) {
            return false;
        }
        for (long i = 0; i < segment.byteSize(); i++) {
            byte b = segment.get(JAVA_BYTE, i);
            if (b <= ' ' || b >= 127 || "\"(),/:;<=>?@[\\]{}".indexOf(b) >= 0) {
                return false;
            }
        }
        return true;
    }

    static boolean equalsAscii(MemorySegment segment, String ascii) {
        return equalsAscii(segment, ascii, false);
    }

    static boolean equalsAsciiIgnoreCase(MemorySegment segment, String ascii) {
        return equalsAscii(segment, ascii, true);
    }

    /** Compares in place, without decoding the bytes into a String. */
    private static boolean equalsAscii(MemorySegment segment, String ascii, boolean ignoreCase) {
        if (segment.byteSize() != ascii.length()) {
            return false;
        }
        for (int i = 0; i < ascii.length(); i++) {
            char b = (char) segment.get(JAVA_BYTE, i);
            char c = ascii.charAt(i);
            if (b != c && !(ignoreCase && Character.toLowerCase(b) == Character.toLowerCase(c))) {
                return false;
            }
        }
        return true;
    }
}
