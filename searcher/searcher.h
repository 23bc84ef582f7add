// Runs a search: parses the query, applies filters, ranks with BM25 (or sorts), counts facets exactly over
// every match, and builds highlighted snippets for the page of hits.
//
// Thread safety: a Searcher owns one Xapian::Database handle and is NOT thread safe; give each thread its
// own (the HTTP server keeps one per worker). reopen() picks up a newly committed index.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xapian.h>

#include "core/config.h"
#include "core/sheet.h"
#include "searcher/facet_table.h"
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
    // The stated amounts of the counted sheets added up (sheets without an amount add nothing). Kinds are
    // mixed here unless the kind facet is filtered: it says where the money is, Totals says how much.
    std::int64_t amount_yen = 0;
    std::string parent;  // for a facet with a parent facet (division → bureau): the value it nests under
};

// What the facet pass gathers per value: sheets and their stated amounts added up.
struct FacetTally {
    Xapian::doccount count = 0;
    std::int64_t yen = 0;
};

// Amounts of the whole matched set, by fiscal year × kind: 当初, 補正, 予備費 and 要求 are different
// budgets and are never added together.
struct TotalsCell {
    std::string year;  // "2025", or kNoValue
    std::string kind;  // "当初" …, or kNoValue
    Xapian::doccount sheets = 0;  // sheets with an amount
    std::int64_t yen = 0;
    // Sheets that also state last year's amount: how many, that amount, and their amount this year, so the
    // change compares like with like.
    Xapian::doccount with_previous = 0;
    std::int64_t previous_yen = 0;
    std::int64_t current_of_previous_yen = 0;
};
struct Totals {
    Xapian::doccount sheets = 0;          // every match
    Xapian::doccount without_amount = 0;  // shown as such, never as 0 yen
    std::vector<TotalsCell> cells;        // newest year first, then 当初, 補正, 予備費, 要求
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
    Totals totals;
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
    // For searcher/export.cpp (defined there): every match of the request, its paging ignored, up to
    // `cap` sheets, and how many match in all; the sheets whose indexed title holds all the words of `name`.
    std::vector<Sheet> all_matches(const SearchRequest& request, Xapian::doccount cap, Xapian::doccount& total);
    std::vector<Sheet> title_phrase_sheets(const std::string& name, Xapian::doccount limit);

private:
    Xapian::Query filter_query(const Filters& f) const;
    Xapian::Query filtered(const Xapian::Query& query, const Filters& filters) const;
    // What a request asks for: the parsed query, the filters (typed and recognised), and the query to
    // answer with (relaxed when need be). Shared by search() and all_matches(), so an export is the search.
    // The text query comes twice: `text` ranks (with the bonuses of query_parser.h), `matching` has the
    // same matches without them, for the passes that only count.
    struct TextQuery {
        Xapian::Query text, matching;
        // The FacetTable's sums over `matching` without the facet filters, when relax() counted them to
        // know whether it matches enough (search() then needs no pass of its own for the counts).
        std::optional<std::vector<RecordSums>> sums;
    };
    struct Plan {
        ParsedQuery parsed;
        Filters applied;
        Xapian::Query text, matching;
        std::optional<std::vector<RecordSums>> sums;  // TextQuery::sums
    };
    // `counting`: the caller will count the matches by facet (search(), not an export), so relax() may
    // tally them with the FacetTable and hand the sums on in Plan::sums.
    Plan make_plan(const SearchRequest& req, Relaxation& relaxation, bool counting);
    // The query, the weighting and the order of the request on `enquire`.
    void prepare(Xapian::Enquire& enquire, const Plan& plan, SortOrder sort) const;
    // The value slot and direction of an order by value (nullopt: by relevance).
    struct ValueOrder {
        Xapian::valueno slot;
        bool descending;
    };
    static std::optional<ValueOrder> value_order(SortOrder sort);
    // In an order by value, the sheets that can be on the requested page: every one whose value is at
    // least (descending; at most, ascending) that of the page's last sheet, found by a pass without
    // weights; nothing when the page lies past the `total` matches. nullopt when it would not narrow anything.
    std::optional<Xapian::Query> page_by_value(const Plan& plan, const SearchRequest& req, Xapian::doccount total) const;
    Xapian::doccount count_up_to(const Xapian::Query& query, Xapian::doccount enough) const;
    // The query to answer with: all words; or, when they match nothing together, their words loosened, or
    // the largest set of them that matches something (at least half of them).
    TextQuery relax(const ParsedQuery& pq, const Filters& filters, Relaxation& out, bool counting);
    // The table's sums over the matches of `matching` with the filters that are not facets (amounts).
    std::vector<RecordSums> table_sums(const FacetTable& table, const Xapian::Query& matching, const Filters& filters) const;
    std::optional<std::string> suggest(const std::string& query, const ParsedQuery& pq) const;
    std::vector<FilterRemoval> removable_filters(const Xapian::Query& query, const Filters& filters) const;
    std::vector<FacetValue> facet_values(const Facet& facet, const std::map<std::string, FacetTally>& counts,
                                         const std::vector<std::string>& selected) const;
    Snippet make_snippet(const Sheet& sheet, const std::vector<HighlightPattern>& patterns);
    // division → the bureau it sits under most often in the index (slot 11), read once per opened index.
    const std::map<std::string, std::string>& division_parents();
    // The facet records of the open index, read once per opened revision; nullptr unless the index is one
    // local database.
    const FacetTable* facet_table();
    void add_parents(SearchResult& r);
    bool reopen_index();  // reopen()'s work; reopen() also drops what was read from the old index  // FacetValue::parent of the facets that have a parent facet

    const Config& config_;
    const Analyzer& analyzer_;
    Analyzer::Session session_;  // for the snippets' lines and the related sheets' titles (analyzer.h)
    const BureauDirectory& bureaus_;
    QueryParser parser_;
    Xapian::Database db_;
    bool remote_shards_ = false;  // the stub names xapian-tcpsrv shards: counts in a pass of their own
    std::filesystem::file_time_type opened_stub_time_{};
    std::optional<std::map<std::string, std::string>> division_parents_;  // reset by reopen()
    std::shared_ptr<const FacetTable> facet_table_;                       // reset by reopen()
};

// Whether the index was analysed with the dictionaries and character fixes this process uses: the
// indexer stores analysis_fingerprint() (core/config.h) at each commit. Another dictionary cuts words
// differently, so queries would silently stop matching. A message for staff when they differ; nullopt
// when they agree or the index predates the fingerprint. `fingerprint` is analysis_fingerprint() of this
// process's config: computed once (it reads samples of a 243 MB dictionary), not per check.
std::optional<std::string> analysis_mismatch(const std::string& fingerprint, const Xapian::Database& db);

// JSON for programs and the web page (the same content as the text output).
nlohmann::json to_json(const SearchResult& r);
nlohmann::json hit_json(const Hit& h);
nlohmann::json totals_json(const Totals& t);
nlohmann::json facet_value_json(const FacetValue& v);

}  // namespace yosan
