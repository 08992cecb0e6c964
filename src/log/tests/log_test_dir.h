#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace millrace {

/// A fresh temporary directory for one test, removed with everything in it at the end.
class LogTestDir {
public:
    LogTestDir() {
        std::string pattern =
            std::filesystem::temp_directory_path().string() + "/millrace-log-XXXXXX";
        path_ = ::mkdtemp(pattern.data());
    }
    ~LogTestDir() {
        std::error_code error;
        std::filesystem::remove_all(path_, error);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace millrace
