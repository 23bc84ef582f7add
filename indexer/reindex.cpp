#include "indexer/reindex.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>
#include <xapian.h>

#include "core/bureaus.h"
#include "core/error.h"
#include "core/schema.h"
#include "indexer/bureau_inference.h"
#include "indexer/document_builder.h"
#include "indexer/file_state.h"
#include "indexer/index_writer.h"
#include "indexer/sheet_parser.h"

namespace yosan {

namespace fs = std::filesystem;

namespace {

// Bump when the parser or the document builder changes what they produce from the same text: the next run
// then re-parses and rebuilds everything instead of trusting the file hashes.
constexpr std::string_view kIndexGeneration = "2";
constexpr std::string_view kMetaFingerprint = "yosan:fingerprint";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Everything besides the file bytes that decides the documents: settings and dictionaries. When it
// changes, hashes of unchanged files no longer mean unchanged documents.
std::string fingerprint(const Config& c) {
    std::string f;
    f.append(schema::kSchemaVersion).append("|").append(kIndexGeneration);
    f.append("|").append(std::to_string(static_cast<int>(c.analysis.dictionary)));
    f.append("|").append(c.analysis.dictionary_path).append("|").append(c.analysis.user_dictionary);
    f.append("|").append(sha256_hex(slurp(c.bureaus_path))).append("|").append(sha256_hex(slurp(c.char_fixes_path)));
    f.append("|").append(sha256_hex(slurp(c.assignments_path)));  // edited assignments re-parse everything
    f.append("|").append(std::to_string(c.weights.title)).append(",").append(std::to_string(c.weights.purpose));
    f.append(",").append(std::to_string(c.weights.overview)).append(",").append(std::to_string(c.weights.other));
    for (auto b : c.buckets.bounds) f.append("|").append(std::to_string(b));
    return sha256_hex(f);
}

std::map<std::string, FileState> read_states(const Xapian::Database& db) {
    std::map<std::string, FileState> states;
    const std::string prefix(FileState::kKeyPrefix);
    for (auto it = db.metadata_keys_begin(prefix); it != db.metadata_keys_end(prefix); ++it)
        if (auto s = FileState::from_json(db.get_metadata(*it))) states[s->path] = std::move(*s);
    // An index written before file states existed: recover each file's ids from its documents. The empty
    // hash makes every such file count as changed once.
    const std::string fprefix(schema::kFile);
    for (auto t = db.allterms_begin(fprefix); t != db.allterms_end(fprefix); ++t) {
        const std::string path = (*t).substr(fprefix.size());
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

struct ParsedFile {
    std::vector<Sheet> sheets;
    FileState state;
};

std::vector<Sheet*> sheet_pointers(std::map<std::string, ParsedFile>& parsed) {
    std::vector<Sheet*> out;
    for (auto& [file, pf] : parsed)
        for (Sheet& s : pf.sheets) out.push_back(&s);
    return out;
}

std::string percent(double share) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
    return buf;
}

}  // namespace

std::vector<std::string> collect_files(const std::vector<std::string>& paths, std::vector<std::string>& missing) {
    std::vector<std::string> files;
    for (const std::string& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
                 it != fs::recursive_directory_iterator(); it.increment(ec)) {
                const std::string name = it->path().filename().string();
                if (!name.empty() && name[0] == '.') {
                    if (it->is_directory(ec)) it.disable_recursion_pending();
                    continue;
                }
                // Inside folders only *.txt are sheet files; a README beside them is not.
                if (it->is_regular_file(ec) && it->path().extension() == ".txt")
                    files.push_back(fs::weakly_canonical(it->path()).string());
            }
        } else if (fs::is_regular_file(p, ec)) {
            files.push_back(fs::weakly_canonical(p).string());
        } else {
            missing.push_back(p);
        }
    }
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    return files;
}

ReindexReport reindex(const Config& config, const ReindexOptions& opt) {
    const auto started = std::chrono::steady_clock::now();
    const auto warn = [&](const std::string& w) {
        if (opt.warn) opt.warn(w);
    };
    const auto progress = [&](const char* phase, std::size_t done, std::size_t total) {
        if (opt.progress) opt.progress(phase, done, total);
    };
    ReindexReport report;
    report.mode = opt.full ? "full" : "incremental";

    // Leftovers of a killed --full: generation directories no stub names, and a half-done switch.
    const IndexLayout layout = IndexLayout::inspect(config.index_path);
    {
        std::error_code ec;
        for (const std::string& g : layout.stale_generations()) fs::remove_all(g, ec);
        fs::remove_all(std::string(config.index_path).append(".stub.tmp"), ec);
    }

    const BureauDirectory bureaus = config.bureaus_path.empty() ? BureauDirectory{} : BureauDirectory::load(config.bureaus_path);
    const SheetParser parser(bureaus);
    const Analyzer analyzer(config.analysis);
    const DocumentBuilder builder(analyzer, config);
    const std::string print = fingerprint(config);

    const std::vector<std::string> files = collect_files(opt.inputs, report.missing_inputs);
    for (const std::string& m : report.missing_inputs) {
        warn(std::string(m).append(": ファイルもフォルダも見つかりません"));
        ++report.warnings;
    }
    report.files = static_cast<int>(files.size());

    // The live index: the writer itself for an incremental run, read-only beside the new one for --full.
    std::optional<IndexWriter> writer;
    std::optional<Xapian::Database> live;
    std::string new_dir;
    if (opt.full) {
        if (layout.kind != IndexLayout::Kind::missing) live.emplace(layout.path);
        new_dir = layout.next_generation();
        writer.emplace(new_dir, builder);
    } else {
        writer.emplace(config.index_path, builder);
    }
    const Xapian::Database& old_db = live ? *live : static_cast<const Xapian::Database&>(writer->database());
    const Xapian::doccount before = old_db.get_doccount();
    std::map<std::string, FileState> states = before || !opt.full ? read_states(old_db) : std::map<std::string, FileState>{};
    const bool force = opt.full || (before > 0 && old_db.get_metadata(std::string(kMetaFingerprint)) != print);

    // Read and hash every file; parse only those that changed. Files are read and parsed on several threads
    // (SheetParser is thread safe), a chunk at a time; results are merged in sorted order on this thread,
    // so warnings, ids and progress come out exactly as in a sequential run.
    struct FileResult {
        enum class Kind { unreadable, unchanged, parsed, failed } kind = Kind::unreadable;
        std::string hash;
        std::uint64_t size = 0;
        ParseResult parse;
        std::string error;  // for failed
    };
    const auto examine = [&](const std::string& f) {
        FileResult fr;
        std::string raw;
        {
            std::ifstream in(f, std::ios::binary);
            std::ostringstream ss;
            if (in) ss << in.rdbuf();
            if (!in || in.bad()) return fr;
            raw = ss.str();
        }
        fr.hash = sha256_hex(raw);
        fr.size = raw.size();
        const auto old = states.find(f);
        if (!force && old != states.end() && old->second.sha256 == fr.hash) {
            fr.kind = FileResult::Kind::unchanged;
            return fr;
        }
        try {
            fr.parse = parser.parse(read_sheet_file(f), f);
            fr.kind = fr.parse.sheets.empty() ? FileResult::Kind::failed : FileResult::Kind::parsed;
            if (fr.parse.sheets.empty()) fr.error = std::string(f).append(":1: シートが見つかりません");
        } catch (const InputError& e) {
            fr.kind = FileResult::Kind::failed;
            fr.error = e.describe();
        }
        return fr;
    };
    std::map<std::string, ParsedFile> parsed;
    std::set<std::string> kept;  // files whose sheets stay as they are (unchanged or failed)
    const std::size_t threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
    const std::size_t chunk = threads * 4;
    for (std::size_t first = 0; first < files.size(); first += chunk) {
        progress("読込", first, files.size());
        const std::size_t last = std::min(files.size(), first + chunk);
        std::vector<FileResult> results(last - first);
        std::vector<std::future<void>> workers;
        for (std::size_t t = 0; t < threads; ++t)
            workers.push_back(std::async(std::launch::async, [&, t] {
                for (std::size_t i = first + t; i < last; i += threads) results[i - first] = examine(files[i]);
            }));
        for (auto& w : workers) w.get();
        for (std::size_t i = first; i < last; ++i) {
            const std::string& f = files[i];
            FileResult& fr = results[i - first];
            switch (fr.kind) {
                case FileResult::Kind::unreadable:
                    warn(std::string(f).append(": ファイルを読めません（索引の内容はそのまま残します）"));
                    report.failed_files.push_back(f);
                    kept.insert(f);
                    break;
                case FileResult::Kind::unchanged: {
                    const auto n = static_cast<int>(states.at(f).ids.size());
                    kept.insert(f);
                    report.unchanged += n;
                    report.sheets += n;
                    ++report.files_skipped;
                    break;
                }
                case FileResult::Kind::failed:
                case FileResult::Kind::parsed: {
                    for (const ParseWarning& w : fr.parse.warnings) {
                        warn(w.describe());
                        if (w.skipped) ++report.warnings;  // a notice (a sheet without a title) is not a partial run
                    }
                    if (fr.kind == FileResult::Kind::failed) {
                        warn(fr.error + "（索引の内容はそのまま残します）");
                        report.failed_files.push_back(f);
                        kept.insert(f);
                        break;
                    }
                    report.sheets += static_cast<int>(fr.parse.sheets.size());
                    ParsedFile& pf = parsed[f];
                    pf.sheets = std::move(fr.parse.sheets);
                    pf.state.path = f;
                    pf.state.sha256 = fr.hash;
                    pf.state.size = fr.size;
                    ++report.files_parsed;
                    break;
                }
            }
        }
    }
    progress("読込", files.size(), files.size());
    report.warnings += static_cast<int>(report.failed_files.size());

    enrich_run_sheets(sheet_pointers(parsed), config);  // scheme facets, bureaus for sheets naming none

    // Ids: reserve what stays, then let re-parsed sheets keep their previous ids, then fill in.
    IdAllocator ids;
    for (const std::string& f : kept)
        if (auto s = states.find(f); s != states.end())
            for (const std::string& id : s->second.ids) ids.reserve(id);
    static const std::vector<std::string> kNone;
    for (auto& [f, pf] : parsed) {
        auto s = states.find(f);
        ids.keep_previous(pf.sheets, s != states.end() ? s->second.ids : kNone);
    }
    std::set<std::string> new_ids;
    std::vector<const Sheet*> to_put;
    for (auto& [f, pf] : parsed) {
        ids.assign_rest(pf.sheets);
        // The per-sheet check: a sheet whose id and JSON hash are what this file had is left alone.
        std::map<std::string, std::string> old_hash;
        if (auto st = states.find(f); st != states.end())
            for (std::size_t i = 0; i < st->second.sheet_hashes.size(); ++i) old_hash[st->second.ids[i]] = st->second.sheet_hashes[i];
        for (const Sheet& s : pf.sheets) {
            const std::string h = sheet_hash(s);
            pf.state.ids.push_back(s.id);
            pf.state.sheet_hashes.push_back(h);
            new_ids.insert(s.id);
            if (!force) {
                const auto o = old_hash.find(s.id);
                if (o != old_hash.end() && o->second == h) {
                    ++report.unchanged;
                    continue;
                }
            }
            to_put.push_back(&s);
        }
    }

    // What goes: the old ids of re-parsed and vanished files that no sheet took over.
    std::vector<std::string> gone_files;
    for (const auto& [path, state] : states)
        if (!parsed.count(path) && !kept.count(path)) gone_files.push_back(path);
    std::vector<std::string> deletions;
    for (const auto& [path, state] : states) {
        if (kept.count(path)) continue;
        for (const std::string& id : state.ids)
            if (!new_ids.count(id) && old_db.term_exists(std::string(schema::kId).append(id))) deletions.push_back(id);
    }
    std::sort(deletions.begin(), deletions.end());
    deletions.erase(std::unique(deletions.begin(), deletions.end()), deletions.end());

    // The mass-delete guard: a missing mount or an emptied folder looks exactly like mass deletion.
    const double share = before ? static_cast<double>(deletions.size()) / before : 0.0;
    if (before > 0 && share > opt.max_delete_share && !opt.allow_mass_delete) {
        report.refused = std::string("索引 ")
                             .append(std::to_string(before))
                             .append(" 件のうち ")
                             .append(std::to_string(deletions.size()))
                             .append(" 件（")
                             .append(percent(share))
                             .append("）を削除することになるため、書き込みませんでした（上限 ")
                             .append(percent(opt.max_delete_share))
                             .append("）。フォルダやマウントを確認し、意図どおりなら --allow-mass-delete を付けて実行してください");
        report.deleted = static_cast<int>(deletions.size());
        writer.reset();
        if (opt.full) fs::remove_all(new_dir);
        report.documents = before;
        report.index = layout.live_dir;
        report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        return report;
    }

    const bool nothing_to_do = !opt.full && !force && parsed.empty() && gone_files.empty();
    if (!nothing_to_do) {
        if (!opt.full) writer->begin();
        const auto indexing = [&](std::size_t done) { progress("索引", done, to_put.size()); };
        if (opt.full) {
            // Counted against the live index, so that the summary means the same as an incremental run's.
            for (const Sheet* s : to_put) {
                const std::string term = std::string(schema::kId).append(s->id);
                auto post = old_db.postlist_begin(term);
                if (post == old_db.postlist_end(term)) ++report.added;
                else if (old_db.get_document(*post).get_data() == s->to_json().dump()) ++report.unchanged;
                else ++report.updated;
            }
            writer->put(to_put, true, indexing);
            // Failed files keep their sheets: copy their documents over.
            for (const std::string& f : kept)
                if (auto s = states.find(f); s != states.end()) {
                    for (const std::string& id : s->second.ids) writer->copy_from(old_db, id);
                    writer->set_file_state(s->second);
                }
            report.deleted = static_cast<int>(deletions.size());
        } else {
            writer->put(to_put, force, indexing);
            for (const std::string& id : deletions) writer->remove(id);
            report.added = writer->stats().added;
            report.updated = writer->stats().updated;
            report.unchanged += writer->stats().unchanged;
            report.deleted = writer->stats().deleted;
        }
        for (const auto& [f, pf] : parsed) writer->set_file_state(pf.state);
        for (const std::string& f : gone_files) writer->erase_file_state(f);
        // After a settings change, a file that failed still has documents built the old way: keep the old
        // fingerprint so that the next run rebuilds again.
        if (!(force && !opt.full && !report.failed_files.empty())) writer->set_metadata(std::string(kMetaFingerprint), print);
        writer->commit();
        report.committed = true;
    }
    report.documents = writer->size();
    writer.reset();  // releases Xapian's lock before the switch
    if (opt.full) {
        live.reset();
        layout.switch_to(new_dir);
        report.index = new_dir;
    } else {
        report.index = IndexLayout::inspect(config.index_path).live_dir;
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
}

int ReindexReport::exit_status() const {
    if (!refused.empty()) return kExitRefused;
    return failed_files.empty() && missing_inputs.empty() && warnings == 0 ? 0 : 3;
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
