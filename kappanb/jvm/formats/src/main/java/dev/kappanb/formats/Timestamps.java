package dev.kappanb.formats;

import java.time.DateTimeException;
import java.time.LocalDate;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.TimestampType;

/**
 * Lenient ISO-8601 / SQL timestamp text, parsed by hand (no DateTimeFormatter: this runs for
 * every timestamp field of every event).
 *
 * <pre>
 *   yyyy-MM-dd ('T' | 't' | ' ') HH:mm [:ss [.f{1,9}]] [ 'Z' | 'z' | (+|-)HH[[:]mm] ]
 * </pre>
 *
 * Without an offset the time is UTC (jobs run in UTC). With one, the instant is taken and
 * expressed in UTC: for TIMESTAMP_LTZ that is the instant; for TIMESTAMP (without zone) it
 * is the UTC wall-clock time, the same rule as kappanb's produce of tz-aware datetimes.
 * Fractional digits beyond the column's precision are truncated.
 */
final class Timestamps {
    static final String ACCEPTED =
            "accepted: 2026-01-05T05:37:08.809 or with a space for the T, 0 to 9 fractional"
                    + " digits, seconds optional, and an optional offset Z, +05:30, -0800 or +05"
                    + " (none means UTC; an offset is converted to UTC)";
    private static final long[] TRUNCATE = {
        1_000_000_000L, 100_000_000L, 10_000_000L, 1_000_000L, 100_000L, 10_000L, 1_000L, 100L,
        10L, 1L
    };

    private Timestamps() {}

    /** The precision of a TIMESTAMP or TIMESTAMP_LTZ type; -1 for any other type. */
    static int precisionOf(LogicalType type) {
        if (type instanceof TimestampType) {
            return ((TimestampType) type).getPrecision();
        }
        if (type instanceof LocalZonedTimestampType) {
            return ((LocalZonedTimestampType) type).getPrecision();
        }
        return -1;
    }

    /** Why a text is not a timestamp. */
    static final class BadTimestamp extends Exception {
        private static final long serialVersionUID = 1L;

        BadTimestamp(String detail) {
            super(detail, null, false, false);
        }
    }

    /** The text as a timestamp (epoch-based, UTC), truncated to {@code precision} digits. */
    static TimestampData parse(String s, int precision) throws BadTimestamp {
        int n = s.length();
        if (n < 16) {
            throw new BadTimestamp(n == 0 ? "it is empty" : "it is too short for a date and a time");
        }
        int year = digits(s, 0, 4, "the year");
        expect(s, 4, '-');
        int month = digits(s, 5, 2, "the month");
        expect(s, 7, '-');
        int day = digits(s, 8, 2, "the day");
        char sep = s.charAt(10);
        if (sep != 'T' && sep != 't' && sep != ' ') {
            throw new BadTimestamp("character 11 is '" + sep + "', not a T or a space");
        }
        int hour = digits(s, 11, 2, "the hour");
        expect(s, 13, ':');
        int minute = digits(s, 14, 2, "the minute");
        int at = 16;
        int second = 0;
        long nanos = 0;
        if (at < n && s.charAt(at) == ':') {
            second = digits(s, at + 1, 2, "the second");
            at += 3;
            if (at < n && s.charAt(at) == '.') {
                int start = ++at;
                while (at < n && at - start < 10 && isDigit(s.charAt(at))) {
                    nanos = nanos * 10 + (s.charAt(at++) - '0');
                }
                int count = at - start;
                if (count == 0 || count > 9) {
                    throw new BadTimestamp(
                            count == 0 ? "no digits after the '.'" : "more than 9 fractional digits");
                }
                nanos *= TRUNCATE[count];
            }
        }
        int offsetSeconds = at < n ? offset(s, at) : 0;
        if (hour > 23 || minute > 59 || second > 59) {
            throw new BadTimestamp("the time " + s.substring(11, Math.min(n, 19)) + " is out of range");
        }
        long epochDay;
        try {
            epochDay = LocalDate.of(year, month, day).toEpochDay();
        } catch (DateTimeException e) {
            throw new BadTimestamp("the date " + s.substring(0, 10) + " does not exist");
        }
        long seconds = epochDay * 86_400L + hour * 3_600L + minute * 60L + second - offsetSeconds;
        long step = TRUNCATE[Math.max(0, Math.min(9, precision))];
        nanos -= nanos % step;
        return TimestampData.fromEpochMillis(
                seconds * 1_000L + nanos / 1_000_000L, (int) (nanos % 1_000_000L));
    }

    /** The offset at {@code at} to the end of the text, in seconds east of UTC. */
    private static int offset(String s, int at) throws BadTimestamp {
        int n = s.length();
        char sign = s.charAt(at);
        if ((sign == 'Z' || sign == 'z') && at + 1 == n) {
            return 0;
        }
        if (sign != '+' && sign != '-') {
            throw new BadTimestamp(
                    "unexpected '" + s.substring(at) + "' after the time (an offset is Z or +05:30)");
        }
        int rest = n - at - 1;
        if (rest != 2 && rest != 4 && !(rest == 5 && s.charAt(at + 3) == ':')) {
            throw new BadTimestamp("the offset '" + s.substring(at) + "' is not Z, +05:30, -0800 or +05");
        }
        int hours = digits(s, at + 1, 2, "the offset's hours");
        int minutes = rest == 2 ? 0 : digits(s, n - 2, 2, "the offset's minutes");
        if (hours > 18 || minutes > 59) {
            throw new BadTimestamp("the offset '" + s.substring(at) + "' is out of range");
        }
        int total = hours * 3_600 + minutes * 60;
        return sign == '-' ? -total : total;
    }

    private static int digits(String s, int from, int count, String what) throws BadTimestamp {
        if (from + count > s.length()) {
            throw new BadTimestamp("it ends before " + what);
        }
        int value = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (!isDigit(c)) {
                throw new BadTimestamp(what + " is not " + count + " digits");
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static void expect(String s, int at, char wanted) throws BadTimestamp {
        if (s.charAt(at) != wanted) {
            throw new BadTimestamp(
                    "character " + (at + 1) + " is '" + s.charAt(at) + "', not '" + wanted + "'");
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
