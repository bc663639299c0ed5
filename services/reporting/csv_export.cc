#include "services/reporting/csv_export.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libs/csv/csv.h"
#include "libs/status/errors.h"

namespace mileagebank::reporting {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr char kDateType[] = "mileagebank.common.v1.Date";
constexpr char kMoneyType[] = "mileagebank.common.v1.Money";
constexpr char kSummaryField[] = "summary";

bool IsTable(const FieldDescriptor* field) {
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return false;
  if (field->is_map()) return false;
  return field->is_repeated() || field->name() == kSummaryField;
}

bool IsType(const FieldDescriptor* field, const char* full_name) {
  return field->message_type() != nullptr &&
         field->message_type()->full_name() == full_name;
}

// Fields in field-number order (the descriptor keeps declaration order).
std::vector<const FieldDescriptor*> ByNumber(const Descriptor* type) {
  std::vector<const FieldDescriptor*> fields;
  for (int i = 0; i < type->field_count(); ++i) fields.push_back(type->field(i));
  std::sort(fields.begin(), fields.end(),
            [](const FieldDescriptor* a, const FieldDescriptor* b) {
              return a->number() < b->number();
            });
  return fields;
}

std::string ScalarText(const Message& row, const FieldDescriptor* field) {
  const Reflection* reflection = row.GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(reflection->GetInt32(row, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(reflection->GetInt64(row, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(reflection->GetUInt32(row, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(reflection->GetUInt64(row, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrFormat("%.17g", reflection->GetDouble(row, field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrFormat("%.9g", reflection->GetFloat(row, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return reflection->GetBool(row, field) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_STRING:
      return reflection->GetString(row, field);
    case FieldDescriptor::CPPTYPE_ENUM: {
      // Open enums may carry a number this build does not know.
      const int number = reflection->GetEnumValue(row, field);
      const auto* value = field->enum_type()->FindValueByNumber(number);
      return value != nullptr ? value->name() : absl::StrCat(number);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return "";
}

}  // namespace

std::vector<std::string> CsvTableNames(const Descriptor* response_type) {
  std::vector<std::string> names;
  for (const FieldDescriptor* field : ByNumber(response_type)) {
    if (IsTable(field)) names.push_back(field->name());
  }
  return names;
}

absl::StatusOr<std::vector<std::string>> CsvColumns(const Descriptor* row_type) {
  std::vector<std::string> columns;
  for (const FieldDescriptor* field : ByNumber(row_type)) {
    if (field->is_repeated()) {
      return absl::InternalError(absl::StrCat(
          row_type->full_name(), ".", field->name(),
          " is a list, which a CSV column cannot hold"));
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
        IsType(field, kDateType)) {
      columns.push_back(field->name());
    } else if (IsType(field, kMoneyType)) {
      columns.push_back(absl::StrCat(field->name(), "_currency_code"));
      columns.push_back(absl::StrCat(field->name(), "_minor_units"));
    } else {
      return absl::InternalError(absl::StrCat(
          row_type->full_name(), ".", field->name(), " is a ",
          field->message_type()->full_name(),
          ", which a CSV column cannot hold"));
    }
  }
  return columns;
}

std::string CsvLine(const Message& row) {
  const Reflection* reflection = row.GetReflection();
  std::vector<std::string> fields;
  for (const FieldDescriptor* field : ByNumber(row.GetDescriptor())) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      fields.push_back(ScalarText(row, field));
      continue;
    }
    // An unset Date or Money is empty rather than 0000-00-00 or a bare 0.
    const bool set = reflection->HasField(row, field);
    const Message& value = reflection->GetMessage(row, field);
    const Descriptor* type = value.GetDescriptor();
    if (IsType(field, kDateType)) {
      fields.push_back(
          !set ? ""
               : absl::StrFormat(
                     "%04d-%02d-%02d",
                     value.GetReflection()->GetInt32(value, type->FindFieldByName("year")),
                     value.GetReflection()->GetInt32(value, type->FindFieldByName("month")),
                     value.GetReflection()->GetInt32(value, type->FindFieldByName("day"))));
    } else if (IsType(field, kMoneyType)) {
      fields.push_back(!set ? ""
                            : value.GetReflection()->GetString(
                                  value, type->FindFieldByName("currency_code")));
      fields.push_back(!set ? ""
                            : absl::StrCat(value.GetReflection()->GetInt64(
                                  value, type->FindFieldByName("minor_units"))));
    }
  }
  return csv::FormatRecord(fields);
}

absl::StatusOr<CsvTable> CsvTable::Of(const Message& response,
                                      absl::string_view table) {
  const Descriptor* type = response.GetDescriptor();
  const FieldDescriptor* field = type->FindFieldByName(std::string(table));
  if (table.empty() || field == nullptr || !IsTable(field)) {
    return InvalidField(
        "table", absl::StrCat(table.empty() ? "is required"
                                            : absl::StrCat("\"", table,
                                                           "\" is no table of this report"),
                              "; one of: ",
                              absl::StrJoin(CsvTableNames(type), ", ")));
  }
  CsvTable csv;
  auto columns = CsvColumns(field->message_type());
  if (!columns.ok()) return columns.status();
  csv.columns_ = *std::move(columns);
  const Reflection* reflection = response.GetReflection();
  if (field->is_repeated()) {
    const int size = reflection->FieldSize(response, field);
    for (int i = 0; i < size; ++i) {
      csv.rows_.push_back(&reflection->GetRepeatedMessage(response, field, i));
    }
  } else {
    csv.rows_.push_back(&reflection->GetMessage(response, field));
  }
  return csv;
}

bool CsvTable::Write(size_t max_chunk_bytes,
                     const std::function<bool(std::string chunk)>& emit) const {
  std::string pending = csv::FormatRecord(columns_);
  const auto flush_full = [&]() {
    while (pending.size() >= max_chunk_bytes) {
      if (!emit(pending.substr(0, max_chunk_bytes))) return false;
      pending.erase(0, max_chunk_bytes);
    }
    return true;
  };
  if (!flush_full()) return false;
  for (const Message* row : rows_) {
    pending += CsvLine(*row);
    if (!flush_full()) return false;
  }
  if (!pending.empty()) return emit(std::move(pending));
  return true;
}

std::string CsvTable::ToString() const {
  std::string all;
  Write(kMaxCsvChunkBytes, [&](std::string chunk) {
    all += chunk;
    return true;
  });
  return all;
}

}  // namespace mileagebank::reporting
