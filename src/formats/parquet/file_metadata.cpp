#include "formats/parquet/file_metadata.h"

#include "formats/parquet/thrift_compact.h"

namespace millrace::parquet {

std::string_view encoding_name(int32_t encoding) {
    switch (encoding) {
        case 0:
            return "PLAIN";
        case 1:
            return "GROUP_VAR_INT";
        case 2:
            return "PLAIN_DICTIONARY";
        case 3:
            return "RLE";
        case 4:
            return "BIT_PACKED";
        case 5:
            return "DELTA_BINARY_PACKED";
        case 6:
            return "DELTA_LENGTH_BYTE_ARRAY";
        case 7:
            return "DELTA_BYTE_ARRAY";
        case 8:
            return "RLE_DICTIONARY";
        case 9:
            return "BYTE_STREAM_SPLIT";
        default:
            return "unknown";
    }
}

std::string_view codec_name(int32_t codec) {
    switch (codec) {
        case 0:
            return "UNCOMPRESSED";
        case 1:
            return "SNAPPY";
        case 2:
            return "GZIP";
        case 3:
            return "LZO";
        case 4:
            return "BROTLI";
        case 5:
            return "LZ4";
        case 6:
            return "ZSTD";
        case 7:
            return "LZ4_RAW";
        default:
            return "unknown";
    }
}

namespace {

// ---- writing ----

void write_statistics(CompactWriter& w, const Statistics& s) {
    if (s.max) w.field_binary(1, *s.max);
    if (s.min) w.field_binary(2, *s.min);
    if (s.null_count) w.field_i64(3, *s.null_count);
    if (s.max_value) w.field_binary(5, *s.max_value);
    if (s.min_value) w.field_binary(6, *s.min_value);
    w.end_struct();
}

void write_logical_type(CompactWriter& w, const LogicalType& t) {
    using Kind = LogicalType::Kind;
    switch (t.kind) {
        case Kind::kString:
            w.field_struct(1);
            w.end_struct();
            break;
        case Kind::kDate:
            w.field_struct(6);
            w.end_struct();
            break;
        case Kind::kTimestamp:
            w.field_struct(8);
            w.field_bool(1, t.adjusted_to_utc);
            w.field_struct(2);
            w.field_struct(t.unit == TimeUnit::kMillis ? 1 : t.unit == TimeUnit::kNanos ? 3 : 2);
            w.end_struct();
            w.end_struct();
            w.end_struct();
            break;
        case Kind::kInteger:
            w.field_struct(10);
            w.field_i8(1, t.bit_width);
            w.field_bool(2, t.is_signed);
            w.end_struct();
            break;
        default:
            break;
    }
    w.end_struct();
}

void write_schema_element(CompactWriter& w, const SchemaElement& e) {
    w.begin_struct();
    if (e.type) w.field_i32(1, static_cast<int32_t>(*e.type));
    if (e.type_length) w.field_i32(2, *e.type_length);
    if (e.repetition) w.field_i32(3, static_cast<int32_t>(*e.repetition));
    w.field_binary(4, e.name);
    if (e.num_children) w.field_i32(5, *e.num_children);
    if (e.converted) w.field_i32(6, static_cast<int32_t>(*e.converted));
    if (e.field_id) w.field_i32(9, *e.field_id);
    if (e.logical.kind != LogicalType::Kind::kNone) {
        w.field_struct(10);
        write_logical_type(w, e.logical);
    }
    w.end_struct();
}

void write_column_chunk(CompactWriter& w, const ColumnChunk& c) {
    w.begin_struct();
    w.field_i64(2, c.file_offset);
    w.field_struct(3);
    const ColumnMetaData& m = c.meta;
    w.field_i32(1, static_cast<int32_t>(m.type));
    w.field_list(2, CompactType::kI32, m.encodings.size());
    for (int32_t e : m.encodings) w.write_i32(e);
    w.field_list(3, CompactType::kBinary, m.path.size());
    for (const std::string& p : m.path) w.write_binary(p);
    w.field_i32(4, m.codec);
    w.field_i64(5, m.num_values);
    w.field_i64(6, m.total_uncompressed_size);
    w.field_i64(7, m.total_compressed_size);
    w.field_i64(9, m.data_page_offset);
    if (m.dictionary_page_offset) w.field_i64(11, *m.dictionary_page_offset);
    if (m.statistics) {
        w.field_struct(12);
        write_statistics(w, *m.statistics);
    }
    w.end_struct();
    w.end_struct();
}

void write_row_group(CompactWriter& w, const RowGroup& g) {
    w.begin_struct();
    w.field_list(1, CompactType::kStruct, g.columns.size());
    for (const ColumnChunk& c : g.columns) write_column_chunk(w, c);
    w.field_i64(2, g.total_byte_size);
    w.field_i64(3, g.num_rows);
    if (g.file_offset) w.field_i64(5, *g.file_offset);
    if (g.total_compressed_size) w.field_i64(6, *g.total_compressed_size);
    if (g.ordinal) w.field_i16(7, *g.ordinal);
    w.end_struct();
}

}  // namespace

void serialize_file_metadata(const FileMetaData& m, std::string& out) {
    CompactWriter w(out);
    w.begin_struct();
    w.field_i32(1, m.version);
    w.field_list(2, CompactType::kStruct, m.schema.size());
    for (const SchemaElement& e : m.schema) write_schema_element(w, e);
    w.field_i64(3, m.num_rows);
    w.field_list(4, CompactType::kStruct, m.row_groups.size());
    for (const RowGroup& g : m.row_groups) write_row_group(w, g);
    if (!m.key_value.empty()) {
        w.field_list(5, CompactType::kStruct, m.key_value.size());
        for (const KeyValue& kv : m.key_value) {
            w.begin_struct();
            w.field_binary(1, kv.key);
            if (kv.value) w.field_binary(2, *kv.value);
            w.end_struct();
        }
    }
    if (m.created_by) w.field_binary(6, *m.created_by);
    if (m.type_defined_column_order) {
        const std::size_t leaves = m.schema.empty() ? 0 : m.schema.size() - 1;
        w.field_list(7, CompactType::kStruct, leaves);
        for (std::size_t i = 0; i < leaves; ++i) {
            w.begin_struct();
            w.field_struct(1);  // TYPE_ORDER
            w.end_struct();
            w.end_struct();
        }
    }
    w.end_struct();
}

void serialize_page_header(const PageHeader& h, std::string& out) {
    CompactWriter w(out);
    w.begin_struct();
    w.field_i32(1, h.type);
    w.field_i32(2, h.uncompressed_page_size);
    w.field_i32(3, h.compressed_page_size);
    if (h.crc) w.field_i32(4, *h.crc);
    if (h.data) {
        w.field_struct(5);
        w.field_i32(1, h.data->num_values);
        w.field_i32(2, h.data->encoding);
        w.field_i32(3, h.data->definition_level_encoding);
        w.field_i32(4, h.data->repetition_level_encoding);
        if (h.data->statistics) {
            w.field_struct(5);
            write_statistics(w, *h.data->statistics);
        }
        w.end_struct();
    }
    if (h.dictionary) {
        w.field_struct(7);
        w.field_i32(1, h.dictionary->num_values);
        w.field_i32(2, h.dictionary->encoding);
        w.end_struct();
    }
    w.end_struct();
}

// ---- reading ----

namespace {

// Each read_* below enters and leaves its struct itself; the caller has consumed only the field
// header. Fields of an unexpected type are skipped, not trusted.

bool expect(CompactReader& r, CompactType actual, CompactType wanted) {
    if (actual == wanted) return true;
    r.skip(actual);
    return false;
}

void read_statistics(CompactReader& r, Statistics& s) {
    if (!r.begin_struct()) return;
    CompactType t;
    int16_t id;
    while (r.next_field(t, id)) {
        switch (id) {
            case 1:
                if (expect(r, t, CompactType::kBinary)) s.max = std::string(r.read_binary());
                break;
            case 2:
                if (expect(r, t, CompactType::kBinary)) s.min = std::string(r.read_binary());
                break;
            case 3:
                if (expect(r, t, CompactType::kI64)) s.null_count = r.read_i64();
                break;
            case 5:
                if (expect(r, t, CompactType::kBinary)) s.max_value = std::string(r.read_binary());
                break;
            case 6:
                if (expect(r, t, CompactType::kBinary)) s.min_value = std::string(r.read_binary());
                break;
            default:
                r.skip(t);
        }
    }
    r.end_struct();
}

// Reads an empty-or-not union member struct and returns the id of its one set field.
int16_t read_union_member(CompactReader& r) {
    if (!r.begin_struct()) return 0;
    CompactType t;
    int16_t id;
    int16_t member = 0;
    while (r.next_field(t, id)) {
        if (member == 0) member = id;
        r.skip(t);
    }
    r.end_struct();
    return member;
}

void read_logical_type(CompactReader& r, LogicalType& logical) {
    using Kind = LogicalType::Kind;
    if (!r.begin_struct()) return;
    CompactType t;
    int16_t id;
    while (r.next_field(t, id)) {
        if (t != CompactType::kStruct) {
            r.skip(t);
            continue;
        }
        switch (id) {
            case 1:
                logical.kind = Kind::kString;
                r.skip(t);
                break;
            case 4:
                logical.kind = Kind::kEnum;
                r.skip(t);
                break;
            case 6:
                logical.kind = Kind::kDate;
                r.skip(t);
                break;
            case 12:
                logical.kind = Kind::kJson;
                r.skip(t);
                break;
            case 8: {
                logical.kind = Kind::kTimestamp;
                if (!r.begin_struct()) return;
                CompactType ft;
                int16_t fid;
                while (r.next_field(ft, fid)) {
                    if (fid == 1 && (ft == CompactType::kTrue || ft == CompactType::kFalse)) {
                        logical.adjusted_to_utc = r.read_bool(ft);
                    } else if (fid == 2 && ft == CompactType::kStruct) {
                        const int16_t unit = read_union_member(r);
                        logical.unit = unit == 1   ? TimeUnit::kMillis
                                       : unit == 2 ? TimeUnit::kMicros
                                       : unit == 3 ? TimeUnit::kNanos
                                                   : TimeUnit::kNone;
                    } else {
                        r.skip(ft);
                    }
                }
                r.end_struct();
                break;
            }
            case 10: {
                logical.kind = Kind::kInteger;
                if (!r.begin_struct()) return;
                CompactType ft;
                int16_t fid;
                while (r.next_field(ft, fid)) {
                    if (fid == 1 && ft == CompactType::kByte) {
                        logical.bit_width = static_cast<int8_t>(r.read_i8());
                    } else if (fid == 2 &&
                               (ft == CompactType::kTrue || ft == CompactType::kFalse)) {
                        logical.is_signed = r.read_bool(ft);
                    } else {
                        r.skip(ft);
                    }
                }
                r.end_struct();
                break;
            }
            default:
                logical.kind = Kind::kOther;
                r.skip(t);
        }
    }
    r.end_struct();
}

void read_schema_element(CompactReader& r, SchemaElement& e) {
    if (!r.begin_struct()) return;
    CompactType t;
    int16_t id;
    while (r.next_field(t, id)) {
        switch (id) {
            case 1:
                if (expect(r, t, CompactType::kI32))
                    e.type = static_cast<PhysicalType>(r.read_i32());
                break;
            case 2:
                if (expect(r, t, CompactType::kI32)) e.type_length = r.read_i32();
                break;
            case 3:
                if (expect(r, t, CompactType::kI32)) {
                    e.repetition = static_cast<Repetition>(r.read_i32());
                }
                break;
            case 4:
                if (expect(r, t, CompactType::kBinary)) e.name = std::string(r.read_binary());
                break;
            case 5:
                if (expect(r, t, CompactType::kI32)) e.num_children = r.read_i32();
                break;
            case 6:
                if (expect(r, t, CompactType::kI32)) {
                    e.converted = static_cast<ConvertedType>(r.read_i32());
                }
                break;
            case 9:
                if (expect(r, t, CompactType::kI32)) e.field_id = r.read_i32();
                break;
            case 10:
                if (t == CompactType::kStruct) {
                    read_logical_type(r, e.logical);
                } else {
                    r.skip(t);
                }
                break;
            default:
                r.skip(t);
        }
    }
    r.end_struct();
}

void read_i32_list(CompactReader& r, CompactType t, std::vector<int32_t>& out) {
    CompactType element;
    uint32_t size = 0;
    if (t != CompactType::kList || !r.read_list_header(element, size)) {
        r.skip(t);
        return;
    }
    for (uint32_t i = 0; i < size && !r.failed(); ++i) {
        if (element == CompactType::kI32) {
            out.push_back(r.read_i32());
        } else {
            r.skip(element);
        }
    }
}

void read_column_metadata(CompactReader& r, ColumnMetaData& m) {
    if (!r.begin_struct()) return;
    CompactType t;
    int16_t id;
    while (r.next_field(t, id)) {
        switch (id) {
            case 1:
                if (expect(r, t, CompactType::kI32))
                    m.type = static_cast<PhysicalType>(r.read_i32());
                break;
            case 2:
                read_i32_list(r, t, m.encodings);
                break;
            case 3: {
                CompactType element;
                uint32_t size = 0;
                if (t != CompactType::kList || !r.read_list_header(element, size)) {
                    r.skip(t);
                    break;
                }
                for (uint32_t i = 0; i < size && !r.failed(); ++i) {
                    if (element == CompactType::kBinary) {
                        m.path.emplace_back(r.read_binary());
                    } else {
                        r.skip(element);
                    }
                }
                break;
            }
            case 4:
                if (expect(r, t, CompactType::kI32)) m.codec = r.read_i32();
                break;
            case 5:
                if (expect(r, t, CompactType::kI64)) m.num_values = r.read_i64();
                break;
            case 6:
                if (expect(r, t, CompactType::kI64)) m.total_uncompressed_size = r.read_i64();
                break;
            case 7:
                if (expect(r, t, CompactType::kI64)) m.total_compressed_size = r.read_i64();
                break;
            case 9:
                if (expect(r, t, CompactType::kI64)) m.data_page_offset = r.read_i64();
                break;
            case 11:
                if (expect(r, t, CompactType::kI64)) m.dictionary_page_offset = r.read_i64();
                break;
            case 12:
                if (t == CompactType::kStruct) {
                    m.statistics.emplace();
                    read_statistics(r, *m.statistics);
                } else {
                    r.skip(t);
                }
                break;
            default:
                r.skip(t);
        }
    }
    r.end_struct();
}

void read_column_chunk(CompactReader& r, ColumnChunk& c) {
    if (!r.begin_struct()) return;
    CompactType t;
    int16_t id;
    while (r.next_field(t, id)) {
        if (id == 1 && t == CompactType::kBinary) {
            c.has_file_path = true;
            r.skip(t);
        } else if (id == 2 && t == CompactType::kI64) {
            c.file_offset = r.read_i64();
        } else if (id == 3 && t == CompactType::kStruct) {
            c.has_meta = true;
            read_column_metadata(r, c.meta);
        } else {
            r.skip(t);
        }
    }
    r.end_struct();
}

void read_row_group(CompactReader& r, RowGroup& g) {
    if (!r.begin_struct()) return;
    CompactType t;
    int16_t id;
    while (r.next_field(t, id)) {
        switch (id) {
            case 1: {
                CompactType element;
                uint32_t size = 0;
                if (t != CompactType::kList || !r.read_list_header(element, size)) {
                    r.skip(t);
                    break;
                }
                for (uint32_t i = 0; i < size && !r.failed(); ++i) {
                    if (element != CompactType::kStruct) {
                        r.skip(element);
                        continue;
                    }
                    read_column_chunk(r, g.columns.emplace_back());
                }
                break;
            }
            case 2:
                if (expect(r, t, CompactType::kI64)) g.total_byte_size = r.read_i64();
                break;
            case 3:
                if (expect(r, t, CompactType::kI64)) g.num_rows = r.read_i64();
                break;
            default:
                r.skip(t);
        }
    }
    r.end_struct();
}

Error corrupt(const CompactReader& r, const char* what) {
    return Error(ErrorCode::kCorruption, std::string("bad thrift in ") + what + ": " + r.failure() +
                                             " (at byte " + std::to_string(r.position()) + ")");
}

}  // namespace

Result<FileMetaData> parse_file_metadata(std::string_view bytes) {
    CompactReader r(bytes);
    FileMetaData m;
    bool has_schema = false;
    bool has_rows = false;
    r.begin_struct();
    CompactType t;
    int16_t id;
    while (r.next_field(t, id)) {
        switch (id) {
            case 1:
                if (expect(r, t, CompactType::kI32)) m.version = r.read_i32();
                break;
            case 2:
            case 4:
            case 5: {
                CompactType element;
                uint32_t size = 0;
                if (t != CompactType::kList || !r.read_list_header(element, size)) {
                    r.skip(t);
                    break;
                }
                for (uint32_t i = 0; i < size && !r.failed(); ++i) {
                    if (element != CompactType::kStruct) {
                        r.skip(element);
                    } else if (id == 2) {
                        read_schema_element(r, m.schema.emplace_back());
                    } else if (id == 4) {
                        read_row_group(r, m.row_groups.emplace_back());
                    } else {
                        KeyValue& kv = m.key_value.emplace_back();
                        if (!r.begin_struct()) break;
                        CompactType ft;
                        int16_t fid;
                        while (r.next_field(ft, fid)) {
                            if (fid == 1 && ft == CompactType::kBinary) {
                                kv.key = std::string(r.read_binary());
                            } else if (fid == 2 && ft == CompactType::kBinary) {
                                kv.value = std::string(r.read_binary());
                            } else {
                                r.skip(ft);
                            }
                        }
                        r.end_struct();
                    }
                }
                has_schema = has_schema || id == 2;
                break;
            }
            case 3:
                if (expect(r, t, CompactType::kI64)) {
                    m.num_rows = r.read_i64();
                    has_rows = true;
                }
                break;
            case 6:
                if (expect(r, t, CompactType::kBinary)) m.created_by = std::string(r.read_binary());
                break;
            default:
                r.skip(t);
        }
    }
    if (r.failed()) return corrupt(r, "file metadata");
    if (!has_schema || m.schema.empty() || !has_rows) {
        return Error(ErrorCode::kCorruption, "file metadata lacks a schema or a row count");
    }
    return m;
}

Result<PageHeader> parse_page_header(std::string_view bytes, std::size_t& consumed) {
    CompactReader r(bytes);
    PageHeader h;
    r.begin_struct();
    CompactType t;
    int16_t id;
    while (r.next_field(t, id)) {
        switch (id) {
            case 1:
                if (expect(r, t, CompactType::kI32)) h.type = r.read_i32();
                break;
            case 2:
                if (expect(r, t, CompactType::kI32)) h.uncompressed_page_size = r.read_i32();
                break;
            case 3:
                if (expect(r, t, CompactType::kI32)) h.compressed_page_size = r.read_i32();
                break;
            case 4:
                if (expect(r, t, CompactType::kI32)) h.crc = r.read_i32();
                break;
            case 5: {
                if (t != CompactType::kStruct) {
                    r.skip(t);
                    break;
                }
                DataPageHeader& d = h.data.emplace();
                if (!r.begin_struct()) break;
                CompactType ft;
                int16_t fid;
                while (r.next_field(ft, fid)) {
                    if (ft == CompactType::kI32 && fid >= 1 && fid <= 4) {
                        const int32_t v = r.read_i32();
                        if (fid == 1) d.num_values = v;
                        if (fid == 2) d.encoding = v;
                        if (fid == 3) d.definition_level_encoding = v;
                        if (fid == 4) d.repetition_level_encoding = v;
                    } else {
                        r.skip(ft);
                    }
                }
                r.end_struct();
                break;
            }
            case 7: {
                if (t != CompactType::kStruct) {
                    r.skip(t);
                    break;
                }
                DictionaryPageHeader& d = h.dictionary.emplace();
                if (!r.begin_struct()) break;
                CompactType ft;
                int16_t fid;
                while (r.next_field(ft, fid)) {
                    if (ft == CompactType::kI32 && (fid == 1 || fid == 2)) {
                        const int32_t v = r.read_i32();
                        if (fid == 1) d.num_values = v;
                        if (fid == 2) d.encoding = v;
                    } else {
                        r.skip(ft);
                    }
                }
                r.end_struct();
                break;
            }
            case 8: {
                if (t != CompactType::kStruct) {
                    r.skip(t);
                    break;
                }
                DataPageHeaderV2& d = h.data_v2.emplace();
                if (!r.begin_struct()) break;
                CompactType ft;
                int16_t fid;
                while (r.next_field(ft, fid)) {
                    if (ft == CompactType::kI32 && fid >= 1 && fid <= 6) {
                        const int32_t v = r.read_i32();
                        if (fid == 1) d.num_values = v;
                        if (fid == 2) d.num_nulls = v;
                        if (fid == 3) d.num_rows = v;
                        if (fid == 4) d.encoding = v;
                        if (fid == 5) d.definition_levels_byte_length = v;
                        if (fid == 6) d.repetition_levels_byte_length = v;
                    } else if (fid == 7 &&
                               (ft == CompactType::kTrue || ft == CompactType::kFalse)) {
                        d.is_compressed = r.read_bool(ft);
                    } else {
                        r.skip(ft);
                    }
                }
                r.end_struct();
                break;
            }
            default:
                r.skip(t);
        }
    }
    if (r.failed()) return corrupt(r, "page header");
    consumed = r.position();
    return h;
}

}  // namespace millrace::parquet
