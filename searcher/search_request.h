// Reading a search request from what a front end received: the HTTP query parameters of /api/search and
// the options of `yosan-search` carry the same names (q, one per facet of core/facets.h, amount_min,
// amount_max, sort), so both go through read_search_request() and mean the same thing. Each front end adds
// its own paging (page/per_page for HTTP, --limit/--offset on the command line).
//
// Every function throws UsageError naming the parameter for a bad value. Thread safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/facets.h"
#include "searcher/searcher.h"

namespace yosan {

// Parameter name → values, in the order given; a name may repeat (bureau=…&bureau=…).
using Params = std::multimap<std::string, std::string>;

// Every non-blank value of a (possibly repeated) parameter, trimmed and checked for UTF-8.
std::vector<std::string> param_values(const Params& params, const std::string& key);
// The one value of a parameter, or "" when absent; UsageError when it is given twice.
std::string single_param(const Params& params, const std::string& key);
// Strict integer parsing: the whole text, within [lo, hi].
long long parse_int(const std::string& text, const std::string& param, long long lo, long long hi);
// At most `bytes` of s, cut on a character boundary, for echoing input in a message.
std::string clip(std::string_view s, std::size_t bytes);

// The query, the facet filters, the amount range (amount_max inclusive as typed) and the sort order.
// Paging is left at its defaults.
SearchRequest read_search_request(const Params& params, const FacetContext& context);

}  // namespace yosan
