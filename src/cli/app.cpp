#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/convert_command.h"
#include "cli/generate_command.h"
#include "cli/lake_command.h"
#include "cli/validate_command.h"

namespace millrace {

namespace {
constexpr const char* kVersion = "0.1.0";
}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{
        "Millrace: one binary for ingesting, transforming, checking, landing and serving "
        "data.",
        "millrace"};
    app.set_version_flag("--version,-V", std::string("millrace ") + kVersion);
    app.require_subcommand(0, 1);
    app.fallthrough(false);

    auto* help = app.add_subcommand("help", "Show help for millrace or one of its commands");
    std::string help_topic;
    help->add_option("command", help_topic, "The command to explain");

    auto* validate = app.add_subcommand(
        "validate", "Check a project (millrace.yaml and every included file) without running it");
    std::string project_dir;
    validate->add_option("project-dir", project_dir, "The project directory")->required();

    auto* convert = app.add_subcommand(
        "convert", "Convert a file between formats (json/ndjson, csv, parquet) through a schema");
    ConvertOptions convert_options;
    convert->add_option("input", convert_options.input, "Input file, or - for stdin")->required();
    convert->add_option("output", convert_options.output, "Output file, or - for stdout")
        ->required();
    convert->add_option("--schema", convert_options.schema,
                        "Columns, e.g. \"id: int64 not null, amount: double\" (default: infer)");
    convert->add_option("--from", convert_options.from, "Input format: json, csv or parquet");
    convert->add_option("--to", convert_options.to, "Output format: json, csv or parquet");
    convert->add_option("--compression", convert_options.compression,
                        "Parquet output codec: zstd (default), snappy or none");
    convert->add_option("--row-group-rows", convert_options.row_group_rows,
                        "Parquet output: rows per row group");
    convert->add_option("--errors", convert_options.errors,
                        "Write rejected records with their reasons to this NDJSON file");
    convert->add_option("--max-errors", convert_options.max_errors,
                        "Exit with 1 when more records than this are rejected");
    convert->add_option("--delimiter", convert_options.delimiter, "CSV delimiter (or `tab`)");
    convert->add_flag("--no-header", convert_options.no_header, "CSV files have no header line");
    convert->add_option("--null", convert_options.null_marker, "CSV text that means null");
    convert->add_option("--epoch-unit", convert_options.epoch_unit,
                        "JSON numbers in timestamp columns: auto, s, ms or us");
    convert->add_option("--batch-rows", convert_options.batch_rows, "Rows per batch");

    auto* generate = app.add_subcommand("generate", "Write deterministic test data");
    GenerateOptions generate_options;
    generate->add_option("dataset", generate_options.dataset, "Dataset: orders");
    generate->add_option("--rows,-n", generate_options.rows, "Number of records");
    generate->add_option("--format,-f", generate_options.format, "ndjson or csv");
    generate->add_option("--bad-fraction", generate_options.bad_fraction,
                         "Share of deliberately bad records (0..1)");
    generate->add_option("--seed", generate_options.seed, "Random seed");
    generate->add_option("--output,-o", generate_options.output, "Output file, or - for stdout");

    auto* lake = app.add_subcommand(
        "lake",
        "Inspect and maintain lake tables: list, describe, files, history, compact, import");
    LakeOptions lake_options;
    lake->add_option("action", lake_options.action,
                     "list | describe | files | history | compact | import")
        ->required();
    lake->add_option("table", lake_options.table, "The table (all but list)");
    lake->add_option("--data-dir", lake_options.data_dir, "The data directory (holds lake/)");
    lake->add_option("--project,-p", lake_options.project,
                     "A project directory whose data_dir to use (default: .)");
    lake->add_option("--snapshot", lake_options.snapshot, "describe/files AS OF this snapshot id");
    lake->add_option("--input,-i", lake_options.input, "import: a .parquet, .ndjson or .csv file");
    lake->add_option("--schema", lake_options.schema, "import: the schema of NDJSON/CSV input");
    lake->add_flag("--create", lake_options.create, "import: create the table if missing");
    lake->add_option("--partition-by", lake_options.partition_by,
                     "import --create: column, date(col) or hour(col); repeatable");
    lake->add_flag("--overwrite", lake_options.overwrite,
                   "import: replace the partitions written (idempotent re-runs)");
    lake->add_option("--commit-rows", lake_options.commit_rows,
                     "import: commit every N rows (default: once at the end)");
    lake->add_option("--writer-id", lake_options.writer_id, "import: two-phase-commit writer id");
    lake->add_option("--compression", lake_options.compression,
                     "import: data file codec, zstd (default), snappy or none");
    lake->add_option("--small-file-bytes", lake_options.small_file_bytes,
                     "compact: merge files smaller than this");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error);
    }

    if (*help) {
        if (help_topic.empty()) {
            std::fputs(app.help().c_str(), stdout);
            return 0;
        }
        for (CLI::App* command : app.get_subcommands({})) {
            if (command->get_name() == help_topic) {
                std::fputs(command->help().c_str(), stdout);
                return 0;
            }
        }
        std::fprintf(stderr, "millrace help: unknown command `%s`\n", help_topic.c_str());
        return 1;
    }
    if (*validate) return run_validate(project_dir);
    if (*convert) return run_convert(convert_options);
    if (*generate) return run_generate(generate_options);
    if (*lake) return run_lake(lake_options);
    std::fputs(app.help().c_str(), stdout);
    return 0;
}

}  // namespace millrace
