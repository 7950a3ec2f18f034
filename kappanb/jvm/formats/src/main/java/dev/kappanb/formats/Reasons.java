package dev.kappanb.formats;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A reason people can act on, from Flink's exception and the event. Runs only for
 * malformed events (a second parse of those few), never for valid ones.
 */
final class Reasons {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern AT_FIELD = Pattern.compile("Fail to deserialize at field: (.+?)\\.");
    private static final int MAX_VALUE = 80;

    private Reasons() {}

    static String explain(byte[] message, String flink, String[] names, String[] types) {
        JsonNode tree;
        try {
            tree = MAPPER.readTree(message);
        } catch (Exception e) {
            String jackson = e.getMessage() == null ? flink : e.getMessage();
            int at = jackson.indexOf("\n at [Source");
            return "not JSON: " + (at >= 0 ? jackson.substring(0, at) : jackson).trim();
        }
        if (tree == null || !tree.isObject()) {
            return "not a JSON object: " + flink;
        }
        List<String> missing = new ArrayList<>();
        for (String name : names) {
            if (!tree.has(name)) {
                missing.add("'" + name + "'");
            }
        }
        if (!missing.isEmpty()) {
            return "missing field " + String.join(", ", missing) + " (declared in the topic's schema)";
        }
        Matcher at = AT_FIELD.matcher(flink);
        if (at.find()) {
            String field = at.group(1);
            for (int i = 0; i < names.length; i++) {
                if (names[i].equals(field)) {
                    String value = tree.get(field).toString();
                    if (value.length() > MAX_VALUE) {
                        value = value.substring(0, MAX_VALUE) + "...";
                    }
                    return "wrong type: field '" + field + "' is " + value + ", not a " + types[i]
                            + " (" + flink + ")";
                }
            }
        }
        return flink;
    }

    /** Why a field's text is not a timestamp, with the value as the event has it. */
    static String badTimestamp(byte[] message, String field, String type, String detail) {
        String value;
        try {
            value = MAPPER.readTree(message).get(field).toString();
        } catch (Exception e) {
            value = "?";
        }
        if (value.length() > MAX_VALUE) {
            value = value.substring(0, MAX_VALUE) + "...";
        }
        return "bad timestamp: field '" + field + "' is " + value + ", not a " + type + ": "
                + detail + "; " + Timestamps.ACCEPTED;
    }
}
