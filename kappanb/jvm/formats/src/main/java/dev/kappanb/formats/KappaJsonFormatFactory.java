package dev.kappanb.formats;

import java.util.HashSet;
import java.util.Set;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.configuration.ConfigOption;
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
 * instead of failing the job. Valid events have {@code error} = NULL. A field the schema
 * declares NOT NULL that is missing or null makes the event malformed too. Without any of
 * the metadata columns declared, the format fails like Flink's JSON format does.
 *
 * <p>Takes the same options as {@code json} ({@code kappa-json.fail-on-missing-field}, ...).
 */
public final class KappaJsonFormatFactory implements DeserializationFormatFactory {
    public static final String IDENTIFIER = "kappa-json";

    private final JsonFormatFactory json = new JsonFormatFactory();

    @Override
    public DecodingFormat<DeserializationSchema<RowData>> createDecodingFormat(
            DynamicTableFactory.Context context, ReadableConfig formatOptions) {
        return new KappaJsonDecodingFormat(json.createDecodingFormat(context, formatOptions));
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
        return new HashSet<>(json.optionalOptions());
    }

    @Override
    public Set<ConfigOption<?>> forwardOptions() {
        return new HashSet<>(json.forwardOptions());
    }
}
