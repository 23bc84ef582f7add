// The facet table: every dimension staff can narrow by and count (bureau, division, fiscal year, kind,
// amount bucket), in one place. The table drives
//   - the indexer: which boolean terms and value slot each sheet gets (values_of),
//   - the searcher: the filter query (OR within a facet, AND across facets) and the exact counts,
//   - the request: the HTTP parameter and the CLI option of each facet (its name) and how a typed value is
//     read (read_value), and the JSON and the page (name, label, order).
// A new facet is one new row here; nothing else spells the list out.
//
// Every facet also counts the sheets that have no value for it, under kNoValue (「記載なし」), so that the
// counts of a facet add up to the total; that value can be filtered on like any other.
//
// Thread safe: the table is immutable.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "core/sheet.h"

namespace yosan {

struct Config;
class BureauDirectory;

// What reading or labelling a facet value may need besides the value itself.
struct FacetContext {
    const Config& config;
    const BureauDirectory& bureaus;
};

struct Facet {
    enum class Order { count_desc, value_desc, value_asc };

    std::string_view name;    // HTTP parameter, CLI option (--name) and JSON key
    std::string_view label;   // heading for staff
    std::string_view prefix;  // boolean term prefix (core/schema.h); the values go to the facet record
    Order order;
    // The sheet's values, as stored (canonical). Empty: the sheet counts under kNoValue.
    std::vector<std::string> (*values_of)(const Sheet&, const FacetContext&);
    // A value as staff type it (令和7, 補正予算, 商務サービスグループ) → the stored value; nullopt when it is
    // not a value of this facet.
    std::optional<std::string> (*read_value)(std::string_view typed, const FacetContext&);
    // How a stored value is shown (2025 → 2025年度（令和7年度）).
    std::string (*label_of)(std::string_view value, const FacetContext&);
    // The message when read_value refuses (Japanese, for staff).
    std::string_view expected;
    // The facet whose values nest this one's (division → bureau), or empty. The searcher tells each value
    // its parent value (core/schema.h slot 11 pairs), the page nests them; filtering stays per facet.
    std::string_view parent = {};
};

// The value under which sheets without a value of a facet are counted and filtered.
inline constexpr std::string_view kNoValue = "記載なし";

std::span<const Facet> facets();
const Facet* find_facet(std::string_view name);

// Filters: values per facet (OR within a facet, AND across facets) and an amount range.
struct Filters {
    std::map<std::string, std::vector<std::string>, std::less<>> values;  // facet name → stored values
    std::optional<std::int64_t> amount_min, amount_max;                    // inclusive min, exclusive max

    bool empty() const { return values.empty() && !amount_min && !amount_max; }
    // The selected values of a facet (empty when none).
    const std::vector<std::string>& of(std::string_view facet) const;
    // Adds a stored value (once).
    void add(std::string_view facet, std::string value);
    // Reads a typed value of `facet` and adds it; throws UsageError naming the facet when it is not one.
    // A division given as a bureau (--bureau 自動車課) goes to the division facet.
    void add_typed(const Facet& facet, std::string_view typed, const FacetContext& context);
    // All but one facet's values: a facet is counted as if it were not filtered, so that a second value of
    // it can be added.
    Filters without(std::string_view facet) const;
    // Adds another set of filters (values joined, the tighter amount bounds kept).
    void merge(const Filters& other);
};

// The facet record (core/schema.h kSlotFacetRecord): all that the counts and totals of a matched set read
// from a sheet, in one value, so that counting reads one value per match and Xapian's own
// ValueCountMatchSpy can tally it (the one kind of spy a remote shard, xapian-tcpsrv, runs). Fields, each
// its length (7 bits a byte, low first) then its bytes: the values of each facet in table order
// ('\n'-separated, empty: none), then the amount and the previous-year amount in yen (decimal, empty: not
// stated).
inline constexpr std::size_t kRecordFields = 9;  // facets().size() + 2, checked in facets.cpp
inline constexpr std::size_t kRecordAmount = kRecordFields - 2, kRecordPrevious = kRecordFields - 1;
std::string facet_record(const Sheet& s, const FacetContext& context);
// The fields of a record; fewer than kRecordFields when it is damaged (the missing ones count as empty).
std::vector<std::string_view> record_fields(std::string_view record);
// The same into `out` (cleared first), for a loop over many records.
void record_fields(std::string_view record, std::vector<std::string_view>& out);

// The stored values of a facet in a record field (or any '\n'-separated list).
std::vector<std::string_view> split_values(std::string_view slot_value);

// Subsidy rates as stored ("1/2", "2/3", "10/10", "定額") → their share of the cost; 定額 counts as 10/10.
// nullopt for anything else.
std::optional<double> rate_share(std::string_view rate);
// The stored rate values whose share is at least `share`, from the fractions staff meet (denominators up
// to 12, as the scheme extractor normalises them) and 定額: the filter that 補助率2/3以上 stands for.
std::vector<std::string> rates_at_least(double share);

// The Japanese fiscal-year name: 2025 → 令和7年度, 2019 → 令和元年度, 2018 → 平成30年度.
std::string era_year(int year);

}  // namespace yosan
