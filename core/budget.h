// Budget vocabulary shared by the sheet parser and the query side: yen amounts written the Japanese way,
// fiscal years in era or western form, budget kinds, and amount buckets.
//
// All functions are pure and thread safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yosan {

// Parses an amount such as "10億", "10億円", "1,617億円", "9,916 億円", "0.3億円", "500百万", "3000万",
// "1兆2,000億円", "1,234千円", "500円" or "1e9" into integer yen. Full-width digits are accepted.
// Returns nullopt when the text is not an amount, or when the amount is above kMaxYen (a figure no budget
// has: a PDF conversion error or hostile input). Never throws for any text.
std::optional<std::int64_t> parse_yen(std::string_view text);
// 10^16 yen (1京円), a hundred times the whole national budget: far above any real amount, far below
// what an int64 holds, so sums of a few amounts cannot overflow either.
inline constexpr std::int64_t kMaxYen = 10'000'000'000'000'000LL;

// "2025", "FY2025", "令和7", "令和7年度", "R7", "令和元年度", "平成30" → the western fiscal year.
std::optional<int> parse_fiscal_year(std::string_view text);

// Budget kinds, as stored in the index.
inline constexpr std::string_view kKindInitial = "当初";
inline constexpr std::string_view kKindSupplementary = "補正";
inline constexpr std::string_view kKindReserve = "予備費";
inline constexpr std::string_view kKindRequest = "要求";
// "当初", "補正", "補正予算", "予備費", "要求", "概算要求" (and romaji: initial, supplementary, reserve,
// request) → the stored kind.
std::optional<std::string> parse_kind(std::string_view text);

// "7.3億円", "1,617億円", "0.3億円", "4,500万円": a short form for people.
std::string format_yen(std::int64_t yen);

// Amount buckets: ascending boundaries in yen. Bucket i holds amounts in [b[i-1], b[i]).
struct AmountBuckets {
    std::vector<std::int64_t> bounds;
    int bucket_of(std::int64_t yen) const;
    int count() const { return static_cast<int>(bounds.size()) + 1; }
    std::string label(int bucket) const;  // "1億円未満", "1億〜10億円", "1,000億円以上"
    // The default from the issue: <1億, 1–10億, 10–100億, 100–1,000億, ≥1,000億.
    static AmountBuckets defaults();
};

}  // namespace yosan
