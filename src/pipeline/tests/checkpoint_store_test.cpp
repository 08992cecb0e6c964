#include "pipeline/checkpoint_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace millrace {
namespace {

class CheckpointStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-checkpoints-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    static CheckpointMetadata metadata(uint64_t id) {
        CheckpointMetadata m;
        m.id = id;
        m.created_micros = 1764979200000000 + static_cast<int64_t>(id);
        m.dead_letter_bytes = 100 * id;
        CheckpointSource source;
        source.name = "orders in";  // names are encoded: spaces survive
        source.offsets = {static_cast<int64_t>(10 * id), 7};
        source.watermark = 1764979100000000;
        source.max_events = {1764979160000000, std::nullopt};
        m.sources.push_back(source);
        CheckpointSource fresh;
        fresh.name = "clicks";
        fresh.offsets = {0};
        fresh.max_events = {std::nullopt};
        m.sources.push_back(fresh);
        CheckpointSource generator;
        generator.name = "bids";
        generator.offsets = {static_cast<int64_t>(5000 * id)};
        generator.watermark = 1764979000000000;
        generator.max_events = {1764979000100000};
        generator.origin_micros = 1764978000000000;
        m.sources.push_back(generator);
        m.states.push_back(CheckpointState{"daily->lake:revenue", "sink-0.state"});
        return m;
    }

    std::string dir_;
};

TEST_F(CheckpointStoreTest, WritesStateThenMetadataAndReadsTheNewestBack) {
    CheckpointStore store(dir_, "live");
    auto none = store.latest();
    ASSERT_TRUE(none.ok()) << none.error().to_string();
    EXPECT_FALSE(none->has_value());
    for (uint64_t id : {1, 2}) {
        ASSERT_TRUE(store.write_state(id, "sink-0.state", "state " + std::to_string(id)).ok());
        ASSERT_TRUE(store.complete(metadata(id)).ok());
    }
    auto latest = store.latest();
    ASSERT_TRUE(latest.ok()) << latest.error().to_string();
    ASSERT_TRUE(latest->has_value());
    const CheckpointMetadata& m = **latest;
    EXPECT_EQ(m.id, 2u);
    EXPECT_EQ(m.dead_letter_bytes, 200u);
    EXPECT_EQ(m.to_text(), metadata(2).to_text());
    const CheckpointSource* source = m.find_source("orders in");
    ASSERT_NE(source, nullptr);
    EXPECT_EQ(source->offsets, (std::vector<int64_t>{20, 7}));
    EXPECT_EQ(source->max_events[1], std::nullopt);
    EXPECT_EQ(m.find_source("clicks")->watermark, std::nullopt);
    EXPECT_EQ(m.find_source("clicks")->origin_micros, std::nullopt);
    EXPECT_EQ(m.find_source("bids")->offsets, (std::vector<int64_t>{10000}));
    EXPECT_EQ(m.find_source("bids")->origin_micros, 1764978000000000);
    const CheckpointState* state = m.find_state("daily->lake:revenue");
    ASSERT_NE(state, nullptr);
    EXPECT_EQ(*store.read_state(2, state->file), "state 2");
}

// A crash while a checkpoint is written leaves a folder without metadata: ignored, removed,
// and the checkpoint before it is the one restored.
TEST_F(CheckpointStoreTest, IncompleteCheckpointIsIgnoredAndRemoved) {
    CheckpointStore store(dir_, "live");
    ASSERT_TRUE(store.write_state(4, "sink-0.state", "four").ok());
    ASSERT_TRUE(store.complete(metadata(4)).ok());
    ASSERT_TRUE(store.write_state(5, "sink-0.state", "five").ok());
    std::filesystem::create_directories(store.root() + "/sinks/0");
    auto latest = store.latest();
    ASSERT_TRUE(latest.ok()) << latest.error().to_string();
    ASSERT_TRUE(latest->has_value());
    EXPECT_EQ((*latest)->id, 4u);
    EXPECT_FALSE(std::filesystem::exists(store.folder(5)));
    EXPECT_TRUE(std::filesystem::exists(store.root() + "/sinks/0")) << "not a checkpoint";
}

TEST_F(CheckpointStoreTest, KeepsTheNewestCompleteCheckpoints) {
    CheckpointStore store(dir_, "live", 3);
    for (uint64_t id = 1; id <= 6; ++id) {
        ASSERT_TRUE(store.write_state(id, "sink-0.state", "x").ok());
        ASSERT_TRUE(store.complete(metadata(id)).ok());
    }
    auto ids = store.complete_ids();
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(*ids, (std::vector<uint64_t>{4, 5, 6}));
    for (uint64_t id = 1; id <= 3; ++id) EXPECT_FALSE(std::filesystem::exists(store.folder(id)));
    CheckpointStore one(dir_, "live", 1);
    ASSERT_TRUE(one.complete(metadata(7)).ok());
    EXPECT_EQ(*one.complete_ids(), (std::vector<uint64_t>{7}));
}

TEST_F(CheckpointStoreTest, KeyGroupStatesRoundTripApartFromTheWholePlansState) {
    CheckpointStore store(dir_, "live");
    CheckpointMetadata m = metadata(3);
    m.states.push_back(CheckpointState{"daily->lake:revenue", "sink-0-kg.3.state", 5, 32, 0, 40});
    m.states.push_back(CheckpointState{"daily->lake:revenue", "sink-0-kg.1.state", 31, 32, 120, 7});
    ASSERT_TRUE(store.complete(m).ok());
    auto latest = store.latest();
    ASSERT_TRUE(latest.ok()) << latest.error().to_string();
    EXPECT_EQ((*latest)->to_text(), m.to_text());
    EXPECT_NE(
        m.to_text().find("state daily->lake:revenue sink-0-kg.3.state key_group 5/32 at 0:40\n"),
        std::string::npos);
    const CheckpointState* whole = (*latest)->find_state("daily->lake:revenue");
    ASSERT_NE(whole, nullptr);
    EXPECT_EQ(whole->file, "sink-0.state");
    auto groups = (*latest)->find_key_groups("daily->lake:revenue");
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(*groups[1]->key_group, 31u);
    EXPECT_EQ(groups[1]->max_key_groups, 32u);
    EXPECT_EQ(groups[1]->offset, 120u);
    EXPECT_EQ(groups[1]->length, 7u);
    for (std::string bad :
         {"key_group 32/32 at 0:1", "key_group 3 at 0:1", "key_group x/32 at 0:1", "kg 1/32 at 0:1",
          "key_group 1/32", "key_group 1/32 at 5", "key_group 1/32 at -1:2"}) {
        std::string text = metadata(3).to_text();
        text.insert(text.find("end\n"), "state a b " + bad + "\n");
        EXPECT_EQ(CheckpointMetadata::parse(text, "m").error().code(), ErrorCode::kCorruption)
            << bad;
    }
}

// Incremental checkpoints: an unchanged key group's file is the previous checkpoint's file
// (one inode, not rewritten), and removing that checkpoint by retention keeps it readable.
TEST_F(CheckpointStoreTest, ALinkedStateFileOutlivesTheCheckpointItCameFrom) {
    CheckpointStore store(dir_, "live", 1);
    ASSERT_TRUE(store.write_state(1, "sink-0-kg-3.state", "unchanged").ok());
    ASSERT_TRUE(store.complete(metadata(1)).ok());
    ASSERT_TRUE(store.link_state(1, 2, "sink-0-kg-3.state").ok());
    const std::string first = store.folder(1) + "/sink-0-kg-3.state";
    const std::string second = store.folder(2) + "/sink-0-kg-3.state";
    EXPECT_TRUE(std::filesystem::equivalent(first, second));
    EXPECT_EQ(std::filesystem::hard_link_count(second), 2u);
    ASSERT_TRUE(store.complete(metadata(2)).ok());  // retention removes checkpoint 1
    EXPECT_FALSE(std::filesystem::exists(store.folder(1)));
    EXPECT_EQ(*store.read_state(2, "sink-0-kg-3.state"), "unchanged");
    EXPECT_EQ(std::filesystem::hard_link_count(second), 1u);
    EXPECT_FALSE(store.link_state(1, 3, "sink-0-kg-3.state").ok()) << "nothing left to link";
}

TEST_F(CheckpointStoreTest, DamagedMetadataIsCorruptionNotACrash) {
    CheckpointStore store(dir_, "live");
    ASSERT_TRUE(store.complete(metadata(1)).ok());
    const std::string text = metadata(1).to_text();
    for (const std::string& bad :
         {text.substr(0, text.size() / 2), std::string("garbage\n"),
          text.substr(0, text.find("end\n")) + "state x ../escape\nend\n",
          text.substr(0, text.find("end\n")) + "source s offsets 1,x watermark - max_events -\n"
                                               "end\n",
          text.substr(0, text.find("end\n")) + "source s offsets 1 watermark - max_events - "
                                               "origin x\nend\n",
          text.substr(0, text.find("end\n")) + "source s offsets 1 watermark - max_events - "
                                               "start 5\nend\n",
          std::string()}) {
        std::ofstream(store.folder(1) + "/_metadata", std::ios::trunc) << bad;
        auto latest = store.latest();
        ASSERT_FALSE(latest.ok()) << bad;
        EXPECT_EQ(latest.error().code(), ErrorCode::kCorruption);
    }
}

// A checkpoint decided by an external transaction says so in a line of its own, with names
// encoded as everywhere else in the file.
TEST_F(CheckpointStoreTest, DecidedByLineRoundTrips) {
    CheckpointStore store(dir_, "live");
    CheckpointMetadata decided = metadata(6);
    decided.decided_by = CheckpointDecision{"kafka", "millrace-live 01"};
    ASSERT_TRUE(store.complete(decided).ok());
    const std::string text = decided.to_text();
    EXPECT_NE(text.find("\ndecided_by kafka millrace-live%2001\n"), std::string::npos) << text;
    auto latest = store.latest();
    ASSERT_TRUE(latest.ok()) << latest.error().to_string();
    EXPECT_EQ((*latest)->decided_by, (CheckpointDecision{"kafka", "millrace-live 01"}));
    EXPECT_EQ((*latest)->to_text(), text);
    // Without a decision, no line: metadata of earlier builds reads the same.
    EXPECT_EQ(metadata(6).to_text().find("decided_by"), std::string::npos);
    EXPECT_TRUE(metadata(6).decided_by.empty());
    const std::string head = text.substr(0, text.find("decided_by"));
    const std::string tail = text.substr(text.find("source "));
    for (const std::string& bad :
         {std::string("decided_by kafka\n"), std::string("decided_by % millrace-live\n"),
          std::string("decided_by kafka a b\n"),
          std::string("decided_by kafka a\ndecided_by kafka b\n")}) {
        auto parsed = CheckpointMetadata::parse(head + bad + tail, "x/_metadata");
        ASSERT_FALSE(parsed.ok()) << bad;
        EXPECT_EQ(parsed.error().code(), ErrorCode::kCorruption) << bad;
    }
}

// While the newest checkpoint waits on its transaction, the one before it is what a restart
// falls back to: kept even with retain 1.
TEST_F(CheckpointStoreTest, KeepsTheCheckpointBeforeOneDecidedByATransaction) {
    CheckpointStore store(dir_, "live", 1);
    ASSERT_TRUE(store.complete(metadata(1)).ok());
    CheckpointMetadata decided = metadata(2);
    decided.decided_by = CheckpointDecision{"kafka", "t"};
    ASSERT_TRUE(store.complete(decided).ok());
    EXPECT_EQ(*store.complete_ids(), (std::vector<uint64_t>{1, 2}));
    ASSERT_TRUE(store.complete(metadata(3)).ok());
    EXPECT_EQ(*store.complete_ids(), (std::vector<uint64_t>{3}));
    // remove(): the checkpoint is gone, metadata and state.
    ASSERT_TRUE(store.write_state(4, "sink-0.state", "four").ok());
    CheckpointMetadata fourth = metadata(4);
    fourth.decided_by = CheckpointDecision{"kafka", "t"};
    ASSERT_TRUE(store.complete(fourth).ok());
    ASSERT_TRUE(store.remove(4).ok());
    EXPECT_FALSE(std::filesystem::exists(store.folder(4)));
    EXPECT_EQ((*store.latest())->id, 3u);
}

TEST_F(CheckpointStoreTest, SavepointIsACopyThatIsNeverOverwritten) {
    CheckpointStore store(dir_, "live");
    ASSERT_TRUE(store.write_state(3, "sink-0.state", "three").ok());
    ASSERT_TRUE(store.complete(metadata(3)).ok());
    const std::string savepoint = dir_ + "/savepoints/before-upgrade";
    ASSERT_TRUE(store.copy_to(3, savepoint).ok());
    auto read = CheckpointStore::read_folder(savepoint);
    ASSERT_TRUE(read.ok()) << read.error().to_string();
    EXPECT_EQ(read->to_text(), metadata(3).to_text());
    std::ifstream state(savepoint + "/sink-0.state");
    std::string bytes((std::istreambuf_iterator<char>(state)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes, "three");
    Status again = store.copy_to(3, savepoint);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
    auto missing = CheckpointStore::read_folder(dir_ + "/no-savepoint");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace millrace
