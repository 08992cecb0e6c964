// libFuzzer target: arbitrary bytes as a pipeline file, through the YAML adapter and the
// pipeline parser. Besides crashes and sanitizer reports it checks the parser's contract:
// success exactly when no error was collected, and every error names the file.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "project/pipeline_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<millrace::Error> errors;
    millrace::Result<millrace::PipelineSpec> pipeline =
        millrace::parse_pipeline(text, "fuzz.yaml", "/project", &errors);
    if (pipeline.ok() != errors.empty()) {
        std::fprintf(stderr, "parse_pipeline: ok=%d but %zu errors\n", pipeline.ok() ? 1 : 0,
                     errors.size());
        std::abort();
    }
    for (const millrace::Error& error : errors) {
        if (error.location().file != "fuzz.yaml") {
            std::fprintf(stderr, "error without the file name: %s\n", error.to_string().c_str());
            std::abort();
        }
    }
    return 0;
}
