// Runs a search: parses the query, applies filters, ranks with BM25 (or sorts), counts facets exactly over
// every match, and builds highlighted snippets for the page of hits.
//
// Thread safety: a Searcher owns one Xapian::Database handle and is NOT thread safe; give each thread its
// own (the HTTP server keeps one per worker). reopen() picks up a newly committed index.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <xapian.h>

#include "core/config.h"
#include "core/sheet.h"
#include "searcher/query_parser.h"

namespace yosan {

enum class SortOrder { relevance, amount_asc, amount_desc, year_desc, year_asc };
SortOrder parse_sort(const std::string& s);  // relevance | amount | -amount | year | -year; UsageError otherwise
std::string sort_name(SortOrder order);     // the inverse of parse_sort

struct SearchRequest {
    std::string query;
    Filters filters;
    SortOrder sort = SortOrder::relevance;
    Xapian::doccount offset = 0;
    Xapian::doccount limit = 10;
    static constexpr Xapian::doccount kMaxLimit = 200;
};

struct Snippet {
    std::string section;  // the heading the text comes from (事業目的, 事業概要, ...)
    std::string html;     // escaped text with <mark>…</mark> around whole matched words
    std::string plain;    // the same with 【…】 marks, for terminals
};

struct Hit {
    Sheet sheet;
    double score = 0;
    int rank = 0;
    Snippet snippet;
};

struct FacetValue {
    std::string value;
    std::string label;
    Xapian::doccount count = 0;
    bool selected = false;
};

// How the query was answered when all its words together matched nothing (searcher.cpp, relax()).
struct Relaxation {
    bool relaxed = false;               // some words were dropped: hits contain only the `required` ones
    std::vector<std::string> required;  // the words (as typed) every hit contains
    std::vector<std::string> dropped;   // the words left out to find anything
    Xapian::doccount complete = 0;      // when relaxed: the sheets with every word (ranked first)
};

// A filter whose removal would give hits, offered on a zero-hit page.
struct FilterRemoval {
    std::string field;  // a facet name, or amount_min / amount_max
    std::string value;
    std::string label;
    Xapian::doccount count = 0;  // the hits without it
};

struct SearchResult {
    Xapian::doccount total = 0;  // exact
    std::vector<Hit> hits;
    // Per facet of core/facets.h, by name. A facet with a selected value is counted without its own filter
    // (OR within a facet, AND across facets), so that its other values show what adding them would give.
    std::map<std::string, std::vector<FacetValue>> facets;
    std::vector<RecognisedFilter> recognised;
    Filters applied;  // request filters merged with the recognised ones
    Relaxation relaxation;
    // "Did you mean": the query with a word that is in no sheet replaced by a word of the index
    // (ロボテイクス → ロボティクス). Only offered, never applied.
    std::optional<std::string> suggestion;
    std::vector<FilterRemoval> removable;  // only when nothing was found
    double milliseconds = 0;
};

class Searcher {
public:
    Searcher(const Config& config, const Analyzer& analyzer, const BureauDirectory& bureaus, const Synonyms& synonyms);
    SearchResult search(const SearchRequest& request);
    // One whole sheet by id.
    std::optional<Sheet> sheet(const std::string& id);
    // Sheets related to `id`: the same 事業 in other years and kinds, its parent and sub-projects, then
    // Xapian's relevance-feedback expansion of its text.
    std::vector<Hit> similar(const std::string& id, Xapian::doccount limit = 8);
    // Picks up a newly committed index: Database::reopen() for a commit in place, and a fresh open when the
    // index path is a stub file that now points at another database (a --full rebuild). Returns true when
    // something newer was loaded.
    bool reopen();
    Xapian::Database& database() { return db_; }

private:
    Xapian::Query filter_query(const Filters& f) const;
    Xapian::Query filtered(const Xapian::Query& query, const Filters& filters) const;
    bool matches_any(const Xapian::Query& query) const;
    Xapian::doccount count_up_to(const Xapian::Query& query, Xapian::doccount enough) const;
    // The query to answer with: all words; or, when they match nothing together, their words loosened, or
    // the largest set of them that matches something (at least half of them).
    Xapian::Query relax(const ParsedQuery& pq, const Filters& filters, Relaxation& out) const;
    std::optional<std::string> suggest(const std::string& query, const ParsedQuery& pq) const;
    std::vector<FilterRemoval> removable_filters(const Xapian::Query& query, const Filters& filters) const;
    std::vector<FacetValue> facet_values(const Facet& facet, const std::map<std::string, Xapian::doccount>& counts,
                                         const std::vector<std::string>& selected) const;
    Snippet make_snippet(const Sheet& sheet, const std::vector<HighlightPattern>& patterns) const;

    const Config& config_;
    const Analyzer& analyzer_;
    const BureauDirectory& bureaus_;
    QueryParser parser_;
    Xapian::Database db_;
    std::filesystem::file_time_type opened_stub_time_{};
};

// Whether the index was analysed with the dictionaries and character fixes this process uses: the
// indexer stores analysis_fingerprint() (core/config.h) at each commit. Another dictionary cuts words
// differently, so queries would silently stop matching. A message for staff when they differ; nullopt
// when they agree or the index predates the fingerprint. Throws ConfigError when a dictionary is missing.
std::optional<std::string> analysis_mismatch(const Config& config, const Xapian::Database& db);

// JSON for programs and the web page (the same content as the text output).
nlohmann::json to_json(const SearchResult& r);
nlohmann::json hit_json(const Hit& h);

}  // namespace yosan
