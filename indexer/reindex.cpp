#include "indexer/reindex.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <memory_resource>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <xapian.h>

#include "core/bureaus.h"
#include "core/document_data.h"
#include "core/error.h"
#include "core/schema.h"
#include "core/terms.h"
#include "indexer/bureau_inference.h"
#include "indexer/document_builder.h"
#include "indexer/file_state.h"
#include "indexer/index_writer.h"
#include "indexer/sheet_parser.h"
#include "indexer/sheet_record.h"

namespace yosan {

namespace fs = std::filesystem;

namespace {

// Bump when the parser or the document builder changes what they produce from the same text: the next run
// then re-parses and rebuilds everything instead of trusting the file hashes.
constexpr std::string_view kIndexGeneration = "3";
constexpr std::string_view kMetaFingerprint = "yosan:fingerprint";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Everything besides the file bytes that decides the documents: settings and dictionaries (by content,
// `analysis` being analysis_fingerprint()). When it changes, hashes of unchanged files no longer mean
// unchanged documents.
std::string fingerprint(const Config& c, const std::string& analysis) {
    std::string f;
    f.append(schema::kSchemaVersion).append("|").append(kIndexGeneration);
    f.append("|").append(std::to_string(static_cast<int>(c.analysis.dictionary)));
    f.append("|").append(c.analysis.dictionary_path).append("|").append(c.analysis.user_dictionary);
    f.append("|").append(sha256_hex(slurp(c.bureaus_path))).append("|").append(sha256_hex(slurp(c.char_fixes_path)));
    f.append("|").append(sha256_hex(slurp(c.assignments_path)));  // edited assignments re-parse everything
    f.append("|").append(std::to_string(c.weights.title)).append(",").append(std::to_string(c.weights.purpose));
    f.append(",").append(std::to_string(c.weights.overview)).append(",").append(std::to_string(c.weights.other));
    for (auto b : c.buckets.bounds) f.append("|").append(std::to_string(b));
    f.append("|").append(analysis);
    return sha256_hex(f);
}

std::map<std::string, FileState> read_states(const Xapian::Database& db) {
    std::map<std::string, FileState> states;
    const std::string prefix(FileState::kKeyPrefix);
    for (auto it = db.metadata_keys_begin(prefix); it != db.metadata_keys_end(prefix); ++it)
        if (auto s = FileState::from_json(db.get_metadata(*it))) states[s->path] = std::move(*s);
    // An index written before file states existed: recover each file's ids from its documents. The empty
    // hash makes every such file count as changed once. Files with a state are known by their term, so
    // no document is read for them (document data that cannot be read, say of another dictionary, is then
    // simply rewritten by the run).
    std::set<std::string> known;
    for (const auto& [path, state] : states) known.insert(terms::boolean(schema::kFile, path));
    const std::string fprefix(schema::kFile);
    for (auto t = db.allterms_begin(fprefix); t != db.allterms_end(fprefix); ++t) {
        if (known.count(*t)) continue;
        // The path from a document's data: a long one is hashed in its term (core/terms.h).
        auto first = db.postlist_begin(*t);
        if (first == db.postlist_end(*t)) continue;
        const std::string path = document_data::decode(db.get_document(*first).get_data()).file;
        if (states.count(path)) continue;
        FileState s;
        s.path = path;
        for (auto p = db.postlist_begin(*t); p != db.postlist_end(*t); ++p) {
            Xapian::Document doc = db.get_document(*p);
            auto term = doc.termlist_begin();
            term.skip_to(std::string(schema::kId));
            if (term != doc.termlist_end() && (*term).rfind(schema::kId, 0) == 0) s.ids.push_back((*term).substr(schema::kId.size()));
        }
        states[path] = std::move(s);
    }
    return states;
}

// fn(0) … fn(n-1) on up to `threads` threads (thread t takes t, t + threads, …); an exception is
// rethrown here once every thread is done.
template <class Fn>
void for_each_index(std::size_t n, std::size_t threads, const Fn& fn) {
    std::vector<std::future<void>> workers;
    for (std::size_t t = 0; t < std::min(threads, n); ++t)
        workers.push_back(std::async(std::launch::async, [&, t] {
            for (std::size_t i = t; i < n; i += threads) fn(i);
        }));
    for (auto& w : workers) w.wait();
    for (auto& w : workers) w.get();
}

// Files are read and parsed on this many threads.
std::size_t parse_threads() { return std::max(1u, std::min(4u, std::thread::hardware_concurrency())); }

// The second pass parses and writes this many sheets' files at a time (at least one file): about 8 MB
// of parsed sheets, and few enough batches that the writing threads rarely wait for each other.
constexpr std::size_t kBatchSheets = 2000;

std::string percent(double share) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
    return buf;
}

// True when `file` is `dir` or lies inside it (paths canonical).
bool lies_under(const std::string& file, const std::string& dir) {
    if (file == dir) return true;
    const std::string prefix = dir.ends_with('/') ? dir : dir + "/";
    return file.compare(0, prefix.size(), prefix) == 0;
}

// "file:line: message" for a failure while reading, parsing or building one file. yosan's errors carry
// their context; anything else is a bug in our code met on this file's text, named as such.
std::string describe_failure(const std::exception& e, const std::string& file) {
    if (const auto* err = dynamic_cast<const Error*>(&e)) return err->context().empty() ? file + ": " + err->message() : err->describe();
    return file + ": 処理中に内部エラーが起きました（" + e.what() + "）";
}

// What reading one file gave: the records of its sheets, not the sheets (reindex.h, "Two passes").
struct FileResult {
    enum class Kind { unreadable, unchanged, settling, parsed, failed } kind = Kind::unreadable;
    std::string hash;
    std::uint64_t size = 0;
    std::vector<SheetRecord> records;  // their strings in the run's record memory
    std::vector<ParseWarning> warnings;
    std::string error;  // for unreadable and failed: "file:line: message"
};

struct ParsedFile {
    std::vector<SheetRecord> records;  // in source order, as the parser gives the sheets, for the run-level steps
    std::vector<SheetDecision> decisions;  // then, in the same order, what the second pass applies
    FileState state;                       // from assign_ids() on, its ids are those of the sheets, in order
};

std::vector<SheetRecord*> record_pointers(std::map<std::string, ParsedFile>& parsed) {
    std::vector<SheetRecord*> out;
    for (auto& [file, pf] : parsed)
        for (SheetRecord& r : pf.records) out.push_back(&r);
    return out;
}

// One run, cut into phases (run() lists them in order). Holds what one phase hands to the next.
class Reindex {
public:
    Reindex(const Config& config, const ReindexOptions& opt)
        : config_(config),
          opt_(opt),
          bureaus_(config.bureaus_path.empty() ? BureauDirectory{} : BureauDirectory::load(config.bureaus_path)),
          parser_(bureaus_),
          analyzer_(config.analysis),
          builder_(analyzer_, config),
          analysis_(analysis_fingerprint(config)),
          print_(fingerprint(config, analysis_)) {
        report_.mode = opt.full ? "full" : "incremental";
    }

    ReindexReport run() {
        remove_leftovers_of_killed_runs();
        collect_inputs();
        open_index();
        read_and_parse_files();
        infer_run_bureaus(record_pointers(parsed_), config_);  // bureaus for sheets naming none
        keep_sheets_that_could_not_be_checked();
        assign_ids();
        plan_deletions();
        warn_about_files_that_lost_many_sheets();
        keep_only_decisions();
        if (refuse_mass_deletion()) return finish();
        write_changes();
        switch_to_the_new_index();
        return finish();
    }

private:
    void warn(const std::string& w, bool counts = true) {
        if (opt_.warn) opt_.warn(w);
        if (counts) ++report_.warnings;
    }
    void progress(const char* phase, std::size_t done, std::size_t total) const {
        if (opt_.progress) opt_.progress(phase, done, total);
    }
    const Xapian::Database& old_db() const {
        return live_ ? *live_ : static_cast<const Xapian::Database&>(writer_->database());
    }

    // Leftovers of a killed --full: generation directories the stub does not name (only those carrying our
    // marker; a folder that merely has such a name is someone else's), and a half-done switch.
    void remove_leftovers_of_killed_runs() {
        layout_ = IndexLayout::inspect(config_.index_path);
        std::error_code ec;
        for (const std::string& g : layout_.stale_generations()) fs::remove_all(g, ec);
        for (const std::string& g : layout_.foreign_generations())
            warn(g + ": 索引の世代ディレクトリと同じ名前ですが yosan が作ったものではないため、削除しません", false);
        if (fs::is_regular_file(fs::symlink_status(config_.index_path + ".stub.tmp", ec)))
            fs::remove(config_.index_path + ".stub.tmp", ec);
    }

    void collect_inputs() {
        inputs_ = collect_files(opt_.inputs);
        report_.missing_inputs = inputs_.missing;
        report_.unreadable_inputs = inputs_.unreadable;
        for (const std::string& m : inputs_.missing) warn(m + ": ファイルもフォルダも見つかりません（中のシートは索引に残します）");
        for (const std::string& u : inputs_.unreadable) warn(u + ": フォルダを読めません（中のシートは索引に残します）");
        report_.files = static_cast<int>(inputs_.files.size());
    }

    // The live index: the writer itself for an incremental run, read-only beside the new one for --full.
    void open_index() {
        if (opt_.full) {
            if (layout_.kind != IndexLayout::Kind::missing) live_.emplace(layout_.path);
            new_dir_ = layout_.next_generation();
            IndexLayout::create_generation(new_dir_);
            writer_.emplace(full_build_databases(), builder_);
        } else {
            writer_.emplace(config_.index_path, builder_);
        }
        before_ = old_db().get_doccount();
        if (before_ || !opt_.full) states_ = read_states(old_db());
        force_ = opt_.full || (before_ > 0 && old_db().get_metadata(std::string(kMetaFingerprint)) != print_);
    }

    // The databases a --full run writes, each on its own thread (index_writer.h, "Parallel full build"):
    // the shards; or, for one database, part databases inside the new generation directory that
    // switch_to_the_new_index() merges into it (one part: the database itself, nothing to merge).
    std::vector<std::string> full_build_databases() {
        if (config_.shards > 1) return IndexLayout::shard_databases(new_dir_, config_.shards);
        const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
        const unsigned parts = config_.build_threads ? config_.build_threads : std::min(cores, 8u);
        if (parts <= 1) return {new_dir_};
        for (unsigned k = 0; k < parts; ++k) parts_.push_back((fs::path(new_dir_) / ("part" + std::to_string(k))).string());
        return parts_;
    }

    // One file, on a worker thread: read it (regular files only), hash it, and parse it when it changed.
    // The per-file try: whatever goes wrong with this file's bytes fails this file, never the run.
    FileResult examine(const std::string& f) const {
        FileResult fr;
        try {
            RegularFile file = read_regular_file(f);
            fr.hash = sha256_hex(file.bytes);
            fr.size = file.bytes.size();
            const auto old = states_.find(f);
            if (!force_ && old != states_.end() && old->second.sha256 == fr.hash) {
                fr.kind = FileResult::Kind::unchanged;
                return fr;
            }
            // A changed file written to moments ago may be half copied: its lost tail would delete sheets.
            // New files are indexed at once (a half-copied new file loses nothing and is completed later).
            const auto age = std::time(nullptr) - file.modified;
            if (old != states_.end() && age >= 0 && age < static_cast<std::time_t>(opt_.settle_seconds)) {
                fr.kind = FileResult::Kind::settling;
                return fr;
            }
            ParseResult parse = parser_.parse(decode_sheet_text(std::move(file.bytes), f), f);
            fr.records = records_of(parse.sheets, f, &record_memory_);  // f: an entry of inputs_.files, which outlives the run
            fr.warnings = std::move(parse.warnings);
            fr.kind = fr.records.empty() ? FileResult::Kind::failed : FileResult::Kind::parsed;
            if (fr.records.empty()) fr.error = f + ":1: シートが見つかりません";
        } catch (const std::exception& e) {
            fr.kind = fr.hash.empty() ? FileResult::Kind::unreadable : FileResult::Kind::failed;
            fr.error = describe_failure(e, f);
        }
        return fr;
    }

    // Read and hash every file; parse only those that changed. Files are read and parsed on several
    // threads (SheetParser is thread safe), a chunk at a time; results are merged in sorted order on this
    // thread, so warnings, ids and progress come out exactly as in a sequential run.
    void read_and_parse_files() {
        const std::vector<std::string>& files = inputs_.files;
        const std::size_t chunk = parse_threads() * 4;
        for (std::size_t first = 0; first < files.size(); first += chunk) {
            progress("読込", first, files.size());
            const std::size_t last = std::min(files.size(), first + chunk);
            std::vector<FileResult> results(last - first);
            for_each_index(last - first, parse_threads(), [&](std::size_t i) { results[i] = examine(files[first + i]); });
            for (std::size_t i = first; i < last; ++i) merge_result(files[i], results[i - first]);
        }
        progress("読込", files.size(), files.size());
    }

    void merge_result(const std::string& f, FileResult& fr) {
        switch (fr.kind) {
            case FileResult::Kind::unreadable:
                warn(fr.error + "（索引の内容はそのまま残します）");
                report_.failed_files.push_back(f);
                kept_.insert(f);
                break;
            case FileResult::Kind::unchanged: {
                const auto n = static_cast<int>(states_.at(f).ids.size());
                kept_.insert(f);
                report_.unchanged += n;
                report_.sheets += n;
                ++report_.files_skipped;
                break;
            }
            case FileResult::Kind::settling: {
                // A notice, not a partial run: the next run picks the file up.
                warn(f + ": 変更されたばかりのため今回は読みません（" + std::to_string(opt_.settle_seconds) +
                         " 秒待ちます。索引の内容はそのまま残します）",
                     false);
                const auto n = static_cast<int>(states_.at(f).ids.size());
                kept_.insert(f);
                report_.settling_files.push_back(f);
                report_.unchanged += n;
                report_.sheets += n;
                ++report_.files_skipped;
                break;
            }
            case FileResult::Kind::failed:
            case FileResult::Kind::parsed: {
                for (const ParseWarning& w : fr.warnings) warn(w.describe(), w.skipped);  // a notice is not a partial run
                if (fr.kind == FileResult::Kind::failed) {
                    warn(fr.error + "（索引の内容はそのまま残します）");
                    report_.failed_files.push_back(f);
                    kept_.insert(f);
                    break;
                }
                report_.sheets += static_cast<int>(fr.records.size());
                ParsedFile& pf = parsed_[f];
                pf.records = std::move(fr.records);
                pf.state.path = f;
                pf.state.sha256 = fr.hash;
                pf.state.size = fr.size;
                ++report_.files_parsed;
                break;
            }
        }
    }

    // Sheets indexed from a folder that could not be read this time, or from a configured path that is
    // missing (a mount that is down), are not known to be gone: they stay, and count for the guard.
    void keep_sheets_that_could_not_be_checked() {
        std::vector<std::string> unchecked = inputs_.unreadable;
        for (const std::string& m : inputs_.missing) unchecked.push_back(fs::weakly_canonical(m).string());
        if (unchecked.empty()) return;
        int files = 0;
        for (const auto& [path, state] : states_) {
            if (parsed_.count(path) || kept_.count(path)) continue;
            for (const std::string& dir : unchecked)
                if (lies_under(path, dir)) {
                    kept_.insert(path);
                    report_.kept_unchecked += static_cast<int>(state.ids.size());
                    ++files;
                    break;
                }
        }
        if (files)
            warn(std::to_string(files) + " ファイルの " + std::to_string(report_.kept_unchecked) +
                     " 件のシートは、読めないか見つからない場所にあるため削除せずに残しました（不要なら設定や引数から外してください）",
                 false);  // the unreadable and missing paths themselves were already counted
    }

    // Ids: reserve what stays, then let re-parsed sheets keep their previous ids, then fill in.
    void assign_ids() {
        IdAllocator ids;
        for (const std::string& f : kept_)
            if (auto s = states_.find(f); s != states_.end())
                for (const std::string& id : s->second.ids) ids.reserve(id);
        static const std::vector<std::string> kNone;
        for (auto& [f, pf] : parsed_) {
            auto s = states_.find(f);
            ids.keep_previous(pf.records, s != states_.end() ? s->second.ids : kNone);
        }
        owner_.reserve(static_cast<std::size_t>(report_.sheets));
        for (auto& [f, pf] : parsed_) {
            ids.assign_rest(pf.records);
            const auto file = static_cast<std::uint32_t>(std::lower_bound(inputs_.files.begin(), inputs_.files.end(), f) - inputs_.files.begin());
            for (const SheetRecord& r : pf.records) owner_[pf.state.ids.emplace_back(r.id)] = file;
        }
    }

    // What goes: the old ids of re-parsed and vanished files that no sheet took over.
    void plan_deletions() {
        for (const auto& [path, state] : states_)
            if (!parsed_.count(path) && !kept_.count(path)) gone_files_.push_back(path);
        for (const auto& [path, state] : states_) {
            if (kept_.count(path)) continue;
            for (const std::string& id : state.ids)
                if (!owner_.count(id) && old_db().term_exists(terms::boolean(schema::kId, id))) deletions_.push_back(id);
        }
        std::sort(deletions_.begin(), deletions_.end());
        deletions_.erase(std::unique(deletions_.begin(), deletions_.end()), deletions_.end());
    }

    // The run-level steps are done: of each record only its decision stays, and the memory of the records'
    // strings is released whole (sheet_record.h says why whole).
    void keep_only_decisions() {
        for (auto& [f, pf] : parsed_) {
            pf.decisions.reserve(pf.records.size());
            for (const SheetRecord& r : pf.records) pf.decisions.push_back(SheetDecision::of(r));
            std::vector<SheetRecord>().swap(pf.records);
        }
        record_memory_.release();
    }

    // A file cut short (copied half-way, truncated by a full disk) loses the sheets of its tail silently
    // otherwise: say so when one file loses many at once.
    void warn_about_files_that_lost_many_sheets() {
        for (const auto& [f, pf] : parsed_) {
            const auto st = states_.find(f);
            if (st == states_.end()) continue;
            const std::size_t had = st->second.ids.size(), has = pf.state.ids.size();
            if (has >= had || had - has < 5 || (had - has) * 5 < had) continue;
            warn(f + ": シートが " + std::to_string(had) + " 件から " + std::to_string(has) +
                 " 件に減りました。ファイルが途中で切れていないか確認してください");
        }
    }

    // The mass-delete guard: a missing mount or an emptied folder looks exactly like mass deletion. Sheets
    // kept only because their folder could not be read count too: the run cannot vouch for them.
    bool refuse_mass_deletion() {
        const std::size_t at_risk = deletions_.size() + static_cast<std::size_t>(report_.kept_unchecked);
        const double share = before_ ? static_cast<double>(at_risk) / before_ : 0.0;
        if (before_ == 0 || share <= opt_.max_delete_share || opt_.allow_mass_delete) return false;
        report_.refused = "索引 " + std::to_string(before_) + " 件のうち " + std::to_string(at_risk) + " 件（" + percent(share) +
                          "）を削除することになるか、読めない場所にあるため、書き込みませんでした（上限 " +
                          percent(opt_.max_delete_share) +
                          "）。フォルダやマウントを確認し、意図どおりなら --allow-mass-delete を付けて実行してください";
        report_.deleted = static_cast<int>(deletions_.size());
        writer_.reset();
        if (opt_.full) fs::remove_all(new_dir_);
        report_.documents = before_;
        report_.index = layout_.live_dir;
        return true;
    }

    // Builds and writes the files' sheets (the second pass): a file whose sheets cannot be parsed again
    // or built (the per-file try) keeps its old sheets and state, and the rest of the run goes on.
    void write_changes() {
        const bool nothing_to_do = !opt_.full && !force_ && parsed_.empty() && gone_files_.empty();
        if (nothing_to_do) {
            report_.documents = writer_->size();
            return;
        }
        if (!opt_.full) writer_->begin();
        std::size_t total = 0, done = 0;
        std::vector<std::string> files;
        for (const auto& [f, pf] : parsed_) {
            total += pf.state.ids.size();
            files.push_back(f);
        }
        // A batch of files at a time: their sheets are parsed again (on several threads), checked, written,
        // and freed before the next batch.
        for (std::size_t first = 0, last = 0; first < files.size(); first = last) {
            std::size_t sheets_in_batch = 0;
            std::vector<ParsedFile*> batch;
            for (last = first; last < files.size() && (batch.empty() || sheets_in_batch < kBatchSheets); ++last) {
                batch.push_back(&parsed_.at(files[last]));
                sheets_in_batch += batch.back()->state.ids.size();
            }
            std::vector<std::vector<Sheet>> sheets(batch.size());
            std::vector<std::vector<std::uint64_t>> hashes(batch.size());
            std::vector<std::exception_ptr> errors(batch.size());
            for_each_index(batch.size(), parse_threads(), [&](std::size_t i) {
                try {
                    sheets[i] = sheets_of(files[first + i], *batch[i]);
                    for (const Sheet& s : sheets[i]) hashes[i].push_back(sheet_hash(s));
                } catch (const std::exception&) {
                    errors[i] = std::current_exception();
                }
            });
            std::map<std::string, std::vector<const Sheet*>> put;
            for (std::size_t i = 0; i < batch.size(); ++i) {
                const std::string& f = files[first + i];
                if (errors[i]) keep_file_that_failed_to_build(f, errors[i]);
                else put[f] = sheets_to_write(f, *batch[i], sheets[i], std::move(hashes[i]));
            }
            const std::size_t before = done;
            const auto progressed = [&](std::size_t n) { progress("索引", done + n, total); };
            if (opt_.full) {
                // Every database on its own thread; a file that cannot be built is written nowhere.
                const auto failed = writer_->put_files(put, config_.flush_documents, progressed);
                for (const auto& [f, error] : failed) keep_file_that_failed_to_build(f, error);
                for (const auto& [f, of_file] : put)
                    if (!failed.count(f)) count_against_the_live_index(of_file);
            } else {
                for (const auto& [f, of_file] : put) {
                    try {
                        writer_->put(of_file, force_, progressed);
                    } catch (const std::exception&) {
                        keep_file_that_failed_to_build(f, std::current_exception());
                    }
                    done += of_file.size();
                }
            }
            done = before + sheets_in_batch;
        }
        settle_failed_files();
        if (opt_.full) {
            // Files that kept their sheets: copy their documents over.
            for (const std::string& f : kept_)
                if (auto s = states_.find(f); s != states_.end()) copy_kept_file(s->second);
            report_.deleted = static_cast<int>(deletions_.size());
        } else {
            for (const std::string& id : deletions_)
                if (!kept_ids_.count(id)) writer_->remove(id);
            report_.added = writer_->stats().added;
            report_.updated = writer_->stats().updated;
            report_.unchanged += writer_->stats().unchanged;
            report_.deleted = writer_->stats().deleted;
        }
        for (const auto& [f, pf] : parsed_) writer_->set_file_state(pf.state);
        for (const std::string& f : gone_files_) writer_->erase_file_state(f);
        // After a settings change, a file that failed still has documents built the old way: keep the old
        // fingerprint so that the next run rebuilds again.
        if (!(force_ && !opt_.full && !report_.failed_files.empty())) writer_->set_metadata(std::string(kMetaFingerprint), print_);
        writer_->set_metadata(std::string(schema::kMetaAnalysis), analysis_);
        writer_->commit();
        report_.committed = true;
        report_.documents = writer_->size();
    }

    // The second pass (reindex.h, "Two passes"): the sheets of a file parsed again from its bytes, with the
    // run's decisions (ids from the file's state, bureaus from its SheetDecisions). Bytes that changed
    // since the first pass fail the file: it keeps its sheets, and the next run reads it again.
    std::vector<Sheet> sheets_of(const std::string& f, const ParsedFile& pf) const {
        RegularFile file = read_regular_file(f);
        if (sha256_hex(file.bytes) != pf.state.sha256)
            throw InputError("この実行の途中でファイルが書き換えられました（次の実行で読み直します）", f);
        std::vector<Sheet> sheets = parser_.parse(decode_sheet_text(std::move(file.bytes), f), f).sheets;
        if (sheets.size() != pf.decisions.size())  // the parser is deterministic: a bug if ever seen
            throw std::logic_error("the second parse gave " + std::to_string(sheets.size()) + " sheets, the first " +
                                   std::to_string(pf.decisions.size()));
        for (std::size_t i = 0; i < sheets.size(); ++i) pf.decisions[i].apply_to(sheets[i], pf.state.ids[i]);
        return sheets;
    }

    // The per-sheet check: a sheet whose id and hash (sheet_hash(), one per sheet) are what this file
    // had is left alone. The hashes go into the file's new state.
    std::vector<const Sheet*> sheets_to_write(const std::string& f, ParsedFile& pf, const std::vector<Sheet>& sheets,
                                              std::vector<std::uint64_t> hashes) {
        std::map<std::string, std::uint64_t> old_hash;
        if (auto st = states_.find(f); st != states_.end())
            for (std::size_t i = 0; i < st->second.sheet_hashes.size(); ++i) old_hash[st->second.ids[i]] = st->second.sheet_hashes[i];
        std::vector<const Sheet*> put;
        for (std::size_t i = 0; i < sheets.size(); ++i) {
            if (!force_) {
                const auto o = old_hash.find(sheets[i].id);
                if (o != old_hash.end() && o->second == hashes[i]) {
                    ++report_.unchanged;
                    continue;
                }
            }
            put.push_back(&sheets[i]);
        }
        pf.state.sheet_hashes = std::move(hashes);
        return put;
    }

    void keep_file_that_failed_to_build(const std::string& f, const std::exception_ptr& error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            warn(describe_failure(e, f) + "（索引の内容はそのまま残します）");
        }
        report_.failed_files.push_back(f);
        auto pf = parsed_.find(f);
        report_.sheets -= static_cast<int>(pf->second.state.ids.size());
        --report_.files_parsed;
        parsed_.erase(pf);
        kept_.insert(f);
        failed_.push_back(f);  // its old sheets stay: settle_failed_files()
    }

    // The files that failed keep their old sheets, but not an id that a sheet of a file written in this
    // run took over. Settled once every file is done, so that an id taken over by a file that failed as
    // well stays with its old file. An id that a failed file's sheet had taken over from a file that was
    // read (changed, or gone) is held by no one now: its old document goes, as that file's others do.
    void settle_failed_files() {
        const auto written = [&](const std::string& id) { return held_by_a_written_file(id); };
        for (const std::string& f : failed_) {
            const auto st = states_.find(f);
            if (st == states_.end()) continue;
            FileState keep = st->second;
            keep.sheet_hashes.clear();
            std::erase_if(keep.ids, written);
            // A state without all of the file's sheets must not match the file's bytes, whatever they are
            // next time: the next run reads it again.
            if (keep.ids.size() != st->second.ids.size()) keep.sha256.clear();
            for (const std::string& id : keep.ids) kept_ids_.insert(id);
            st->second = keep;
            if (!opt_.full) writer_->set_file_state(keep);
        }
        if (failed_.empty()) return;
        for (const auto& [id, file] : owner_)
            if (!written(id) && !kept_ids_.count(id) && old_db().term_exists(terms::boolean(schema::kId, id)))
                deletions_.push_back(id);  // not there yet: plan_deletions() left out every id in owner_
    }

    // True when a sheet of a re-parsed file that is being written (not one that failed) has this id now.
    bool held_by_a_written_file(const std::string& id) const {
        const auto o = owner_.find(id);
        return o != owner_.end() && parsed_.count(inputs_.files[o->second]) > 0;
    }

    void copy_kept_file(const FileState& state) {
        for (const std::string& id : state.ids)
            if (!held_by_a_written_file(id)) writer_->copy_from(*live_, id);
        writer_->set_file_state(state);
    }

    // --full: counted against the live index, so that the summary means the same as an incremental run's.
    void count_against_the_live_index(const std::vector<const Sheet*>& sheets) {
        for (const Sheet* s : sheets) {
            if (!live_) {
                ++report_.added;
                continue;
            }
            const std::string term = terms::boolean(schema::kId, s->id);
            auto post = live_->postlist_begin(term);
            if (post == live_->postlist_end(term)) ++report_.added;
            else if (document_data::holds(live_->get_document(*post).get_data(), *s)) ++report_.unchanged;
            else ++report_.updated;
        }
    }

    void switch_to_the_new_index() {
        writer_.reset();  // releases Xapian's lock before the switch
        if (opt_.full) {
            live_.reset();
            if (!parts_.empty()) merge_parts(parts_, new_dir_);
            layout_.switch_to(new_dir_, std::max(1u, config_.shards));
            report_.index = new_dir_;
        } else {
            report_.index = IndexLayout::inspect(config_.index_path).live_dir;
        }
    }

    ReindexReport finish() {
        report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        return std::move(report_);
    }

    const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    const Config& config_;
    const ReindexOptions& opt_;
    const BureauDirectory bureaus_;
    const SheetParser parser_;
    const Analyzer analyzer_;
    const DocumentBuilder builder_;
    const std::string analysis_, print_;
    ReindexReport report_;

    IndexLayout layout_;
    InputFiles inputs_;
    std::optional<IndexWriter> writer_;
    std::optional<Xapian::Database> live_;
    std::string new_dir_;
    std::vector<std::string> parts_;  // --full with one shard: the part databases merged into new_dir_
    Xapian::doccount before_ = 0;
    std::map<std::string, FileState> states_;
    bool force_ = false;

    // The memory of the records' strings (sheet_record.h): released whole by keep_only_decisions(). Declared
    // before what holds records, so that it outlives them. Synchronized: records are made on the parsing
    // threads (examine() is const: like a mutex, the resource is a tool of the run, not its state).
    mutable std::pmr::synchronized_pool_resource record_memory_;
    std::map<std::string, ParsedFile> parsed_;          // re-parsed files
    std::set<std::string> kept_;                        // files whose sheets stay as they are
    // id → the re-parsed file whose sheet has it now (its index in inputs_.files): one entry per sheet of the
    // run, so a number rather than a copy of the path.
    std::unordered_map<std::string, std::uint32_t> owner_;
    std::vector<std::string> failed_;                   // re-parsed files that failed while being written
    std::set<std::string> kept_ids_;                    // ids the files in failed_ keep
    std::vector<std::string> gone_files_, deletions_;
};

// Walks one configured directory without following symlinked folders, recording folders it cannot list.
void walk(const fs::path& root, InputFiles& out) {
    std::vector<fs::path> pending{root};
    while (!pending.empty()) {
        const fs::path dir = pending.back();
        pending.pop_back();
        std::error_code ec;
        fs::directory_iterator it(dir, ec);
        if (ec) {
            out.unreadable.push_back(fs::weakly_canonical(dir).string());
            continue;
        }
        for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
            const fs::path& p = it->path();
            const std::string name = p.filename().string();
            if (name.empty() || name[0] == '.') continue;
            std::error_code ec2;
            if (fs::is_directory(it->symlink_status(ec2))) pending.push_back(p);
            // Inside folders only *.txt are sheet files; a README beside them is not.
            else if (p.extension() == ".txt" && it->is_regular_file(ec2)) out.files.push_back(fs::weakly_canonical(p).string());
        }
        // An error half-way through a listing: what was listed is kept, the folder still counts as unread.
        if (ec) out.unreadable.push_back(fs::weakly_canonical(dir).string());
    }
}

}  // namespace

InputFiles collect_files(const std::vector<std::string>& paths) {
    InputFiles in;
    for (const std::string& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) walk(p, in);
        else if (fs::is_regular_file(p, ec)) in.files.push_back(fs::weakly_canonical(p).string());
        else in.missing.push_back(p);
    }
    std::sort(in.files.begin(), in.files.end());
    in.files.erase(std::unique(in.files.begin(), in.files.end()), in.files.end());
    std::sort(in.unreadable.begin(), in.unreadable.end());
    return in;
}

ReindexReport reindex(const Config& config, const ReindexOptions& opt) { return Reindex(config, opt).run(); }

int ReindexReport::exit_status() const {
    if (!refused.empty()) return kExitRefused;
    return failed_files.empty() && missing_inputs.empty() && unreadable_inputs.empty() && warnings == 0 ? 0 : 3;
}

std::string ReindexReport::summary() const {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.2f", seconds);
    std::string s = "yosan-index ";
    s.append(mode).append(": ");
    if (!refused.empty()) s.append("REFUSED, nothing written; ");
    s.append("indexed ").append(std::to_string(sheets)).append(" sheets from ").append(std::to_string(files)).append(" files: ");
    s.append("added ").append(std::to_string(added));
    s.append(", updated ").append(std::to_string(updated));
    s.append(", deleted ").append(std::to_string(deleted));
    s.append(", unchanged ").append(std::to_string(unchanged));
    s.append(", failed ").append(std::to_string(failed_files.size()));
    s.append(", ").append(secs).append(" s");
    s.append(" (parsed ").append(std::to_string(files_parsed)).append(" files, skipped ").append(std::to_string(files_skipped));
    s.append("; ").append(std::to_string(documents)).append(" in index").append(committed ? "" : ", no commit").append(")");
    return s;
}

std::string ReindexReport::to_json() const {
    nlohmann::json j = {{"mode", mode},
                        {"added", added},
                        {"updated", updated},
                        {"deleted", deleted},
                        {"unchanged", unchanged},
                        {"failed", failed_files.size()},
                        {"failed_files", failed_files},
                        {"missing_inputs", missing_inputs},
                        {"unreadable_inputs", unreadable_inputs},
                        {"kept_unchecked", kept_unchecked},
                        {"settling_files", settling_files},
                        {"warnings", warnings},
                        {"files", files},
                        {"sheets", sheets},
                        {"files_parsed", files_parsed},
                        {"files_skipped", files_skipped},
                        {"documents", documents},
                        {"committed", committed},
                        {"seconds", seconds},
                        {"index", index},
                        {"status", exit_status()}};
    if (!refused.empty()) j["refused"] = refused;
    return j.dump();
}

}  // namespace yosan
