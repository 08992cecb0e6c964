#include "common/file_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace millrace {

namespace {

class FileLockTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern =
            std::filesystem::temp_directory_path().string() + "/millrace-lock-XXXXXX";
        dir_ = ::mkdtemp(pattern.data());
        path_ = dir_ + "/writer.lock";
    }
    void TearDown() override {
        std::error_code error;
        std::filesystem::remove_all(dir_, error);
    }

    /// Forks a child that takes the lock, tells the parent through a pipe and then waits to be
    /// killed. Returns the child's pid once it holds the lock.
    pid_t spawn_holder() {
        int ready[2];
        EXPECT_EQ(::pipe(ready), 0);
        const pid_t child = ::fork();
        if (child == 0) {
            ::close(ready[0]);
            auto lock = FileLock::try_acquire(path_, "millrace test-holder");
            const char byte = lock.ok() ? '1' : '0';
            (void)!::write(ready[1], &byte, 1);
            while (true) ::pause();
        }
        ::close(ready[1]);
        char byte = 0;
        EXPECT_EQ(::read(ready[0], &byte, 1), 1);
        ::close(ready[0]);
        EXPECT_EQ(byte, '1');
        return child;
    }

    std::string dir_;
    std::string path_;
};

}  // namespace

TEST_F(FileLockTest, SecondAcquireInTheSameProcessFailsNamingThePid) {
    auto first = FileLock::try_acquire(path_, "millrace serve");
    ASSERT_TRUE(first.ok()) << first.error().to_string();
    auto second = FileLock::try_acquire(path_, "millrace topic produce");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
    EXPECT_NE(second.error().message().find("process " + std::to_string(::getpid())),
              std::string::npos)
        << second.error().message();
    EXPECT_NE(second.error().message().find("millrace serve"), std::string::npos);
    EXPECT_TRUE(FileLock::locked(path_));
}

TEST_F(FileLockTest, ReleasedWhenTheObjectDiesAndMovesKeepIt) {
    {
        auto first = FileLock::try_acquire(path_, "one");
        ASSERT_TRUE(first.ok());
        FileLock moved = std::move(first).value();
        EXPECT_FALSE(FileLock::try_acquire(path_, "two").ok());
    }
    EXPECT_FALSE(FileLock::locked(path_));
    EXPECT_TRUE(FileLock::try_acquire(path_, "three").ok());
}

TEST_F(FileLockTest, AddressIsRecordedForOtherProcesses) {
    auto lock = FileLock::try_acquire(path_, "millrace serve");
    ASSERT_TRUE(lock.ok());
    ASSERT_TRUE(lock->set_address("127.0.0.1:8080").ok());
    auto holder = FileLock::read_holder(path_);
    ASSERT_TRUE(holder.has_value());
    EXPECT_EQ(holder->pid, ::getpid());
    EXPECT_EQ(holder->command, "millrace serve");
    EXPECT_EQ(holder->address, "127.0.0.1:8080");
}

TEST_F(FileLockTest, HeldByAChildProcessAndReleasedWhenItIsKilled) {
    const pid_t child = spawn_holder();
    auto refused = FileLock::try_acquire(path_, "parent");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
    EXPECT_NE(refused.error().message().find("process " + std::to_string(child)), std::string::npos)
        << refused.error().message();
    EXPECT_NE(refused.error().message().find("millrace test-holder"), std::string::npos);

    // kill -9: no destructor runs, the kernel drops the lock with the process.
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    auto after = FileLock::try_acquire(path_, "parent");
    ASSERT_TRUE(after.ok()) << after.error().to_string();
    EXPECT_EQ(FileLock::read_holder(path_)->pid, ::getpid());
}

TEST_F(FileLockTest, ReleasedWhenTheHolderExitsWithoutCleanup) {
    const pid_t child = ::fork();
    if (child == 0) {
        auto lock = FileLock::try_acquire(path_, "child");
        ::_exit(lock.ok() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_FALSE(FileLock::locked(path_));
    EXPECT_TRUE(FileLock::try_acquire(path_, "parent").ok());
}

TEST_F(FileLockTest, AcquireWaitingTakesTheLockOnceTheHolderIsGone) {
    const pid_t child = spawn_holder();
    // Kill the holder from another thread while this one waits for the lock.
    std::thread killer([child] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ::kill(child, SIGKILL);
    });
    auto lock = FileLock::acquire_waiting(path_, "waiter");
    killer.join();
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(lock.ok()) << lock.error().to_string();
    EXPECT_FALSE(FileLock::try_acquire(path_, "third").ok());
    const auto holder = FileLock::read_holder(path_);
    ASSERT_TRUE(holder.has_value());
    EXPECT_EQ(holder->pid, ::getpid());
}

}  // namespace millrace
