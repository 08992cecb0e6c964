#pragma once

#include <cstdint>
#include <string>

namespace millrace {

struct DlqCommandOptions {
    std::string action;       // count, inspect, replay
    std::string project_dir;  // the project
    std::string pipeline;
    std::string reason;  // only envelopes whose reason contains this
    std::string source;  // only envelopes of this source
    std::string stage;   // only envelopes of this stage
    int64_t limit = -1;  // inspect: at most this many (-1: all)
    bool json = false;   // inspect: one envelope per line; count: one JSON object
    std::string from;    // replay: edited envelopes (NDJSON, as `inspect --json` prints them)
    std::string to;      // replay: this topic instead of the envelope's source topic
    bool dry_run = false;
};

/// `millrace dlq count|inspect|replay <project> <pipeline>`: the pipeline's dead-letter topic
/// (connectors/dead_letter_topic.h). count groups the envelopes by reason, source and stage;
/// inspect prints them; replay appends their original bytes (or the corrected ones of `--from`)
/// to the source's topic and records each replayed envelope (its dead-letter partition and
/// offset) in `<data_dir>/dlq/<pipeline>.replayed`, so a second replay skips it.
int run_dlq(const DlqCommandOptions& options);

}  // namespace millrace
