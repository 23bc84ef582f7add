// Budget analysis beyond one page of hits: the whole matched set as CSV, and the timeline of one 事業.
//
// CSV: UTF-8 with a BOM (so that Excel opens Japanese text as UTF-8), RFC 4180 quoting, CRLF line ends,
// one row per sheet, every match (not one page), capped at kMaxExportRows; a capped export ends with a
// row whose first field starts with '#' saying so (and the HTTP answer carries X-Yosan-Truncated).
//
// Timeline: all sheets of one 事業 across years and kinds: the same normalised title (also where a year
// lists it as a part of a larger 事業), its sub-projects (「事業のうち、(2) 子事業」) and the parent sheet,
// with a series per year × kind for the chart (the 事業's own sheet, else its parts added up).
//
// Thread safety: as Searcher (one per thread).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "searcher/searcher.h"

namespace yosan {

inline constexpr Xapian::doccount kMaxExportRows = 100000;

struct ExportResult {
    std::vector<Sheet> sheets;   // in the order of the search (relevance, or the sort asked for)
    Xapian::doccount total = 0;  // every match, also those past the cap
    bool truncated() const { return total > sheets.size(); }
};

// Every match of the request (its paging ignored), up to `cap` sheets.
ExportResult export_matches(Searcher& searcher, const SearchRequest& request, Xapian::doccount cap = kMaxExportRows);

// The CSV text of an export (BOM, header row, one row per sheet, the truncation row when capped).
std::string export_csv(const ExportResult& result);
// One field, quoted when it holds a comma, a quote or a line break (RFC 4180).
std::string csv_field(std::string_view text);

struct Timeline {
    std::string name;           // the 事業: the sheet's title (its parent's name only when it has no title)
    std::string parent;         // the 事業 this one is a part of, if any
    std::vector<Sheet> sheets;  // year, then 当初・補正・予備費・要求, the 事業's own sheet before its parts
};
// nullopt when the id is unknown.
std::optional<Timeline> timeline(Searcher& searcher, const std::string& id);
nlohmann::json timeline_json(const Timeline& t);

}  // namespace yosan
