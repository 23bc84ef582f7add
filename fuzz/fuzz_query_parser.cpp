// Fuzz target: arbitrary bytes as a search query, through QueryParser::parse and a real Xapian search on a
// small index of the first sheets of the corpus, written by the indexer's IndexWriter into a temporary
// folder (so that the reading lexicon is there as in a real index; Xapian's in-memory backend could not
// hold it: it cannot list metadata keys).
//
// A UsageError (a query too long or with too many items) is the expected answer to some inputs; anything
// else thrown, or a query Xapian refuses, is a bug and aborts.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

#include <xapian.h>

#include "core/error.h"
#include "fuzz/fuzz_common.h"
#include "indexer/document_builder.h"
#include "indexer/index_writer.h"
#include "indexer/sheet_parser.h"
#include "searcher/query_parser.h"

using namespace yosan;

namespace {

// The temporary folder of the index, removed when the process exits.
struct TempFolder {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("yosan-fuzz-query-" + std::to_string(::getpid()));
    ~TempFolder() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

const Xapian::Database& database() {
    static const TempFolder folder;
    static const Xapian::Database db = [] {
        const std::string corpus = std::string(YOSAN_SOURCE_DIR).append("/data/meti-budget-sheets-r7.txt");
        ParseResult r = SheetParser(fuzz::bureaus()).parse(read_sheet_file(corpus), corpus);
        std::vector<Sheet*> ptrs;
        for (Sheet& s : r.sheets) ptrs.push_back(&s);
        assign_ids(ptrs);
        const DocumentBuilder builder(fuzz::analyzer(), fuzz::config());
        std::vector<const Sheet*> first(ptrs.begin(), ptrs.begin() + std::min<std::size_t>(ptrs.size(), 12));
        {
            IndexWriter writer(folder.path.string(), builder);
            writer.put(first, true);
            writer.commit();
        }
        return Xapian::Database(folder.path.string());
    }();
    return db;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 4096) return -1;
    static const Synonyms synonyms = Synonyms::load(fuzz::config().synonyms_path, fuzz::analyzer());
    static const QueryParser parser(fuzz::analyzer(), fuzz::bureaus(), synonyms, fuzz::config());
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const ParsedQuery q = parser.parse(text, database());
        Xapian::Enquire enquire(database());
        enquire.set_query(q.build());
        enquire.get_mset(0, 10);
    } catch (const UsageError&) {
        return 0;  // the documented answer to an absurd query
    }
    return 0;
}
