#include "core/facets.h"

#include <algorithm>
#include <charconv>

#include "core/budget.h"
#include "core/bureaus.h"
#include "core/config.h"
#include "core/error.h"
#include "core/schema.h"
#include "core/text.h"

namespace yosan {

namespace {

std::vector<std::string> bureau_values(const Sheet& s, const FacetContext&) {
    std::vector<std::string> out;
    for (const BureauRef& b : s.bureaus)
        if (!b.top.empty() && std::find(out.begin(), out.end(), b.top) == out.end()) out.push_back(b.top);
    return out;
}

std::vector<std::string> division_values(const Sheet& s, const FacetContext&) {
    std::vector<std::string> out;
    for (const BureauRef& b : s.bureaus)
        for (const std::string& d : b.divisions)
            if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
    return out;
}

std::vector<std::string> year_values(const Sheet& s, const FacetContext&) {
    if (!s.year) return {};
    return {std::to_string(*s.year)};
}

std::vector<std::string> kind_values(const Sheet& s, const FacetContext&) {
    if (!s.kind) return {};
    return {*s.kind};
}

std::vector<std::string> bucket_values(const Sheet& s, const FacetContext& c) {
    if (!s.amount) return {};
    return {std::to_string(c.config.buckets.bucket_of(*s.amount))};
}

std::vector<std::string> form_values(const Sheet& s, const FacetContext&) {
    std::vector<std::string> out;
    for (const SchemeValue& v : s.scheme.forms) out.push_back(v.value);
    return out;
}

std::vector<std::string> rate_values(const Sheet& s, const FacetContext&) {
    std::vector<std::string> out;
    for (const SchemeValue& v : s.scheme.rates)
        if (std::find(out.begin(), out.end(), v.value) == out.end()) out.push_back(v.value);
    return out;
}

// Forms are a closed vocabulary (indexer/scheme.h kForms); a typed form is taken as written after NFKC.
std::optional<std::string> read_form(std::string_view typed, const FacetContext&) {
    static constexpr std::string_view kKnown[] = {"委託", "補助", "交付金", "出資", "貸付", "基金", "給付"};
    const std::string t = nfkc(typed);
    for (std::string_view k : kKnown)
        if (t == k) return std::string(k);
    return std::nullopt;
}

std::optional<std::string> read_rate(std::string_view typed, const FacetContext&) {
    std::string t = nfkc(typed);
    if (t == "定額") return t;
    if (!rate_share(t)) return std::nullopt;
    // As the indexer writes it: 02/3 and 2/3 are one value.
    int n = 0, d = 0;
    const std::size_t slash = t.find('/');
    std::from_chars(t.data(), t.data() + slash, n);
    std::from_chars(t.data() + slash + 1, t.data() + t.size(), d);
    return std::to_string(n) + "/" + std::to_string(d);
}

std::optional<std::string> read_organisation(std::string_view typed, const FacetContext& c) {
    std::string name = c.bureaus.canonical(typed);
    if (name.empty()) return std::nullopt;
    return name;
}

std::optional<std::string> read_year(std::string_view typed, const FacetContext&) {
    if (auto y = parse_fiscal_year(typed)) return std::to_string(*y);
    return std::nullopt;
}

std::optional<std::string> read_kind(std::string_view typed, const FacetContext&) { return parse_kind(typed); }

std::optional<std::string> read_bucket(std::string_view typed, const FacetContext& c) {
    int b = -1;
    const auto [end, ec] = std::from_chars(typed.data(), typed.data() + typed.size(), b);
    if (ec != std::errc() || end != typed.data() + typed.size() || b < 0 || b >= c.config.buckets.count())
        return std::nullopt;
    return std::to_string(b);
}

std::string plain_label(std::string_view value, const FacetContext&) { return std::string(value); }

std::string year_label(std::string_view value, const FacetContext&) {
    int y = 0;
    std::from_chars(value.data(), value.data() + value.size(), y);
    return std::string(value) + "年度（" + era_year(y) + "）";
}

std::string bucket_label(std::string_view value, const FacetContext& c) {
    int b = 0;
    std::from_chars(value.data(), value.data() + value.size(), b);
    return c.config.buckets.label(b);
}

constexpr Facet kFacets[] = {
    {"bureau", "局・庁", schema::kBureau, Facet::Order::count_desc, bureau_values,
     read_organisation, plain_label, "局・庁の名前を指定してください"},
    {"division", "課・室", schema::kDivision, Facet::Order::count_desc, division_values,
     read_organisation, plain_label, "課・室の名前を指定してください", "bureau"},
    {"year", "年度", schema::kYear, Facet::Order::value_desc, year_values, read_year, year_label,
     "年度は 2025 か 令和7 の形で指定してください"},
    {"kind", "予算区分", schema::kKind, Facet::Order::count_desc, kind_values, read_kind,
     plain_label, "予算区分は 当初・補正・予備費・要求 のいずれかです"},
    {"bucket", "金額帯", schema::kBucket, Facet::Order::value_asc, bucket_values, read_bucket,
     bucket_label, "金額帯は 0 から始まる番号で指定してください"},
    {"form", "支出形態", schema::kForm, Facet::Order::count_desc, form_values, read_form, plain_label,
     "支出形態は 委託・補助・交付金・出資・貸付・基金・給付 のいずれかです"},
    {"rate", "補助率", schema::kRate, Facet::Order::count_desc, rate_values, read_rate, plain_label,
     "補助率は 1/2, 2/3, 10/10, 定額 のように指定してください"},
};

static_assert(std::size(kFacets) + 2 == kRecordFields, "the facet record has a field per facet, then two amounts");

const std::vector<std::string> kNone;

}  // namespace

std::span<const Facet> facets() { return kFacets; }

const Facet* find_facet(std::string_view name) {
    for (const Facet& f : kFacets)
        if (f.name == name) return &f;
    return nullptr;
}

const std::vector<std::string>& Filters::of(std::string_view facet) const {
    auto it = values.find(facet);
    return it == values.end() ? kNone : it->second;
}

void Filters::add(std::string_view facet, std::string value) {
    auto& v = values[std::string(facet)];
    if (std::find(v.begin(), v.end(), value) == v.end()) v.push_back(std::move(value));
}

void Filters::add_typed(const Facet& facet, std::string_view typed, const FacetContext& context) {
    if (typed == kNoValue) return add(facet.name, std::string(kNoValue));
    std::optional<std::string> v = facet.read_value(typed, context);
    if (!v) {
        std::string shown(typed.substr(0, 64));
        throw UsageError(std::string(facet.expected) + ": " + shown, std::string(facet.name));
    }
    // Staff write a division where a bureau is asked for (--bureau 自動車課); it is one.
    if (facet.name == "bureau" && !BureauDirectory::is_top_unit(*v)) return add("division", std::move(*v));
    add(facet.name, std::move(*v));
}

Filters Filters::without(std::string_view facet) const {
    Filters f = *this;
    if (auto it = f.values.find(facet); it != f.values.end()) f.values.erase(it);
    return f;
}

void Filters::merge(const Filters& other) {
    for (const auto& [facet, vs] : other.values)
        for (const std::string& v : vs) add(facet, v);
    if (other.amount_min) amount_min = std::max(*other.amount_min, amount_min.value_or(*other.amount_min));
    if (other.amount_max) amount_max = std::min(*other.amount_max, amount_max.value_or(*other.amount_max));
}

std::string facet_record(const Sheet& s, const FacetContext& context) {
    std::string out;
    const auto field = [&out](std::string_view f) {
        for (std::size_t n = f.size();; n >>= 7) {  // the length, 7 bits a byte, low bits first
            if (n < 0x80) {
                out += static_cast<char>(n);
                break;
            }
            out += static_cast<char>((n & 0x7f) | 0x80);
        }
        out += f;
    };
    for (const Facet& f : kFacets) {
        std::string values;
        for (const std::string& v : f.values_of(s, context)) append_line(values, v);
        field(values);
    }
    field(s.amount ? std::to_string(*s.amount) : "");
    field(s.previous_amount ? std::to_string(*s.previous_amount) : "");
    return out;
}

std::vector<std::string_view> record_fields(std::string_view record) {
    std::vector<std::string_view> out;
    out.reserve(kRecordFields);
    record_fields(record, out);
    return out;
}

void record_fields(std::string_view record, std::vector<std::string_view>& out) {
    out.clear();
    std::size_t i = 0;
    while (i < record.size() && out.size() < kRecordFields) {
        std::size_t n = 0;
        for (unsigned shift = 0;; shift += 7) {
            if (i == record.size() || shift > 28) return;  // damaged: the fields read so far
            const auto byte = static_cast<unsigned char>(record[i++]);
            n |= static_cast<std::size_t>(byte & 0x7f) << shift;
            if (!(byte & 0x80)) break;
        }
        if (n > record.size() - i) return;
        out.push_back(record.substr(i, n));
        i += n;
    }
}

std::vector<std::string_view> split_values(std::string_view s) {
    std::vector<std::string_view> out;
    while (!s.empty()) {
        const std::size_t nl = s.find('\n');
        if (nl != 0) out.push_back(s.substr(0, nl));
        if (nl == std::string_view::npos) break;
        s.remove_prefix(nl + 1);
    }
    return out;
}

std::optional<double> rate_share(std::string_view rate) {
    if (rate == "定額") return 1.0;
    const std::size_t slash = rate.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    int n = 0, d = 0;
    const auto a = std::from_chars(rate.data(), rate.data() + slash, n);
    const auto b = std::from_chars(rate.data() + slash + 1, rate.data() + rate.size(), d);
    if (a.ec != std::errc() || a.ptr != rate.data() + slash || b.ec != std::errc() || b.ptr != rate.data() + rate.size() ||
        n <= 0 || d <= 0 || n > d)
        return std::nullopt;
    return static_cast<double>(n) / d;
}

std::vector<std::string> rates_at_least(double share) {
    std::vector<std::string> out;
    for (int d = 1; d <= 12; ++d)
        for (int n = 1; n <= d; ++n)
            // Compared with a little slack so that 2/3 counts as at least 2/3 whatever the rounding.
            if (static_cast<double>(n) / d + 1e-9 >= share) out.push_back(std::to_string(n) + "/" + std::to_string(d));
    if (1.0 + 1e-9 >= share) out.emplace_back("定額");
    return out;
}

std::string era_year(int year) {
    if (year >= 2019) return year == 2019 ? "令和元年度" : "令和" + std::to_string(year - 2018) + "年度";
    if (year >= 1989) return year == 1989 ? "平成元年度" : "平成" + std::to_string(year - 1988) + "年度";
    return std::to_string(year) + "年度";
}

}  // namespace yosan
