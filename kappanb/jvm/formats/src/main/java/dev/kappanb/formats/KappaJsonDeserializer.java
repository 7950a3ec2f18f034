package dev.kappanb.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.types.logical.RowType;

/**
 * Flink's JSON deserializer, one parse per event; a failure becomes a row with NULL fields
 * and the reason in the metadata instead of an exception (when metadata is requested).
 * Without metadata (fail-fast) the exception suppresses restarts: the same event would fail
 * every restart again, so the job ends FAILED at once with the event's reason, and the
 * restart strategy's tries are left for failures that a restart does fix (a lost
 * TaskManager that takes a while to come back).
 */
final class KappaJsonDeserializer implements DeserializationSchema<RowData> {
    private static final long serialVersionUID = 1L;
    private static final int MAX_REASON = 1000;

    private final DeserializationSchema<RowData> json;
    private final int arity;
    private final String[] fieldNames;
    private final String[] fieldTypes;
    private final int[] notNull;
    private final int[] timestampFields;
    private final int[] timestampPrecisions;
    private final String[] metadataKeys;
    private final TypeInformation<RowData> producedType;

    KappaJsonDeserializer(
            DeserializationSchema<RowData> json,
            RowType physical,
            Set<String> notNull,
            List<String> metadataKeys,
            TypeInformation<RowData> producedType) {
        this.json = json;
        this.arity = physical.getFieldCount();
        this.fieldNames = physical.getFieldNames().toArray(new String[0]);
        this.fieldTypes = new String[arity];
        for (int i = 0; i < arity; i++) {
            fieldTypes[i] = physical.getTypeAt(i).copy(true).asSummaryString();
        }
        List<Integer> required = new ArrayList<>();
        for (int i = 0; i < arity; i++) {
            if (!physical.getTypeAt(i).isNullable() || notNull.contains(fieldNames[i])) {
                required.add(i);
            }
        }
        this.notNull = required.stream().mapToInt(Integer::intValue).toArray();
        List<Integer> timestamps = new ArrayList<>();
        for (int i = 0; i < arity; i++) {
            if (Timestamps.precisionOf(physical.getTypeAt(i)) >= 0) {
                timestamps.add(i);
            }
        }
        this.timestampFields = timestamps.stream().mapToInt(Integer::intValue).toArray();
        this.timestampPrecisions = new int[timestampFields.length];
        for (int k = 0; k < timestampFields.length; k++) {
            timestampPrecisions[k] = Timestamps.precisionOf(physical.getTypeAt(timestampFields[k]));
        }
        this.metadataKeys = metadataKeys.toArray(new String[0]);
        this.producedType = producedType;
    }

    @Override
    public void open(InitializationContext context) throws Exception {
        json.open(context);
    }

    @Override
    public RowData deserialize(byte[] message) throws IOException {
        if (message == null) {
            // A record without a value (a tombstone): kept only where its bytes are asked
            // for (an archive keeps every record), as a row of NULLs; runs skip it as before.
            return keepsBytes() ? withMetadata(null, null, null) : null;
        }
        RowData row;
        String error;
        try {
            row = json.deserialize(message);
            error = row == null ? null : parseTimestamps((GenericRowData) row, message);
            error = row == null || error != null ? error : missingRequired(row);
        } catch (Exception e) {
            if (metadataKeys.length == 0) {
                throw new SuppressRestartsException(e);
            }
            row = null;
            error = Reasons.explain(message, reason(e), fieldNames, fieldTypes);
        }
        if (error != null && metadataKeys.length == 0) {
            throw new SuppressRestartsException(new IOException(error));
        }
        if (metadataKeys.length == 0 || (row == null && error == null)) {
            return row;
        }
        return withMetadata(error == null ? (GenericRowData) row : null, error, message);
    }

    private boolean keepsBytes() {
        for (String key : metadataKeys) {
            if (KappaJsonDecodingFormat.BYTES.equals(key)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The row with the requested metadata after its fields: a valid row's fields ({@code
     * valid}) or NULLs; {@code error}, {@code raw} and {@code raw-encoding} only for a
     * malformed event; {@code bytes} (the value as it was, NULL for none) always.
     */
    private RowData withMetadata(GenericRowData valid, String error, byte[] message) {
        GenericRowData out = new GenericRowData(arity + metadataKeys.length);
        if (valid != null) {
            out.setRowKind(valid.getRowKind());
            for (int i = 0; i < arity; i++) {
                out.setField(i, valid.getField(i));
            }
        }
        String[] raw = error == null ? null : raw(message);
        for (int k = 0; k < metadataKeys.length; k++) {
            Object value;
            switch (metadataKeys[k]) {
                case KappaJsonDecodingFormat.BYTES:
                    value = message;
                    break;
                case KappaJsonDecodingFormat.ERROR:
                    value = error == null ? null : StringData.fromString(error);
                    break;
                case KappaJsonDecodingFormat.RAW:
                    value = raw == null ? null : StringData.fromString(raw[0]);
                    break;
                default:
                    value = raw == null ? null : StringData.fromString(raw[1]);
            }
            out.setField(arity + k, value);
        }
        return out;
    }

    /** Replaces each timestamp field's text (Flink decoded it as a string) by its value. */
    private String parseTimestamps(GenericRowData row, byte[] message) {
        for (int k = 0; k < timestampFields.length; k++) {
            int i = timestampFields[k];
            Object text = row.getField(i);
            if (text == null) {
                continue;
            }
            try {
                row.setField(i, Timestamps.parse(text.toString(), timestampPrecisions[k]));
            } catch (Timestamps.BadTimestamp e) {
                return Reasons.badTimestamp(message, fieldNames[i], fieldTypes[i], e.getMessage());
            }
        }
        return null;
    }

    private String missingRequired(RowData row) {
        for (int i : notNull) {
            if (row.isNullAt(i)) {
                return "field '" + fieldNames[i] + "' is missing or null, and the schema declares"
                        + " it NOT NULL";
            }
        }
        return null;
    }

    /** The messages of the cause chain, without Flink's "Failed to deserialize JSON '...'". */
    static String reason(Throwable e) {
        StringBuilder out = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage();
            if (message == null || message.startsWith("Failed to deserialize JSON")) {
                continue;
            }
            int at = message.indexOf("\n at [Source");
            message = (at >= 0 ? message.substring(0, at) : message).trim();
            if (out.indexOf(message) >= 0) {
                continue;
            }
            out.append(out.length() == 0 ? "" : ": ").append(message);
        }
        String text = out.length() == 0 ? e.getClass().getSimpleName() : out.toString();
        return text.length() > MAX_REASON ? text.substring(0, MAX_REASON) + "..." : text;
    }

    /** The event as UTF-8 text, or base64 when it is not valid UTF-8. */
    static String[] raw(byte[] message) {
        try {
            String text =
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(message))
                            .toString();
            return new String[] {text, "utf-8"};
        } catch (CharacterCodingException e) {
            return new String[] {Base64.getEncoder().encodeToString(message), "base64"};
        }
    }

    @Override
    public boolean isEndOfStream(RowData nextElement) {
        return false;
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return producedType;
    }
}
