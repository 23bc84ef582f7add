// One run of the nightly job: bring the index up to date with the sheet files, incrementally (the default)
// or by a full rebuild beside the live index. yosan-index's main() parses options and calls reindex().
//
// Incremental: every source file is hashed (SHA-256); a file whose hash matches its stored state
// (file_state.h) is skipped without being parsed. Changed and new files are parsed; their sheets get ids
// (IdAllocator) and are added or replaced by id, or left alone when the SHA-256 of their JSON matches the
// hash the file's state kept for that id, or failing that their stored JSON is identical (the per-sheet
// check: only changed sheets go through the analysis). Sheets of files that are gone are deleted. All of it, with the file states, is one
// Xapian transaction. A run that changes nothing writes nothing.
//
// Full (`--full`): every file is parsed into a new generation database, which then replaces the live one
// atomically (index_writer.h, "Index layout").
//
// Two passes: the first reads and parses every changed file (on several threads) and keeps of each sheet
// only a SheetRecord (indexer/sheet_record.h), what the run-level steps need: ids and bureau inference
// across files. Once those are done, each record is cut down to its SheetDecision (the bureaus the run
// decided on; the id is in the file's state), and the memory of the records' strings is released whole.
// The second pass parses the files again, a batch at a time, gives their sheets the run's decisions and
// writes them; a file whose bytes changed in between is not written and keeps its sheets until the next
// run. So the indexer holds the parsed sheets of one batch of files at a time (about 2,000 sheets) and,
// for every sheet of the run, a record of about 500 bytes, then a decision of about 80, instead of its
// 4 KB: at 105,000 sheets a --full run peaked at 825 MB in stop 21, 436 MB in stop 22, some 393 in stop
// 23 (the analyser maps UniDic once) and some 360 MB since stop 24 (bench/perf/README.md). Parsing twice
// costs some 6 of the run's 200 CPU seconds there.
//
// Both: a file that cannot be read, parsed or built keeps the sheets (and state) it had and is reported
// (any error while handling one file fails that file, never the run); so do the files under a folder that
// cannot be listed or a given path that is missing (a mount that is down): sheets are never deleted for
// a path that could not be read. Only regular files are read (a FIFO never blocks a run). A changed file
// younger than `settle_seconds` waits for the next run; a file that loses many sheets at once is warned
// about. A run that would delete more than `max_delete_share` of the index (counting the sheets it
// could not check) refuses to write anything unless `allow_mass_delete`. The caller holds the RunLock.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/config.h"

namespace yosan {

struct ReindexOptions {
    std::vector<std::string> inputs;  // files and directories
    bool full = false;
    bool allow_mass_delete = false;
    double max_delete_share = 0.2;
    // [index] settle_seconds: a changed file modified more recently is left for the next run.
    unsigned settle_seconds = 60;
    // Called with a phase ("読込" reading, "索引" indexing), the number done and the total.
    std::function<void(const char* phase, std::size_t done, std::size_t total)> progress;
    // Called with each warning for staff ("file:line: message").
    std::function<void(const std::string&)> warn;
};

struct ReindexReport {
    std::string mode;  // "incremental" | "full"
    int added = 0, updated = 0, deleted = 0, unchanged = 0;
    int files = 0, files_parsed = 0, files_skipped = 0;
    int sheets = 0;  // the sheets the readable input files hold (parsed or skipped as unchanged)
    std::vector<std::string> failed_files;  // unreadable or without sheets; they kept their sheets
    std::vector<std::string> missing_inputs;  // configured paths that do not exist
    std::vector<std::string> unreadable_inputs;  // folders that could not be listed
    int kept_unchecked = 0;  // sheets kept because their file lies in one of the two above
    std::vector<std::string> settling_files;  // changed too recently (settle_seconds); they kept their sheets
    int warnings = 0;                         // parse warnings and the above
    bool committed = false;                   // false: nothing changed, or refused
    std::string refused;                      // why nothing was written (mass delete), or empty
    unsigned long long documents = 0;         // in the index after the run
    double seconds = 0;
    std::string index;  // the database directory now live

    // 0 ok, 3 partial (some file failed or warned), 5 refused.
    int exit_status() const;
    std::string summary() const;  // the one line for logs
    std::string to_json() const;  // for monitoring
};

struct InputFiles {
    // Every regular, non-hidden *.txt file under the directories (symlinked folders are not followed), and
    // every file given directly, sorted and canonical (the sorted order is the order of id assignment).
    std::vector<std::string> files;
    std::vector<std::string> missing;     // given paths that do not exist (as given)
    std::vector<std::string> unreadable;  // folders that could not be listed (canonical)
};
InputFiles collect_files(const std::vector<std::string>& paths);

// Failures throw IndexError / ConfigError / AnalysisError (exit 1); the caller's RunLock throws
// LockHeldError (exit 4).
ReindexReport reindex(const Config& config, const ReindexOptions& options);

// Exit status when reindex() refuses a mass delete.
inline constexpr int kExitRefused = 5;

}  // namespace yosan
