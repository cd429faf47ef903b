// The CLI's reliability guarantees (docs/reliability.md): outputs checked before the run, the report printed
// before anything is written, a run whose database stays locked kept in a side file that `gpufleet merge`
// adds (once), clean stops on SIGINT/SIGTERM without temporaries, and out-of-range flags refused.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "sim/report/sqlite_db.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

namespace fs = std::filesystem;
using testing::kQuickstart;
using testing::QueryInt;
using testing::RunGpufleet;

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> PendingFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& n : FilesIn(dir)) {
    if (n.find(".pending-") != std::string::npos) out.push_back(dir + "/" + n);
  }
  return out;
}

int64_t Count(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  const int64_t v = QueryInt(db, sql);
  sqlite3_close(db);
  return v;
}

TEST(ReliabilityCli, LockedDatabaseKeepsTheRunInASideFileThatMergeAddsOnce) {
  const std::string dir = testing::TempDir();
  const std::string db_path = dir + "/runs.db";
  ASSERT_EQ(RunGpufleet("simulate " + kQuickstart + " --db " + db_path + " --no-progress").exit_code, 0);

  sqlite3* holder = nullptr;  // another writer holding the write lock for the whole run
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto r = RunGpufleet("simulate " + kQuickstart + " --json --per-request --series-interval 30 --db " + db_path +
                       " --db-wait 0.5 --no-progress");
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);

  EXPECT_EQ(r.exit_code, 3);
  const auto report = nlohmann::json::parse(r.output);  // printed whole although the append failed
  const auto pending = PendingFiles(dir);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(Count(db_path, "SELECT COUNT(*) FROM runs"), 1);

  auto merged = RunGpufleet("merge " + db_path + " " + pending[0], true);
  ASSERT_EQ(merged.exit_code, 0) << merged.output;
  EXPECT_NE(merged.output.find("1 runs added"), std::string::npos) << merged.output;
  EXPECT_EQ(Count(db_path, "SELECT COUNT(*) FROM runs"), 2);
  EXPECT_EQ(Count(db_path, "SELECT COUNT(*) FROM requests WHERE run_id = 2"), report["requests_arrived"].get<int64_t>());
  EXPECT_EQ(Count(db_path, "SELECT COUNT(*) FROM series WHERE run_id = 2") > 0, true);
  EXPECT_EQ(Count(db_path, "SELECT COUNT(*) FROM run_summary WHERE run_id = 2"), 1);

  // Idempotent: the same shard again adds nothing.
  auto again = RunGpufleet("merge " + db_path + " " + pending[0], true);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("0 runs added"), std::string::npos) << again.output;
  EXPECT_EQ(Count(db_path, "SELECT COUNT(*) FROM runs"), 2);
}

TEST(ReliabilityCli, MergeRefusesWhatIsNoGpufleetDatabase) {
  const std::string dir = testing::TempDir();
  const std::string db_path = dir + "/runs.db";
  testing::WriteFile(dir, "notes.txt", "not a database at all, just some text long enough to look like a header\n");
  auto text = RunGpufleet("merge " + db_path + " " + dir + "/notes.txt", true);
  EXPECT_EQ(text.exit_code, 2) << text.output;
  EXPECT_NE(text.output.find("notes.txt"), std::string::npos) << text.output;
  auto missing = RunGpufleet("merge " + db_path + " " + dir + "/absent.db", true);
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_FALSE(fs::exists(db_path));
  ASSERT_EQ(RunGpufleet("simulate " + kQuickstart + " --db " + db_path + " --no-progress").exit_code, 0);
  auto self = RunGpufleet("merge " + db_path + " " + db_path, true);
  EXPECT_EQ(self.exit_code, 2) << self.output;
}

TEST(ReliabilityCli, VersionOneDatabaseIsUpgradedAndMergesWithStableIdentities) {
  const std::string dir = testing::TempDir();
  const std::string old_db = dir + "/old.db";
  ASSERT_EQ(RunGpufleet("simulate " + kQuickstart + " --db " + old_db + " --no-progress").exit_code, 0);
  sqlite3* db = nullptr;  // make it what gpufleet 0.1 wrote: no run_uid, version 1
  ASSERT_EQ(sqlite3_open(old_db.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP INDEX runs_run_uid; ALTER TABLE runs DROP COLUMN run_uid; "
                             "UPDATE schema_info SET value = '1' WHERE key = 'schema_version'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const std::string target = dir + "/all.db";
  ASSERT_EQ(RunGpufleet("merge " + target + " " + old_db).exit_code, 0);
  ASSERT_EQ(RunGpufleet("merge " + target + " " + old_db).exit_code, 0);
  EXPECT_EQ(Count(target, "SELECT COUNT(*) FROM runs"), 1);
  EXPECT_EQ(Count(target, "SELECT COUNT(*) FROM runs WHERE run_uid LIKE 'v1:%'"), 1);
  // Appending to the old file upgrades it in place.
  ASSERT_EQ(RunGpufleet("simulate " + kQuickstart + " --db " + old_db + " --no-progress").exit_code, 0);
  EXPECT_EQ(Count(old_db, "SELECT value FROM schema_info WHERE key = 'schema_version'"), kSqliteSchemaVersion);
  EXPECT_EQ(Count(old_db, "SELECT COUNT(DISTINCT run_uid) FROM runs"), 2);
  ASSERT_EQ(RunGpufleet("merge " + target + " " + old_db).exit_code, 0);
  EXPECT_EQ(Count(target, "SELECT COUNT(*) FROM runs"), 2);
}

TEST(ReliabilityCli, OutputsAreCheckedBeforeTheRun) {
  const std::string dir = testing::TempDir();
  // A missing folder, a folder as the CSV, a database of another application: exit 2, nothing printed or made.
  auto missing = RunGpufleet("simulate " + kQuickstart + " --db /nonexistent/x.db", true);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("--db /nonexistent/x.db: directory /nonexistent does not exist"), std::string::npos)
      << missing.output;

  fs::create_directory(dir + "/folder");
  auto folder = RunGpufleet("simulate " + kQuickstart + " --db " + dir + "/runs.db --series-interval 10 --series-csv " +
                                dir + "/folder",
                            true);
  EXPECT_EQ(folder.exit_code, 2);
  EXPECT_NE(folder.output.find("is a directory"), std::string::npos) << folder.output;
  EXPECT_FALSE(fs::exists(dir + "/runs.db")) << "nothing is written on exit 2";

  const std::string foreign = dir + "/other.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE invoices (id INTEGER)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto other = RunGpufleet("simulate " + kQuickstart + " --db " + foreign, true);
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.output.find("not a gpufleet run database (it holds tables invoices)"), std::string::npos)
      << other.output;
  EXPECT_EQ(Count(foreign, "SELECT COUNT(*) FROM sqlite_master"), 1) << "the foreign database is untouched";

  testing::WriteFile(dir, "text.db", std::string(200, 'x'));
  auto text = RunGpufleet("simulate " + kQuickstart + " --db " + dir + "/text.db", true);
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_NE(text.output.find("not a usable SQLite database"), std::string::npos) << text.output;
}

TEST(ReliabilityCli, SymlinkedOutputIsWrittenThroughNotReplaced) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "target.csv", "old\n");
  fs::create_symlink("target.csv", dir + "/link.csv");
  auto r = RunGpufleet("simulate " + kQuickstart + " --series-interval 100 --series-csv " + dir + "/link.csv --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::is_symlink(dir + "/link.csv"));
  std::ifstream in(dir + "/target.csv");
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("t_s,replica,", 0), 0u) << header;
  EXPECT_EQ(FilesIn(dir), (std::vector<std::string>{"link.csv", "target.csv"}));
}

TEST(ReliabilityCli, OutOfRangeFlagsAreBadInput) {
  for (const char* flags : {"--seed 9223372036854775808", "--seed -1", "--seed 1e3", "--db-wait -1",
                            "--max-memory 12parsecs", "--max-memory 1K", "--series-interval 0"}) {
    auto r = RunGpufleet("simulate " + kQuickstart + " " + flags, true);
    EXPECT_EQ(r.exit_code, 2) << flags << ": " << r.output;
    EXPECT_EQ(r.output.find("Usage"), std::string::npos) << flags;
  }
  auto max_seed = RunGpufleet("simulate " + kQuickstart + " --check --seed 9223372036854775807");
  EXPECT_EQ(max_seed.exit_code, 0) << max_seed.output;
}

TEST(ReliabilityCli, MemoryCapEndsTheRunCleanly) {
  const std::string dir = testing::TempDir();
  auto r = RunGpufleet("--max-memory 64M simulate " + kQuickstart + " --no-progress --db " + dir + "/runs.db", true);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("out of memory"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/runs.db"));
}

// SIGTERM at several moments (set-up, mid-run, while writing the CSV): a clean exit 143 with a message, or
// a finished run; never a temporary file or a partial CSV left behind.
TEST(ReliabilityCli, SigtermStopsCleanlyAtAnyMoment) {
  const std::string dir = testing::TempDir();
  for (const char* delay : {"0.05", "0.3", "0.8", "1.5", "3"}) {
    SCOPED_TRACE(delay);
    const std::string csv = dir + "/series.csv";
    fs::remove(csv);
    const std::string cmd = std::string("sh -c '") + GPUFLEET_BINARY + " simulate " + kQuickstart +
                            " --no-progress --series-interval 0.005 --series-csv " + csv + " >/dev/null 2>" + dir +
                            "/err.txt & p=$!; sleep " + delay + "; kill -TERM $p 2>/dev/null; wait $p; echo $?'";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    int code = -1;
    ASSERT_EQ(fscanf(p, "%d", &code), 1);
    pclose(p);
    EXPECT_TRUE(code == 0 || code == 143) << code;
    std::ifstream err(dir + "/err.txt");
    const std::string err_text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    if (code == 143) {
      // Silent only when the signal came before main() installed its handlers (the binary still loading).
      if (!err_text.empty()) {
        EXPECT_NE(err_text.find("terminated (SIGTERM)"), std::string::npos) << err_text;
      }
      EXPECT_FALSE(fs::exists(csv)) << "the CSV is only ever written whole";
    }
    for (const auto& n : FilesIn(dir)) EXPECT_EQ(n.find(".tmp."), std::string::npos) << n;
  }
}

}  // namespace
}  // namespace gpufleet
