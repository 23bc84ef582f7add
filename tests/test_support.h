// Shared fixtures for the Catch2 tests: paths into the source tree, a config that points at a temporary
// index, and an index of the real corpus built once per test binary.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/analyzer.h"
#include "core/bureaus.h"
#include "core/config.h"
#include "indexer/sheet_parser.h"
#include "searcher/searcher.h"

namespace yosan::test {

std::string source_path(const std::string& relative);  // a file in the source tree
std::string corpus_path();                              // data/meti-budget-sheets-r7.txt
std::string read_file(const std::string& path);

// A fresh directory under the build tree, removed when the object goes away.
class TempDir {
public:
    explicit TempDir(const std::string& name);
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

// config/yosan.toml with the index redirected to `index_path`.
Config test_config(const std::string& index_path = "");
const Analyzer& analyzer();            // built once from the test config
const BureauDirectory& bureaus();      // dict/bureaus.tsv
const std::vector<Sheet>& corpus_sheets();  // the corpus parsed once, ids assigned
const Sheet& sheet_at_line(std::uint32_t line);  // the corpus sheet whose range holds `line`

// The corpus indexed once into a temporary directory; the path stays valid until the binary exits.
const std::string& corpus_index();

// Runs a command (through /bin/sh), capturing stdout; returns the exit status.
int run_command(const std::string& command, std::string* out = nullptr);
std::string binary(const std::string& name);  // build/indexer/yosan-index, build/searcher/yosan-search

// A Searcher over the corpus index, with a shorthand for one query.
struct CorpusSearch {
    Config config = test_config(corpus_index());
    Synonyms synonyms = Synonyms::load(config.synonyms_path, analyzer());
    Searcher searcher{config, analyzer(), bureaus(), synonyms};

    SearchResult run(const std::string& q, Xapian::doccount limit = 10, Filters f = {}, SortOrder sort = SortOrder::relevance);
};

}  // namespace yosan::test
