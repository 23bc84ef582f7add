// The outcome of yosan-index runs, for monitoring: a small JSON file beside the index, written by
// yosan-index (indexer/main.cpp) at the end of every run that got as far as reading its config, and read by
// `yosan-search serve` for /healthz and /metrics.
//
// Where: [index] state_file, by default the index path plus ".last-run.json" (var/index.last-run.json):
// beside the index, not inside it, because a --full rebuild replaces the index directory with a stub.
//
//   {"last_run":     {"status": "ok", "exit_status": 0, "started_at": "2026-12-01T02:30:00Z",
//                     "finished_at": "2026-12-01T02:30:41Z", "seconds": 41.2, "report": {...}},
//    "last_success": {...the same fields, of the last run whose status was ok or partial...}}
//
// `report` is ReindexReport::to_json() (added, updated, deleted, unchanged, failed files, documents…) when
// the run got that far; `error` is the message of a run that stopped on an error. A failed run replaces
// last_run only: when the last good run was stays known.
//
// Statuses, from yosan-index's exit status: 0 ok, 3 partial, 4 lock-held, 5 refused, anything else failed.
// ok and partial are successes: a partial run committed everything except the files it names, which kept
// their sheets (the systemd unit takes exit 3 as success too); lock-held, refused and failed are not.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/config.h"

namespace yosan {

struct RunRecord {
    std::string status;  // ok | partial | lock-held | refused | failed (run_status())
    int exit_status = 0;
    std::string started_at, finished_at;  // utc_timestamp()
    double seconds = 0;
    std::string error;             // why the run stopped, when it did; else empty
    nlohmann::json report;         // ReindexReport::to_json(), or null when the run ended before it

    nlohmann::json to_json() const;
    // Missing fields stay at their defaults; throws nlohmann::json::exception on a field of the wrong type.
    static RunRecord from_json(const nlohmann::json& j);
};

struct RunState {
    std::optional<RunRecord> last_run;
    std::optional<RunRecord> last_success;  // the last run whose status was ok or partial
};

// Every status run_status() gives, for /metrics (one series each).
inline constexpr std::array<std::string_view, 5> kRunStatuses = {"ok", "partial", "lock-held", "refused", "failed"};

// The status name of a yosan-index exit status (see above).
std::string run_status(int exit_status);
// Whether a run of that status brought the index up to date (ok, partial).
bool run_succeeded(std::string_view status);

// [index] state_file, or the index path plus ".last-run.json". Follows --index.
std::string run_state_path(const Config& config);

// The file's content; std::nullopt when there is no file (no run recorded yet). Throws IndexError naming
// the file when it exists but cannot be read or is not what record_run() writes.
std::optional<RunState> read_run_state(const std::string& path);

// Makes `run` the last run, and the last success when it succeeded; the other record is kept. The file is
// replaced atomically (a temporary file, fsync, rename), so a reader sees the old content or the new one.
// Two runs recording at once (a run that found the lock held, and the holder finishing) are serialised by
// an flock on the file's directory, and a record never replaces a last run that finished after it started:
// the holder's outcome is the newer news. Throws IndexError when the file cannot be written.
void record_run(const std::string& path, const RunRecord& run);

// "2026-12-01T02:30:00Z" (UTC, whole seconds): the format of the index's yosan:indexed_at too.
std::string utc_timestamp(std::chrono::system_clock::time_point t);
// The inverse; std::nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_utc_timestamp(std::string_view text);

}  // namespace yosan
