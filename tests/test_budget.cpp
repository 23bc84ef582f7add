// Budget analysis on the real corpus: totals of the matched set, facet counts and amounts, scheme facets,
// timelines and the CSV export, each checked against the sheets the same search lists.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "core/schema.h"
#include "tests/test_support.h"

using namespace yosan;

namespace {

struct Fixture {
    Config config = test::test_config(test::corpus_index());
    Synonyms synonyms = Synonyms::load(config.synonyms_path, test::analyzer());
    Searcher searcher{config, test::analyzer(), test::bureaus(), synonyms};

    SearchResult run(const std::string& q, Filters f = {}) {
        SearchRequest r;
        r.query = q;
        r.limit = SearchRequest::kMaxLimit;  // the whole corpus fits: every match is listed
        r.filters = std::move(f);
        return searcher.search(r);
    }
};

Filters one(const std::string& facet, const std::string& value) {
    Filters f;
    f.add(facet, value);
    return f;
}

// The totals must be the sums of the listed sheets, cell by cell, and say how many have no amount.
void check_totals(const SearchResult& r) {
    REQUIRE(r.hits.size() == r.total);
    struct Sum {
        Xapian::doccount n = 0, with_prev = 0;
        std::int64_t yen = 0, prev = 0, cur = 0;
    };
    std::map<std::pair<std::string, std::string>, Sum> want;
    Xapian::doccount without = 0;
    for (const Hit& h : r.hits) {
        const Sheet& s = h.sheet;
        if (!s.amount) {
            ++without;
            continue;
        }
        Sum& c = want[{s.year ? std::to_string(*s.year) : std::string(kNoValue), s.kind.value_or(std::string(kNoValue))}];
        ++c.n;
        c.yen += *s.amount;
        if (s.previous_amount) ++c.with_prev, c.prev += *s.previous_amount, c.cur += *s.amount;
    }
    CHECK(r.totals.sheets == r.total);
    CHECK(r.totals.without_amount == without);
    REQUIRE(r.totals.cells.size() == want.size());
    for (const TotalsCell& c : r.totals.cells) {
        INFO(c.year << " " << c.kind);
        const auto it = want.find({c.year, c.kind});
        REQUIRE(it != want.end());
        CHECK(c.sheets == it->second.n);
        CHECK(c.yen == it->second.yen);
        CHECK(c.with_previous == it->second.with_prev);
        CHECK(c.previous_yen == it->second.prev);
        CHECK(c.current_of_previous_yen == it->second.cur);
    }
}

// Every facet's counts (記載なし included) add up to the total for a single-valued facet and at least to
// it for a multi-valued one; the amounts of a single-valued facet add up to the listed sheets' amounts.
void check_facets(const SearchResult& r) {
    std::int64_t listed_yen = 0;
    for (const Hit& h : r.hits) listed_yen += h.sheet.amount.value_or(0);
    for (const Facet& f : facets()) {
        INFO(f.name);
        if (!r.applied.of(f.name).empty()) continue;  // counted without its own filter
        Xapian::doccount n = 0;
        std::int64_t yen = 0;
        for (const FacetValue& v : r.facets.at(std::string(f.name))) n += v.count, yen += v.amount_yen;
        const bool single = f.name == "year" || f.name == "kind" || f.name == "bucket";
        if (single) {
            CHECK(n == r.total);
            CHECK(yen == listed_yen);
        } else {
            CHECK(n >= r.total);
        }
        // Each value's count and amount are those of the listed sheets that carry it.
        for (const FacetValue& v : r.facets.at(std::string(f.name))) {
            Xapian::doccount count = 0;
            std::int64_t amount = 0;
            static const BureauDirectory no_aliases;
            static const Config config = test::test_config();
            for (const Hit& h : r.hits) {
                const auto values = f.values_of(h.sheet, FacetContext{config, no_aliases});
                const bool has = v.value == kNoValue ? values.empty() : std::find(values.begin(), values.end(), v.value) != values.end();
                if (has) ++count, amount += h.sheet.amount.value_or(0);
            }
            INFO(v.value);
            CHECK(v.count == count);
            CHECK(v.amount_yen == amount);
        }
    }
}

}  // namespace

TEST_CASE_METHOD(Fixture, "totals equal the sums of the listed sheets, by fiscal year and kind", "[budget]") {
    const SearchResult all = run("");
    check_totals(all);
    check_facets(all);
    // The corpus has 当初 and 補正 sheets of 令和7/令和6: they stay apart.
    std::set<std::string> kinds;
    for (const TotalsCell& c : all.totals.cells) kinds.insert(c.kind);
    CHECK(kinds.count("当初"));
    CHECK(kinds.count("補正"));
    CHECK(all.totals.without_amount > 0);  // cross-ministry sheets state no single amount
    for (const std::string q : {"蓄電池", "半導体", "中小企業", "10億円以上 宇宙", "令和6年度補正", "水素 OR アンモニア"}) {
        INFO(q);
        const SearchResult r = run(q);
        CHECK(r.total > 0);
        check_totals(r);
        check_facets(r);
    }
    const SearchResult hosei = run("", one("kind", "補正"));
    CHECK(hosei.total > 0);
    check_totals(hosei);
    check_facets(hosei);
    for (const TotalsCell& c : hosei.totals.cells) CHECK(c.kind == "補正");
    const SearchResult bureau = run("", one("bureau", "中小企業庁"));
    CHECK(bureau.total > 0);
    check_totals(bureau);
    check_facets(bureau);
    const SearchResult none = run("存在しない語ぴよぴよ");
    CHECK(none.total == 0);
    CHECK(none.totals.cells.empty());
}

#include "indexer/bureau_inference.h"
#include "searcher/export.h"

namespace {

std::optional<FacetValue> facet_value(const SearchResult& r, const std::string& facet, const std::string& value) {
    for (const FacetValue& v : r.facets.at(facet))
        if (v.value == value) return v;
    return std::nullopt;
}

// A small RFC 4180 reader: quoted fields with doubled quotes, commas and line breaks inside quotes, CRLF.
std::vector<std::vector<std::string>> read_csv(std::string_view text) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false, any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
            else if (c == '"') quoted = false;
            else field += c;
            continue;
        }
        if (c == '"') quoted = any = true;
        else if (c == ',') row.push_back(std::move(field)), field.clear();
        else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            row.push_back(std::move(field)), field.clear();
            rows.push_back(std::move(row)), row.clear();
            ++i;
        } else field += c;
    }
    REQUIRE_FALSE(quoted);
    if (!field.empty() || !row.empty()) row.push_back(std::move(field)), rows.push_back(std::move(row));
    return rows;
}

}  // namespace

TEST_CASE("bureau inference: assignments and the same 事業 place sheets that name no bureau", "[budget]") {
    std::vector<Sheet> sheets = test::corpus_sheets();
    std::vector<Sheet*> all;
    for (Sheet& s : sheets) all.push_back(&s);
    const Config config = test::test_config();
    const std::vector<Assignment> assignments = load_assignments(config.assignments_path, test::bureaus());
    REQUIRE_FALSE(assignments.empty());
    const InferenceReport report = enrich_run_sheets(all, config);
    CHECK(report.without_bureau > 0);
    CHECK(report.by_assignment > 0);
    CHECK(report.by_same_project > 0);
    CHECK(report.by_assignment + report.by_same_project + report.still_without == report.without_bureau);
    int marked = 0;
    for (const Sheet& s : sheets) {
        if (s.bureau_source.empty()) continue;
        ++marked;
        CHECK_FALSE(s.bureau_reason.empty());
        CHECK_FALSE(s.bureaus.empty());
        CHECK_FALSE(s.bureaus.front().top.empty());
    }
    CHECK(marked == report.by_assignment + report.by_same_project);
    // Every line of the staff's file places a sheet: a typo in a title would silently do nothing.
    for (const Assignment& a : assignments) {
        INFO(a.key << " (line " << a.line << ")");
        const bool used = std::any_of(sheets.begin(), sheets.end(), [&](const Sheet& s) {
            return s.bureau_source == "assignment" && s.bureau_reason == a.reason;
        });
        CHECK(used);
    }
    // The index holds the same: 記載なし in the bureau facet is what neither step could place.
    Config indexed = test::test_config(test::corpus_index());
    const Synonyms synonyms = Synonyms::load(indexed.synonyms_path, test::analyzer());
    Searcher searcher{indexed, test::analyzer(), test::bureaus(), synonyms};
    const SearchResult r = searcher.search(SearchRequest{});
    const auto none = facet_value(r, "bureau", std::string(kNoValue));
    CHECK(static_cast<int>(none ? none->count : 0) == report.still_without);
}

TEST_CASE_METHOD(Fixture, "scheme facets: forms and rates as facets, 補助率2/3以上 as a budget word", "[budget]") {
    const SearchResult all = run("");
    REQUIRE(all.facets.count("form"));
    REQUIRE(all.facets.count("rate"));
    CHECK(facet_value(all, "form", "補助"));
    CHECK(facet_value(all, "rate", "1/2"));
    // Each hit carries its scheme with source lines inside the sheet.
    std::size_t at_least_two_thirds = 0;
    for (const Hit& h : all.hits) {
        bool high = false;
        for (const SchemeValue& v : h.sheet.scheme.rates) {
            CHECK(v.line >= h.sheet.first_line);
            CHECK(v.line <= h.sheet.last_line);
            high |= rate_share(v.value).value_or(0) >= 2.0 / 3 - 1e-9;
        }
        at_least_two_thirds += high;
    }
    REQUIRE(at_least_two_thirds > 0);
    for (const std::string q : {"補助率2/3以上", "補助率２／３以上"}) {
        INFO(q);
        const SearchResult r = run(q);
        CHECK(r.total == at_least_two_thirds);
        REQUIRE(r.recognised.size() == 1);
        CHECK(r.recognised.front().field == "rate");
        for (const Hit& h : r.hits)
            CHECK(std::any_of(h.sheet.scheme.rates.begin(), h.sheet.scheme.rates.end(),
                              [](const SchemeValue& v) { return rate_share(v.value).value_or(0) >= 2.0 / 3 - 1e-9; }));
        // Only rates that occur get a facet row (the word stands for every fraction from 2/3 up).
        for (const FacetValue& v : r.facets.at("rate")) CHECK(v.count > 0);
    }
    // Written apart, 補助率 names the filter and is not searched for: the same sheets.
    const SearchResult spaced = run("補助率 2/3以上");
    CHECK(spaced.total == at_least_two_thirds);
    // A form filter: every hit has that form.
    const SearchResult itaku = run("", one("form", "委託"));
    CHECK(itaku.total > 0);
    for (const Hit& h : itaku.hits)
        CHECK(std::any_of(h.sheet.scheme.forms.begin(), h.sheet.scheme.forms.end(), [](const SchemeValue& v) { return v.value == "委託"; }));
    check_totals(itaku);
    check_facets(itaku);
}

TEST_CASE_METHOD(Fixture, "the division facet nests under its bureau", "[budget]") {
    const SearchResult all = run("");
    const Facet* division = find_facet("division");
    REQUIRE(division);
    CHECK(division->parent == "bureau");
    int nested = 0;
    for (const FacetValue& v : all.facets.at("division")) {
        if (v.parent.empty()) continue;
        ++nested;
        // The parent is a bureau value that the sheets of this division name.
        CHECK(facet_value(all, "bureau", v.parent));
        Filters f = one("division", v.value);
        f.add("bureau", v.parent);
        INFO(v.value << " under " << v.parent);
        CHECK(run("", f).total > 0);
    }
    CHECK(nested > 0);
    // Selecting a division keeps its bureau in view (the bureau facet is counted with the division filter).
    const FacetValue& d = all.facets.at("division").front();
    const SearchResult one_division = run("", one("division", d.value));
    if (!d.parent.empty()) CHECK(facet_value(one_division, "bureau", d.parent));
    CHECK(one_division.total == d.count);
}

TEST_CASE_METHOD(Fixture, "CSV export round-trips with the same rows as the JSON", "[budget]") {
    for (const std::string q : {"", "蓄電池", "中小企業", "令和6年度補正 半導体"}) {
        INFO(q);
        SearchRequest req;
        req.query = q;
        req.limit = SearchRequest::kMaxLimit;
        const SearchResult r = searcher.search(req);
        const ExportResult e = export_matches(searcher, req);
        CHECK_FALSE(e.truncated());
        const std::string csv = export_csv(e);
        REQUIRE(csv.rfind("\xEF\xBB\xBF", 0) == 0);
        const auto rows = read_csv(std::string_view(csv).substr(3));
        REQUIRE(rows.size() == r.hits.size() + 1);
        CHECK(rows[0][0] == "ID");
        for (std::size_t i = 0; i < r.hits.size(); ++i) {
            const Sheet& s = r.hits[i].sheet;
            const auto& row = rows[i + 1];
            REQUIRE(row.size() == rows[0].size());
            CHECK(row[0] == s.id);
            CHECK(row[1] == s.title);
            CHECK(row[3] == (s.year ? std::to_string(*s.year) : ""));
            CHECK(row[5] == (s.amount ? std::to_string(*s.amount) : ""));
            CHECK(row[6] == (s.previous_amount ? std::to_string(*s.previous_amount) : ""));
            CHECK(row[13] == s.file);
        }
    }
    // Capped: the rows stop at the cap and a last comment row says so.
    const ExportResult capped = export_matches(searcher, SearchRequest{}, 5);
    CHECK(capped.truncated());
    const auto rows = read_csv(std::string_view(export_csv(capped)).substr(3));
    REQUIRE(rows.size() == 1 + 5 + 1);
    CHECK(rows.back()[0].rfind("# 5 件で打ち切りました", 0) == 0);
}

TEST_CASE_METHOD(Fixture, "the timeline of a 事業 gathers its sheets across years and kinds", "[budget]") {
    const std::string name = "中小企業活性化・事業承継総合支援事業";
    const SearchResult r = run("title:" + name);
    std::optional<std::string> id;
    std::set<std::string> kinds_in_corpus;
    for (const Sheet& s : test::corpus_sheets())
        if (s.title == name) kinds_in_corpus.insert(s.kind.value_or(""));
    REQUIRE(kinds_in_corpus.count("当初"));
    REQUIRE(kinds_in_corpus.count("補正"));
    for (const Hit& h : r.hits)
        if (h.sheet.title == name && h.sheet.kind == "補正") id = h.sheet.id;
    REQUIRE(id);
    const std::optional<Timeline> t = timeline(searcher, *id);
    REQUIRE(t);
    CHECK(t->name == name);
    std::set<std::string> kinds;
    for (const Sheet& s : t->sheets) {
        kinds.insert(s.kind.value_or(""));
        CHECK((s.title == name || s.parent == name));
    }
    CHECK(kinds.count("当初"));
    CHECK(kinds.count("補正"));
    // Every sheet of the corpus of this 事業 is there, and nothing else.
    std::size_t expected = 0;
    for (const Sheet& s : test::corpus_sheets()) expected += s.title == name || s.parent == name;
    CHECK(t->sheets.size() == expected);
    const nlohmann::json j = timeline_json(*t);
    CHECK(j["series"].size() >= 2);
    CHECK_FALSE(timeline(searcher, "no-such-id"));
}
