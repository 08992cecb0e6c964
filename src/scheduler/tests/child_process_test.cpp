#include "scheduler/child_process.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace millrace {
namespace {

class ChildProcessTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-child-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string read(const std::string& path) const {
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    static bool exited_within(const ChildProcess& child, int milliseconds) {
        pollfd fd{child.pidfd(), POLLIN, 0};
        return ::poll(&fd, 1, milliseconds) == 1;
    }

    std::string dir_;
};

// The task's variables are added to the inherited environment and hide inherited ones of the
// same name; the working directory and the log (stdout and stderr, appended) are the task's.
TEST_F(ChildProcessTest, EnvironmentWorkingDirectoryAndLog) {
    ::setenv("MILLRACE_CHILD_TEST_INHERITED", "kept", 1);
    ::setenv("MILLRACE_CHILD_TEST_OVERRIDDEN", "parent", 1);
    ChildProcess::Options options;
    options.argv = {"/bin/sh", "-c",
                    "echo \"$MILLRACE_CHILD_TEST_INHERITED $MILLRACE_CHILD_TEST_OVERRIDDEN "
                    "$MILLRACE_CHILD_TEST_ADDED\"; env | grep -c MILLRACE_CHILD_TEST_OVERRIDDEN; "
                    "pwd; echo oops >&2; exit 3"};
    options.env = {{"MILLRACE_CHILD_TEST_OVERRIDDEN", "task"},
                   {"MILLRACE_CHILD_TEST_ADDED", "new"}};
    options.cwd = dir_;
    options.log_path = dir_ + "/task.log";
    { std::ofstream(options.log_path) << "before\n"; }
    Result<ChildProcess> child = ChildProcess::spawn(options);
    ASSERT_TRUE(child.ok()) << child.error().to_string();
    ASSERT_TRUE(exited_within(*child, 10000));
    EXPECT_EQ(child->reap(), 3);
    const std::string canonical = std::filesystem::canonical(dir_).string();
    EXPECT_EQ(read(options.log_path), "before\nkept task new\n1\n" + canonical + "\noops\n");
    ::unsetenv("MILLRACE_CHILD_TEST_INHERITED");
    ::unsetenv("MILLRACE_CHILD_TEST_OVERRIDDEN");
}

// kill_group() kills the task and what it started; the exit reads as 128 + SIGKILL.
TEST_F(ChildProcessTest, KillGroupKillsTheWholeGroup) {
    ChildProcess::Options options;
    options.argv = {"/bin/sh", "-c", "sleep 30 & echo $! > grandchild.pid; wait"};
    options.cwd = dir_;
    options.log_path = dir_ + "/task.log";
    Result<ChildProcess> child = ChildProcess::spawn(options);
    ASSERT_TRUE(child.ok()) << child.error().to_string();
    const std::string pid_file = dir_ + "/grandchild.pid";
    for (int i = 0; i < 1000 && read(pid_file).find('\n') == std::string::npos; ++i) {
        ::usleep(10000);
    }
    const pid_t grandchild = std::atoi(read(pid_file).c_str());
    ASSERT_GT(grandchild, 0);
    child->kill_group();
    ASSERT_TRUE(exited_within(*child, 10000));
    EXPECT_EQ(child->reap(), 128 + SIGKILL);
    // Gone, or a zombie waiting for whoever reaps orphans here.
    const auto dead = [&] {
        if (::kill(grandchild, 0) != 0) return true;
        const std::string stat = read("/proc/" + std::to_string(grandchild) + "/stat");
        const std::size_t paren = stat.rfind(')');
        return paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z';
    };
    bool gone = false;
    for (int i = 0; i < 1000 && !gone; ++i) {
        gone = dead();
        if (!gone) ::usleep(10000);
    }
    EXPECT_TRUE(gone);
}

TEST_F(ChildProcessTest, MissingProgramIsAnError) {
    ChildProcess::Options options;
    options.argv = {dir_ + "/no-such-program"};
    EXPECT_FALSE(ChildProcess::spawn(options).ok());
    options.argv.clear();
    EXPECT_FALSE(ChildProcess::spawn(options).ok());
    options.argv = {"/bin/sh", "-c", "true"};
    options.log_path = dir_ + "/no-such-dir/task.log";  // the log cannot be opened
    EXPECT_FALSE(ChildProcess::spawn(options).ok());
}

// A task starts with SIGPIPE and SIGTERM at their defaults even when the scheduler ignores them,
// and with no signal blocked.
TEST_F(ChildProcessTest, TaskSignalsStartAtTheirDefaults) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction saved_pipe {};
    struct sigaction saved_term {};
    ::sigaction(SIGPIPE, &ignore, &saved_pipe);
    ::sigaction(SIGTERM, &ignore, &saved_term);
    ChildProcess::Options options;
    options.argv = {"/bin/sh", "-c", "kill -PIPE $$; sleep 5"};
    options.log_path = dir_ + "/task.log";
    Result<ChildProcess> child = ChildProcess::spawn(options);
    options.argv = {"/bin/sh", "-c", "kill -TERM $$; sleep 5"};
    Result<ChildProcess> second = ChildProcess::spawn(options);
    ::sigaction(SIGPIPE, &saved_pipe, nullptr);
    ::sigaction(SIGTERM, &saved_term, nullptr);
    ASSERT_TRUE(child.ok() && second.ok());
    ASSERT_TRUE(exited_within(*child, 10000));
    EXPECT_EQ(child->reap(), 128 + SIGPIPE);
    ASSERT_TRUE(exited_within(*second, 10000));
    EXPECT_EQ(second->reap(), 128 + SIGTERM);
}

}  // namespace
}  // namespace millrace
