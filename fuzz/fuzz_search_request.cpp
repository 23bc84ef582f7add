// Fuzz target: the HTTP parameters of /api/search, through read_search_request() (facet values, amounts,
// sort), the paging parameters and the answer-cache key, as the server reads them.
//
// The input is a query string without percent-decoding: '&' separates parameters and the first '='
// separates a name from its value, so a name may repeat and values may hold any byte (httplib hands the
// handler decoded values, which can be anything, so nothing is decoded here). A UsageError is the
// documented answer to a bad parameter; anything else thrown aborts, and libFuzzer reports it.
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"
#include "fuzz/fuzz_common.h"
#include "searcher/response_cache.h"
#include "searcher/search_request.h"

using namespace yosan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 8192) return -1;  // httplib refuses a longer request line (414) before any handler runs
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    Params params;
    for (std::size_t at = 0; at <= text.size();) {
        std::size_t end = text.find('&', at);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view item = text.substr(at, end - at);
        const std::size_t eq = item.find('=');
        if (!item.empty())
            params.emplace(std::string(item.substr(0, eq)), eq == std::string_view::npos ? std::string() : std::string(item.substr(eq + 1)));
        at = end + 1;
    }
    const FacetContext context{fuzz::config(), fuzz::bureaus()};
    try {
        const SearchRequest r = read_search_request(params, context);
        // The invariants the searcher relies on.
        if (r.filters.amount_min && *r.filters.amount_min < 0) std::abort();
        if (r.filters.amount_max && *r.filters.amount_max < 1) std::abort();
        if (r.filters.amount_min && r.filters.amount_max && *r.filters.amount_min >= *r.filters.amount_max) std::abort();
        if (const std::string p = single_param(params, "page"); !p.empty()) parse_int(p, "page", 1, 1000);
        if (const std::string p = single_param(params, "per_page"); !p.empty()) parse_int(p, "per_page", 1, 100);
        (void)sort_name(r.sort);
    } catch (const UsageError&) {
        // the documented answer to a bad parameter
    }
    // The cache key is computed from the raw parameters before anything is validated.
    if (ResponseCache::key("uuid@1", "/api/search", params).empty()) std::abort();
    return 0;
}
