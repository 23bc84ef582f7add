// yosan-index: brings the Xapian index up to date with the sheet files (the nightly job; see
// indexer/reindex.h for what a run does and indexer/index_writer.h for the index layout).
//
// Exit status:
//   0  everything indexed
//   1  fatal: the index or a dictionary cannot be used; nothing was written
//   2  usage error, or a config error (ConfigError: a bad value, a missing dictionary file)
//   3  partial: some file could not be read, parsed or built (it kept its sheets), a folder could not be
//      listed or a given path is missing (their sheets were kept), or something in a sheet was
//      skipped (an amount that cannot be read, a sheet cut short), each named with file:line; everything
//      else was committed. Notices (a sheet without a title) are printed but do not make a run partial.
//   4  another run holds the lock (var/index.lock); nothing was done
//   5  refused: the run would delete more than [index] max_delete_share of the index; nothing was written
//      (use --allow-mass-delete when that is intended)
//
// Every run that got as far as reading its config (not --dump, not --help) records its outcome in the state
// file beside the index (core/run_state.h), whatever the exit status, for /healthz and /metrics. A run whose
// config cannot be read records nothing: it does not know where the index is.
#include <chrono>
#include <cstdio>
#include <iostream>

#include <unistd.h>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>
#include <xapian.h>

#include "core/bureaus.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/run_state.h"
#include "indexer/reindex.h"
#include "indexer/run_lock.h"
#include "indexer/bureau_inference.h"
#include "indexer/sheet_parser.h"

namespace po = boost::program_options;
using namespace yosan;

namespace {

// A one-line bar redrawn on a terminal; on anything else (a log file, a test) plain lines at every 10%,
// and only when asked for with --progress.
class Progress {
public:
    Progress(bool tty, bool lines) : tty_(tty), lines_(lines) {}
    ~Progress() {
        if (drawn_) std::cerr << "\n";
    }
    void operator()(const char* phase, std::size_t done, std::size_t total) {
        if (total == 0) return;
        const int pct = static_cast<int>(done * 100 / total);
        if (tty_) {
            const auto now = std::chrono::steady_clock::now();
            if (pct == last_pct_ && phase == last_phase_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
            last_draw_ = now;
            const int width = 30, filled = pct * width / 100;
            std::string bar(static_cast<std::size_t>(filled), '#');
            bar.append(static_cast<std::size_t>(width - filled), '.');
            std::cerr << "\r" << phase << " [" << bar << "] " << done << "/" << total << " " << pct << "%  " << std::flush;
            drawn_ = true;
        } else if (lines_ && (pct / 10 != last_pct_ / 10 || phase != last_phase_)) {
            std::cerr << "progress: " << phase << " " << done << "/" << total << "\n" << std::flush;
        }
        last_pct_ = pct;
        last_phase_ = phase;
    }
    // Clears the bar before a warning is printed on its line.
    void interrupt() {
        if (drawn_) std::cerr << "\r\033[K";
        drawn_ = false;
    }

private:
    bool tty_, lines_, drawn_ = false;
    int last_pct_ = -1;
    const char* last_phase_ = nullptr;
    std::chrono::steady_clock::time_point last_draw_{};
};

int dump(const Config& config, const std::vector<std::string>& inputs) {
    const BureauDirectory bureaus = config.bureaus_path.empty() ? BureauDirectory{} : BureauDirectory::load(config.bureaus_path);
    const SheetParser parser(bureaus);
    const InputFiles in = collect_files(inputs);
    const std::vector<std::string>& files = in.files;
    int problems = 0;
    for (const std::string& m : in.missing) {
        std::cerr << "warning: " << m << ": ファイルもフォルダも見つかりません\n";
        ++problems;
    }
    for (const std::string& u : in.unreadable) {
        std::cerr << "warning: " << u << ": フォルダを読めません\n";
        ++problems;
    }
    std::vector<Sheet> sheets;
    for (const std::string& f : files) {
        try {
            ParseResult r = parser.parse(read_sheet_file(f), f);
            for (const ParseWarning& w : r.warnings) std::cerr << "warning: " << w.describe() << "\n";
            problems += r.sheets.empty() ? 1 : 0;
            for (Sheet& s : r.sheets) sheets.push_back(std::move(s));
        } catch (const InputError& e) {
            std::cerr << "warning: " << e.describe() << "（このファイルは読み飛ばしました）\n";
            ++problems;
        }
    }
    std::vector<Sheet*> all;
    for (Sheet& s : sheets) all.push_back(&s);
    assign_ids(all);
    const InferenceReport inferred = enrich_run_sheets(all, config);
    std::cerr << "局・庁の記載がない資料 " << inferred.without_bureau << " 件: 割り当て表で " << inferred.by_assignment
              << " 件、同じ事業の資料から " << inferred.by_same_project << " 件を補い、" << inferred.still_without << " 件は記載なしのまま\n";
    for (const Sheet* s : all) std::cout << s->to_json().dump() << "\n";
    return problems ? 3 : 0;
}

// What main() needs to know about the run when run() throws, and to record it.
struct Cli {
    bool json = false;
    std::string state_path;   // set once the config is read (and the run is not --dump): record there
    nlohmann::json report;    // ReindexReport::to_json(), once reindex() has returned
};

int run(int argc, char** argv, Cli& cli) {
    po::options_description opts("yosan-index [options] [FILES or DIRS...]");
    std::string config_path, index_path;
    bool dump_only = false, quiet = false, full = false, allow_mass_delete = false, json = false, progress_lines = false;
    opts.add_options()
        ("help,h", "show this help")
        ("config,c", po::value(&config_path)->default_value(default_config_path()), "config file (TOML)")
        ("index,i", po::value(&index_path), "index path (overrides the config)")
        ("full", po::bool_switch(&full), "rebuild everything into a new database and switch over atomically")
        ("allow-mass-delete", po::bool_switch(&allow_mass_delete), "commit even when more than [index] max_delete_share of the index would be deleted")
        ("json", po::bool_switch(&json), "print the summary as one JSON object (for monitoring)")
        ("progress", po::bool_switch(&progress_lines), "print progress lines even when stderr is not a terminal")
        ("dump", po::bool_switch(&dump_only), "print the parsed sheets as JSON lines instead of indexing")
        ("quiet,q", po::bool_switch(&quiet), "print only warnings and errors")
        ("paths", po::value<std::vector<std::string>>()->multitoken(), "sheet files or directories");
    po::positional_options_description pos;
    pos.add("paths", -1);
    po::variables_map vm;
    if (!parse_command_line(argc, argv, opts, &pos, vm)) return 0;
    cli.json = json;
    const Config config = load_config(config_path, index_path);
    if (!dump_only) cli.state_path = run_state_path(config);
    ReindexOptions ro;
    ro.inputs = vm.count("paths") ? vm["paths"].as<std::vector<std::string>>() : config.corpus_paths;
    if (ro.inputs.empty()) throw UsageError("索引するファイルかフォルダを指定してください（設定の corpus.paths か引数）");
    if (dump_only) return dump(config, ro.inputs);

    // Taken before anything is read, so that a second run gives up at once.
    const RunLock lock(config.index_path);
    Progress progress(!quiet && ::isatty(STDERR_FILENO), progress_lines);
    ro.full = full;
    ro.allow_mass_delete = allow_mass_delete;
    ro.max_delete_share = config.max_delete_share;
    ro.settle_seconds = config.settle_seconds;
    ro.progress = [&](const char* phase, std::size_t done, std::size_t total) { progress(phase, done, total); };
    ro.warn = [&](const std::string& w) {
        progress.interrupt();
        std::cerr << "warning: " << w << "\n";
    };
    const ReindexReport report = reindex(config, ro);
    cli.report = nlohmann::json::parse(report.to_json());
    progress.interrupt();
    if (!report.refused.empty()) std::cerr << "yosan-index: " << config.index_path << ": " << report.refused << "\n";
    if (json) std::cout << report.to_json() << "\n";
    else if (!quiet || report.exit_status() != 0) std::cout << report.summary() << "\n";
    return report.exit_status();
}

// The error line on stderr, and for --json also a JSON object on stdout, so that monitoring always gets one.
}  // namespace

int main(int argc, char** argv) {
    Cli cli;
    const auto started = std::chrono::system_clock::now();
    const auto started_steady = std::chrono::steady_clock::now();
    std::string error;
    const int status = run_guarded("yosan-index", [&] { return run(argc, argv, cli); }, [&](int failed, const std::string& message) {
        error = message;
        // Monitoring reads stdout: with --json it gets an answer for errors and the lock too.
        if (cli.json) std::cout << nlohmann::json{{"status", failed}, {"error", message}, {"committed", false}}.dump() << "\n";
    });
    if (cli.state_path.empty()) return status;
    RunRecord record;
    record.status = run_status(status);
    record.exit_status = status;
    record.started_at = utc_timestamp(started);
    record.finished_at = utc_timestamp(std::chrono::system_clock::now());
    record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_steady).count();
    record.error = error;
    record.report = std::move(cli.report);
    if (record.error.empty() && record.report.contains("refused")) record.error = record.report["refused"];
    // A record that cannot be written must not change what the run did (its index is committed or not
    // already): it is reported, and /healthz will see the stale record and the index's age.
    run_guarded("yosan-index", [&] {
        record_run(cli.state_path, record);
        return 0;
    });
    return status;
}
