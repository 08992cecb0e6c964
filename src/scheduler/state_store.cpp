#include "scheduler/state_store.h"

#include <sqlite3.h>

#include <array>
#include <map>

namespace millrace {

namespace {

// Migration n (1-based) brings the schema from version n-1 to n. Append only.
constexpr std::array<const char*, 1> kMigrations = {
    R"sql(
CREATE TABLE job_versions(job TEXT NOT NULL, version TEXT NOT NULL, file TEXT NOT NULL,
                          source TEXT NOT NULL, created_at INTEGER NOT NULL,
                          PRIMARY KEY(job, version));
CREATE TABLE runs(run_id TEXT PRIMARY KEY, job TEXT NOT NULL, version TEXT NOT NULL,
                  interval_start INTEGER NOT NULL, interval_end INTEGER NOT NULL,
                  lane TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL,
                  started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL,
                  owner_pid INTEGER NOT NULL, owner_start TEXT NOT NULL,
                  UNIQUE(job, interval_start));
CREATE INDEX runs_by_state ON runs(state);
CREATE TABLE task_instances(run_id TEXT NOT NULL, task TEXT NOT NULL, state TEXT NOT NULL,
                            attempts INTEGER NOT NULL, started_at INTEGER NOT NULL,
                            finished_at INTEGER NOT NULL, log_path TEXT NOT NULL,
                            message TEXT NOT NULL, PRIMARY KEY(run_id, task));
CREATE TABLE attempts(run_id TEXT NOT NULL, task TEXT NOT NULL, attempt INTEGER NOT NULL,
                      state TEXT NOT NULL, pid INTEGER NOT NULL, started_at INTEGER NOT NULL,
                      finished_at INTEGER NOT NULL, exit_code INTEGER NOT NULL,
                      log_path TEXT NOT NULL, message TEXT NOT NULL,
                      PRIMARY KEY(run_id, task, attempt));
)sql"};

constexpr const char* kRunColumns =
    "run_id, job, version, interval_start, interval_end, lane, state, created_at, started_at, "
    "finished_at, owner_pid, owner_start";

// A statement from the store's cache (prepared once per SQL text), reset on scope exit.
class Statement {
public:
    Statement(sqlite3* db, std::map<std::string, sqlite3_stmt*>& cache, const std::string& sql)
        : db_(db) {
        auto it = cache.find(sql);
        if (it != cache.end()) {
            stmt_ = it->second;
            rc_ = SQLITE_OK;
            return;
        }
        rc_ = sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
        if (rc_ == SQLITE_OK) cache.emplace(sql, stmt_);
    }
    ~Statement() {
        if (stmt_ != nullptr) {
            sqlite3_reset(stmt_);
            sqlite3_clear_bindings(stmt_);
        }
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Status prepared() const {
        if (rc_ == SQLITE_OK) return {};
        return Error(ErrorCode::kIo, std::string("scheduler db: ") + sqlite3_errmsg(db_));
    }
    Statement& bind(int index, const std::string& text) {
        sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                          SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int index, std::string_view text) {
        sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                          SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int index, int64_t value) {
        sqlite3_bind_int64(stmt_, index, value);
        return *this;
    }
    /// SQLITE_ROW, SQLITE_DONE, or an error Status.
    Result<bool> step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        return Error(ErrorCode::kIo, std::string("scheduler db: ") + sqlite3_errmsg(db_));
    }
    Status run() {
        MILLRACE_TRY(prepared());
        MILLRACE_TRY(step());
        return {};
    }
    int64_t integer(int column) { return sqlite3_column_int64(stmt_, column); }
    std::string text(int column) {
        const unsigned char* p = sqlite3_column_text(stmt_, column);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
                 : std::string();
    }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    int rc_;
};

// States are stored as the strings of task_state.h; one no version writes is corruption (or a
// newer build's database), reported instead of guessed.
Error unknown_state(std::string_view what, const std::string& text) {
    return Error(ErrorCode::kCorruption,
                 "scheduler db: unknown " + std::string(what) + " state `" + text + "`");
}

Result<RunRecord> read_run(Statement& s) {
    RunRecord r;
    r.run_id = s.text(0);
    r.job = s.text(1);
    r.version = s.text(2);
    r.interval_start = s.integer(3);
    r.interval_end = s.integer(4);
    r.lane = s.text(5);
    const std::string state = s.text(6);
    std::optional<RunState> parsed = parse_run_state(state);
    if (!parsed) return unknown_state("run", state);
    r.state = *parsed;
    r.created_at = s.integer(7);
    r.started_at = s.integer(8);
    r.finished_at = s.integer(9);
    r.owner_pid = s.integer(10);
    r.owner_start = s.text(11);
    return r;
}

}  // namespace

struct StateStore::Impl {
    sqlite3* db = nullptr;
    bool in_transaction = false;
    std::map<std::string, sqlite3_stmt*> statements;  // prepared once, reused
    ~Impl() {
        for (auto& [sql, stmt] : statements) sqlite3_finalize(stmt);
        if (db) sqlite3_close(db);
    }
    Status exec(const char* sql) {
        char* message = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
            std::string text = message ? message : "unknown error";
            sqlite3_free(message);
            return Error(ErrorCode::kIo, "scheduler db: " + text);
        }
        return {};
    }
    Result<std::vector<RunRecord>> runs(const std::string& sql, const std::string& arg,
                                        int64_t limit) {
        Statement s(db, statements, sql);
        MILLRACE_TRY(s.prepared());
        int index = 1;
        if (!arg.empty()) s.bind(index++, arg);
        if (limit > 0) s.bind(index, limit);
        std::vector<RunRecord> out;
        while (true) {
            MILLRACE_ASSIGN_OR_RETURN(bool row, s.step());
            if (!row) break;
            MILLRACE_ASSIGN_OR_RETURN(RunRecord run, read_run(s));
            out.push_back(std::move(run));
        }
        return out;
    }
};

StateStore::StateStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateStore::StateStore(StateStore&&) noexcept = default;
StateStore& StateStore::operator=(StateStore&&) noexcept = default;
StateStore::~StateStore() = default;

Result<FileLock> StateStore::lock_schedules(const std::string& path, std::string_view command) {
    const std::string lock_path = path + ".schedules.lock";
    auto lock = FileLock::try_acquire(lock_path, command);
    if (!lock.ok() && lock.error().code() == ErrorCode::kUnavailable) {
        return Error(ErrorCode::kUnavailable,
                     "the schedules of " + path + " are run by " +
                         FileLock::describe_holder(FileLock::read_holder(lock_path)) +
                         "; stop it first (`millrace jobs run` and the /v1/jobs API of that "
                         "process still work beside it)");
    }
    return lock;
}

Result<StateStore> StateStore::open(const std::string& path) {
    auto impl = std::make_unique<Impl>();
    if (sqlite3_open_v2(path.c_str(), &impl->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        return Error(ErrorCode::kIo, "cannot open scheduler db " + path + ": " +
                                         (impl->db ? sqlite3_errmsg(impl->db) : "out of memory"));
    }
    sqlite3_busy_timeout(impl->db, 10000);
    // WAL + synchronous=NORMAL: commits do not fsync (a power loss may lose the last few state
    // changes, never corrupt the file); the scheduler reconciles on restart.
    MILLRACE_TRY(impl->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
    MILLRACE_TRY(impl->exec("BEGIN IMMEDIATE"));
    Status migrated = [&]() -> Status {
        MILLRACE_TRY(
            impl->exec("CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, "
                       "applied_at INTEGER NOT NULL)"));
        Statement s(impl->db, impl->statements,
                    "SELECT coalesce(max(version), 0) FROM schema_migrations");
        MILLRACE_TRY(s.prepared());
        MILLRACE_TRY(s.step());
        const int64_t current = s.integer(0);
        if (current > static_cast<int64_t>(kMigrations.size())) {
            return Error(ErrorCode::kUnsupported,
                         "scheduler db " + path + " has schema version " + std::to_string(current) +
                             ", newer than this build's " + std::to_string(kMigrations.size()));
        }
        for (int64_t v = current + 1; v <= static_cast<int64_t>(kMigrations.size()); ++v) {
            MILLRACE_TRY(impl->exec(kMigrations[static_cast<std::size_t>(v - 1)]));
            Statement record(impl->db, impl->statements,
                             "INSERT INTO schema_migrations(version, applied_at) "
                             "VALUES(?, strftime('%s','now'))");
            record.bind(1, v);
            MILLRACE_TRY(record.run());
        }
        return {};
    }();
    if (!migrated.ok()) {
        (void)impl->exec("ROLLBACK");
        return std::move(migrated).error();
    }
    MILLRACE_TRY(impl->exec("COMMIT"));
    return StateStore(std::move(impl));
}

Result<int> StateStore::schema_version() {
    Statement s(impl_->db, impl_->statements,
                "SELECT coalesce(max(version), 0) FROM schema_migrations");
    MILLRACE_TRY(s.prepared());
    MILLRACE_TRY(s.step());
    return static_cast<int>(s.integer(0));
}

Status StateStore::save_job_version(const JobDefinition& job, int64_t now) {
    Statement s(impl_->db, impl_->statements,
                "INSERT OR IGNORE INTO job_versions(job, version, file, source, created_at) "
                "VALUES(?,?,?,?,?)");
    s.bind(1, job.name).bind(2, job.version).bind(3, job.file).bind(4, job.source_text);
    s.bind(5, now);
    return s.run();
}

Result<std::string> StateStore::job_version_source(const std::string& job,
                                                   const std::string& version) {
    Statement s(impl_->db, impl_->statements,
                "SELECT source FROM job_versions WHERE job = ? AND version = ?");
    MILLRACE_TRY(s.prepared());
    s.bind(1, job).bind(2, version);
    MILLRACE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
        return Error(ErrorCode::kNotFound, "no version " + version + " of job `" + job + "`");
    }
    return s.text(0);
}

Status StateStore::begin() {
    if (impl_->in_transaction) return {};
    MILLRACE_TRY(impl_->exec("BEGIN IMMEDIATE"));
    impl_->in_transaction = true;
    return {};
}

Status StateStore::commit() {
    if (!impl_->in_transaction) return {};
    impl_->in_transaction = false;
    return impl_->exec("COMMIT");
}

Result<std::pair<StateStore::ClaimOutcome, RunRecord>> StateStore::claim_run(const RunRecord& run) {
    const bool own_transaction = !impl_->in_transaction;
    if (own_transaction) MILLRACE_TRY(impl_->exec("BEGIN IMMEDIATE"));
    auto body = [&]() -> Result<std::pair<ClaimOutcome, RunRecord>> {
        MILLRACE_ASSIGN_OR_RETURN(std::optional<RunRecord> existing, find_run(run.run_id));
        if (existing) return std::make_pair(ClaimOutcome::kExists, *existing);
        Statement s(
            impl_->db, impl_->statements,
            (std::string("INSERT INTO runs(") + kRunColumns + ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"));
        s.bind(1, run.run_id).bind(2, run.job).bind(3, run.version).bind(4, run.interval_start);
        s.bind(5, run.interval_end)
            .bind(6, run.lane)
            .bind(7, to_string(run.state))
            .bind(8, run.created_at);
        s.bind(9, run.started_at).bind(10, run.finished_at).bind(11, run.owner_pid);
        s.bind(12, run.owner_start);
        MILLRACE_TRY(s.run());
        return std::make_pair(ClaimOutcome::kCreated, run);
    };
    auto result = body();
    if (!own_transaction) return result;
    if (!result.ok()) {
        (void)impl_->exec("ROLLBACK");
        return result;
    }
    MILLRACE_TRY(impl_->exec("COMMIT"));
    return result;
}

Status StateStore::take_over_run(const std::string& run_id, int64_t owner_pid,
                                 const std::string& owner_start, RunState state) {
    Statement s(impl_->db, impl_->statements,
                "UPDATE runs SET owner_pid = ?, owner_start = ?, state = ?, finished_at = 0 "
                "WHERE run_id = ?");
    s.bind(1, owner_pid).bind(2, owner_start).bind(3, to_string(state)).bind(4, run_id);
    return s.run();
}

Status StateStore::update_run(const RunRecord& run) {
    Statement s(impl_->db, impl_->statements,
                "UPDATE runs SET state = ?, started_at = ?, finished_at = ? WHERE run_id = ?");
    s.bind(1, to_string(run.state))
        .bind(2, run.started_at)
        .bind(3, run.finished_at)
        .bind(4, run.run_id);
    return s.run();
}

Result<std::optional<RunRecord>> StateStore::find_run(const std::string& run_id) {
    MILLRACE_ASSIGN_OR_RETURN(
        auto runs, impl_->runs(std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = ?",
                               run_id, 0));
    if (runs.empty()) return std::optional<RunRecord>();
    return std::optional<RunRecord>(runs.front());
}

Result<std::vector<RunRecord>> StateStore::list_runs(const std::string& job, int limit) {
    std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs";
    if (!job.empty()) sql += " WHERE job = ?";
    sql += " ORDER BY interval_start DESC, created_at DESC LIMIT ?";
    return impl_->runs(sql, job, limit);
}

Result<std::vector<RunRecord>> StateStore::runs_in_state(RunState state) {
    return impl_->runs(
        std::string("SELECT ") + kRunColumns + " FROM runs WHERE state = ? ORDER BY interval_start",
        std::string(to_string(state)), 0);
}

Result<std::optional<int64_t>> StateStore::last_interval_end(const std::string& job) {
    Statement s(impl_->db, impl_->statements, "SELECT max(interval_end) FROM runs WHERE job = ?");
    MILLRACE_TRY(s.prepared());
    s.bind(1, job);
    MILLRACE_ASSIGN_OR_RETURN(bool row, s.step());
    const std::string text = row ? s.text(0) : std::string();
    if (text.empty()) return std::optional<int64_t>();
    return std::optional<int64_t>(s.integer(0));
}

Status StateStore::save_task(const TaskRecord& t) {
    Statement s(impl_->db, impl_->statements,
                "INSERT INTO task_instances(run_id, task, state, attempts, started_at, "
                "finished_at, log_path, message) VALUES(?,?,?,?,?,?,?,?) "
                "ON CONFLICT(run_id, task) DO UPDATE SET state = excluded.state, attempts = "
                "excluded.attempts, started_at = excluded.started_at, finished_at = "
                "excluded.finished_at, log_path = excluded.log_path, message = excluded.message");
    s.bind(1, t.run_id).bind(2, t.task).bind(3, to_string(t.state)).bind(4, int64_t{t.attempts});
    s.bind(5, t.started_at).bind(6, t.finished_at).bind(7, t.log_path).bind(8, t.message);
    return s.run();
}

Result<std::vector<TaskRecord>> StateStore::tasks_of_run(const std::string& run_id) {
    Statement s(impl_->db, impl_->statements,
                "SELECT run_id, task, state, attempts, started_at, finished_at, log_path, "
                "message FROM task_instances WHERE run_id = ? ORDER BY rowid");
    MILLRACE_TRY(s.prepared());
    s.bind(1, run_id);
    std::vector<TaskRecord> out;
    while (true) {
        MILLRACE_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        TaskRecord t;
        t.run_id = s.text(0);
        t.task = s.text(1);
        const std::string state = s.text(2);
        std::optional<TaskState> parsed = parse_task_state(state);
        if (!parsed) return unknown_state("task", state);
        t.state = *parsed;
        t.attempts = static_cast<int>(s.integer(3));
        t.started_at = s.integer(4);
        t.finished_at = s.integer(5);
        t.log_path = s.text(6);
        t.message = s.text(7);
        out.push_back(std::move(t));
    }
    return out;
}

Status StateStore::save_attempt(const AttemptRecord& a) {
    Statement s(impl_->db, impl_->statements,
                "INSERT INTO attempts(run_id, task, attempt, state, pid, started_at, finished_at, "
                "exit_code, log_path, message) VALUES(?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(run_id, task, attempt) DO UPDATE SET state = excluded.state, pid = "
                "excluded.pid, started_at = excluded.started_at, finished_at = "
                "excluded.finished_at, exit_code = excluded.exit_code, log_path = "
                "excluded.log_path, message = excluded.message");
    s.bind(1, a.run_id).bind(2, a.task).bind(3, int64_t{a.attempt}).bind(4, to_string(a.state));
    s.bind(5, a.pid).bind(6, a.started_at).bind(7, a.finished_at).bind(8, int64_t{a.exit_code});
    s.bind(9, a.log_path).bind(10, a.message);
    return s.run();
}

Result<std::vector<AttemptRecord>> StateStore::attempts_of_run(const std::string& run_id) {
    Statement s(impl_->db, impl_->statements,
                "SELECT run_id, task, attempt, state, pid, started_at, finished_at, exit_code, "
                "log_path, message FROM attempts WHERE run_id = ? ORDER BY started_at, task, "
                "attempt");
    MILLRACE_TRY(s.prepared());
    s.bind(1, run_id);
    std::vector<AttemptRecord> out;
    while (true) {
        MILLRACE_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        AttemptRecord a;
        a.run_id = s.text(0);
        a.task = s.text(1);
        a.attempt = static_cast<int>(s.integer(2));
        const std::string state = s.text(3);
        std::optional<AttemptState> parsed = parse_attempt_state(state);
        if (!parsed) return unknown_state("attempt", state);
        a.state = *parsed;
        a.pid = s.integer(4);
        a.started_at = s.integer(5);
        a.finished_at = s.integer(6);
        a.exit_code = static_cast<int>(s.integer(7));
        a.log_path = s.text(8);
        a.message = s.text(9);
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace millrace
