#include "tests/test_support.h"

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "core/schema.h"
#include "indexer/bureau_inference.h"
#include "indexer/document_builder.h"
#include "indexer/index_writer.h"

namespace yosan::test {

namespace fs = std::filesystem;

std::string source_path(const std::string& relative) { return (fs::path(YOSAN_SOURCE_DIR) / relative).string(); }
std::string corpus_path() { return YOSAN_CORPUS; }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TempDir::TempDir(const std::string& name) {
    path_ = fs::path(YOSAN_BINARY_DIR) / "test-tmp" / (name + "-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

Config test_config(const std::string& index_path) {
    Config c = Config::load(source_path("config/yosan.toml"));
    if (!index_path.empty()) c.index_path = index_path;
    // The user dictionary this build compiled, wherever the build directory is.
    c.analysis.user_dictionary = (fs::path(YOSAN_BINARY_DIR) / "dict" / "user-unidic.dic").string();
    c.settle_seconds = 0;  // test files are always written a moment before they are indexed
    return c;
}

const Analyzer& analyzer() {
    static const Analyzer a(test_config().analysis);
    return a;
}

const BureauDirectory& bureaus() {
    static const BureauDirectory d = BureauDirectory::load(source_path("dict/bureaus.tsv"));
    return d;
}

const std::vector<Sheet>& corpus_sheets() {
    static const std::vector<Sheet> sheets = [] {
        SheetParser parser(bureaus());
        ParseResult r = parser.parse(read_sheet_file(corpus_path()), corpus_path());
        std::vector<Sheet*> ptrs;
        for (Sheet& s : r.sheets) ptrs.push_back(&s);
        assign_ids(ptrs);
        return r.sheets;
    }();
    return sheets;
}

const Sheet& sheet_at_line(std::uint32_t line) {
    for (const Sheet& s : corpus_sheets())
        if (s.first_line <= line && line <= s.last_line) return s;
    throw std::runtime_error("no sheet holds line " + std::to_string(line));
}

const std::string& corpus_index() {
    static TempDir dir("corpus-index");
    static const std::string path = [] {
        const std::string p = dir.file("index");
        Config c = test_config(p);
        DocumentBuilder builder(analyzer(), c);
        IndexWriter w(p, builder);
        // As yosan-index does: bureau inference over the sheets of the run (the parser gave the scheme facets).
        std::vector<Sheet> sheets = corpus_sheets();
        std::vector<Sheet*> ptrs;
        for (Sheet& s : sheets) ptrs.push_back(&s);
        enrich_run_sheets(ptrs, c);
        w.replace_file(corpus_path(), sheets);
        w.set_metadata(std::string(schema::kMetaAnalysis), analysis_fingerprint(c));
        w.commit();
        return p;
    }();
    return path;
}

int run_command(const std::string& command, std::string* out) {
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return -1;
    std::array<char, 4096> buf;
    std::string text;
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) text.append(buf.data(), n);
    const int status = ::pclose(pipe);
    if (out) *out = std::move(text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string binary(const std::string& name) {
    const std::string dir = name == "yosan-index" ? "indexer" : "searcher";
    return (fs::path(YOSAN_BINARY_DIR) / dir / name).string();
}

SearchResult CorpusSearch::run(const std::string& q, Xapian::doccount limit, Filters f, SortOrder sort) {
    SearchRequest r;
    r.query = q;
    r.limit = limit;
    r.filters = std::move(f);
    r.sort = sort;
    return searcher.search(r);
}

}  // namespace yosan::test
