#include "indexer/index_writer.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "core/document_data.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/schema.h"
#include "core/terms.h"
#include "indexer/run_lock.h"

namespace yosan {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kGenerationInfix = ".g";

std::string id_term(const std::string& id) { return terms::boolean(schema::kId, id); }

// The databases a stub file names: its "auto|glass PATH" lines, each relative to the stub's directory.
std::vector<std::string> stub_targets(const std::string& stub) {
    std::ifstream in(stub);
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.find(' ');
        if (space == std::string::npos) continue;
        // A searcher's stub may name remote shards; yosan-index writes local ones only (index_writer.h).
        if (line.compare(0, space, "auto") != 0 && line.compare(0, space, "glass") != 0)
            throw IndexError("索引のスタブファイルにローカルでないデータベースがあります（yosan-index はローカルの索引だけに書き込みます）: " + line, stub);
        fs::path target = line.substr(space + 1);
        if (target.is_relative()) target = fs::path(stub).parent_path() / target;
        out.push_back(target.lexically_normal().string());
    }
    if (out.empty()) throw IndexError("索引のスタブファイルを読めません", stub);
    return out;
}

// The number N of a generation directory "<path>.gN" beside the path, or nullopt.
std::optional<unsigned long> generation_number(const fs::path& index_path, const fs::path& candidate) {
    const std::string prefix = index_path.filename().string().append(kGenerationInfix);
    const std::string name = candidate.filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    const std::string digits = name.substr(prefix.size());
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    return std::stoul(digits);
}

void fsync_path(const fs::path& p, int flags) {
    const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

IndexLayout IndexLayout::inspect(const std::string& path) {
    IndexLayout l;
    l.path = fs::path(path).lexically_normal().string();
    std::error_code ec;
    const auto st = fs::symlink_status(l.path, ec);
    if (ec || !fs::exists(st)) return l;
    if (fs::is_directory(fs::status(l.path, ec))) {
        l.kind = Kind::directory;
        l.live_dir = l.path;
        l.databases = {l.path};
    } else {
        l.kind = Kind::stub;
        l.databases = stub_targets(l.path);
        // Shards live in one generation directory (index.gN/shardK): that directory is the live generation.
        l.live_dir = l.databases.size() == 1 ? l.databases.front() : fs::path(l.databases.front()).parent_path().string();
        for (const std::string& d : l.databases)
            if (l.databases.size() > 1 && fs::path(d).parent_path().string() != l.live_dir)
                throw IndexError("索引のスタブファイルのシャードが一つの世代ディレクトリにありません", l.path);
    }
    return l;
}

std::size_t shard_of(std::string_view id, std::size_t n) {
    return n <= 1 ? 0 : static_cast<std::size_t>(fnv1a(id, kFnvBasis) % n);
}

WriteStats& WriteStats::operator+=(const WriteStats& o) {
    added += o.added;
    updated += o.updated;
    deleted += o.deleted;
    unchanged += o.unchanged;
    return *this;
}

std::vector<std::string> IndexLayout::shard_databases(const std::string& dir, std::size_t shards) {
    if (shards <= 1) return {dir};
    std::vector<std::string> out;
    for (std::size_t k = 0; k < shards; ++k) out.push_back((fs::path(dir) / ("shard" + std::to_string(k))).string());
    return out;
}

namespace {

// Generation directories beside the path other than the live one: those carrying our marker (`ours`) or not.
std::vector<std::string> other_generations(const IndexLayout& layout, bool ours) {
    std::vector<std::string> out;
    const fs::path p(layout.path);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(p.parent_path().empty() ? fs::path(".") : p.parent_path(), ec)) {
        if (!generation_number(p, e.path())) continue;
        if (fs::path(layout.live_dir).lexically_normal() == e.path().lexically_normal()) continue;
        // symlink_status: a symlink named like a generation is never ours (and never followed to delete).
        const bool marked = fs::is_directory(fs::symlink_status(e.path(), ec)) &&
                            fs::is_regular_file(fs::symlink_status(e.path() / IndexLayout::kMarker, ec));
        if (marked == ours) out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

void write_marker(const fs::path& dir) {
    std::ofstream out(dir / IndexLayout::kMarker, std::ios::trunc);
    out << "A generation of a yosan index; yosan-index deletes it when the live index no longer uses it.\n";
    out.close();
    if (!out) throw IndexError("索引の世代ディレクトリに目印を書けません", (dir / IndexLayout::kMarker).string());
}

}  // namespace

std::vector<std::string> IndexLayout::stale_generations() const { return other_generations(*this, true); }

std::vector<std::string> IndexLayout::foreign_generations() const { return other_generations(*this, false); }

void IndexLayout::create_generation(const std::string& dir) {
    std::error_code ec;
    if (!fs::create_directory(dir, ec)) throw IndexError(std::string("索引の世代ディレクトリを作れません: ").append(ec ? ec.message() : "既にあります"), dir);
    write_marker(dir);
}

std::string IndexLayout::next_generation() const {
    const fs::path p(path);
    unsigned long next = 1;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(p.parent_path().empty() ? fs::path(".") : p.parent_path(), ec))
        if (auto n = generation_number(p, e.path())) next = std::max(next, *n + 1);
    return std::string(path).append(kGenerationInfix).append(std::to_string(next));
}

void IndexLayout::switch_to(const std::string& new_dir, std::size_t shards) const {
    const fs::path p(path);
    const fs::path parent = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    // When the path is still a directory, the stub is written under the name the old directory will get
    // (generation 0), and the two are exchanged; otherwise under a temporary name renamed over the stub.
    const std::string tmp = std::string(path).append(kind == Kind::directory ? ".g0" : ".stub.tmp");
    // The directory becomes generation 0, to be deleted by a later run: mark it as ours first.
    if (kind == Kind::directory) write_marker(path);
    {
        std::ofstream out(tmp, std::ios::trunc);
        // Relative to the stub's directory (Xapian resolves them so), so that the tree can be moved.
        for (const std::string& db : shard_databases(fs::path(new_dir).filename().string(), shards)) out << "auto " << db << "\n";
        out.close();
        if (!out) throw IndexError("索引のスタブファイルを書けません", tmp);
    }
    fsync_path(tmp, O_RDONLY);
    const int rc = kind == Kind::directory ? ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE)
                                           : ::rename(tmp.c_str(), path.c_str());
    if (rc != 0) {
        const int err = errno;
        std::error_code ec;
        fs::remove(tmp, ec);
        throw IndexError(std::string("索引を切り替えられません: ").append(std::strerror(err)), path);
    }
    fsync_path(parent, O_RDONLY | O_DIRECTORY);
    // The previous database stays until the next run starts (stale_generations): a searcher that checked
    // the stub just before the switch may still re-open it by path a moment later.
}

namespace {

// Xapian reports a directory it may not write to as a lock it cannot get ("another run holds the lock",
// exit 4, sent staff looking for a process that did not exist); the run lock (run_lock.h) already rules
// out another yosan-index run. Names the real cause when that is it.
void throw_if_unwritable(const std::string& path) {
    const IndexLayout layout = IndexLayout::inspect(path);
    std::string dir = layout.live_dir.empty() ? fs::path(path).parent_path().string() : layout.live_dir;
    if (dir.empty()) dir = ".";
    if (::access(dir.c_str(), W_OK) != 0) {
        const int err = errno;
        throw IndexError(std::string("索引に書き込めません: ").append(std::strerror(err)), dir);
    }
}

}  // namespace

IndexWriter::IndexWriter(const std::string& path, const DocumentBuilder& builder) : builder_(builder) {
    // A stub naming several shards is opened shard by shard (a WritableDatabase is one database); a
    // directory or a stub naming one database as Xapian opens it.
    std::error_code ec;
    const bool stub = fs::is_regular_file(path, ec);
    std::vector<std::string> paths{path};
    if (stub) {
        if (auto targets = stub_targets(path); targets.size() > 1) paths = std::move(targets);
    }
    open(paths);
}

IndexWriter::IndexWriter(const std::vector<std::string>& shards, const DocumentBuilder& builder) : builder_(builder) { open(shards); }

void IndexWriter::open(const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
        try {
            if (const auto parent = fs::path(path).parent_path(); !parent.empty()) fs::create_directories(parent);
            shards_.emplace_back(path, Xapian::DB_CREATE_OR_OPEN);
        } catch (const Xapian::DatabaseLockError& e) {
            throw_if_unwritable(path);
            throw LockHeldError("別のプロセスが索引に書き込み中です（" + e.get_description() + "）", path);
        } catch (const Xapian::Error& e) {
            throw_if_unwritable(path);
            throw IndexError("索引を開けません: " + e.get_description(), path);
        }
        all_.add_database(shards_.back());
    }
    uncommitted_.assign(shards_.size(), 0);
}

void IndexWriter::begin() {
    for (auto& db : shards_) db.begin_transaction(true);
    in_transaction_ = true;
}

bool IndexWriter::contains(const std::string& id) const { return all_.term_exists(id_term(id)); }

namespace {
// Keeps Xapian's spelling dictionary (did-you-mean suggestions) in step with the documents: a document's
// words are added when it comes in and taken out when it goes or is replaced. Added to `delta` (word →
// change of frequency) when one is given, else to `db` at once.
void update_spellings(Xapian::WritableDatabase& db, const Xapian::Document& doc, bool add, std::map<std::string, int>* delta = nullptr) {
    for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
        const std::string& term = *t;
        if (!terms::spelling_word(term)) continue;
        if (delta) (*delta)[term] += add ? 1 : -1;
        else if (add) db.add_spelling(term);
        else db.remove_spelling(term);
    }
}

// Xapian refuses a term longer than 245 bytes when the document is written, failing the whole transaction.
// core/terms caps free-text words and hashes long boolean terms, so no document should hold one; this is
// the last check before anything of the file is written, so that a bug there fails one file, not the night.
void check_terms(const Xapian::Document& doc, const Sheet& sheet) {
    for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t)
        if ((*t).size() > terms::kMaxTermBytes)
            throw InputError("索引語が長すぎます（" + std::to_string((*t).size()) + " バイト）: " + (*t).substr(0, 60) + "…",
                             sheet.location());
}

}  // namespace

void IndexWriter::put(const std::vector<const Sheet*>& sheets, bool force, const std::function<void(std::size_t)>& progress) {
    put_sheets(sheets, force, std::max(1u, std::min(4u, std::thread::hardware_concurrency())), stats_, progress);
}

void IndexWriter::put_sheets(const std::vector<const Sheet*>& sheets, bool force, unsigned threads, WriteStats& stats,
                             const std::function<void(std::size_t)>& progress, LexiconChanges* lexicon) {
    // Which sheets need a (re)built document, decided against the stored JSON in the sheet's shard.
    struct Job {
        const Sheet* sheet;
        Xapian::WritableDatabase* db;
        bool existed;
    };
    std::vector<Job> jobs;
    for (const Sheet* s : sheets) {
        const std::string term = id_term(s->id);
        Xapian::WritableDatabase& db = shard(s->id);
        auto post = db.postlist_begin(term);
        const bool existed = post != db.postlist_end(term);
        if (existed && !force && document_data::holds(db.get_document(*post).get_data(), *s)) {
            ++stats.unchanged;
            continue;
        }
        jobs.push_back({s, &db, existed});
    }
    // Every document is built (on several threads: the Analyzer is thread safe) before the first is
    // written, so that a sheet that cannot be built leaves the database as it was: the caller passes one
    // file's sheets at a time and keeps that file's old sheets when this throws.
    std::vector<DocumentBuilder::Built> docs(jobs.size());
    const auto build = [&](std::size_t first, std::size_t step) {
        Analyzer::Session session(builder_.analyzer());
        for (std::size_t j = first; j < jobs.size(); j += step) {
            docs[j] = builder_.build(*jobs[j].sheet, session);
            check_terms(docs[j].doc, *jobs[j].sheet);
        }
    };
    if (threads <= 1 || jobs.size() <= 1) {
        build(0, 1);
    } else {
        std::vector<std::future<void>> workers;
        for (unsigned t = 0; t < threads && t < jobs.size(); ++t) workers.push_back(std::async(std::launch::async, build, t, threads));
        for (auto& w : workers) w.get();  // rethrows a worker's exception here (the others finish first)
    }
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        const std::string term = id_term(jobs[j].sheet->id);
        Xapian::WritableDatabase& db = *jobs[j].db;
        std::map<std::string, int>* spellings = lexicon ? &lexicon->spellings : nullptr;
        if (jobs[j].existed) update_spellings(lexicon_db(), db.get_document(*db.postlist_begin(term)), false, spellings);
        update_spellings(lexicon_db(), docs[j].doc, true, spellings);
        for (const std::string& entry : docs[j].readings) {
            if (lexicon) lexicon->readings.insert(entry);
            else add_reading(entry);
        }
        db.replace_document(term, docs[j].doc);
        if (jobs[j].existed) readings_may_be_stale_ = true;
        ++(jobs[j].existed ? stats.updated : stats.added);
        if (progress && (j + 1) % 64 == 0) progress(j + 1);
    }
    if (progress) progress(jobs.size());
}

std::map<std::string, std::exception_ptr> IndexWriter::put_files(const std::map<std::string, std::vector<const Sheet*>>& files,
                                                                 unsigned flush_every, const std::function<void(std::size_t)>& progress) {
    const std::size_t n = shards_.size();
    // Each file's sheets, split by shard: shard k's thread writes column k and nothing else.
    std::vector<std::vector<std::pair<std::string, std::vector<const Sheet*>>>> work(n);
    for (const auto& [file, sheets] : files) {
        std::vector<std::vector<const Sheet*>> split(n);
        for (const Sheet* s : sheets) split[shard_of(s->id, n)].push_back(s);
        for (std::size_t k = 0; k < n; ++k)
            if (!split[k].empty()) work[k].emplace_back(file, std::move(split[k]));
    }
    std::mutex mutex;  // guards failed, written, stats_ and the progress callback
    std::map<std::string, std::exception_ptr> failed;
    std::size_t written = 0;
    // Spellings and readings live in shard 0 only (header, "Shards"), which another thread is writing: each
    // thread collects its own, added to shard 0 once every thread is done.
    std::vector<LexiconChanges> lexicons(n);
    const auto write_shard = [&](std::size_t k) {
        WriteStats mine;
        for (const auto& [file, sheets] : work[k]) {
            {
                const std::lock_guard lock(mutex);
                if (failed.count(file)) continue;  // another shard could not build it: written nowhere
            }
            try {
                put_sheets(sheets, true, 1, mine, {}, &lexicons[k]);
            } catch (const std::exception&) {
                const std::lock_guard lock(mutex);
                failed.emplace(file, std::current_exception());
                continue;
            }
            // A commit every flush_every documents keeps Xapian's buffered changes, and so the memory, bounded.
            if ((uncommitted_[k] += sheets.size()) >= flush_every) {
                shards_[k].commit();
                uncommitted_[k] = 0;
            }
            const std::lock_guard lock(mutex);
            written += sheets.size();
            if (progress) progress(written);
        }
        const std::lock_guard lock(mutex);
        stats_ += mine;
    };
    std::vector<std::future<void>> threads;
    for (std::size_t k = 0; k < n; ++k) threads.push_back(std::async(std::launch::async, write_shard, k));
    // Every thread is waited for before anything is rethrown (a Xapian error on one shard: the run fails).
    std::exception_ptr fatal;
    for (auto& t : threads) {
        try {
            t.get();
        } catch (...) {
            if (!fatal) fatal = std::current_exception();
        }
    }
    if (fatal) std::rethrow_exception(fatal);
    for (const LexiconChanges& lexicon : lexicons) {
        for (const auto& [word, change] : lexicon.spellings) {
            if (change > 0) lexicon_db().add_spelling(word, static_cast<Xapian::termcount>(change));
            else if (change < 0) lexicon_db().remove_spelling(word, static_cast<Xapian::termcount>(-change));
        }
        for (const std::string& entry : lexicon.readings) add_reading(entry);
    }
    // A file that failed in one shard may have been written to others before: take it out again.
    for (const auto& [file, error] : failed)
        for (const Sheet* s : files.at(file)) {
            const std::string term = id_term(s->id);
            Xapian::WritableDatabase& db = shard(s->id);
            auto post = db.postlist_begin(term);
            if (post == db.postlist_end(term)) continue;
            update_spellings(lexicon_db(), db.get_document(*post), false);
            db.delete_document(term);
            readings_may_be_stale_ = true;
            --stats_.added;
        }
    return failed;
}

void IndexWriter::remove(const std::string& id) {
    const std::string term = id_term(id);
    Xapian::WritableDatabase& db = shard(id);
    auto post = db.postlist_begin(term);
    if (post == db.postlist_end(term)) return;
    update_spellings(lexicon_db(), db.get_document(*post), false);
    db.delete_document(term);
    readings_may_be_stale_ = true;
    ++stats_.deleted;
}

void IndexWriter::copy_from(const Xapian::Database& from, const std::string& id) {
    const std::string term = id_term(id);
    auto post = from.postlist_begin(term);
    if (post == from.postlist_end(term)) return;
    const Xapian::Document doc = from.get_document(*post);
    Xapian::WritableDatabase& db = shard(id);
    update_spellings(lexicon_db(), doc, true);
    db.replace_document(term, doc);
    // The document does not list its readings: take the whole lexicon, and let commit() drop the entries
    // whose words were not copied.
    if (!std::exchange(readings_copied_, true)) {
        const std::string prefix(schema::kReading);
        for (auto it = from.metadata_keys_begin(prefix); it != from.metadata_keys_end(prefix); ++it) add_reading(*it);
        readings_may_be_stale_ = true;
    }
    ++stats_.unchanged;
}

void IndexWriter::add_reading(const std::string& entry) {
    if (readings_written_.insert(entry).second) lexicon_db().set_metadata(entry, "1");
}

void IndexWriter::prune_readings() {
    const std::string prefix(schema::kReading);
    std::vector<std::string> gone;
    Xapian::WritableDatabase& db = lexicon_db();
    for (auto it = db.metadata_keys_begin(prefix); it != db.metadata_keys_end(prefix); ++it) {
        const std::string& entry = *it;
        const std::size_t tab = entry.find('\t');
        if (tab == std::string::npos || !all_.term_exists(entry.substr(tab + 1))) gone.push_back(entry);
    }
    for (const std::string& entry : gone) {
        db.set_metadata(entry, "");  // an empty value deletes the key
        readings_written_.erase(entry);
    }
}

std::map<std::string, FileState> IndexWriter::file_states() const {
    std::map<std::string, FileState> states;
    const std::string prefix(FileState::kKeyPrefix);
    const Xapian::WritableDatabase& db = shards_.front();
    for (auto it = db.metadata_keys_begin(prefix); it != db.metadata_keys_end(prefix); ++it)
        if (auto s = FileState::from_json(db.get_metadata(*it))) states[s->path] = std::move(*s);
    return states;
}

void IndexWriter::set_file_state(const FileState& state) { set_metadata(FileState::key(state.path), state.to_json()); }

void IndexWriter::erase_file_state(const std::string& path) { set_metadata(FileState::key(path), ""); }

std::set<std::string> IndexWriter::file_ids(const std::string& file) const {
    std::set<std::string> ids;
    const std::string term = terms::boolean(schema::kFile, file);
    for (auto it = all_.postlist_begin(term); it != all_.postlist_end(term); ++it) {
        Xapian::Document doc = all_.get_document(*it);
        auto t = doc.termlist_begin();
        t.skip_to(std::string(schema::kId));
        if (t != doc.termlist_end() && (*t).rfind(schema::kId, 0) == 0) ids.insert((*t).substr(schema::kId.size()));
    }
    return ids;
}

void IndexWriter::replace_file(const std::string& file, const std::vector<Sheet>& sheets) {
    auto old = file_ids(file);
    std::vector<const Sheet*> ptrs;
    for (const Sheet& s : sheets) {
        ptrs.push_back(&s);
        old.erase(s.id);
    }
    put(ptrs, false);
    for (const std::string& id : old) remove(id);
}

void IndexWriter::remove_file(const std::string& file) {
    for (const std::string& id : file_ids(file)) remove(id);
}

void IndexWriter::commit() {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    set_metadata(std::string(schema::kMetaIndexedAt), buf);
    set_metadata(std::string(schema::kMetaSchema), std::string(schema::kSchemaVersion));
    if (readings_may_be_stale_.exchange(false)) prune_readings();
    // The data shards first, shard 0 (file states, fingerprint) last: see "Atomicity" in the header.
    for (std::size_t k = shards_.size(); k-- > 0;) {
        if (in_transaction_) shards_[k].commit_transaction();
        else shards_[k].commit();
    }
    in_transaction_ = false;
}

void merge_parts(const std::vector<std::string>& parts, const std::string& output) {
    try {
        Xapian::Database all;
        for (const std::string& p : parts) all.add_database(Xapian::Database(p));
        // MULTIPASS: with more than 3 parts, merging postlists in several passes is faster (Xapian's docs).
        all.compact(output, Xapian::DBCOMPACT_MULTIPASS);
    } catch (const Xapian::Error& e) {
        throw IndexError("部分索引をまとめられません: " + e.get_description(), output);
    }
    for (const std::string& p : parts) fs::remove_all(p);
}

}  // namespace yosan
