#include "searcher/search_request.h"

#include <charconv>

#include "core/budget.h"
#include "core/error.h"
#include "core/text.h"

namespace yosan {

namespace {
constexpr std::size_t kMaxValues = 32;  // values of one repeated parameter
// The longest amount anyone types is about 20 characters (1兆2000億3000万円, ５０，０００，０００，０００円).
// Checked before parse_yen (which refuses absurd numbers itself), so that a 400-digit value gets the
// message about amounts, not a long echo; it once went through std::stod, threw, and became a 500.
constexpr std::size_t kMaxAmountChars = 32;
// 1京円: a hundred times the whole national budget. Anything above is a typo, and refusing it keeps
// amount_max + 1 (exclusive bound) far from the int64 range.
constexpr std::int64_t kMaxAmount = 10'000'000'000'000'000;

std::int64_t read_amount(const std::string& text, const std::string& key) {
    const std::string usage = "金額は 10億, 500百万, 3000万, 1e9 のように指定してください: " + clip(text, 64);
    if (utf8_length(text) > kMaxAmountChars) throw UsageError(usage, key);
    auto v = parse_yen(text);
    if (!v || *v < 0) throw UsageError(usage, key);
    if (*v > kMaxAmount) throw UsageError("金額が大きすぎます（1京円まで）: " + clip(text, 64), key);
    return *v;
}
}

std::string clip(std::string_view s, std::size_t bytes) {
    if (s.size() <= bytes) return std::string(s);
    while (bytes > 0 && (static_cast<unsigned char>(s[bytes]) & 0xC0) == 0x80) --bytes;
    return std::string(s.substr(0, bytes)).append("…");
}

long long parse_int(const std::string& text, const std::string& param, long long lo, long long hi) {
    long long v = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || p != end || v < lo || v > hi)
        throw UsageError(param + " は " + std::to_string(lo) + "〜" + std::to_string(hi) + " の整数で指定してください: " + clip(text, 64),
                         param);
    return v;
}

std::vector<std::string> param_values(const Params& params, const std::string& key) {
    std::vector<std::string> out;
    const auto [from, to] = params.equal_range(key);
    if (static_cast<std::size_t>(std::distance(from, to)) > kMaxValues) throw UsageError(key + " の指定が多すぎます", key);
    for (auto it = from; it != to; ++it) {
        if (first_invalid_utf8(it->second) != std::string::npos) throw UsageError("UTF-8 として読めない文字が含まれています", key);
        if (!trim(it->second).empty()) out.emplace_back(trim(it->second));
    }
    return out;
}

std::string single_param(const Params& params, const std::string& key) {
    std::vector<std::string> v = param_values(params, key);
    if (v.size() > 1) throw UsageError(key + " は 1 回だけ指定してください", key);
    return v.empty() ? std::string() : v.front();
}

SearchRequest read_search_request(const Params& params, const FacetContext& context) {
    SearchRequest r;
    // QueryParser enforces the length and item limits of the query itself.
    r.query = single_param(params, "q");
    for (const Facet& f : facets())
        for (const std::string& v : param_values(params, std::string(f.name))) r.filters.add_typed(f, v, context);
    for (const auto& [key, target] : {std::pair{"amount_min", &r.filters.amount_min}, std::pair{"amount_max", &r.filters.amount_max}}) {
        const std::string text = single_param(params, key);
        if (text.empty()) continue;
        *target = read_amount(text, key);
    }
    if (r.filters.amount_min && r.filters.amount_max && *r.filters.amount_min > *r.filters.amount_max)
        throw UsageError("金額の下限が上限を超えています", "amount_min");
    if (r.filters.amount_max) *r.filters.amount_max += 1;  // inclusive for people, exclusive in Filters
    r.sort = parse_sort(single_param(params, "sort"));
    return r;
}

}  // namespace yosan
