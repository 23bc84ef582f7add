// Writes sheets into the Xapian database: add or replace by unique id, delete what is gone, and commit once
// so that searchers see the old index or the new one, never a mix.
//
// ## Index layout
// `index.path` in the config (say var/index) is the one name searchers open with Xapian::Database(path).
// It is either
//   - a database directory. A first run creates this, and incremental runs update it in place; or
//   - a Xapian stub file, one line "auto index.gN", naming a generation directory beside it (var/index.g3).
//     Xapian resolves a relative stub path against the stub's own directory, so the tree can be moved.
// A `--full` rebuild writes a new generation directory (var/index.g<N+1>) while searchers keep using the
// live one, commits it, and then switches atomically: it writes a temporary stub and rename(2)s it over the
// path. When the path is still a plain directory (the first --full on an index made by incremental runs)
// renameat2(RENAME_EXCHANGE) swaps the directory and the stub in one step, so there is no moment without
// an index (the old directory becomes generation 0, var/index.g0). The previous database is kept until the
// next run starts, which deletes every generation the stub does not name: a searcher that looked at the
// stub just before the switch may still re-open the old database by its path a moment later, and one that
// holds it open keeps reading (searcher/searcher.h re-opens when the stub's mtime changes). The same
// clean-up removes what a killed --full left behind. Runs hold the run lock (run_lock.h), so no run ever
// deletes a generation another run is writing. Disk: up to two copies of the index between runs.
//
// ## Atomicity
// An IndexWriter opened with begin() collects every change in one Xapian transaction. Without it Xapian
// commits by itself every XAPIAN_FLUSH_THRESHOLD (10,000) changes, and a killed run would leave half of a
// night's changes visible. Source-file states (file_state.h) are metadata written in the same transaction.
//
// Xapian allows one writer per database; a second writer gets IndexError. Not thread safe: one IndexWriter
// per process. Document building (the MeCab analysis, the expensive part) runs on several threads inside
// put(); writing to the database stays on the calling thread.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <xapian.h>

#include "core/sheet.h"
#include "indexer/document_builder.h"
#include "indexer/file_state.h"

namespace yosan {

struct WriteStats {
    int added = 0, updated = 0, deleted = 0, unchanged = 0;
};

// Where the live database of an index path is, and how to switch it (see the layout above).
struct IndexLayout {
    enum class Kind { missing, directory, stub };
    Kind kind = Kind::missing;
    std::string path;      // the configured index path
    std::string live_dir;  // the database directory searchers open now; empty when missing

    static IndexLayout inspect(const std::string& path);
    // Generation directories beside the path that the stub does not name and that carry our marker: only
    // those are ever deleted. A folder that merely has the name (someone's "index.g2") is not ours.
    std::vector<std::string> stale_generations() const;
    // Folders named like a generation without the marker: reported, never deleted.
    std::vector<std::string> foreign_generations() const;
    // Creates a generation directory with the marker inside (before any database file), so that even a run
    // killed right after it leaves something a later run recognises as its own.
    static void create_generation(const std::string& dir);
    static constexpr const char* kMarker = "yosan-generation";
    // A fresh generation directory name (does not exist yet).
    std::string next_generation() const;
    // Makes `new_dir` (a committed database beside the path) the live index atomically; the previous one
    // stays until the next run. Throws IndexError when the switch fails; the old index then stays live.
    void switch_to(const std::string& new_dir) const;
};

class IndexWriter {
public:
    // Opens or creates the database at `path` (a directory, or a stub file naming one). Throws IndexError
    // when another writer holds Xapian's lock.
    IndexWriter(const std::string& path, const DocumentBuilder& builder);

    // Starts the one transaction of a run; commit() ends it. Without begin(), commit() is a plain commit.
    void begin();

    // Adds or replaces the sheets by id. A sheet whose stored JSON is identical is left alone (counted as
    // unchanged) unless `force` (the analysis settings changed, so the terms would differ). `progress` is
    // called now and then with the number written. Every document is built before the first is written:
    // when building throws (a yosan::Error, say InputError for a term Xapian would refuse), nothing of
    // this call was written, so a caller passing one file at a time can keep that file's old sheets.
    void put(const std::vector<const Sheet*>& sheets, bool force, const std::function<void(std::size_t)>& progress = {});
    // Deletes the sheet with this id, if present.
    void remove(const std::string& id);
    // Copies the document with this id from another database (a --full run keeps an unreadable file's
    // sheets this way).
    void copy_from(const Xapian::Database& from, const std::string& id);
    bool contains(const std::string& id) const;

    // Source-file states (file_state.h), keyed by path.
    std::map<std::string, FileState> file_states() const;
    void set_file_state(const FileState& state);
    void erase_file_state(const std::string& path);
    std::string metadata(const std::string& key) const { return db_.get_metadata(key); }
    void set_metadata(const std::string& key, const std::string& value) { db_.set_metadata(key, value); }

    // Replaces everything indexed from `file` with `sheets`: same id → replaced (or left as is when the
    // stored data is identical), new id → added, id no longer present → deleted.
    void replace_file(const std::string& file, const std::vector<Sheet>& sheets);
    // Deletes every sheet that came from `file`.
    void remove_file(const std::string& file);
    // The source files the index holds sheets from (the XF terms).
    std::set<std::string> indexed_files() const;
    // id → stored data of the sheets indexed from `file`.
    std::map<std::string, std::string> file_ids(const std::string& file) const;

    // One atomic commit; records the time and schema version in the metadata.
    void commit();
    const WriteStats& stats() const { return stats_; }
    Xapian::doccount size() const { return db_.get_doccount(); }
    const Xapian::WritableDatabase& database() const { return db_; }

private:
    Xapian::WritableDatabase db_;
    const DocumentBuilder& builder_;
    WriteStats stats_;
    bool in_transaction_ = false;
};

}  // namespace yosan
