package dev.kappanb.formats;

import java.util.HashSet;
import java.util.Set;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.formats.json.JsonFormatFactory;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DeserializationFormatFactory;
import org.apache.flink.table.factories.DynamicTableFactory;

/**
 * Format {@code kappa-json}: Flink's own JSON format, but an event it cannot decode becomes
 * a row with NULL fields and the readable metadata {@code error} (why), {@code raw} (the
 * event as text, or base64) and {@code raw-encoding} ({@code utf-8} or {@code base64}),
 * instead of failing the job. Valid events have {@code error} = NULL. A field listed in
 * {@code kappa-json.not-null} (or declared NOT NULL) that is null makes the event malformed too.
 * The metadata {@code bytes} is the value as it was, for every record: with it, a record
 * without a value is a row of NULLs too (the archive keeps every record). Without any of
 * the metadata columns declared, the format fails like Flink's JSON format does.
 *
 * <p>Takes the same options as {@code json} ({@code kappa-json.fail-on-missing-field}, ...).
 */
public final class KappaJsonFormatFactory implements DeserializationFormatFactory {
    public static final String IDENTIFIER = "kappa-json";

    /** Fields that must be present and not null (the table declares them nullable, so that a
     * malformed event can be a row of NULLs). Comma-separated names. */
    public static final ConfigOption<String> NOT_NULL =
            ConfigOptions.key("not-null").stringType().defaultValue("");

    private final JsonFormatFactory json = new JsonFormatFactory();

    @Override
    public DecodingFormat<DeserializationSchema<RowData>> createDecodingFormat(
            DynamicTableFactory.Context context, ReadableConfig formatOptions) {
        Set<String> notNull = new HashSet<>();
        for (String name : formatOptions.get(NOT_NULL).split(",")) {
            if (!name.trim().isEmpty()) {
                notNull.add(name.trim());
            }
        }
        return new KappaJsonDecodingFormat(
                json.createDecodingFormat(context, formatOptions), notNull);
    }

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return new HashSet<>(json.requiredOptions());
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        Set<ConfigOption<?>> options = new HashSet<>(json.optionalOptions());
        options.add(NOT_NULL);
        return options;
    }

    @Override
    public Set<ConfigOption<?>> forwardOptions() {
        return new HashSet<>(json.forwardOptions());
    }
}
