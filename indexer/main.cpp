// yosan-index: reads sheet files, parses them into sheets and brings the Xapian index up to date.
//
// Exit status: 0 everything indexed; 3 partial (some file or sheet was skipped, with a warning naming
// file:line); 4 another run holds the index lock; 2 usage error; 1 anything else.
#include <chrono>
#include <filesystem>
#include <iostream>

#include <boost/program_options.hpp>

#include "core/bureaus.h"
#include "core/config.h"
#include "core/error.h"
#include "indexer/document_builder.h"
#include "indexer/index_writer.h"
#include "indexer/sheet_parser.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace yosan;

namespace {

// Every regular, non-hidden file under the given paths, sorted so that ids are assigned in a stable order.
std::vector<std::string> collect_files(const std::vector<std::string>& paths, std::vector<std::string>& missing) {
    std::vector<std::string> files;
    for (const std::string& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
                 it != fs::recursive_directory_iterator(); ++it) {
                const std::string name = it->path().filename().string();
                if (!name.empty() && name[0] == '.') {
                    if (it->is_directory()) it.disable_recursion_pending();
                    continue;
                }
                // Inside folders only *.txt are sheet files; a README beside them is not.
                if (it->is_regular_file() && it->path().extension() == ".txt") files.push_back(fs::weakly_canonical(it->path()).string());
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

int run(int argc, char** argv) {
    po::options_description opts("yosan-index [options] [FILES or DIRS...]");
    std::string config_path, index_path;
    bool dump = false, quiet = false;
    opts.add_options()
        ("help,h", "show this help")
        ("config,c", po::value(&config_path)->default_value(default_config_path()), "config file (TOML)")
        ("index,i", po::value(&index_path), "index directory (overrides the config)")
        ("dump", po::bool_switch(&dump), "print the parsed sheets as JSON lines instead of indexing")
        ("quiet,q", po::bool_switch(&quiet), "print only warnings and errors")
        ("paths", po::value<std::vector<std::string>>()->multitoken(), "sheet files or directories");
    po::positional_options_description pos;
    pos.add("paths", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return 0;
    }
    const auto started = std::chrono::steady_clock::now();
    Config config = Config::load(config_path);
    if (!index_path.empty()) config.index_path = index_path;
    std::vector<std::string> inputs = vm.count("paths") ? vm["paths"].as<std::vector<std::string>>() : config.corpus_paths;
    if (inputs.empty()) throw UsageError("索引するファイルかフォルダを指定してください（設定の corpus.paths か引数）");

    const BureauDirectory bureaus = config.bureaus_path.empty() ? BureauDirectory{} : BureauDirectory::load(config.bureaus_path);
    const SheetParser parser(bureaus);

    std::vector<std::string> missing;
    const std::vector<std::string> files = collect_files(inputs, missing);
    int problems = 0;
    for (const std::string& m : missing) {
        std::cerr << "warning: " << m << ": ファイルもフォルダも見つかりません\n";
        ++problems;
    }

    // Parse every file first; a file that cannot be read keeps whatever the index already holds from it.
    std::map<std::string, std::vector<Sheet>> parsed;
    std::set<std::string> unreadable;
    for (const std::string& f : files) {
        try {
            ParseResult r = parser.parse(read_sheet_file(f), f);
            for (const ParseWarning& w : r.warnings) std::cerr << "warning: " << w.describe() << "\n";
            if (r.sheets.empty()) {
                std::cerr << "warning: " << f << ":1: シートが見つかりません\n";
                ++problems;
            }
            parsed[f] = std::move(r.sheets);
        } catch (const InputError& e) {
            std::cerr << "warning: " << e.describe() << "（このファイルは読み飛ばしました）\n";
            unreadable.insert(f);
            ++problems;
        }
    }
    std::vector<Sheet*> all;
    for (auto& [f, sheets] : parsed)
        for (Sheet& s : sheets) all.push_back(&s);
    assign_ids(all);

    if (dump) {
        for (const Sheet* s : all) std::cout << s->to_json().dump() << "\n";
        return problems ? 3 : 0;
    }

    const Analyzer analyzer(config.analysis);
    const DocumentBuilder builder(analyzer, config);
    IndexWriter writer(config.index_path, builder);
    for (const auto& [f, sheets] : parsed) writer.replace_file(f, sheets);
    // Files that were indexed before but are gone from the inputs are removed with their sheets.
    for (const std::string& f : writer.indexed_files())
        if (!parsed.count(f) && !unreadable.count(f)) writer.remove_file(f);
    writer.commit();

    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const WriteStats& st = writer.stats();
    if (!quiet)
        std::cout << "indexed " << all.size() << " sheets from " << parsed.size() << " files into " << config.index_path
                  << ": added " << st.added << ", updated " << st.updated << ", deleted " << st.deleted
                  << ", unchanged " << st.unchanged << ", failed files " << unreadable.size() << ", "
                  << writer.size() << " in index, " << secs << " s\n";
    return problems ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const UsageError& e) {
        std::cerr << "yosan-index: " << e.describe() << "\n";
        return 2;
    } catch (const IndexError& e) {
        std::cerr << "yosan-index: " << e.describe() << "\n";
        return e.message().find("ロック") != std::string::npos ? 4 : 1;
    } catch (const Error& e) {
        std::cerr << "yosan-index: " << e.describe() << "\n";
        return 1;
    } catch (const Xapian::Error& e) {
        std::cerr << "yosan-index: Xapian: " << e.get_description() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "yosan-index: " << e.what() << "\n";
        return 1;
    }
}
