#include "searcher/searcher.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <set>
#include <unordered_map>
#include <sstream>

#include "core/budget.h"
#include "core/document_data.h"
#include "core/error.h"
#include "core/schema.h"
#include "core/terms.h"
#include "core/text.h"

namespace yosan {

SortOrder parse_sort(const std::string& s) {
    if (s.empty() || s == "relevance") return SortOrder::relevance;
    if (s == "amount") return SortOrder::amount_asc;
    if (s == "-amount") return SortOrder::amount_desc;
    if (s == "year" || s == "-year") return s == "year" ? SortOrder::year_desc : SortOrder::year_asc;
    throw UsageError("並べ順は relevance, amount, -amount, year, -year のいずれかです: " + s, "sort");
}

std::string sort_name(SortOrder order) {
    switch (order) {
        case SortOrder::relevance: return "relevance";
        case SortOrder::amount_asc: return "amount";
        case SortOrder::amount_desc: return "-amount";
        case SortOrder::year_desc: return "year";
        case SortOrder::year_asc: return "-year";
    }
    return "relevance";
}

namespace {

// Counts the facets of core/facets.h and adds up the amounts over a matched set, from the sums of each
// combination of facet values: over a local database, a FacetTable's (searcher/facet_table.h); over remote
// shards, the facet records (core/facets.h facet_record) that Xapian's ValueCountMatchSpy tallied, each
// distinct record read once with the number of sheets that share it (a spy that xapian-tcpsrv also runs).
// Multi-valued facets are tallied by their whole field first (most sheets share one: a bureau, a year) and
// split once at the end. The amounts of a combination go to every value its sheets count under and, for
// `totals`, to their fiscal year × kind cell.
class FacetCounter {
public:
    FacetCounter(const std::vector<RecordSums>& sums, const FacetTable& table, bool totals) : raw_(facets().size()) {
        for (std::size_t c = 0; c < sums.size(); ++c) {
            if (sums[c].sheets == 0) continue;
            const std::vector<std::string>& fields = table.fields(c);
            add(std::vector<std::string_view>(fields.begin(), fields.end()), sums[c], totals);
        }
    }
    FacetCounter(const Xapian::ValueCountMatchSpy& spy, bool totals) : raw_(facets().size()) {
        for (auto it = spy.values_begin(); it != spy.values_end(); ++it) {
            const std::string record = *it;
            std::vector<std::string_view> fields = record_fields(record);
            fields.resize(kRecordFields);  // a damaged record: its missing fields count as empty
            RecordSums sums;
            sums.add(record_amount(fields[kRecordAmount]), record_amount(fields[kRecordPrevious]), it.get_termfreq());
            add(fields, sums, totals);
        }
    }
    // Value → sheets and yen of a facet. A sheet with several values counts once under each.
    std::map<std::string, FacetTally> counts(const Facet& f) const {
        std::map<std::string, FacetTally> out;
        for (const auto& [content, tally] : raw_[static_cast<std::size_t>(&f - facets().data())]) {
            if (content.empty()) {
                merge(out[std::string(kNoValue)], tally);
                continue;
            }
            for (std::string_view one : split_values(content)) merge(out[std::string(one)], tally);
        }
        return out;
    }
    // The totals, cells ordered newest year first, then 当初, 補正, 予備費, 要求, then anything else.
    Totals totals() const {
        Totals t = totals_;
        for (const auto& [key, cell] : cells_) {
            t.cells.push_back(cell);
            t.cells.back().year = key.first;
            t.cells.back().kind = key.second;
        }
        static constexpr std::string_view order[] = {"当初", "補正", "予備費", "要求"};
        const auto rank = [](const std::string& k) {
            return static_cast<int>(std::find(std::begin(order), std::end(order), k) - std::begin(order));
        };
        std::stable_sort(t.cells.begin(), t.cells.end(), [&](const TotalsCell& a, const TotalsCell& b) {
            const bool an = a.year == kNoValue, bn = b.year == kNoValue;  // 記載なし last
            if (an != bn) return bn;
            if (a.year != b.year) return a.year > b.year;
            return rank(a.kind) < rank(b.kind);
        });
        return t;
    }

private:
    // The sheets of one combination: `fields` holds its facet fields in table order (more are ignored).
    void add(const std::vector<std::string_view>& fields, const RecordSums& sums, bool totals) {
        static const std::size_t year = facet_index("year"), kind = facet_index("kind");
        for (std::size_t i = 0; i < raw_.size(); ++i) {
            FacetTally& t = raw_[i][std::string(fields[i])];
            t.count += sums.sheets;
            t.yen += sums.yen;
        }
        if (!totals) return;
        totals_.sheets += sums.sheets;
        totals_.without_amount += sums.sheets - sums.with_amount;
        if (sums.with_amount == 0) return;
        const auto key = std::pair{fields[year].empty() ? std::string(kNoValue) : std::string(fields[year]),
                                   fields[kind].empty() ? std::string(kNoValue) : std::string(fields[kind])};
        TotalsCell& c = cells_[key];
        c.sheets += sums.with_amount;
        c.yen += sums.yen;
        c.with_previous += sums.with_previous;
        c.previous_yen += sums.previous_yen;
        c.current_of_previous_yen += sums.current_of_previous_yen;
    }
    static std::size_t facet_index(std::string_view name) { return static_cast<std::size_t>(find_facet(name) - facets().data()); }
    static void merge(FacetTally& into, const FacetTally& t) {
        into.count += t.count;
        into.yen += t.yen;
    }
    std::vector<std::unordered_map<std::string, FacetTally>> raw_;  // per facet: field → tally
    Totals totals_;
    std::map<std::pair<std::string, std::string>, TotalsCell> cells_;
};

// Tallies every match of `query` with `spy`: an unranked pass that fetches no hit. A ValueCountMatchSpy
// runs where the documents are (in each xapian-tcpsrv too).
void tally_values(const Xapian::Database& db, const Xapian::Query& query, Xapian::MatchSpy& spy) {
    Xapian::Enquire enquire(db);
    enquire.set_query(query);
    enquire.set_weighting_scheme(Xapian::BoolWeight());
    enquire.add_matchspy(&spy);
    enquire.get_mset(0, 0, db.get_doccount());  // check_at_least = every document: exact counts
}

// Which facets' selected values the sheets of each combination of `table` miss (bit i: facets()[i]): a
// sheet passes a facet when one of its values (記載なし when it has none) is selected, as the terms of
// Searcher::filter_query() ask.
std::vector<std::uint32_t> failed_facets(const FacetTable& table, const Filters& filters) {
    static_assert(kRecordFields - 2 <= 32, "a bit per facet");
    std::vector<std::uint32_t> out(table.combinations(), 0);
    for (std::size_t i = 0; i < facets().size(); ++i) {
        const std::vector<std::string>& selected = filters.of(facets()[i].name);
        if (selected.empty()) continue;
        const auto is_selected = [&](std::string_view v) { return std::find(selected.begin(), selected.end(), v) != selected.end(); };
        for (std::size_t c = 0; c < out.size(); ++c) {
            const std::string& field = table.fields(c)[i];
            const std::vector<std::string_view> values = field.empty() ? std::vector<std::string_view>{kNoValue} : split_values(field);
            if (std::none_of(values.begin(), values.end(), is_selected)) out[c] |= 1u << i;
        }
    }
    return out;
}

// The sums of the combinations that miss no selected facet but those in `ignored` (failed_facets()).
std::vector<RecordSums> passing(const std::vector<RecordSums>& sums, const std::vector<std::uint32_t>& failed, std::uint32_t ignored) {
    std::vector<RecordSums> out(sums.size());
    for (std::size_t c = 0; c < sums.size(); ++c)
        if ((failed[c] & ~ignored) == 0) out[c] = sums[c];
    return out;
}

// Counts every match of `query` (and, with `totals`, adds up its amounts) in a pass of its own, from
// `table`, or over remote shards (no table) from the facet records. Over remote shards the counts of a
// search come from here, not from a spy on the ranked match: Xapian 1.4 runs a match spy a second time,
// locally, on a remote shard's hit that sorts below the page when the order is by value (multimatch.cc
// calls the spy there without the is_remote check it makes elsewhere), so counts taken during a sorted
// match over xapian-tcpsrv shards come out too high. Unranked, the whole match runs in the shards' own spies.
FacetCounter count_matches(const Xapian::Database& db, const FacetTable* table, const Xapian::Query& query, bool totals) {
    if (table) {
        TableSpy spy(*table);
        tally_values(db, query, spy);
        return FacetCounter(spy.sums(), *table, totals);
    }
    Xapian::ValueCountMatchSpy spy(schema::kSlotFacetRecord);
    tally_values(db, query, spy);
    return FacetCounter(spy, totals);
}

std::string html_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

// Cuts s to at most `chars` code points on a character boundary.
std::size_t byte_offset_of_char(std::string_view s, std::size_t chars) {
    std::size_t i = 0;
    while (i < s.size() && chars--) next_code_point(s, i);
    return i;
}
std::size_t chars_before(std::string_view s, std::size_t byte) { return utf8_length(s.substr(0, byte)); }

// Whether the index at `path` reaches a remote database (xapian-tcpsrv, a stub line "remote HOST:PORT"),
// also through what Xapian follows: a stub named by a stub ("auto PATH", relative to the stub's folder)
// and a folder's XAPIANDB stub. Nesting is bounded: a stub naming itself is Xapian's error, not a hang here.
bool names_remote_shards(const std::filesystem::path& path, int depth = 0) {
    std::error_code ec;
    if (depth > 8) return false;
    if (std::filesystem::is_directory(path, ec)) {
        const std::filesystem::path stub = path / "XAPIANDB";
        return std::filesystem::is_regular_file(stub, ec) && names_remote_shards(stub, depth + 1);
    }
    std::ifstream stub(path);
    for (std::string line; std::getline(stub, line);) {
        std::istringstream words(line);
        std::string kind, target;
        if (!(words >> kind)) continue;
        if (kind == "remote") return true;
        if ((kind == "auto" || kind == "glass" || kind == "chert") && words >> target) {
            const std::filesystem::path named = std::filesystem::path(target).is_absolute() ? std::filesystem::path(target) : path.parent_path() / target;
            if (names_remote_shards(named, depth + 1)) return true;
        }
    }
    return false;
}

}  // namespace

Searcher::Searcher(const Config& config, const Analyzer& analyzer, const BureauDirectory& bureaus, const Synonyms& synonyms)
    : config_(config), analyzer_(analyzer), session_(analyzer), bureaus_(bureaus), parser_(analyzer, bureaus, synonyms, config) {
    try {
        std::error_code ec;
        if (std::filesystem::is_regular_file(config.index_path, ec))
            opened_stub_time_ = std::filesystem::last_write_time(config.index_path, ec);
        db_ = Xapian::Database(config.index_path);
        remote_shards_ = names_remote_shards(config.index_path);
    } catch (const Xapian::DatabaseNotFoundError&) {
        throw IndexError("索引が見つかりません。先に yosan-index を実行してください", config.index_path);
    } catch (const Xapian::DatabaseOpeningError& e) {
        throw IndexError("索引を開けません: " + e.get_description(), config.index_path);
    }
}

bool Searcher::reopen() {
    // Every request calls this: the division map is dropped only when a newer index was loaded.
    const bool changed = reopen_index();
    if (changed) {
        division_parents_.reset();
        facet_table_.reset();
    }
    return changed;
}

bool Searcher::reopen_index() {
    std::error_code ec;
    if (std::filesystem::is_regular_file(config_.index_path, ec)) {
        const auto t = std::filesystem::last_write_time(config_.index_path, ec);
        if (!ec && t != opened_stub_time_) {
            db_ = Xapian::Database(config_.index_path);
            remote_shards_ = names_remote_shards(config_.index_path);
            opened_stub_time_ = t;
            return true;
        }
    }
    try {
        return db_.reopen();
    } catch (const Xapian::DatabaseError&) {
        // The one-time switch of a directory index to a stub file (yosan-index --full) can pull the
        // directory from under an open handle; open the path afresh.
        db_ = Xapian::Database(config_.index_path);
        return true;
    } catch (const Xapian::NetworkError&) {
        // A remote shard closed its connection: xapian-tcpsrv drops a client idle for --idle-timeout
        // (60 s by default), and a restarted shard server has forgotten it. Connect afresh.
        db_ = Xapian::Database(config_.index_path);
        return true;
    }
}

void Searcher::add_parents(SearchResult& r) {
    for (const Facet& f : facets()) {
        if (f.parent.empty()) continue;
        auto it = r.facets.find(std::string(f.name));
        if (it == r.facets.end()) continue;
        const auto& parents = division_parents();
        for (FacetValue& v : it->second)
            if (auto p = parents.find(v.value); p != parents.end()) v.parent = p->second;
    }
}

const FacetTable* Searcher::facet_table() {
    // Over several databases a match spy is given each document with the docid of its own shard (Xapian
    // 1.4), which a table of the combined docids cannot be read by: those count from the records.
    if (remote_shards_ || db_.size() != 1) return nullptr;
    if (!facet_table_) facet_table_ = FacetTable::shared(db_);
    return facet_table_.get();
}

const std::map<std::string, std::string>& Searcher::division_parents() {
    if (division_parents_) return *division_parents_;
    // One local database: read with the facet table, in one pass over the values.
    if (const FacetTable* table = facet_table()) return *(division_parents_ = table->division_parents());
    // Shards: every sheet's pairs, tallied by a match spy over all documents rather than read by a value
    // stream: over remote shards a value stream fetches the documents one by one (a quarter of a minute at
    // 10^5 sheets), where the spy runs in each xapian-tcpsrv and sends its tally once.
    // Query(std::string()): every document; never the shared static MatchAll (query_parser.cpp).
    Xapian::ValueCountMatchSpy spy(schema::kSlotBureauPairs);
    tally_values(db_, Xapian::Query(std::string()), spy);
    DivisionParents parents;
    for (auto it = spy.values_begin(); it != spy.values_end(); ++it) parents.add(*it, it.get_termfreq());
    return *(division_parents_ = parents.parents());
}

Xapian::Query Searcher::filter_query(const Filters& f) const {
    std::vector<Xapian::Query> parts;
    for (const Facet& facet : facets()) {
        const std::vector<std::string>& values = f.of(facet.name);
        if (values.empty()) continue;
        std::vector<Xapian::Query> alts;  // OR within a facet
        for (const std::string& v : values) alts.emplace_back(terms::boolean(facet.prefix, v));
        parts.emplace_back(Xapian::Query::OP_OR, alts.begin(), alts.end());
    }
    if (f.amount_min) parts.emplace_back(Xapian::Query::OP_VALUE_GE, schema::kSlotAmount, Xapian::sortable_serialise(static_cast<double>(*f.amount_min)));
    if (f.amount_max) // exclusive: the largest representable amount below it
        parts.emplace_back(Xapian::Query::OP_VALUE_LE, schema::kSlotAmount, Xapian::sortable_serialise(static_cast<double>(*f.amount_max) - 0.5));
    if (parts.empty()) return Xapian::Query(std::string());  // match all; never the shared static MatchAll (query_parser.cpp)
    return Xapian::Query(Xapian::Query::OP_AND, parts.begin(), parts.end());  // AND across facets
}

Searcher::Plan Searcher::make_plan(const SearchRequest& req, Relaxation& relaxation, bool counting) {
    Plan plan{parser_.parse(req.query, db_, session_), req.filters, Xapian::Query(), Xapian::Query(), std::nullopt};
    plan.applied.merge(plan.parsed.filters);
    TextQuery text = relax(plan.parsed, plan.applied, relaxation, counting);
    plan.text = std::move(text.text);
    plan.matching = std::move(text.matching);
    plan.sums = std::move(text.sums);
    return plan;
}

void Searcher::prepare(Xapian::Enquire& enquire, const Plan& plan, SortOrder sort) const {
    Xapian::Query query = filtered(plan.text, plan.applied);
    enquire.set_weighting_scheme(Xapian::BM25Weight(config_.bm25_k1, 0, 1, config_.bm25_b, 0.5));
    if (!plan.parsed.has_text) {
        // No words, so every score would be equal and ties would fall to docids, which differ between one
        // database, merged parts and shards: the score is the sheet's tie weight instead (core/schema.h
        // slot 16), so that ties of any order fall to it. The filters weigh nothing (scale 0).
        const Xapian::Query tie_weight((new Xapian::ValueWeightPostingSource(schema::kSlotTieWeight))->release());
        query = Xapian::Query(Xapian::Query::OP_AND_MAYBE, Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, query, 0), tie_weight);
    }
    enquire.set_query(query);
    // Plain value sorts, never a KeyMaker: remote shards (xapian-tcpsrv) refuse KeyMakers.
    if (const auto order = value_order(sort)) {
        enquire.set_sort_by_value_then_relevance(order->slot, order->descending);
    } else if (!plan.parsed.has_text) {  // browsing: the order of the source, which groups related sheets
        enquire.set_sort_by_value_then_relevance(schema::kSlotLine, false);
    } else {  // equal scores by id
        enquire.set_sort_by_relevance_then_value(schema::kSlotId, false);
    }
}

std::optional<Searcher::ValueOrder> Searcher::value_order(SortOrder sort) {
    switch (sort) {
        case SortOrder::relevance: return std::nullopt;
        case SortOrder::amount_asc: return ValueOrder{schema::kSlotAmountAscending, false};
        case SortOrder::amount_desc: return ValueOrder{schema::kSlotAmount, true};
        case SortOrder::year_desc: return ValueOrder{schema::kSlotYearSortable, true};
        case SortOrder::year_asc: return ValueOrder{schema::kSlotYearAscending, false};
    }
    return std::nullopt;
}

std::optional<Xapian::Query> Searcher::page_by_value(const Plan& plan, const SearchRequest& req, Xapian::doccount total) const {
    const auto order = value_order(req.sort);
    if (!order || !plan.parsed.has_text || req.limit == 0) return std::nullopt;
    if (req.offset >= total) return Xapian::Query::MatchNothing;  // a page past the end: nothing to weigh
    // The last page may be short: its last sheet is the last match.
    const auto last_rank = static_cast<Xapian::doccount>(std::min<std::uint64_t>(std::uint64_t{req.offset} + req.limit, total) - 1);
    Xapian::Enquire e(db_);
    e.set_query(filtered(plan.matching, plan.applied));
    e.set_weighting_scheme(Xapian::BoolWeight());
    e.set_sort_by_value(order->slot, order->descending);
    const Xapian::MSet last = e.get_mset(last_rank, 1);
    if (last.empty()) return std::nullopt;
    const std::string value = last.begin().get_document().get_value(order->slot);
    if (value.empty()) return std::nullopt;  // the page reaches the sheets without one: they need every match
    return Xapian::Query(order->descending ? Xapian::Query::OP_VALUE_GE : Xapian::Query::OP_VALUE_LE, order->slot, value);
}

SearchResult Searcher::search(const SearchRequest& req) {
    const auto started = std::chrono::steady_clock::now();
    if (req.limit > SearchRequest::kMaxLimit)
        throw UsageError("1 ページの件数は " + std::to_string(SearchRequest::kMaxLimit) + " 件までです", "limit");
    SearchResult r;
    const Plan plan = make_plan(req, r.relaxation, true);
    const ParsedQuery& pq = plan.parsed;
    const Xapian::Query& text = plan.matching;  // for the passes that count; the page ranks by plan.text
    r.recognised = pq.recognised;
    r.applied = plan.applied;
    Xapian::Enquire enquire(db_);
    prepare(enquire, plan, req.sort);

    // Facets without a selected value and the totals: counted over the matches themselves by a spy (from
    // the FacetTable of one local database, else from the facet records of local shards), except over
    // remote shards (count_matches()). check_at_least = every document: the total and the counts are
    // exact, not estimates. A facet with a selected value is counted as if it were not filtered (OR within
    // a facet, AND across facets), so that a second value can be added.
    const FacetTable* table = facet_table();
    const auto set_selected = [&](const Facet& f, const FacetCounter& counted) {
        r.facets[std::string(f.name)] = facet_values(f, counted.counts(f), r.applied.of(f.name));
        // A budget word can stand for many values (補助率2/3以上: every rate from 2/3 up); only those in
        // the index, or typed by hand, get a row.
        std::erase_if(r.facets[std::string(f.name)], [&](const FacetValue& v) {
            const auto& asked = req.filters.of(f.name);
            return v.count == 0 && std::find(asked.begin(), asked.end(), v.value) == asked.end();
        });
    };
    const bool facet_selected = std::any_of(facets().begin(), facets().end(), [&](const Facet& f) { return !r.applied.of(f.name).empty(); });
    // The ranking bonuses (query_parser.h: phrases, nearness) never change what matches, but weighing them
    // is a positional check on every match. So the counts come from a pass of their own without the
    // bonuses or weights, and the page from a second pass that may skip whatever cannot reach it
    // (サプライチェーン 強靱化: 85 → 73 M instructions in Xapian). In an order by value the page pass is
    // given only the sheets that can reach the page (page_by_value(), with the table of one local
    // database). Without words, the page pass could skip nothing: then one pass does both, unless facets
    // have selected values.
    const bool count_apart = (pq.has_text && (req.sort == SortOrder::relevance || table)) || facet_selected;
    Xapian::MSet mset;
    if (table && count_apart) {
        // One local database: one pass over the text and the filters that are not facets (the amount
        // range) sums every combination of facet values; each count is then the sums of the combinations
        // that pass the selected values of every other facet. One pass, where a selected facet took one
        // more each.
        std::vector<RecordSums> tallied;
        const std::vector<RecordSums>& sums = plan.sums ? *plan.sums : (tallied = table_sums(*table, text, r.applied));
        const std::vector<std::uint32_t> failed = failed_facets(*table, r.applied);
        const FacetCounter counted(passing(sums, failed, 0), *table, true);
        r.totals = counted.totals();
        r.total = r.totals.sheets;  // every sheet has a facet record (document_builder.cpp), so every match is summed
        for (std::size_t i = 0; i < facets().size(); ++i) {
            const Facet& f = facets()[i];
            if (r.applied.of(f.name).empty()) r.facets[std::string(f.name)] = facet_values(f, counted.counts(f), {});
            else set_selected(f, FacetCounter(passing(sums, failed, 1u << i), *table, false));
        }
        // In an order by value the page pass weighs every match it is given (relevance breaks ties), with
        // its positional bonuses: give it only the sheets that can reach the page (研究開発 by amount, page
        // 2: 30,340 matches at 10^5 sheets, of which 20 are weighed).
        if (const auto reach = page_by_value(plan, req, r.total))
            enquire.set_query(Xapian::Query(Xapian::Query::OP_FILTER, enquire.get_query(), *reach));
        mset = enquire.get_mset(req.offset, req.limit);
    } else {
        // The table in one pass that both counts and ranks; else (shards) the facet records, counted apart
        // like the table's when the shards are local, and over remote shards by count_matches().
        std::optional<Xapian::ValueCountMatchSpy> record_spy;
        std::optional<TableSpy> table_spy;
        std::optional<Xapian::Enquire> counting;
        if (count_apart && !remote_shards_) {
            counting.emplace(db_);
            counting->set_query(filtered(text, r.applied));
            counting->set_weighting_scheme(Xapian::BoolWeight());
        }
        Xapian::Enquire& spied = counting ? *counting : enquire;
        if (table) spied.add_matchspy(&table_spy.emplace(*table));
        else if (!remote_shards_) spied.add_matchspy(&record_spy.emplace(schema::kSlotFacetRecord));
        if (counting) {
            r.total = counting->get_mset(0, 0, db_.get_doccount()).get_matches_estimated();
            mset = enquire.get_mset(req.offset, req.limit);
        } else {
            mset = enquire.get_mset(req.offset, req.limit, db_.get_doccount());
            r.total = mset.get_matches_estimated();
        }
        const FacetCounter counted = table        ? FacetCounter(table_spy->sums(), *table, true)
                                     : record_spy ? FacetCounter(*record_spy, true)
                                                  : count_matches(db_, nullptr, filtered(text, r.applied), true);
        r.totals = counted.totals();
        for (const Facet& f : facets()) {
            if (r.applied.of(f.name).empty()) r.facets[std::string(f.name)] = facet_values(f, counted.counts(f), {});
            else set_selected(f, count_matches(db_, table, filtered(text, r.applied.without(f.name)), false));  // a pass each
        }
    }
    add_parents(r);

    int rank = static_cast<int>(req.offset);
    for (auto it = mset.begin(); it != mset.end(); ++it) {
        Hit h;
        h.sheet = document_data::decode(it.get_document().get_data());
        h.score = pq.has_text ? it.get_weight() : 0;  // without words the weight only orders ties (prepare())
        h.rank = ++rank;
        h.snippet = make_snippet(h.sheet, pq.highlight);
        r.hits.push_back(std::move(h));
    }
    // A word in no sheet may be a typo; offered as a link, never applied.
    if (r.total == 0 || r.relaxation.relaxed) r.suggestion = suggest(req.query, pq);
    if (r.total == 0) r.removable = removable_filters(text, r.applied);
    r.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    return r;
}

Xapian::doccount Searcher::count_up_to(const Xapian::Query& query, Xapian::doccount enough) const {
    Xapian::Enquire e(db_);
    e.set_query(query);
    e.set_weighting_scheme(Xapian::BoolWeight());
    return std::min(e.get_mset(0, 0, enough).get_matches_lower_bound(), enough);
}

std::vector<RecordSums> Searcher::table_sums(const FacetTable& table, const Xapian::Query& matching, const Filters& filters) const {
    Filters unfaceted = filters;
    unfaceted.values.clear();
    TableSpy spy(table);
    tally_values(db_, filtered(matching, unfaceted), spy);
    return spy.sums();
}

Searcher::TextQuery Searcher::relax(const ParsedQuery& pq, const Filters& filters, Relaxation& out, bool counting) {
    // Fewer sheets than this with every word is "very little": sheets with most of the words follow them.
    constexpr Xapian::doccount kFew = 3;
    for (const Requirement& r : pq.required) out.required.push_back(r.text);
    TextQuery all{pq.build(), pq.matching(), std::nullopt};
    if (pq.required.size() < 1) return all;
    // With the table, the counts search() needs anyway tell: finding even the first matches may take as
    // long as counting them all (サプライチェーン 強靱化: 5 ms for 3 of 13,211 matches, the spelling
    // 強靭 NEAR 化 being checked and excluded on every sheet with 強靱化 before any other match).
    if (const FacetTable* table = counting ? facet_table() : nullptr) {
        all.sums = table_sums(*table, all.matching, filters);
        if (FacetCounter(passing(*all.sums, failed_facets(*table, filters), 0), *table, true).totals().sheets >= kFew) return all;
    } else if (count_up_to(filtered(all.matching, filters), kFew) >= kFew) {
        return all;
    }
    // 1. The words of a compound anywhere in the sheet, not only near each other (国内製造基盤 finds
    //    国内における…製造基盤): every word is still there, so this is not reported as relaxed.
    const TextQuery loose{pq.build({}, true), pq.matching({}, true), std::nullopt};
    const Xapian::doccount complete = count_up_to(filtered(loose.matching, filters), kFew);
    if (complete >= kFew || pq.required.size() < 2) return complete > 0 ? loose : all;
    // 2. Ask for fewer of the words: sheets with k of them, k as large as still finds a few sheets and
    //    never below half of the words. At one k, the sets of words that are rarest (the most telling:
    //    ロボット rather than 導入) are taken first, and only as many as it takes to find a few sheets. A
    //    word that no sheet has (with the filters) cannot help; quoted words, title: words and OR groups
    //    stay required. Ranking is BM25 over all the words and phrases, so sheets with more of them come
    //    first, as with Elasticsearch's match query.
    const std::size_t n = pq.required.size();
    const double docs = std::max<double>(1, db_.get_doccount());
    std::vector<std::size_t> fixed, candidates;
    std::vector<double> weight(n, 0);
    // More than 10 words that could be dropped: 2^10 sets is the most this tries; keep the strict answer.
    if (std::count_if(pq.required.begin(), pq.required.end(), [](const Requirement& r) { return !r.strict; }) > 10)
        return complete > 0 ? loose : all;
    for (std::size_t i = 0; i < n; ++i) {
        if (pq.required[i].strict) {
            fixed.push_back(i);
            continue;
        }
        const Xapian::doccount hits = count_up_to(filtered(pq.required[i].loose, filters), db_.get_doccount());
        if (hits == 0) continue;
        candidates.push_back(i);
        weight[i] = std::log(docs / hits) + 1;
    }
    const std::size_t min_keep = std::max<std::size_t>(1, (n + 1) / 2);
    // At most 10 candidates, so at most 2^10 sets over all k, each one bounded query.
    if (fixed.size() + candidates.size() < min_keep) return complete > 0 ? loose : all;
    std::optional<Xapian::Query> chosen;
    for (std::size_t k = std::min(fixed.size() + candidates.size(), n - 1); k >= min_keep && k >= fixed.size(); --k) {
        const std::size_t need = k - fixed.size();
        struct Set {
            double weight;
            Xapian::Query query;
        };
        std::vector<Set> sets;
        for (unsigned mask = 0; mask < (1u << candidates.size()); ++mask) {
            if (static_cast<std::size_t>(std::popcount(mask)) != need) continue;
            std::vector<Xapian::Query> words;
            double w = 0;
            for (std::size_t i : fixed) words.push_back(pq.required[i].loose);
            for (std::size_t c = 0; c < candidates.size(); ++c)
                if (mask & (1u << c)) words.push_back(pq.required[candidates[c]].loose), w += weight[candidates[c]];
            sets.push_back({w, Xapian::Query(Xapian::Query::OP_AND, words.begin(), words.end())});
        }
        std::stable_sort(sets.begin(), sets.end(), [](const Set& a, const Set& b) { return a.weight > b.weight; });
        // The sheets found so far, by docid: each set is run once, and no growing OR is counted again.
        std::vector<Xapian::Query> taken;
        std::set<Xapian::docid> seen;
        for (const Set& set : sets) {
            Xapian::Enquire e(db_);
            e.set_query(filtered(set.query, filters));
            e.set_weighting_scheme(Xapian::BoolWeight());
            const Xapian::MSet some = e.get_mset(0, kFew);
            if (some.empty()) continue;
            taken.push_back(set.query);
            for (auto it = some.begin(); it != some.end(); ++it) seen.insert(*it);
            if (seen.size() >= kFew) break;
        }
        const Xapian::doccount found = static_cast<Xapian::doccount>(seen.size());
        if (!taken.empty()) chosen = Xapian::Query(Xapian::Query::OP_OR, taken.begin(), taken.end());
        if (found >= kFew) break;
    }
    if (!chosen) return complete > 0 ? loose : all;  // nothing close enough: an honest answer
    out.relaxed = true;
    out.complete = complete;
    out.required.clear();
    // Required: the words every sheet of the answer has; dropped: the words some of them lack.
    for (std::size_t i = 0; i < n; ++i) {
        const Xapian::Query lacking(Xapian::Query::OP_AND_NOT, *chosen, pq.required[i].loose);
        (count_up_to(filtered(lacking, filters), 1) == 0 ? out.required : out.dropped).push_back(pq.required[i].text);
    }
    const TextQuery some{pq.ranked(*chosen), pq.without_excluded(*chosen), std::nullopt};
    if (complete == 0) return some;
    // The few sheets with every word first, then those with most of them.
    return {Xapian::Query(Xapian::Query::OP_OR, Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, loose.text, 4.0), some.text),
            Xapian::Query(Xapian::Query::OP_OR, loose.matching, some.matching), std::nullopt};
}

std::optional<std::string> Searcher::suggest(const std::string& query, const ParsedQuery& pq) const {
    std::string fixed = nfkc(query);
    bool changed = false;
    for (const Requirement& r : pq.required) {
        if (r.text.find(' ') != std::string::npos || count_up_to(r.loose, 1) > 0) continue;
        std::string word = analyzer_.normalize(r.text);
        if (all_of_script(word, is_hiragana)) word = hiragana_to_katakana(word);
        // Short words have too many neighbours: ドル is one letter from a dozen words and means none.
        const std::size_t letters = utf8_length(word);
        if (letters < 3) continue;
        const std::string better = db_.get_spelling_suggestion(word, letters < 5 ? 1 : 2);
        if (better.empty() || better == word) continue;
        if (const std::size_t at = fixed.find(r.text); at != std::string::npos) {
            fixed.replace(at, r.text.size(), better);
            changed = true;
        }
    }
    if (!changed) return std::nullopt;
    return fixed;
}

std::vector<FilterRemoval> Searcher::removable_filters(const Xapian::Query& query, const Filters& filters) const {
    std::vector<FilterRemoval> out;
    const FacetContext context{config_, bureaus_};
    const auto count = [&](const Filters& f) {
        Xapian::Enquire e(db_);
        e.set_query(filtered(query, f));
        e.set_weighting_scheme(Xapian::BoolWeight());
        return e.get_mset(0, 0, db_.get_doccount()).get_matches_estimated();
    };
    for (const Facet& facet : facets())
        for (const std::string& v : filters.of(facet.name)) {
            Filters without = filters;
            auto& vs = without.values[std::string(facet.name)];
            vs.erase(std::find(vs.begin(), vs.end(), v));
            if (vs.empty()) without.values.erase(std::string(facet.name));
            if (const Xapian::doccount n = count(without); n > 0)
                out.push_back({std::string(facet.name), v, std::string(facet.label) + ": " + (v == kNoValue ? std::string(kNoValue) : facet.label_of(v, context)), n});
        }
    for (const auto& [field, bound] : {std::pair{"amount_min", filters.amount_min}, std::pair{"amount_max", filters.amount_max}}) {
        if (!bound) continue;
        Filters without = filters;
        (std::string_view(field) == "amount_min" ? without.amount_min : without.amount_max).reset();
        if (const Xapian::doccount n = count(without); n > 0)
            out.push_back({field, std::to_string(*bound), std::string(std::string_view(field) == "amount_min" ? "金額の下限: " : "金額の上限: ") + format_yen(*bound), n});
    }
    return out;
}

Xapian::Query Searcher::filtered(const Xapian::Query& query, const Filters& filters) const {
    if (filters.empty()) return query;
    return Xapian::Query(Xapian::Query::OP_FILTER, query, filter_query(filters));
}

std::vector<FacetValue> Searcher::facet_values(const Facet& facet, const std::map<std::string, FacetTally>& counts,
                                               const std::vector<std::string>& selected) const {
    const FacetContext context{config_, bureaus_};
    std::vector<FacetValue> out;
    std::optional<FacetValue> none;
    const auto is_selected = [&](const std::string& v) { return std::find(selected.begin(), selected.end(), v) != selected.end(); };
    for (const auto& [value, tally] : counts) {
        FacetValue v{value, value == kNoValue ? std::string(kNoValue) : facet.label_of(value, context), tally.count,
                     is_selected(value), tally.yen, {}};
        if (value == kNoValue) none = std::move(v);
        else out.push_back(std::move(v));
    }
    switch (facet.order) {
        case Facet::Order::value_desc: std::reverse(out.begin(), out.end()); break;
        case Facet::Order::value_asc: break;  // std::map order; bucket numbers are one digit
        case Facet::Order::count_desc:
            std::stable_sort(out.begin(), out.end(), [](const FacetValue& a, const FacetValue& b) { return a.count > b.count; });
            break;
    }
    if (none) out.push_back(std::move(*none));  // 記載なし last, whatever the order
    // A selected value that no longer matches anything still gets a row, so that it can be cleared.
    for (const std::string& v : selected)
        if (!counts.contains(v)) out.push_back({v, v == kNoValue ? std::string(kNoValue) : facet.label_of(v, context), 0, true, 0, {}});
    return out;
}

namespace {

// Where the patterns match in one line.
struct Marks {
    std::vector<std::pair<std::size_t, std::size_t>> ranges;  // byte ranges, merged
    int patterns = 0;                                         // how many patterns matched
    std::set<std::size_t> words;                              // the query words they mark (HighlightPattern::word)
};

Marks find_marks(const std::vector<Token>& all, const std::vector<HighlightPattern>& patterns) {
    Marks out;
    std::vector<const Token*> tokens, finest;
    for (const Token& t : all)
        if (t.indexed) tokens.push_back(&t);
    // A word of the user dictionary comes whole and then as its parts (core/analyzer.h); a compound part is
    // marked on the finest words, as if the dictionary did not know the word (電池 marks 池 of 蓄電池).
    for (std::size_t i = 0; i < tokens.size(); ++i)
        if (!(i + 1 < tokens.size() && tokens[i + 1]->begin == tokens[i]->begin && tokens[i + 1]->end < tokens[i]->end))
            finest.push_back(tokens[i]);
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    for (const HighlightPattern& p : patterns) {
        bool any = false;
        if (!p.compound_part.empty()) {
            // Runs of adjacent kanji words; mark the whole run when it contains the part.
            const std::vector<const Token*>& tokens = finest;
            for (std::size_t i = 0; i < tokens.size();) {
                if (!all_of_script(tokens[i]->surface, is_kanji)) {
                    ++i;
                    continue;
                }
                // Mark the words of the run that the part overlaps: 電池 marks 蓄電+池, not 設計 in 電池設計.
                std::size_t j = i + 1;
                std::string run = tokens[i]->surface;
                std::vector<std::size_t> starts{0};
                while (j < tokens.size() && tokens[j]->begin == tokens[j - 1]->end && all_of_script(tokens[j]->surface, is_kanji)) {
                    starts.push_back(run.size());
                    run += tokens[j++]->surface;
                }
                for (std::size_t at = run.find(p.compound_part); at != std::string::npos; at = run.find(p.compound_part, at + 1)) {
                    const std::size_t end = at + p.compound_part.size();
                    std::optional<std::size_t> first;
                    std::size_t last = i;
                    for (std::size_t k = 0; k < starts.size(); ++k) {
                        const std::size_t tb = starts[k], te = tb + tokens[i + k]->surface.size();
                        if (te <= at || tb >= end) continue;  // this word does not overlap the part
                        if (!first) first = i + k;
                        last = i + k;
                    }
                    ranges.emplace_back(tokens[*first]->begin, tokens[last]->end);
                    any = true;
                }
                i = j;
            }
        } else if (!p.terms.empty()) {
            const std::size_t n = p.terms.size();
            for (std::size_t i = 0; i + n <= tokens.size(); ++i) {
                bool ok = true;
                for (std::size_t k = 0; k < n && ok; ++k) {
                    const Token& t = *tokens[i + k];
                    const std::string& want = p.terms[k];
                    ok = want == t.term || (k < p.surfaces.size() && p.surfaces[k] == t.surface) ||
                         (want.rfind(schema::kReading, 0) == 0 && !t.reading.empty() &&
                          want.compare(schema::kReading.size(), std::string::npos, terms::fold_reading(t.reading)) == 0);
                }
                if (ok) {
                    ranges.emplace_back(tokens[i]->begin, tokens[i + n - 1]->end);
                    any = true;
                }
            }
        }
        if (any) ++out.patterns, out.words.insert(p.word);
    }
    std::sort(ranges.begin(), ranges.end());
    for (const auto& r : ranges) {
        if (!out.ranges.empty() && r.first <= out.ranges.back().second) out.ranges.back().second = std::max(out.ranges.back().second, r.second);
        else out.ranges.push_back(r);
    }
    return out;
}

}  // namespace

namespace {

// What make_snippet() analyses at most. MeCab over a 1 MB line took 2–5 s and 675 MB per hit (a sheet
// whose text lost its line breaks in conversion); a snippet shows 90 characters, so a window of a long
// line around the query's words is as good, and the work per sheet stays bounded whatever the sheet holds.
constexpr std::size_t kMaxLineBytes = 2048;     // a longer line is analysed in one window of about this size
constexpr std::size_t kWindowBefore = 512;      // of that window, before the candidate position
constexpr std::size_t kMaxLinesScanned = 200;   // lines per sheet searched for the query's words
constexpr std::size_t kMaxLinesAnalysed = 6;    // of those, the most promising ones run through MeCab
constexpr std::size_t kMaxOccurrences = 64;     // candidate positions per pattern in one line

// A position moved back to the start of the UTF-8 character it falls in.
std::size_t char_start(std::string_view s, std::size_t at) {
    at = std::min(at, s.size());
    while (at > 0 && at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) --at;
    return at;
}

// The texts a pattern can be found by in the raw line: the words as typed, the compound part, and the
// terms without a prefix (lemmas, normalised forms). Found by plain substring search, so a match that only
// normalisation reveals (ＡＩ for ai) can be missed in a long line; then its first window is analysed.
std::vector<std::string_view> needles(const HighlightPattern& p) {
    std::vector<std::string_view> out;
    if (!p.compound_part.empty()) out.push_back(p.compound_part);
    for (const std::string& s : p.surfaces)
        if (!s.empty()) out.push_back(s);
    for (const std::string& t : p.terms)
        if (!t.empty() && !(t[0] >= 'A' && t[0] <= 'Z')) out.push_back(t);
    for (const std::string& h : p.hints)
        if (!h.empty()) out.push_back(h);
    return out;
}

// How many of the patterns have a needle in the line: a cheap guess at how well it will match, so that
// MeCab runs on a few promising lines per hit instead of on every line until one matches.
int needle_score(std::string_view line, const std::vector<std::vector<std::string_view>>& needles) {
    int score = 0;
    for (const auto& of_pattern : needles)
        score += std::any_of(of_pattern.begin(), of_pattern.end(), [&](std::string_view n) { return line.find(n) != std::string_view::npos; });
    return score;
}

// The byte range of a long line to analyse: a window around the place where most of the patterns occur
// close together (the first such place), cut on character boundaries.
std::pair<std::size_t, std::size_t> analysis_window(std::string_view line, const std::vector<HighlightPattern>& patterns) {
    std::vector<std::pair<std::size_t, std::size_t>> hits;  // (position, pattern)
    for (std::size_t k = 0; k < patterns.size(); ++k)
        for (std::string_view needle : needles(patterns[k])) {
            std::size_t found = 0;
            for (std::size_t at = line.find(needle); at != std::string_view::npos && found < kMaxOccurrences;
                 at = line.find(needle, at + needle.size()), ++found)
                hits.emplace_back(at, k);
        }
    std::size_t centre = 0;
    if (!hits.empty()) {
        std::sort(hits.begin(), hits.end());
        std::size_t best = 0;
        for (const auto& [at, _] : hits) {
            std::vector<bool> seen(patterns.size());
            std::size_t distinct = 0;
            for (const auto& [other, k] : hits)
                if (other + kWindowBefore >= at && other < at + kMaxLineBytes - kWindowBefore && !seen[k])
                    seen[k] = true, ++distinct;
            if (distinct > best) best = distinct, centre = at;
        }
    }
    const std::size_t from = char_start(line, centre > kWindowBefore ? centre - kWindowBefore : 0);
    const std::size_t to = char_start(line, from + kMaxLineBytes);
    return {from, to};
}

}  // namespace

Snippet Searcher::make_snippet(const Sheet& s, const std::vector<HighlightPattern>& patterns) {
    constexpr std::size_t kWidth = 90;  // characters
    struct Best {
        int score = -1;
        const Section* section = nullptr;
        std::string line;
        std::vector<std::pair<std::size_t, std::size_t>> marks;
        bool cut_before = false, cut_after = false;  // line is a window of a longer line
    } best;
    static const std::vector<std::string> order = {"purpose", "overview", "scheme", "goals"};
    std::vector<const Section*> sections;
    for (const std::string& key : order)
        for (const Section& sec : s.sections)
            if (sec.key == key) sections.push_back(&sec);
    for (const Section& sec : s.sections)
        if (std::find(order.begin(), order.end(), sec.key) == order.end()) sections.push_back(&sec);

    // The non-empty lines in section order, then the promising ones first (stable: ties keep that order).
    struct Line {
        const Section* section;
        std::string_view text;
        int score;
    };
    std::vector<std::vector<std::string_view>> pattern_needles;
    for (const HighlightPattern& p : patterns) pattern_needles.push_back(needles(p));
    std::set<std::size_t> query_words;
    for (const HighlightPattern& p : patterns) query_words.insert(p.word);
    const std::size_t words = query_words.size();
    std::vector<Line> lines;
    for (const Section* sec : sections) {
        std::string_view text = sec->text;
        while (!text.empty() && lines.size() < kMaxLinesScanned) {
            const std::size_t eol = text.find('\n');
            const std::string_view line = text.substr(0, eol);
            text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
            if (!trim(line).empty()) lines.push_back({sec, line, needle_score(line, pattern_needles)});
        }
    }
    std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) { return a.score > b.score; });
    if (lines.size() > kMaxLinesAnalysed) lines.resize(kMaxLinesAnalysed);

    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string_view line = lines[i].text;
        bool cut_before = false, cut_after = false;
        if (line.size() > kMaxLineBytes) {
            const auto [from, to] = analysis_window(line, patterns);
            cut_before = from > 0;
            cut_after = to < line.size();
            line = line.substr(from, to - from);
        }
        Marks marks;
        if (!patterns.empty()) marks = find_marks(analyzer_.analyze(session_, line), patterns);
        // Lines that match more of the query first, then more often.
        const int score = marks.patterns * 100 + static_cast<int>(marks.ranges.size());
        if (score > best.score) best = {score, lines[i].section, std::string(line), std::move(marks.ranges), cut_before, cut_after};
        // No line can do better than one with every word of the query (in any of its forms: a reading
        // such as じどううんてん comes as several patterns, one per way to split it, that no line matches
        // all of). Nor, as a rule, than one matching as many patterns as the next line has needles of
        // (the lines are in that order): MeCab is most of a search's time, so the search stops there.
        // When no line matched yet, a match that only normalisation reveals (ＡＩ for ai) is looked for
        // in the next lines.
        if (patterns.empty() || marks.words.size() == words) break;
        if (best.score >= 100 && i + 1 < lines.size() && best.score / 100 >= lines[i + 1].score) break;
    }
    Snippet out;
    if (!best.section) return out;
    out.section = best.section->title;
    // A window of kWidth characters that starts a little before the first mark.
    std::size_t from = 0;
    if (!best.marks.empty()) {
        const std::size_t first_char = chars_before(best.line, best.marks.front().first);
        from = byte_offset_of_char(best.line, first_char > 20 ? first_char - 20 : 0);
    }
    const std::size_t to = from + byte_offset_of_char(std::string_view(best.line).substr(from), kWidth);
    std::size_t at = from;
    if (from > 0 || best.cut_before) out.html += "…", out.plain += "…";
    for (const auto& [b, e] : best.marks) {
        if (e <= from || b >= to) continue;
        const std::size_t mb = std::max(b, from), me = std::min(e, to);
        out.html += html_escape(best.line.substr(at, mb - at)) + "<mark>" + html_escape(best.line.substr(mb, me - mb)) + "</mark>";
        out.plain += best.line.substr(at, mb - at) + "【" + best.line.substr(mb, me - mb) + "】";
        at = me;
    }
    out.html += html_escape(best.line.substr(at, to - at));
    out.plain += best.line.substr(at, to - at);
    if (to < best.line.size() || best.cut_after) out.html += "…", out.plain += "…";
    return out;
}

std::optional<Sheet> Searcher::sheet(const std::string& id) {
    const std::string term = terms::boolean(schema::kId, id);
    auto it = db_.postlist_begin(term);
    if (it == db_.postlist_end(term)) return std::nullopt;
    return document_data::decode(db_.get_document(*it).get_data());
}

std::vector<Hit> Searcher::similar(const std::string& id, Xapian::doccount limit) {
    const std::string idterm = terms::boolean(schema::kId, id);
    auto pl = db_.postlist_begin(idterm);
    if (pl == db_.postlist_end(idterm)) return {};
    const Xapian::docid did = *pl;
    const Sheet self = document_data::decode(db_.get_document(did).get_data());

    // The same 事業 (other years and kinds), its parent and its sub-projects share title words: weigh a
    // title phrase of the sheet's own title and of its parent far above the general expansion.
    std::vector<Xapian::Query> parts;
    for (const std::string& name : {self.title, self.parent}) {
        std::vector<std::vector<std::string>> words;
        for (const Token& t : analyzer_.analyze(session_, name, 0, Analyzer::Mode::query))
            if (t.indexed) words.push_back({std::string(schema::kTitle) + t.term});
        if (!words.empty())
            parts.emplace_back(Xapian::Query::OP_SCALE_WEIGHT,
                               terms::positional(Xapian::Query::OP_PHRASE, schema::kTitle, words, words.size()), 10.0);
    }
    // Sheets whose titles share the words of this one (蓄電池, 半導体) come next.
    std::vector<std::string> title_words;
    for (const Token& t : analyzer_.analyze(session_, self.title, 0, Analyzer::Mode::query))
        if (t.indexed && t.pos.rfind("名詞", 0) == 0 && utf8_length(t.term) >= 2) title_words.push_back(std::string(schema::kTitle) + t.term);
    if (!title_words.empty())
        parts.emplace_back(Xapian::Query::OP_SCALE_WEIGHT,
                           Xapian::Query(Xapian::Query::OP_OR, title_words.begin(), title_words.end()), 2.0);
    Xapian::Enquire enquire(db_);
    Xapian::RSet rset;
    rset.add_document(did);
    struct NoPrefix : Xapian::ExpandDecider {
        bool operator()(const std::string& t) const override { return !t.empty() && !(t[0] >= 'A' && t[0] <= 'Z'); }
    } decider;
    // [shards] Exact term frequencies: over several shards Xapian otherwise estimates them from the shard
    // of the sheet, and the expansion (so the related sheets) would differ from one database's.
    Xapian::ESet eset = enquire.get_eset(24, rset, Xapian::Enquire::USE_EXACT_TERMFREQ, &decider);
    std::vector<Xapian::Query> expand;
    for (auto it = eset.begin(); it != eset.end(); ++it) expand.emplace_back(*it);
    if (!expand.empty()) parts.emplace_back(Xapian::Query::OP_OR, expand.begin(), expand.end());
    if (parts.empty()) return {};
    Xapian::Query q(Xapian::Query::OP_OR, parts.begin(), parts.end());
    enquire.set_query(Xapian::Query(Xapian::Query::OP_AND_NOT, q, Xapian::Query(idterm)));
    enquire.set_sort_by_relevance_then_value(schema::kSlotId, false);  // [shards] ties by id, not docid
    Xapian::MSet mset = enquire.get_mset(0, limit);
    std::vector<Hit> out;
    int rank = 0;
    for (auto it = mset.begin(); it != mset.end(); ++it) {
        Hit h;
        h.sheet = document_data::decode(it.get_document().get_data());
        h.score = it.get_weight();
        h.rank = ++rank;
        out.push_back(std::move(h));
    }
    return out;
}

std::optional<std::string> analysis_mismatch(const std::string& fingerprint, const Xapian::Database& db) {
    const std::string stored = db.get_metadata(std::string(schema::kMetaAnalysis));
    if (stored.empty() || stored == fingerprint) return std::nullopt;
    return "索引を作ったときと辞書または文字補正表が異なります。yosan-index --full で索引を作り直してください"
           "（索引: " + stored + "）";
}

nlohmann::json hit_json(const Hit& h) {
    nlohmann::json j = h.sheet.to_json();
    j.erase("sections");  // the list shows a snippet; /api/sheets/{id} gives the whole sheet
    j["rank"] = h.rank;
    j["score"] = h.score;
    j["snippet"] = {{"section", h.snippet.section}, {"html", h.snippet.html}, {"text", h.snippet.plain}};
    return j;
}

nlohmann::json facet_value_json(const FacetValue& v) {
    nlohmann::json j = {{"value", v.value}, {"label", v.label}, {"count", v.count}, {"selected", v.selected}, {"amount_yen", v.amount_yen}};
    if (!v.parent.empty()) j["parent"] = v.parent;
    return j;
}

nlohmann::json totals_json(const Totals& t) {
    nlohmann::json j = {{"sheets", t.sheets}, {"with_amount", t.sheets - t.without_amount}, {"without_amount", t.without_amount}};
    j["by_year_kind"] = nlohmann::json::array();
    for (const TotalsCell& c : t.cells) {
        nlohmann::json cell = {{"year", c.year}, {"kind", c.kind}, {"sheets", c.sheets}, {"amount_yen", c.yen}};
        int y = 0;
        if (std::from_chars(c.year.data(), c.year.data() + c.year.size(), y).ec == std::errc()) {
            cell["year"] = y;
            cell["year_label"] = era_year(y);
        } else {
            cell["year"] = nullptr;
            cell["year_label"] = std::string(kNoValue);
        }
        if (c.kind == kNoValue) cell["kind"] = nullptr;
        if (c.with_previous) {
            cell["previous"] = {{"sheets", c.with_previous},
                                {"previous_yen", c.previous_yen},
                                {"amount_yen", c.current_of_previous_yen},
                                {"change_yen", c.current_of_previous_yen - c.previous_yen}};
        }
        j["by_year_kind"].push_back(std::move(cell));
    }
    return j;
}

nlohmann::json to_json(const SearchResult& r) {
    nlohmann::json j;
    j["total"] = r.total;
    j["milliseconds"] = r.milliseconds;
    j["hits"] = nlohmann::json::array();
    for (const Hit& h : r.hits) j["hits"].push_back(hit_json(h));
    // Facets in the table's order, each with its label, so that the page draws whatever the table holds.
    j["facets"] = nlohmann::json::object();
    j["facet_list"] = nlohmann::json::array();
    for (const Facet& f : facets()) {
        j["facet_list"].push_back({{"name", f.name}, {"label", f.label}, {"parent", f.parent}});
        auto& arr = j["facets"][std::string(f.name)] = nlohmann::json::array();
        if (auto it = r.facets.find(std::string(f.name)); it != r.facets.end())
            for (const FacetValue& v : it->second)
                arr.push_back(facet_value_json(v));
    }
    j["totals"] = totals_json(r.totals);
    j["recognised_filters"] = nlohmann::json::array();
    for (const RecognisedFilter& f : r.recognised) j["recognised_filters"].push_back({{"field", f.field}, {"value", f.value}, {"text", f.text}});
    nlohmann::json applied = nlohmann::json::object();
    for (const auto& [facet, values] : r.applied.values) applied[facet] = values;
    if (r.applied.amount_min) applied["amount_min"] = *r.applied.amount_min;
    if (r.applied.amount_max) applied["amount_max"] = *r.applied.amount_max;
    j["filters"] = applied;
    j["relaxed"] = r.relaxation.relaxed;
    j["required_words"] = r.relaxation.required;
    j["dropped_words"] = r.relaxation.dropped;
    j["complete_matches"] = r.relaxation.relaxed ? nlohmann::json(r.relaxation.complete) : nlohmann::json(r.total);
    j["suggestion"] = r.suggestion ? nlohmann::json(*r.suggestion) : nlohmann::json(nullptr);
    j["removable_filters"] = nlohmann::json::array();
    for (const FilterRemoval& f : r.removable)
        j["removable_filters"].push_back({{"field", f.field}, {"value", f.value}, {"label", f.label}, {"count", f.count}});
    return j;
}

}  // namespace yosan
