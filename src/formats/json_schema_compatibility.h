#pragma once

#include <string>
#include <vector>

namespace millrace {

/// Reasons a JSON Schema `reader` may refuse a document valid under `writer` (empty: every
/// document the writer allows, the reader allows too), each with the path to it
/// ("#/properties/amount: type "string" cannot be read as "number""). Both are JSON text; a
/// schema that does not parse is a reason. The rules (those of Confluent's registry, for the
/// keywords it compares):
///
/// - `true` / `{}` reads anything; a writer `false` writes nothing.
/// - `type`: every writer type is a reader type; `integer` widens to `number`; a reader without
///   `type` takes any. `enum`: the writer's values are a subset of the reader's. Bounds
///   (`minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength`,
///   `minItems`, `maxItems`, `minProperties`, `maxProperties`, `multipleOf`, `pattern`,
///   `format`) may be kept, loosened or dropped, never added or tightened.
/// - Objects, by content model: a property both declare is compared recursively; a property
///   only the writer declares must be allowed by the reader's `additionalProperties` (a closed
///   reader, `additionalProperties: false`, refuses it: removing a property from a closed
///   model is incompatible) or a matching `patternProperties`; a property only the reader
///   declares must accept what the writer's `additionalProperties` allows there (adding a
///   property to an open model is incompatible unless it takes any value; adding an optional
///   one to a closed model is fine); the reader requires nothing the writer may omit; a
///   reader's `additionalProperties` schema reads the writer's.
/// - Arrays: `items` (a schema) compared recursively.
/// - Combinators and references (`$ref`, `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/
///   `else`, `const`, `dependentRequired`, `dependentSchemas`, `prefixItems`) are compared as
///   written: a change there is reported rather than reasoned about.
std::vector<std::string> json_schema_incompatibilities(const std::string& reader,
                                                       const std::string& writer);

}  // namespace millrace
