// yosan's configuration, read from a TOML file (config/yosan.toml) by both binaries. Command-line flags
// override individual fields after loading. Relative paths in the file are resolved against the
// directory the file is in, so the config works from any working directory.
#pragma once

#include <string>
#include <vector>

#include "core/analyzer.h"
#include "core/budget.h"

namespace yosan {

struct FieldWeights {
    // How many times a word in each part of the sheet counts (the wdf increment). The title is also
    // indexed as its own field (prefix S) for `title:` queries. Default: title 5, 事業概要 and 事業目的 2,
    // the rest 1.
    unsigned title = 5;
    unsigned purpose = 2;
    unsigned overview = 2;
    unsigned other = 1;
};

// [server]: read by `yosan-search serve` (searcher/server.h); command-line flags override listen and static_dir.
struct ServerSettings {
    // "host:port"; empty leaves the server's default (127.0.0.1:8080). [server] listen.
    std::string listen;
    // Serve the page from this folder instead of the built-in copy; resolved against the config file's folder.
    std::string static_dir;
    // One line per request on stderr (the journal): client, method, path, status, milliseconds. Default: true.
    bool access_log = true;
    // Peers whose X-Forwarded-For / X-Real-IP headers are believed (a reverse proxy on the same host):
    // addresses or CIDR blocks ("127.0.0.1", "::1", "10.0.0.0/8"). Checked when the server starts.
    // Default: none, so the client is always the peer address.
    std::vector<std::string> trusted_proxies;
    // /healthz answers 503 once the index has not been brought up to date for this long (the later of the
    // index's yosan:indexed_at and the last successful run's end). 0 turns the check off. Default: 36.
    double max_index_age_hours = 36;
};

struct Config {
    std::string source;  // the file this was read from, for messages

    // Where the Xapian database lives. Default: ../var/index next to the config directory.
    std::string index_path;
    // The share of the index one yosan-index run may delete before it refuses to commit (a missing mount
    // or an emptied folder looks like mass deletion). Default: 0.2. [index] max_delete_share.
    double max_delete_share = 0.2;
    // A changed file whose modification time is younger than this is left for the next run (it keeps its
    // sheets): it may be being copied right now, and a half-copied file would lose its tail's sheets.
    // Default: 60. [index] settle_seconds.
    unsigned settle_seconds = 60;
    // Where yosan-index records the outcome of each run (core/run_state.h) and the server reads it for
    // /healthz and /metrics. Default: empty, meaning the index path plus ".last-run.json" (run_state_path()),
    // which follows --index. [index] state_file.
    std::string state_file;
    // The number of Xapian databases (shards) a `--full` run writes; a sheet goes to the shard of a stable
    // hash of its id (indexer/index_writer.h, "Shards"), and searchers open the stub naming them all as one
    // database. Incremental runs keep the layout the index has: a new value takes effect at the next --full.
    // Default: 1 (one database). [index] shards.
    unsigned shards = 1;
    // With one shard, a `--full` run writes this many part databases on as many threads and merges them
    // (Xapian's writer is serial: several writers are how the build uses several cores). 0: the number of
    // cores, at most 8. Default: 0. [index] build_threads.
    unsigned build_threads = 0;
    // A --full run's part writers commit every this many documents, which bounds the memory Xapian's
    // buffered changes take (peak RSS). Default: 500. [index] flush_documents.
    unsigned flush_documents = 500;
    // Files or directories the indexer reads when none are given on the command line.
    std::vector<std::string> corpus_paths;

    AnalyzerOptions analysis;
    std::string bureaus_path;   // dict/bureaus.tsv
    std::string synonyms_path;  // dict/synonyms.tsv
    std::string assignments_path;  // dict/assignments.tsv: bureaus for sheets that name none (indexer/bureau_inference.h)
    std::string char_fixes_path;  // dict/charmap.tsv

    AmountBuckets buckets = AmountBuckets::defaults();
    FieldWeights weights;

    // BM25 parameters (Xapian::BM25Weight k1, k2, k3, b, min_normlen).
    double bm25_k1 = 1.2, bm25_b = 0.75;
    // Weight of a match on a part of a kanji compound (電池 inside 蓄電池) relative to a whole-word match;
    // 0 turns compound parts off. Default 0.3.
    double compound_part_weight = 0.3;
    // Extra weight for sheets where the words of a several-word query stand within `proximity_window`
    // positions of each other; 0 turns it off. Default 1.0 and 12.
    double proximity_weight = 1.0;
    unsigned proximity_window = 12;

    ServerSettings server;

    // What load() noticed but accepted (unknown keys, for staff; load_config prints them on stderr).
    std::vector<std::string> warnings;

    // Reads the file; throws ConfigError naming the file and key on any problem, a value of the wrong type
    // or out of range included.
    static Config load(const std::string& path);
};

// Loads a CharMap from a two-column TSV (wrong character, right character).
CharMap load_char_map(const std::string& path);

// What decides how text becomes terms, by content: the dictionary kind and hashes of the system
// dictionary's sys.dic, the user dictionary and the character fixes, as one line
// ("unidic sys.dic=… user=… charmap=…"). The indexer stores it in the index metadata at each commit
// (schema::kMetaAnalysis); a searcher whose own fingerprint differs analyses queries differently from
// the documents. Throws ConfigError naming a file that cannot be read.
std::string analysis_fingerprint(const Config& config);

// The default config path: $YOSAN_CONFIG, else config/yosan.toml under the current directory.
std::string default_config_path();

}  // namespace yosan
