#include "log/schema_registry.h"

#include <gtest/gtest.h>

#include <fstream>

#include "log/tests/log_test_dir.h"

namespace millrace {
namespace {

const std::string kV1 =
    R"({"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]})";
const std::string kV2 =
    R"({"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"},
        {"name": "note", "type": "string", "default": ""}]})";
const std::string kNoDefault =
    R"({"type":"record","name":"Order","fields":[{"name":"id","type":"long"},
        {"name":"amount","type":"double"}]})";

TEST(SchemaRegistry, RegistersChecksCompatibilityAndPersists) {
    LogTestDir dir;
    {
        SchemaRegistry registry(dir.path());
        ASSERT_TRUE(registry.load().ok());
        RegistryError error;
        EXPECT_EQ(*registry.register_schema("orders", SchemaType::kAvro, kV1, error), 1);
        EXPECT_EQ(*registry.register_schema("orders", SchemaType::kAvro, kV1, error), 1);
        EXPECT_EQ(*registry.register_schema("orders", SchemaType::kAvro, kV2, error), 2);
        EXPECT_FALSE(registry.register_schema("orders", SchemaType::kAvro, kNoDefault, error).ok());
        EXPECT_EQ(error.code, 409);
        EXPECT_FALSE(registry.register_schema("orders", SchemaType::kAvro, "{", error).ok());
        EXPECT_EQ(error.code, 42201);
        // Another subject, the same text (minified): the same id.
        EXPECT_EQ(*registry.register_schema("copy", SchemaType::kAvro, kV2, error), 2);
        ASSERT_TRUE(registry.set_compatibility("orders", SchemaCompatibility::kForward).ok());
        EXPECT_EQ(*registry.register_schema("orders", SchemaType::kAvro, kNoDefault, error), 3);
        auto deleted = registry.delete_version("orders", "1", false, error);
        ASSERT_TRUE(deleted.has_value());
        EXPECT_EQ(*deleted, 1);
    }
    SchemaRegistry reopened(dir.path());
    ASSERT_TRUE(reopened.load().ok());
    RegistryError error;
    EXPECT_EQ(*reopened.versions("orders", error), (std::vector<int32_t>{2, 3}));
    EXPECT_EQ(reopened.version("orders", "latest", error)->id, 3);
    EXPECT_TRUE(reopened.by_id(1).has_value());  // a deleted version's id still resolves
    EXPECT_EQ(reopened.compatibility("orders"), SchemaCompatibility::kForward);
    EXPECT_EQ(reopened.compatibility(""), SchemaCompatibility::kBackward);
    EXPECT_FALSE(reopened.version("orders", "0", error));
    EXPECT_EQ(error.code, 42202);
    EXPECT_FALSE(reopened.version("nope", "1", error));
    EXPECT_EQ(error.code, 40401);
    // FORWARD: version 3 (amount without a default) cannot read data written without it.
    std::vector<std::string> reasons;
    EXPECT_EQ(
        reopened.test_compatibility("orders", "latest", SchemaType::kAvro, kV1, reasons, error),
        std::optional<bool>(false));
    ASSERT_EQ(reasons.size(), 1u);
    EXPECT_NE(reasons[0].find("field `amount`"), std::string::npos);
    EXPECT_EQ(
        reopened.test_compatibility("orders", "latest", SchemaType::kAvro, kV2, reasons, error),
        std::optional<bool>(false));
    EXPECT_EQ(reopened.test_compatibility("orders", "latest", SchemaType::kAvro, kNoDefault,
                                          reasons, error),
              std::optional<bool>(true));
}

TEST(SchemaRegistry, JsonSchemaIsCheckedStructurally) {
    LogTestDir dir;
    SchemaRegistry registry(dir.path());
    RegistryError error;
    const std::string v1 = R"({"type":"object","properties":{"id":{"type":"integer"}}})";
    const std::string required =
        R"({"type":"object","properties":{"id":{"type":"integer"},"x":{"type":"string"}},
            "required":["x"]})";
    const std::string retyped = R"({"type":"object","properties":{"id":{"type":"string"}}})";
    EXPECT_TRUE(registry.register_schema("e", SchemaType::kJson, v1, error).ok());
    EXPECT_FALSE(registry.register_schema("e", SchemaType::kJson, required, error).ok());
    EXPECT_EQ(error.code, 409);
    EXPECT_NE(error.message.find("#/properties/x: required by the reader"), std::string::npos);
    EXPECT_FALSE(registry.register_schema("e", SchemaType::kJson, retyped, error).ok());
    EXPECT_FALSE(registry.register_schema("e", SchemaType::kJson, "[1]", error).ok());
    EXPECT_EQ(error.code, 42201);

    // A closed content model evolves by optional properties under BACKWARD, not FORWARD, and
    // the transitive level checks every version, not just the latest.
    const std::string closed =
        R"({"type":"object","properties":{"id":{"type":"integer"}},"additionalProperties":false})";
    const std::string added =
        R"({"type":"object","properties":{"id":{"type":"integer"},"note":{"type":"string"}},
            "additionalProperties":false})";
    EXPECT_TRUE(registry.register_schema("c", SchemaType::kJson, closed, error).ok());
    ASSERT_TRUE(registry.set_compatibility("c", SchemaCompatibility::kForward).ok());
    EXPECT_FALSE(registry.register_schema("c", SchemaType::kJson, added, error).ok());
    ASSERT_TRUE(registry.set_compatibility("c", SchemaCompatibility::kBackward).ok());
    EXPECT_TRUE(registry.register_schema("c", SchemaType::kJson, added, error).ok());
    // BACKWARD_TRANSITIVE: `id` widened from integer to number reads the data of every version;
    // a `maxLength` added to `note` would refuse some of it.
    const std::string widened =
        R"({"type":"object","properties":{"id":{"type":"number"},"note":{"type":"string"}},
            "additionalProperties":false})";
    ASSERT_TRUE(registry.set_compatibility("c", SchemaCompatibility::kBackwardTransitive).ok());
    EXPECT_TRUE(registry.register_schema("c", SchemaType::kJson, widened, error).ok());
    const std::string narrowed =
        R"({"type":"object","properties":{"id":{"type":"number"},"note":{"type":"string",
            "maxLength":3}},"additionalProperties":false})";
    EXPECT_FALSE(registry.register_schema("c", SchemaType::kJson, narrowed, error).ok());
}

TEST(SchemaRegistry, ADamagedStoreIsAnErrorNamingTheLine) {
    LogTestDir dir;
    {
        std::ofstream out(dir.path() + "/schemas.ndjson");
        out << R"({"config":"","compatibility":"FULL"})"
            << "\n{\"id\":1}\n";
    }
    SchemaRegistry registry(dir.path());
    Status loaded = registry.load();
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message().find("schemas.ndjson:2"), std::string::npos);
}

}  // namespace
}  // namespace millrace
