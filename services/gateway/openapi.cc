#include "services/gateway/openapi.h"

#include <functional>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/server/service_host.h"
#include "services/gateway/dispatcher.h"
#include "services/gateway/policy.h"
#include "services/gateway/routes.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Struct;
using google::protobuf::Value;

Struct* Object(Value* value) { return value->mutable_struct_value(); }
Value& At(Struct* object, const std::string& key) {
  return (*object->mutable_fields())[key];
}
void SetString(Struct* object, const std::string& key,
               const std::string& text) {
  At(object, key).set_string_value(text);
}
void Ref(Struct* object, const Descriptor& type) {
  SetString(object, "$ref", "#/components/schemas/" + type.full_name());
}

class SchemaWriter {
 public:
  explicit SchemaWriter(Struct* schemas) : schemas_(schemas) {}

  void Add(const Descriptor& type) {
    if (WellKnown(type, nullptr) || !seen_.insert(type.full_name()).second) {
      return;
    }
    Struct* schema = Object(&At(schemas_, type.full_name()));
    SetString(schema, "type", "object");
    Struct* properties = Object(&At(schema, "properties"));
    for (int i = 0; i < type.field_count(); ++i) {
      const FieldDescriptor& field = *type.field(i);
      Struct* property = Object(&At(properties, field.json_name()));
      if (field.is_map()) {
        SetString(property, "type", "object");
        Field(*field.message_type()->map_value(),
              Object(&At(property, "additionalProperties")));
      } else if (field.is_repeated()) {
        SetString(property, "type", "array");
        Field(field, Object(&At(property, "items")));
      } else {
        Field(field, property);
      }
    }
  }

  // The schema of one value of `field`.
  void Field(const FieldDescriptor& field, Struct* schema) {
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        SetString(schema, "type", "string");
        if (field.type() == FieldDescriptor::TYPE_BYTES) {
          SetString(schema, "format", "byte");
        }
        break;
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_UINT32:
        SetString(schema, "type", "integer");
        SetString(schema, "format", "int32");
        break;
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT64:
        // The JSON mapping writes 64-bit integers as strings.
        SetString(schema, "type", "string");
        SetString(schema, "format", "int64");
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        SetString(schema, "type", "number");
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        SetString(schema, "type", "boolean");
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        SetString(schema, "type", "string");
        auto* names = At(schema, "enum").mutable_list_value();
        for (int i = 0; i < field.enum_type()->value_count(); ++i) {
          names->add_values()->set_string_value(
              field.enum_type()->value(i)->name());
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (!WellKnown(*field.message_type(), schema)) {
          Ref(schema, *field.message_type());
          Add(*field.message_type());
        }
        break;
    }
  }

 private:
  // The JSON forms of the well-known types the contracts use.
  static bool WellKnown(const Descriptor& type, Struct* schema) {
    const std::string& name = type.full_name();
    if (!absl::StartsWith(name, "google.protobuf.")) return false;
    if (schema == nullptr) return true;
    if (name == "google.protobuf.Timestamp") {
      SetString(schema, "type", "string");
      SetString(schema, "format", "date-time");
    } else if (name == "google.protobuf.Duration") {
      SetString(schema, "type", "string");
      SetString(schema, "pattern", "^-?[0-9]+(\\.[0-9]+)?s$");
    } else if (name == "google.protobuf.FieldMask") {
      SetString(schema, "type", "string");
    } else {
      SetString(schema, "type", "object");
    }
    return true;
  }

  Struct* schemas_;
  std::set<std::string> seen_;
};

std::vector<std::string> PathParameterNames(const std::string& path) {
  std::vector<std::string> names;
  for (size_t open = path.find('{'); open != std::string::npos;
       open = path.find('{', open + 1)) {
    names.push_back(path.substr(open + 1, path.find('}', open) - open - 1));
  }
  return names;
}

void AddResponses(Struct* operation, const std::function<void(Struct*)>& ok) {
  Struct* responses = Object(&At(operation, "responses"));
  Struct* success = Object(&At(responses, "200"));
  SetString(success, "description", "OK");
  ok(Object(&At(Object(&At(Object(&At(success, "content")),
                           "application/json")),
                "schema")));
  Struct* error = Object(&At(responses, "default"));
  SetString(error, "description",
            "An error: 400, 401, 403, 404, 405, 409, 412, 413, 429, 500, 503 "
            "or 504 with the gRPC code's name");
  SetString(Object(&At(Object(&At(Object(&At(error, "content")),
                                  "application/json")),
                       "schema")),
            "$ref", "#/components/schemas/Error");
}

void AddErrorSchema(Struct* schemas) {
  Struct* error = Object(&At(schemas, "Error"));
  SetString(error, "type", "object");
  Struct* properties = Object(&At(error, "properties"));
  SetString(Object(&At(properties, "code")), "type", "string");
  SetString(Object(&At(properties, "message")), "type", "string");
  SetString(Object(&At(properties, "existingId")), "type", "string");
  Struct* details = Object(&At(properties, "details"));
  SetString(details, "type", "array");
  Struct* item = Object(&At(details, "items"));
  SetString(item, "type", "object");
  Struct* item_properties = Object(&At(item, "properties"));
  SetString(Object(&At(item_properties, "field")), "type", "string");
  SetString(Object(&At(item_properties, "description")), "type", "string");
}

std::string Build() {
  Struct document;
  SetString(&document, "openapi", "3.0.3");
  Struct* info = Object(&At(&document, "info"));
  SetString(info, "title", "The mileage bank gateway");
  SetString(info, "version", "v1");
  Struct* components = Object(&At(&document, "components"));
  Struct* schemes = Object(&At(components, "securitySchemes"));
  Struct* bearer = Object(&At(schemes, "accessToken"));
  SetString(bearer, "type", "http");
  SetString(bearer, "scheme", "bearer");
  Struct* api_key = Object(&At(schemes, "apiKey"));
  SetString(api_key, "type", "apiKey");
  SetString(api_key, "in", "header");
  SetString(api_key, "name", "X-Api-Key");
  Struct* schemas = Object(&At(components, "schemas"));
  AddErrorSchema(schemas);
  SchemaWriter writer(schemas);

  Struct* paths = Object(&At(&document, "paths"));
  for (const Route& route : Routes()) {
    Struct* operation = Object(&At(Object(&At(paths, route.path)),
                                   absl::AsciiStrToLower(route.http_method)));
    SetString(operation, "summary", route.summary);
    auto* parameters = At(operation, "parameters").mutable_list_value();
    for (const std::string& name : PathParameterNames(route.path)) {
      Struct* parameter = parameters->add_values()->mutable_struct_value();
      SetString(parameter, "name", name);
      SetString(parameter, "in", "path");
      At(parameter, "required").set_bool_value(true);
      SetString(Object(&At(parameter, "schema")), "type", "string");
    }
    if (route.operation.empty()) {
      SetString(operation, "operationId", "GetDashboard");
      AddResponses(operation, [&](Struct* schema) {
        SetString(schema, "type", "object");
        Struct* properties = Object(&At(schema, "properties"));
        for (const auto& [name, method] : DashboardParts()) {
          const Descriptor& output =
              *server::ContractMethod(method)->output_type();
          Ref(Object(&At(properties, name)), output);
          writer.Add(output);
        }
      });
      continue;
    }
    const google::protobuf::MethodDescriptor& method =
        *server::ContractMethod(route.operation);
    SetString(operation, "operationId", method.name());
    SetString(operation, "x-grpc-method", route.operation);
    const Operation& policy = *FindOperation(route.operation);
    if (policy.member == MemberAccess::kAnyone) {
      At(operation, "security").mutable_list_value();  // no credentials
    }
    if (route.http_method == "GET") {
      // Top-level fields not in the path, as query parameters.
      for (int i = 0; i < method.input_type()->field_count(); ++i) {
        const FieldDescriptor& field = *method.input_type()->field(i);
        if (absl::StrContains(route.path, "{" + field.name() + "}")) continue;
        Struct* parameter = parameters->add_values()->mutable_struct_value();
        SetString(parameter, "name", field.json_name());
        SetString(parameter, "in", "query");
        if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          SetString(parameter, "style", "deepObject");
        }
        Struct* schema = Object(&At(parameter, "schema"));
        if (field.is_repeated()) {
          SetString(schema, "type", "array");
          writer.Field(field, Object(&At(schema, "items")));
        } else {
          writer.Field(field, schema);
        }
      }
    } else if (route.http_method != "DELETE") {
      Struct* body = Object(&At(operation, "requestBody"));
      Ref(Object(&At(Object(&At(Object(&At(body, "content")),
                                "application/json")),
                     "schema")),
          *method.input_type());
      writer.Add(*method.input_type());
    }
    AddResponses(operation, [&](Struct* schema) {
      Ref(schema, *method.output_type());
      writer.Add(*method.output_type());
    });
  }
  auto* security = At(&document, "security").mutable_list_value();
  At(security->add_values()->mutable_struct_value(), "accessToken")
      .mutable_list_value();
  At(security->add_values()->mutable_struct_value(), "apiKey")
      .mutable_list_value();
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(document, &text);
  return text;
}

}  // namespace

const std::string& OpenApiDocument() {
  static const auto* document = new std::string(Build());
  return *document;
}

}  // namespace mileagebank::gateway
