// The facet records of every sheet of an opened index (core/facets.h facet_record), read once into memory,
// so that a search counts its matches with a few array reads per match instead of fetching and parsing
// a value per match.
//
// Why: the counts and totals of a broad query tally every match. Xapian's ValueCountMatchSpy fetched the
// record of each match and kept a map of the distinct ones (nearly one per sheet, as the record holds the
// amounts): 17% of the time of a 4,744-match query (bench/perf, issue 9). Here the facet fields of a
// record (without the amounts) are interned once per distinct combination (far fewer than the sheets: a
// few hundred over the 10,500 generated sheets of bench/perf), and each document holds its combination
// and its two amounts; a search adds each match to its combination's sums (TableSpy), and the counter
// reads the sums once per combination.
//
// One local database only: a remote shard (xapian-tcpsrv) runs only the spies it knows, and over several
// databases a spy is given each shard's own docids (Xapian 1.4); the searcher counts those from the
// records with ValueCountMatchSpy (searcher.cpp).
// The table is tied to one open revision of the database: the Searcher drops it when reopen() loads a
// newer one.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

namespace yosan {

// What a set of sheets that share the same facet values adds up to.
struct RecordSums {
    Xapian::doccount sheets = 0;
    Xapian::doccount with_amount = 0;    // of those, the sheets that state an amount
    std::int64_t yen = 0;                // the sum of those amounts
    Xapian::doccount with_previous = 0;  // of those, the sheets that also state last year's amount
    std::int64_t previous_yen = 0;       // the sum of last year's amounts
    std::int64_t current_of_previous_yen = 0;  // and of this year's amounts of the same sheets

    // `times` sheets, each with `amount` and `previous` (kNone when not stated).
    static constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
    void add(std::int64_t amount, std::int64_t previous, Xapian::doccount times = 1) {
        sheets += times;
        if (amount == kNone) return;
        with_amount += times;
        yen += amount * static_cast<std::int64_t>(times);
        if (previous == kNone) return;
        with_previous += times;
        previous_yen += previous * static_cast<std::int64_t>(times);
        current_of_previous_yen += amount * static_cast<std::int64_t>(times);
    }
};

// The amount field of a record (decimal yen) as RecordSums reads it: kNone when empty or unreadable.
std::int64_t record_amount(std::string_view decimal);

// Which bureau each division sits under most often, from the bureau → division pairs of the sheets
// (core/schema.h kSlotBureauPairs), each pairs value added with the number of sheets that hold it.
class DivisionParents {
public:
    void add(std::string_view pairs, Xapian::doccount sheets);
    std::map<std::string, std::string> parents() const;  // division → bureau

private:
    std::map<std::string, std::map<std::string, Xapian::doccount>, std::less<>> seen_;  // division → bureau → sheets
};

class FacetTable {
public:
    // Reads slots kSlotFacetRecord and kSlotBureauPairs of every document.
    explicit FacetTable(const Xapian::Database& db);

    // The table of `db` at the revision it has open, built once and shared for as long as someone holds
    // it. The server's pool of Searchers (one per worker thread) opens the same index: each built its own
    // table, which at 10^5 sheets took 40-65 ms of a first request on each and 2.5 MB apiece (8 first
    // requests at once: 29-221 ms each). A database without a uuid gets a table of its own. A revision
    // of a uuid holds the same documents wherever it is read (a replica included); copies of the files
    // written apart would not, but yosan never writes to a copy (a --full run makes a new database).
    static std::shared_ptr<const FacetTable> shared(const Xapian::Database& db);

    // The combinations of facet fields (each facets().size() fields, in table order).
    std::size_t combinations() const { return combination_fields_.size(); }
    const std::vector<std::string>& fields(std::size_t combination) const { return combination_fields_[combination]; }

    // Division → the bureau it sits under most often, over every sheet.
    const std::map<std::string, std::string>& division_parents() const { return division_parents_; }

    // Adds document `did` to sums[its combination]; a document without a record (or beyond the table) is
    // added to nothing.
    void add(Xapian::docid did, std::vector<RecordSums>& sums) const {
        if (did >= docs_.size()) return;
        const Doc& d = docs_[did];
        if (d.combination != kNoCombination) sums[d.combination].add(d.amount, d.previous);
    }

private:
    static constexpr std::uint32_t kNoCombination = std::numeric_limits<std::uint32_t>::max();
    struct Doc {
        std::uint32_t combination = kNoCombination;
        std::int64_t amount = RecordSums::kNone, previous = RecordSums::kNone;
    };
    std::vector<std::vector<std::string>> combination_fields_;
    std::vector<Doc> docs_;  // by docid
    std::map<std::string, std::string> division_parents_;
};

// A match spy that adds every match to the sums of its combination in a FacetTable of the same database.
class TableSpy : public Xapian::MatchSpy {
public:
    explicit TableSpy(const FacetTable& table) : table_(table), sums_(table.combinations()) {}
    void operator()(const Xapian::Document& doc, double) override { table_.add(doc.get_docid(), sums_); }
    const std::vector<RecordSums>& sums() const { return sums_; }

private:
    const FacetTable& table_;
    std::vector<RecordSums> sums_;  // by combination
};

}  // namespace yosan
