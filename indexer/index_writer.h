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
// ## Shards
// With `[index] shards = N` (N > 1), a --full run writes the generation directory as N databases
// (var/index.gN/shard0 … shardN-1) and the stub lists them, one "auto index.gN/shardK" line each: a stub
// naming several databases is opened by Xapian::Database(path) as one database, and Xapian combines the
// statistics BM25 needs (document count, lengths, term frequencies) over all of them, so ranking, totals and
// facet counts are those of one database holding the same sheets. A sheet lives in the shard
// shard_of(id, N): FNV-1a (64 bit) of the id's bytes, modulo N. That hash is fixed here for good (std::hash
// may differ between compilers and runs); changing it, or N, needs a --full. For shards on other machines,
// a searcher's stub names them as "remote HOST:PORT" lines (xapian-tcpsrv --port PORT DB on each,
// read-only); the indexer always writes local shards.
// Metadata (file states, fingerprint, time of the run, the reading lexicon of core/terms.h) lives in shard 0
// only: Xapian reads the metadata of a database made of several from its first one. So does the spelling
// dictionary (did-you-mean): Xapian 1.4 adds up the trigram scores of the shards' spelling tables, so that
// a word every shard knows would outscore the right word that only one shard holds, and suggestions would
// differ from one database's.
//
// ## The lexicons
// Spellings follow the documents exactly (a document's words are added, and taken out again when it goes).
// Reading entries are only ever added while documents are written (a document does not list its
// readings, so they cannot be taken out with it); when a run has deleted or replaced documents, or copied
// the lexicon of another database, commit() drops every entry whose word no longer has a posting in any
// shard. An entry may outlive one of its spellings (日本 read ニッポン in a deleted sheet, ニホン in others):
// that reading then still finds the word's sheets, which is harmless.
//
// ## Atomicity
// An IndexWriter opened with begin() collects every change in one Xapian transaction per shard. Without it
// Xapian commits by itself every XAPIAN_FLUSH_THRESHOLD (10,000) changes, and a killed run would leave half
// of a night's changes visible. Source-file states (file_state.h) are metadata written in the same
// transaction. With several shards there is no transaction across them: commit() commits the data shards
// first and shard 0, which holds the file states, last. A run killed in between leaves some shards with
// the new sheets while the file states still describe the old ones; the next run sees those files as
// changed (their hash differs from the stored state) and writes them again, replacing by id, so the index
// converges. Until then a searcher may see a changed sheet new in one shard and a deleted one still present
// in another: the window is the few milliseconds between two commits, or until the next run after a kill.
// A --full run has no such window: its shards become live together with the stub switch.
//
// ## Parallel full build
// Xapian's writer is serial, so a --full run uses several writers: put_files() writes each shard on its own
// thread (analysis included). With one shard, the run writes `[index] build_threads` part databases the
// same way (a sheet by shard_of() among the parts) and merge_parts() joins them into the generation
// directory with Xapian's compaction (xapian-compact), which also makes the database smaller. Each writer
// commits every `[index] flush_documents` documents, so that the memory of its buffered changes stays bounded.
//
// Xapian allows one writer per database; a second writer gets IndexError. Not thread safe: one IndexWriter
// per process (put_files() runs its own threads, one per shard, each on its own database). Document
// building (the MeCab analysis, the expensive part) runs on several threads inside put() too; writing to a
// database stays on one thread.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "core/sheet.h"
#include "indexer/document_builder.h"
#include "indexer/file_state.h"

namespace yosan {

struct WriteStats {
    int added = 0, updated = 0, deleted = 0, unchanged = 0;
    WriteStats& operator+=(const WriteStats& o);
};

// The shard (0 … n-1) of a sheet id: FNV-1a (64 bit) of its bytes, modulo n (see "Shards" above).
std::size_t shard_of(std::string_view id, std::size_t n);

// Where the live database of an index path is, and how to switch it (see the layout above).
struct IndexLayout {
    enum class Kind { missing, directory, stub };
    Kind kind = Kind::missing;
    std::string path;      // the configured index path
    std::string live_dir;  // the generation (or plain) directory searchers open now; empty when missing
    // The databases searchers open now: live_dir itself, or its shards (live_dir/shardK) when the stub
    // names several. Empty when missing.
    std::vector<std::string> databases;

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
    // The databases a generation directory holds for `shards` shards: the directory itself for one, else
    // dir/shard0 … dir/shard<N-1>.
    static std::vector<std::string> shard_databases(const std::string& dir, std::size_t shards);
    // Makes `new_dir` (a committed generation beside the path, of `shards` shards) the live index
    // atomically; the previous one stays until the next run. Throws IndexError when the switch fails; the
    // old index then stays live.
    void switch_to(const std::string& new_dir, std::size_t shards = 1) const;
};

// Merges the committed part databases `parts` into one database at `output` with Xapian's compaction
// (documents renumbered part after part; metadata and spellings merged), then deletes the parts. `output`
// may be the directory that holds them. Throws IndexError.
void merge_parts(const std::vector<std::string>& parts, const std::string& output);

class IndexWriter {
public:
    // Opens or creates the database at `path` (a directory, or a stub file naming one or several shards).
    // Throws IndexError when another writer holds Xapian's lock.
    IndexWriter(const std::string& path, const DocumentBuilder& builder);
    // Opens or creates these databases as the shards, in this order (a --full run's new generation).
    IndexWriter(const std::vector<std::string>& shards, const DocumentBuilder& builder);

    // Starts the one transaction of a run; commit() ends it. Without begin(), commit() is a plain commit.
    void begin();

    // Adds or replaces the sheets by id. A sheet whose stored JSON is identical is left alone (counted as
    // unchanged) unless `force` (the analysis settings changed, so the terms would differ). `progress` is
    // called now and then with the number written. Every document is built before the first is written:
    // when building throws (a yosan::Error, say InputError for a term Xapian would refuse), nothing of
    // this call was written, so a caller passing one file at a time can keep that file's old sheets.
    void put(const std::vector<const Sheet*>& sheets, bool force, const std::function<void(std::size_t)>& progress = {});
    // For a --full run into new databases: writes the sheets of each file (file → sheets), every shard on
    // its own thread, each shard committing every `flush_every` documents (counted across calls: a run
    // passes a batch of files at a time). A file whose documents cannot all be built is written nowhere (its
    // sheets already written to other shards are deleted again) and is returned with the error; the
    // others are written. `progress` gets the number written so far in this call (it is called from the
    // writing threads, one at a time).
    std::map<std::string, std::exception_ptr> put_files(const std::map<std::string, std::vector<const Sheet*>>& files,
                                                        unsigned flush_every,
                                                        const std::function<void(std::size_t)>& progress = {});
    // Deletes the sheet with this id, if present.
    void remove(const std::string& id);
    // Copies the document with this id from another database (a --full run keeps an unreadable file's
    // sheets this way), and the first time, that database's reading lexicon (pruned at commit()).
    void copy_from(const Xapian::Database& from, const std::string& id);
    bool contains(const std::string& id) const;

    // Source-file states (file_state.h), keyed by path.
    std::map<std::string, FileState> file_states() const;
    void set_file_state(const FileState& state);
    void erase_file_state(const std::string& path);
    // Metadata, in shard 0 (see "Shards").
    std::string metadata(const std::string& key) const { return shards_.front().get_metadata(key); }
    void set_metadata(const std::string& key, const std::string& value) { shards_.front().set_metadata(key, value); }

    // Replaces everything indexed from `file` with `sheets`: same id → replaced (or left as is when the
    // stored data is identical), new id → added, id no longer present → deleted.
    void replace_file(const std::string& file, const std::vector<Sheet>& sheets);
    // Deletes every sheet that came from `file`.
    void remove_file(const std::string& file);
    // The ids of the sheets indexed from `file`.
    std::set<std::string> file_ids(const std::string& file) const;

    // One atomic commit per shard, shard 0 last (see "Atomicity"); records the time and schema version in
    // the metadata, and first drops reading entries whose words are gone (see "The lexicons").
    void commit();
    const WriteStats& stats() const { return stats_; }
    Xapian::doccount size() const { return all_.get_doccount(); }
    std::size_t shard_count() const { return shards_.size(); }
    // Every shard as one database (reads see this writer's uncommitted changes).
    const Xapian::Database& database() const { return all_; }

private:
    void open(const std::vector<std::string>& paths);
    Xapian::WritableDatabase& shard(const std::string& id) { return shards_[shard_of(id, shards_.size())]; }
    // Spellings (did-you-mean) and readings are kept in shard 0 only: see "Shards".
    Xapian::WritableDatabase& lexicon_db() { return shards_.front(); }
    // Changes to the lexicons collected by one of put_files' threads (shard 0 is another thread's), written
    // to lexicon_db() once they are all done.
    struct LexiconChanges {
        std::map<std::string, int> spellings;  // word → change of frequency
        std::set<std::string> readings;        // entries to add
    };
    // put()'s work: builds the documents of `sheets` on `threads` threads, then writes them, adding to
    // `stats`. Lexicon changes go to `lexicon` when given (put_files' threads), else to lexicon_db().
    void put_sheets(const std::vector<const Sheet*>& sheets, bool force, unsigned threads, WriteStats& stats,
                    const std::function<void(std::size_t)>& progress, LexiconChanges* lexicon = nullptr);
    void add_reading(const std::string& entry);
    // Drops the reading entries whose word has no posting left in any shard.
    void prune_readings();

    std::vector<Xapian::WritableDatabase> shards_;
    // Documents put_files() wrote to each shard since its last commit, across calls (one file per call).
    std::vector<std::size_t> uncommitted_;
    Xapian::Database all_;  // shards_ combined, for reads across them
    const DocumentBuilder& builder_;
    WriteStats stats_;
    bool in_transaction_ = false;
    std::set<std::string> readings_written_;  // entries already set in lexicon_db() by this writer
    // Documents left or were replaced, or a lexicon was copied (set by put_files' threads too).
    std::atomic<bool> readings_may_be_stale_ = false;
    bool readings_copied_ = false;
};

}  // namespace yosan
