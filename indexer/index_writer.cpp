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
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include "core/error.h"
#include "core/schema.h"
#include "core/terms.h"
#include "indexer/run_lock.h"

namespace yosan {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kGenerationInfix = ".g";

std::string id_term(const std::string& id) { return terms::boolean(schema::kId, id); }

// The database a stub file names: its first "auto|glass PATH" line, relative to the stub's directory.
std::string stub_target(const std::string& stub) {
    std::ifstream in(stub);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.find(' ');
        if (space == std::string::npos) continue;
        fs::path target = line.substr(space + 1);
        if (target.is_relative()) target = fs::path(stub).parent_path() / target;
        return target.lexically_normal().string();
    }
    throw IndexError("索引のスタブファイルを読めません", stub);
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
    } else {
        l.kind = Kind::stub;
        l.live_dir = stub_target(l.path);
    }
    return l;
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

void IndexLayout::switch_to(const std::string& new_dir) const {
    const fs::path p(path);
    const fs::path parent = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    // When the path is still a directory, the stub is written under the name the old directory will get
    // (generation 0), and the two are exchanged; otherwise under a temporary name renamed over the stub.
    const std::string tmp = std::string(path).append(kind == Kind::directory ? ".g0" : ".stub.tmp");
    // The directory becomes generation 0, to be deleted by a later run: mark it as ours first.
    if (kind == Kind::directory) write_marker(path);
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << "auto " << fs::path(new_dir).filename().string() << "\n";
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
    try {
        if (const auto parent = std::filesystem::path(path).parent_path(); !parent.empty()) std::filesystem::create_directories(parent);
        db_ = Xapian::WritableDatabase(path, Xapian::DB_CREATE_OR_OPEN);
    } catch (const Xapian::DatabaseLockError& e) {
        throw_if_unwritable(path);
        throw LockHeldError("別のプロセスが索引に書き込み中です（" + e.get_description() + "）", path);
    } catch (const Xapian::Error& e) {
        throw_if_unwritable(path);
        throw IndexError("索引を開けません: " + e.get_description(), path);
    }
}

void IndexWriter::begin() {
    db_.begin_transaction(true);
    in_transaction_ = true;
}

bool IndexWriter::contains(const std::string& id) const { return db_.term_exists(id_term(id)); }

namespace {
// Keeps Xapian's spelling dictionary (did-you-mean suggestions) in step with the documents: a document's
// words are added when it comes in and taken out when it goes or is replaced.
void update_spellings(Xapian::WritableDatabase& db, const Xapian::Document& doc, bool add) {
    for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
        const std::string& term = *t;
        if (!terms::spelling_word(term)) continue;
        if (add) db.add_spelling(term);
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
    const unsigned threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
    // Which sheets need a (re)built document, decided against the stored JSON.
    struct Job {
        const Sheet* sheet;
        bool existed;
    };
    std::vector<Job> jobs;
    for (const Sheet* s : sheets) {
        const std::string term = id_term(s->id);
        auto post = db_.postlist_begin(term);
        const bool existed = post != db_.postlist_end(term);
        if (existed && !force && db_.get_document(*post).get_data() == s->to_json().dump()) {
            ++stats_.unchanged;
            continue;
        }
        jobs.push_back({s, existed});
    }
    // Every document is built (on several threads: the Analyzer is thread safe) before the first is
    // written, so that a sheet that cannot be built leaves the database as it was: the caller passes one
    // file's sheets at a time and keeps that file's old sheets when this throws.
    std::vector<Xapian::Document> docs(jobs.size());
    std::vector<std::future<void>> workers;
    for (unsigned t = 0; t < threads && t < jobs.size(); ++t)
        workers.push_back(std::async(std::launch::async, [&, t] {
            for (std::size_t j = t; j < jobs.size(); j += threads) {
                docs[j] = builder_.build(*jobs[j].sheet);
                check_terms(docs[j], *jobs[j].sheet);
            }
        }));
    for (auto& w : workers) w.get();  // rethrows a worker's exception here (the others finish first)
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        const std::string term = id_term(jobs[j].sheet->id);
        if (jobs[j].existed) update_spellings(db_, db_.get_document(*db_.postlist_begin(term)), false);
        update_spellings(db_, docs[j], true);
        db_.replace_document(term, docs[j]);
        ++(jobs[j].existed ? stats_.updated : stats_.added);
        if (progress && (j + 1) % 64 == 0) progress(j + 1);
    }
    if (progress) progress(jobs.size());
}

void IndexWriter::remove(const std::string& id) {
    const std::string term = id_term(id);
    auto post = db_.postlist_begin(term);
    if (post == db_.postlist_end(term)) return;
    update_spellings(db_, db_.get_document(*post), false);
    db_.delete_document(term);
    ++stats_.deleted;
}

void IndexWriter::copy_from(const Xapian::Database& from, const std::string& id) {
    const std::string term = id_term(id);
    auto post = from.postlist_begin(term);
    if (post == from.postlist_end(term)) return;
    const Xapian::Document doc = from.get_document(*post);
    update_spellings(db_, doc, true);
    db_.replace_document(term, doc);
    ++stats_.unchanged;
}

std::map<std::string, FileState> IndexWriter::file_states() const {
    std::map<std::string, FileState> states;
    const std::string prefix(FileState::kKeyPrefix);
    for (auto it = db_.metadata_keys_begin(prefix); it != db_.metadata_keys_end(prefix); ++it)
        if (auto s = FileState::from_json(db_.get_metadata(*it))) states[s->path] = std::move(*s);
    return states;
}

void IndexWriter::set_file_state(const FileState& state) { db_.set_metadata(FileState::key(state.path), state.to_json()); }

void IndexWriter::erase_file_state(const std::string& path) { db_.set_metadata(FileState::key(path), ""); }

std::map<std::string, std::string> IndexWriter::file_ids(const std::string& file) const {
    std::map<std::string, std::string> ids;  // id → stored data
    const std::string term = terms::boolean(schema::kFile, file);
    for (auto it = db_.postlist_begin(term); it != db_.postlist_end(term); ++it) {
        Xapian::Document doc = db_.get_document(*it);
        auto t = doc.termlist_begin();
        t.skip_to(std::string(schema::kId));
        if (t != doc.termlist_end() && (*t).rfind(schema::kId, 0) == 0) ids[(*t).substr(schema::kId.size())] = doc.get_data();
    }
    return ids;
}

std::set<std::string> IndexWriter::indexed_files() const {
    // A long path is hashed in its term (core/terms.h), so the path is read from the data of one of the
    // file's documents: one document per file, not per sheet.
    std::set<std::string> files;
    const std::string prefix(schema::kFile);
    for (auto it = db_.allterms_begin(prefix); it != db_.allterms_end(prefix); ++it) {
        auto post = db_.postlist_begin(*it);
        if (post == db_.postlist_end(*it)) continue;
        files.insert(Sheet::from_json(nlohmann::json::parse(db_.get_document(*post).get_data())).file);
    }
    return files;
}

void IndexWriter::replace_file(const std::string& file, const std::vector<Sheet>& sheets) {
    auto old = file_ids(file);
    std::vector<const Sheet*> ptrs;
    for (const Sheet& s : sheets) {
        ptrs.push_back(&s);
        old.erase(s.id);
    }
    put(ptrs, false);
    for (const auto& [id, data] : old) remove(id);
}

void IndexWriter::remove_file(const std::string& file) {
    for (const auto& [id, data] : file_ids(file)) remove(id);
}

void IndexWriter::commit() {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    db_.set_metadata(std::string(schema::kMetaIndexedAt), buf);
    db_.set_metadata(std::string(schema::kMetaSchema), std::string(schema::kSchemaVersion));
    if (in_transaction_) {
        db_.commit_transaction();
        in_transaction_ = false;
    } else {
        db_.commit();
    }
}

}  // namespace yosan
