#include "lineage/run_event.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <regex>
#include <set>

namespace millrace {
namespace {

const std::regex kUuidV7("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

RunEvent sample_event() {
    RunEvent event;
    event.type = RunEventType::kComplete;
    event.event_time_micros = 1'795'000'000'123'456;
    event.run_id = new_uuid_v7(1'795'000'000'123);
    event.job_namespace = "shop";
    event.job_name = "pipeline.orders";
    event.job_type = "PIPELINE";
    event.sql = "CREATE VIEW v AS SELECT \"a\" FROM t;";
    event.inputs.push_back(LineageDataset{"file", "/in/a.csv", {{"a", "int64"}}, {}});
    event.outputs.push_back(LineageDataset{"file:///d/lake", "t", {{"a", "int64"}}, 7});
    return event;
}

TEST(RunEvent, JsonHasTheRequiredFieldsAndFacets) {
    const std::string json = run_event_json(sample_event());
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_FALSE(parser.parse(json).get(root)) << json;
    EXPECT_EQ(std::string_view(root["eventType"]), "COMPLETE");
    EXPECT_EQ(std::string_view(root["eventTime"]), "2026-11-18T11:06:40.123456Z");
    EXPECT_EQ(std::string_view(root["schemaURL"]), kRunEventSchemaUrl);
    EXPECT_EQ(std::string_view(root["producer"]), kLineageProducer);
    EXPECT_EQ(std::string_view(root["job"]["namespace"]), "shop");
    EXPECT_EQ(std::string_view(root["job"]["facets"]["sql"]["query"]),
              "CREATE VIEW v AS SELECT \"a\" FROM t;");
    EXPECT_EQ(std::string_view(root["inputs"].at(0)["facets"]["schema"]["fields"].at(0)["type"]),
              "int64");
    EXPECT_EQ(int64_t(root["outputs"].at(0)["outputFacets"]["outputStatistics"]["rowCount"]), 7);
    simdjson::dom::element error;
    EXPECT_TRUE(root["run"]["facets"]["errorMessage"].get(error));  // not on COMPLETE
}

TEST(RunEvent, OutputsCarryColumnLineage) {
    RunEvent event = sample_event();
    event.outputs[0].fields.push_back(
        LineageField{"total", "double", {{"file", "/in/a.csv", "a", "AGGREGATION"}}});
    event.inputs[0].fields[0].inputs.push_back({"x", "y", "z", "IDENTITY"});  // inputs: ignored
    const std::string json = run_event_json(event);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_FALSE(parser.parse(json).get(root)) << json;
    simdjson::dom::element facet = root["outputs"].at(0)["facets"]["columnLineage"];
    EXPECT_EQ(std::string_view(facet["_schemaURL"]).find("1-2-0/ColumnLineageDatasetFacet"), 35u);
    simdjson::dom::element input = facet["fields"]["total"]["inputFields"].at(0);
    EXPECT_EQ(std::string_view(input["namespace"]), "file");
    EXPECT_EQ(std::string_view(input["name"]), "/in/a.csv");
    EXPECT_EQ(std::string_view(input["field"]), "a");
    EXPECT_EQ(std::string_view(input["transformations"].at(0)["type"]), "DIRECT");
    EXPECT_EQ(std::string_view(input["transformations"].at(0)["subtype"]), "AGGREGATION");
    simdjson::dom::element none;
    EXPECT_TRUE(facet["fields"]["a"].get(none));  // a column without inputs is not listed
    EXPECT_TRUE(root["inputs"].at(0)["facets"]["columnLineage"].get(none));
}

TEST(RunEvent, FailCarriesTheErrorAndParent) {
    RunEvent event = sample_event();
    event.type = RunEventType::kFail;
    event.error_message = "rule row_count failed";
    event.parent =
        ParentRun{uuid_v7_for_name("nightly@2026-11-20T00:00:00Z", 0), "shop", "job.nightly"};
    const std::string json = run_event_json(event);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_FALSE(parser.parse(json).get(root)) << json;
    EXPECT_EQ(std::string_view(root["run"]["facets"]["errorMessage"]["message"]),
              "rule row_count failed");
    EXPECT_EQ(std::string_view(root["run"]["facets"]["parent"]["job"]["name"]), "job.nightly");
}

TEST(RunEvent, UuidsAreVersion7AndSortByTime) {
    std::set<std::string> seen;
    std::string previous;
    for (int64_t millis = 1'700'000'000'000; millis < 1'700'000'000'050; ++millis) {
        const std::string id = new_uuid_v7(millis);
        EXPECT_TRUE(std::regex_match(id, kUuidV7)) << id;
        EXPECT_LT(previous, id);
        previous = id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 50u);
}

TEST(RunEvent, NamedUuidsAreStable) {
    const std::string a = uuid_v7_for_name("nightly@2026-11-20T00:00:00Z", 1'795'000'000'000);
    EXPECT_EQ(a, uuid_v7_for_name("nightly@2026-11-20T00:00:00Z", 1'795'000'000'000));
    EXPECT_NE(a, uuid_v7_for_name("nightly@2026-11-21T00:00:00Z", 1'795'000'000'000));
    EXPECT_TRUE(std::regex_match(a, kUuidV7)) << a;
}

}  // namespace
}  // namespace millrace
