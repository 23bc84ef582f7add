#include "core/budget.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "core/text.h"

namespace yosan {

namespace {

// The text after NFKC with thousands separators and spaces removed.
std::string compact(std::string_view text) {
    std::string s = nfkc(text);
    std::string out;
    for (char c : s)
        if (c != ',' && c != ' ') out += c;
    return out;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Reads a decimal number at the front of s; advances s. By hand rather than std::stod, which throws
// std::out_of_range on a few hundred digits: a number with more than kMaxDigits digits before the point
// is no amount (kMaxYen has 17), so it is refused here instead of being converted at all.
constexpr std::size_t kMaxDigits = 20;
std::optional<double> take_number(std::string_view& s) {
    std::size_t i = 0, int_digits = 0, decimals = 0;
    bool digits = false, dot = false;
    double mantissa = 0;  // the digits as an integer; exact up to 2^53, and rounded once below
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !dot))) {
        if (s[i] == '.') {
            dot = true;
        } else {
            digits = true;
            if (!dot && ++int_digits > kMaxDigits) return std::nullopt;
            if (!dot || decimals < 15) {  // further decimals cannot change a yen amount
                mantissa = mantissa * 10 + (s[i] - '0');
                decimals += dot;
            }
        }
        ++i;
    }
    if (!digits) return std::nullopt;
    s.remove_prefix(i);
    return mantissa / std::pow(10.0, static_cast<double>(decimals));
}

// The yen value of a total, or nullopt when it is out of range (never a wrapped or saturated integer).
std::optional<std::int64_t> to_yen(double total) {
    if (!std::isfinite(total) || total < 0 || total > static_cast<double>(kMaxYen)) return std::nullopt;
    return std::llround(total);
}

}  // namespace

std::optional<std::int64_t> parse_yen(std::string_view text) {
    std::string s = compact(trim(text));
    std::string_view v = s;
    if (starts_with(v, "約")) v.remove_prefix(3);
    if (v.empty()) return std::nullopt;

    // Scientific notation for programs: 1e9, 2.5e10.
    if (auto e = v.find_first_of("eE"); e != std::string_view::npos && e > 0) {
        std::string_view mant = v.substr(0, e), exp = v.substr(e + 1);
        auto m = take_number(mant);
        std::string_view exp_view = exp;
        auto x = take_number(exp_view);
        if (m && x && mant.empty() && exp_view.empty() && *x <= 16) return to_yen(*m * std::pow(10.0, *x));
        return std::nullopt;
    }

    // A sequence of number+unit groups: 1兆2000億3000万円.
    struct Unit { std::string_view name; double factor; };
    static const Unit units[] = {{"兆", 1e12}, {"億", 1e8}, {"百万", 1e6}, {"千万", 1e7}, {"万", 1e4},
                                 {"千", 1e3}};
    double total = 0;
    bool any = false;
    while (!v.empty()) {
        auto n = take_number(v);
        if (!n) break;
        double factor = 1;
        for (const Unit& u : units)
            if (starts_with(v, u.name)) {
                factor = u.factor;
                v.remove_prefix(u.name.size());
                break;
            }
        total += *n * factor;
        any = true;
        if (factor == 1) break;  // a bare number ends the amount
    }
    if (starts_with(v, "円")) v.remove_prefix(3);
    if (!any || !v.empty()) return std::nullopt;
    return to_yen(total);
}

std::optional<int> parse_fiscal_year(std::string_view text) {
    std::string s = compact(trim(text));
    std::string_view v = s;
    int base = 0;
    if (starts_with(v, "令和")) base = 2018, v.remove_prefix(6);
    else if (starts_with(v, "平成")) base = 1988, v.remove_prefix(6);
    else if (starts_with(v, "R") || starts_with(v, "r")) base = 2018, v.remove_prefix(1);
    else if (starts_with(v, "H") || starts_with(v, "h")) base = 1988, v.remove_prefix(1);
    else if (starts_with(v, "FY") || starts_with(v, "fy")) v.remove_prefix(2);
    int n = 0;
    if (base && starts_with(v, "元")) {
        n = 1;
        v.remove_prefix(3);
    } else {
        std::size_t i = 0;
        while (i < v.size() && v[i] >= '0' && v[i] <= '9' && i < 5) n = n * 10 + (v[i++] - '0');
        if (i == 0) return std::nullopt;
        v.remove_prefix(i);
    }
    if (starts_with(v, "年度")) v.remove_prefix(6);
    else if (starts_with(v, "年")) v.remove_prefix(3);
    if (!v.empty()) return std::nullopt;
    if (base) return n >= 1 && n <= 99 ? std::optional<int>(base + n) : std::nullopt;
    return n >= 1900 && n <= 2200 ? std::optional<int>(n) : std::nullopt;
}

std::optional<std::string> parse_kind(std::string_view text) {
    std::string s = compact(trim(text));
    for (const char* suffix : {"予算額", "予算"})
        if (s.size() > std::string_view(suffix).size() && s.ends_with(suffix)) s.resize(s.size() - std::string_view(suffix).size());
    if (s == "当初" || s == "initial" || s == "本予算") return std::string(kKindInitial);
    if (s == "補正" || s == "supplementary") return std::string(kKindSupplementary);
    if (s == "予備費" || s == "reserve") return std::string(kKindReserve);
    if (s == "要求" || s == "概算要求" || s == "request") return std::string(kKindRequest);
    return std::nullopt;
}

std::string format_yen(std::int64_t yen) {
    char buf[64];
    const auto with_commas = [](long long n) {
        std::string d = std::to_string(n), out;
        for (std::size_t i = 0; i < d.size(); ++i) {
            if (i && (d.size() - i) % 3 == 0) out += ',';
            out += d[i];
        }
        return out;
    };
    if (yen >= 100'000'000) {
        if (yen % 100'000'000 == 0) return with_commas(yen / 100'000'000) + "億円";
        const double oku = yen / 1e8;
        if (oku < 10 && std::fmod(yen, 10'000'000) == 0) {
            std::snprintf(buf, sizeof buf, "%.1f億円", oku);
            return buf;
        }
        if (yen % 100'000'000 == 0) return with_commas(yen / 100'000'000) + "億円";
        std::snprintf(buf, sizeof buf, "%.2f億円", oku);
        return buf;
    }
    if (yen >= 10'000'000 && yen % 10'000'000 == 0) {
        std::snprintf(buf, sizeof buf, "%.1f億円", yen / 1e8);
        return buf;
    }
    if (yen >= 10'000 && yen % 10'000 == 0) return with_commas(yen / 10'000) + "万円";
    return with_commas(yen) + "円";
}

int AmountBuckets::bucket_of(std::int64_t yen) const {
    int b = 0;
    while (b < static_cast<int>(bounds.size()) && yen >= bounds[b]) ++b;
    return b;
}

std::string AmountBuckets::label(int bucket) const {
    const auto short_form = [](std::int64_t yen) {
        std::string s = format_yen(yen);
        return s.ends_with("円") ? s.substr(0, s.size() - 3) : s;
    };
    if (bounds.empty()) return "すべて";
    if (bucket <= 0) return short_form(bounds.front()) + "円未満";
    if (bucket >= static_cast<int>(bounds.size())) return short_form(bounds.back()) + "円以上";
    return short_form(bounds[bucket - 1]) + "〜" + short_form(bounds[bucket]) + "円";
}

AmountBuckets AmountBuckets::defaults() {
    return {{100'000'000LL, 1'000'000'000LL, 10'000'000'000LL, 100'000'000'000LL}};
}

}  // namespace yosan
