package dev.kappanb.formats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.VarCharType;
import org.apache.flink.table.types.utils.TypeConversions;
import org.apache.flink.table.types.utils.DataTypeUtils;

/** Decodes with Flink's JSON format and exposes what went wrong as metadata. */
final class KappaJsonDecodingFormat implements DecodingFormat<DeserializationSchema<RowData>> {
    static final String ERROR = "error";
    static final String RAW = "raw";
    static final String RAW_ENCODING = "raw-encoding";
    /** The record's value as it was, for every record (valid, malformed or null): the archive. */
    static final String BYTES = "bytes";

    private final DecodingFormat<DeserializationSchema<RowData>> json;
    private final Set<String> notNull;
    private List<String> metadataKeys = new ArrayList<>();

    KappaJsonDecodingFormat(
            DecodingFormat<DeserializationSchema<RowData>> json, Set<String> notNull) {
        this.json = json;
        this.notNull = notNull;
    }

    @Override
    public DeserializationSchema<RowData> createRuntimeDecoder(
            DynamicTableSource.Context context, DataType physicalDataType) {
        RowType physical = (RowType) physicalDataType.getLogicalType();
        DeserializationSchema<RowData> inner =
                json.createRuntimeDecoder(context, timestampsAsText(physical));
        DataType produced = physicalDataType;
        if (!metadataKeys.isEmpty()) {
            List<DataTypes.Field> fields = new ArrayList<>();
            for (String key : metadataKeys) {
                fields.add(DataTypes.FIELD(key, BYTES.equals(key) ? DataTypes.BYTES() : DataTypes.STRING()));
            }
            produced = DataTypeUtils.appendRowFields(physicalDataType, fields);
        }
        TypeInformation<RowData> producedType = context.createTypeInformation(produced);
        return new KappaJsonDeserializer(
                inner,
                physical,
                notNull,
                metadataKeys,
                producedType);
    }

    /**
     * The row type Flink's JSON format decodes: timestamp fields as their text, which
     * {@link Timestamps} parses more leniently than any one of Flink's timestamp standards.
     */
    static DataType timestampsAsText(RowType physical) {
        List<RowType.RowField> fields = new ArrayList<>();
        for (RowType.RowField field : physical.getFields()) {
            LogicalType type = field.getType();
            if (Timestamps.precisionOf(type) >= 0) {
                type = new VarCharType(type.isNullable(), VarCharType.MAX_LENGTH);
            }
            fields.add(new RowType.RowField(field.getName(), type));
        }
        return TypeConversions.fromLogicalToDataType(new RowType(physical.isNullable(), fields));
    }

    @Override
    public ChangelogMode getChangelogMode() {
        return json.getChangelogMode();
    }

    @Override
    public Map<String, DataType> listReadableMetadata() {
        Map<String, DataType> metadata = new LinkedHashMap<>();
        metadata.put(ERROR, DataTypes.STRING());
        metadata.put(RAW, DataTypes.STRING());
        metadata.put(RAW_ENCODING, DataTypes.STRING());
        metadata.put(BYTES, DataTypes.BYTES());
        return metadata;
    }

    @Override
    public void applyReadableMetadata(List<String> metadataKeys) {
        this.metadataKeys = new ArrayList<>(metadataKeys);
    }
}
