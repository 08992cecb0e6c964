#pragma once

#include <string>

#include "storage/object_store.h"

namespace millrace {

/// Objects as files under a local folder (keys are relative paths): what the lake always did.
/// put() is durable (common/durable_file.h: temporary file, fsync, rename, fsync of the folder).
class LocalObjectStore final : public ObjectStore {
public:
    explicit LocalObjectStore(std::string root);

    std::string url(std::string_view key) const override;
    Status put(std::string_view key, std::string_view bytes) override;
    Status put_file(std::string_view key, const std::string& path) override;
    Result<std::string> get(std::string_view key) override;
    Result<std::string> get_range(std::string_view key, uint64_t offset, uint64_t length) override;
    Status get_file(std::string_view key, const std::string& path) override;
    Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
    Status remove(std::string_view key) override;
    Result<std::optional<ObjectInfo>> head(std::string_view key) override;

private:
    std::string path_of(std::string_view key) const;

    std::string root_;
};

}  // namespace millrace
