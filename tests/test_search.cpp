// End-to-end search over the real corpus, indexed once into a temporary directory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"
#include "core/schema.h"
#include "indexer/document_builder.h"
#include "searcher/facet_table.h"
#include "tests/test_support.h"

using namespace yosan;

namespace {

struct Fixture : test::CorpusSearch {
    // The first source line of every hit.
    static std::set<std::uint32_t> lines(const SearchResult& r) {
        std::set<std::uint32_t> out;
        for (const Hit& h : r.hits) out.insert(h.sheet.first_line);
        return out;
    }
    static bool has_sheet_at(const SearchResult& r, std::uint32_t line) {
        for (const Hit& h : r.hits)
            if (h.sheet.first_line <= line && line <= h.sheet.last_line) return true;
        return false;
    }
};

Xapian::doccount facet_sum(const SearchResult& r, const std::string& name) {
    Xapian::doccount n = 0;
    for (const FacetValue& v : r.facets.at(name)) n += v.count;
    return n;
}

}  // namespace

TEST_CASE_METHOD(Fixture, "an empty query lists every sheet with exact facets", "[search]") {
    const auto& sheets = test::corpus_sheets();
    SearchResult r = run("", 200);
    CHECK(r.total == sheets.size());
    CHECK(r.hits.size() == sheets.size());
    std::size_t with_year = 0, with_kind = 0, with_amount = 0, initial = 0;
    for (const Sheet& s : sheets) {
        with_year += s.year.has_value();
        with_kind += s.kind.has_value();
        with_amount += s.amount.has_value();
        initial += s.kind == "当初";
    }
    // Every sheet is in every facet: those without a value count under 記載なし, so the counts add up.
    CHECK(facet_sum(r, "year") == r.total);
    CHECK(facet_sum(r, "kind") == r.total);
    CHECK(facet_sum(r, "bucket") == r.total);
    const auto none = [&](const std::string& facet) {
        for (const FacetValue& v : r.facets.at(facet))
            if (v.value == kNoValue) return v.count;
        return Xapian::doccount{0};
    };
    CHECK(none("year") == sheets.size() - with_year);
    CHECK(none("kind") == sheets.size() - with_kind);
    CHECK(none("bucket") == sheets.size() - with_amount);
    CHECK(r.facets.at("bucket").back().value == kNoValue);  // 記載なし comes last
    // 記載なし filters like any other value.
    Filters no_amount;
    no_amount.add("bucket", std::string(kNoValue));
    SearchResult without = run("", 200, no_amount);
    CHECK(without.total == sheets.size() - with_amount);
    for (const Hit& h : without.hits) CHECK_FALSE(h.sheet.amount.has_value());
    for (const FacetValue& v : r.facets.at("kind"))
        if (v.value == "当初") CHECK(v.count == initial);
    // Browsing keeps the order of the source.
    CHECK(r.hits.front().sheet.first_line == 3);
}

TEST_CASE_METHOD(Fixture, "keyword queries find the sheets about them", "[search]") {
    SECTION("蓄電池: the four sheets about batteries come first") {
        SearchResult r = run("蓄電池", 4);
        for (std::uint32_t line : {259u, 305u, 996u, 1996u}) {
            INFO(line);
            CHECK(has_sheet_at(r, line));
        }
    }
    SECTION("facet counts cover every match, not only the page") {
        SearchResult page = run("中小企業", 5);
        SearchResult all = run("中小企業", 200);
        CHECK(page.total == all.total);
        CHECK(all.hits.size() == all.total);
        CHECK(page.facets.at("year") .size() == all.facets.at("year").size());
        CHECK(facet_sum(page, "kind") == facet_sum(all, "kind"));
        CHECK(page.total > 5);
    }
    SECTION("ドル does not match inside ミドルウェア") { CHECK(run("ドル").total == 0); }
    SECTION("鉱物 finds the sheet whose PDF text says 鈳物") { CHECK(has_sheet_at(run("鉱物", 20), 3819)); }
    SECTION("hiragana finds the kanji word") {
        SearchResult r = run("はんどうたい", 20);
        CHECK(has_sheet_at(r, 1100));
        CHECK(has_sheet_at(r, 965));
    }
    SECTION("full-width letters") { CHECK(has_sheet_at(run("ＪＥＴＲＯ"), 2637)); }
    SECTION("okurigana variants find the same sheets") { CHECK(lines(run("受入れ", 50)) == lines(run("受け入れ", 50))); }
    SECTION("a part of a kanji compound finds it, below whole words") {
        SearchResult r = run("電池", 50);
        CHECK(has_sheet_at(r, 996));  // 蓄電池 only
    }
    SECTION("a compound is matched as a phrase") {
        SearchResult r = run("\"半導体製造装置\"", 20);
        REQUIRE(r.total >= 1);
        CHECK(has_sheet_at(r, 647));
    }
    SECTION("-word excludes") {
        const auto with = run("蓄電池", 50), without = run("蓄電池 -自動車", 50);
        CHECK(without.total < with.total);
        CHECK_FALSE(has_sheet_at(without, 305));
    }
    SECTION("OR") { CHECK(run("水素 OR ロボット", 100).total > run("水素", 100).total); }
    SECTION("title: searches titles only") {
        for (const Hit& h : run("title:蓄電池", 50).hits) CHECK(h.sheet.title.find("蓄電池") != std::string::npos);
    }
    SECTION("a part of a user-dictionary word still finds it, and the whole word is one term") {
        SearchResult part = run("5G", 50), whole = run("ポスト5G", 50);
        CHECK(has_sheet_at(part, 711));
        CHECK(has_sheet_at(whole, 711));
        CHECK(has_sheet_at(run("J-クレジット"), 1467));
        CHECK(has_sheet_at(run("クレジット"), 1467));
    }
    SECTION("split compounds of dict/user.csv are one term, and their parts still find the sheets that write them") {
        // One term instead of 中 NEAR 小 NEAR 企業: a common compound costs one posting list per query. The
        // index keeps the parts at the word's positions, so a phrase of them and a part standing alone find
        // the same sheets as before (for a loanword only when marked "pieces" in dict/user.csv: レアアース's
        // pieces stay unsearchable, see the katakana test below).
        for (const auto& [word, parts, part] : {std::tuple{"中小企業", "中 小 企業", "企業"}, std::tuple{"補助金", "補助 金", "補助"},
                                               std::tuple{"半導体", "半 導体", "導体"}, std::tuple{"蓄電池", "蓄電 池", "蓄電"},
                                               std::tuple{"事業者", "事業 者", "事業"},
                                               // loanwords marked "pieces": a katakana piece still finds them
                                               std::tuple{"サプライチェーン", "サプライ チェーン", "チェーン"},
                                               std::tuple{"サイバーセキュリティ", "サイバー セキュリティ", "セキュリティ"}}) {
            INFO(word);
            const auto query = test::analyzer().analyze(word, 0, Analyzer::Mode::query);
            REQUIRE(query.size() == 1);
            CHECK(query.front().term == word);
            const std::set<std::uint32_t> whole = lines(run(std::string("\"") + word + "\"", 200));
            REQUIRE(whole.size() >= 5);
            CHECK(lines(run(std::string("\"") + parts + "\"", 200)) == whole);
            std::set<std::uint32_t> found_by_part = lines(run(part, 200));
            CHECK(std::includes(found_by_part.begin(), found_by_part.end(), whole.begin(), whole.end()));
        }
    }
    SECTION("a word in no sheet gives nothing") { CHECK(run("存在しない語句ぴよぴよ").total == 0); }
}

TEST_CASE_METHOD(Fixture, "filters", "[search]") {
    SECTION("year and kind") {
        Filters f;
        f.add("year", "2024");
        f.add("kind", "補正");
        SearchResult r = run("", 200, f);
        REQUIRE(r.total > 0);
        for (const Hit& h : r.hits) CHECK((h.sheet.year == 2024 && h.sheet.kind == "補正"));
    }
    SECTION("amount range") {
        Filters f;
        f.amount_min = 1'000'000'000;
        f.amount_max = 10'000'000'000;
        SearchResult r = run("", 200, f);
        REQUIRE(r.total > 0);
        for (const Hit& h : r.hits) CHECK((*h.sheet.amount >= 1'000'000'000 && *h.sheet.amount < 10'000'000'000));
    }
    SECTION("bureau by top unit, by division and by alias") {
        Filters top, division, alias;
        const FacetContext context{config, test::bureaus()};
        const Facet& bureau = *find_facet("bureau");
        top.add_typed(bureau, "資源エネルギー庁", context);
        division.add_typed(bureau, "自動車課", context);  // a division given as a bureau is a division
        alias.add_typed(bureau, "商務サービスグループ", context);
        for (const Hit& h : run("", 200, top).hits) {
            bool ok = false;
            for (const BureauRef& b : h.sheet.bureaus) ok |= b.top == "資源エネルギー庁";
            CHECK(ok);
        }
        CHECK(run("", 200, division).total >= 5);
        CHECK(run("", 200, alias).total == 4);
    }
    SECTION("budget words in the query become filters") {
        SearchResult r = run("10億円以上 宇宙", 50);
        REQUIRE(r.recognised.size() == 1);
        CHECK(r.recognised[0].field == "amount_min");
        REQUIRE(r.total > 0);
        for (const Hit& h : r.hits) CHECK(*h.sheet.amount >= 1'000'000'000);
        SearchResult y = run("令和6年度補正 半導体", 50);
        REQUIRE(y.total > 0);
        for (const Hit& h : y.hits) CHECK((h.sheet.year == 2024 && h.sheet.kind == "補正"));
        // In quotes it stays text.
        CHECK(run("\"令和6年度補正\"").recognised.empty());
    }
}

TEST_CASE_METHOD(Fixture, "sorting", "[search]") {
    SearchResult r = run("", 200, {}, SortOrder::amount_desc);
    std::int64_t previous = INT64_MAX;
    bool missing_seen = false;
    for (const Hit& h : r.hits) {
        if (!h.sheet.amount) {
            missing_seen = true;
            continue;
        }
        CHECK_FALSE(missing_seen);  // sheets without an amount come last
        CHECK(*h.sheet.amount <= previous);
        previous = *h.sheet.amount;
    }
    SearchResult asc = run("", 5, {}, SortOrder::amount_asc);
    CHECK(*asc.hits.front().sheet.amount == 30'000'000);  // 0.3億円, the smallest
}

namespace {
std::map<std::string, std::vector<std::pair<std::string, Xapian::doccount>>> facet_counts(const SearchResult& r) {
    std::map<std::string, std::vector<std::pair<std::string, Xapian::doccount>>> out;
    for (const auto& [name, values] : r.facets)
        for (const FacetValue& v : values) out[name].emplace_back(v.value, v.count);
    return out;
}
}  // namespace

TEST_CASE_METHOD(Fixture, "a page of a search sorted by value is that slice of the whole sorted list", "[search]") {
    // The page pass of a value sort is given only the sheets that can reach the page (searcher.h
    // page_by_value): every page must still be the slice of the complete order, ties (many sheets share a
    // year) ranked by relevance across page boundaries, the short last page and the sheets without an
    // amount (last in both amount orders) included, and a page past the end is empty; the counts stay
    // those of every match.
    for (const SortOrder order : {SortOrder::amount_desc, SortOrder::amount_asc, SortOrder::year_desc, SortOrder::year_asc}) {
        INFO(sort_name(order));
        SearchRequest all;
        all.query = "事業 支援";
        all.sort = order;
        all.limit = 200;
        const SearchResult whole = searcher.search(all);
        REQUIRE(whole.hits.size() >= 30);
        REQUIRE(whole.hits.size() == whole.total);  // the whole order in one answer
        REQUIRE(whole.total % 7 != 0);              // so the last page is short
        const auto without_amount = std::count_if(whole.hits.begin(), whole.hits.end(), [](const Hit& h) { return !h.sheet.amount; });
        CHECK(without_amount > 0);
        for (std::size_t offset = 0; offset < whole.total + 7; offset += 7) {
            INFO("offset " << offset);
            SearchRequest page = all;
            page.offset = static_cast<Xapian::doccount>(offset);
            page.limit = 7;
            const SearchResult part = searcher.search(page);
            CHECK(part.total == whole.total);
            CHECK(facet_counts(part) == facet_counts(whole));
            const std::size_t expected = offset < whole.total ? std::min<std::size_t>(7, whole.total - offset) : 0;
            REQUIRE(part.hits.size() == expected);
            for (std::size_t i = 0; i < expected; ++i) {
                CHECK(part.hits[i].sheet.id == whole.hits[offset + i].sheet.id);
                CHECK(part.hits[i].score == Approx(whole.hits[offset + i].score));
            }
        }
    }
}

TEST_CASE_METHOD(Fixture, "snippets highlight whole words", "[search]") {
    SearchResult r = run("サイバーセキュリティ", 3);
    REQUIRE_FALSE(r.hits.empty());
    const Snippet& s = r.hits.front().snippet;
    CHECK(s.html.find("<mark>サイバーセキュリティ</mark>") != std::string::npos);
    CHECK(first_invalid_utf8(s.html) == std::string::npos);
    CHECK_FALSE(s.section.empty());
}

TEST_CASE_METHOD(Fixture, "a reading shows the snippet of the word it reads", "[search]") {
    // A kana query comes as several patterns (one per way to split the reading) that no line matches all
    // of; the snippet stops at the first line with every word of the query, as for the kanji word itself,
    // instead of analysing every candidate line of every hit.
    for (const auto& [word, reading] : {std::pair{"自動運転", "じどううんてん"}, {"半導体", "はんどうたい"}, {"蓄電池", "ちくでんち"}}) {
        INFO(reading);
        std::map<std::uint32_t, std::string> by_word;
        for (const Hit& h : run(word, 50).hits) by_word[h.sheet.first_line] = h.snippet.plain;
        const SearchResult r = run(reading, 50);
        REQUIRE(r.hits.size() >= 3);
        for (const Hit& h : r.hits) {
            REQUIRE(by_word.count(h.sheet.first_line));
            CHECK(h.snippet.plain == by_word[h.sheet.first_line]);
            CHECK(h.snippet.plain.find("【") != std::string::npos);
        }
    }
}

TEST_CASE_METHOD(Fixture, "absurd queries are usage errors", "[search]") {
    CHECK_THROWS_AS(run(std::string(2000, 'a')), UsageError);
    CHECK_THROWS_AS(run("\xff\xfe"), UsageError);
    SearchRequest big;
    big.limit = 100000;
    CHECK_THROWS_AS(searcher.search(big), UsageError);
    CHECK_THROWS_AS(parse_sort("random"), UsageError);
}

TEST_CASE_METHOD(Fixture, "a title phrase matches exactly the titles that hold it, though title terms carry no positions", "[search]") {
    // The title's words (a sub-project's with its parent's: indexed_title) keep their positions in the body only (core/terms.h positional): the index has none
    // for S terms, and a title phrase is checked on the body's positions.
    Xapian::Database db(test::corpus_index());
    const std::string term = std::string(schema::kTitle) + "基盤";
    REQUIRE(db.get_termfreq(term) > 3);
    for (auto it = db.postlist_begin(term); it != db.postlist_end(term); ++it) {
        CHECK(db.positionlist_begin(*it, term) == db.positionlist_end(*it, term));
        CHECK(db.positionlist_begin(*it, "基盤") != db.positionlist_end(*it, "基盤"));
    }
    const auto title_ids = [](const std::string& text) {
        std::set<std::string> ids;
        for (const Sheet& s : test::corpus_sheets())
            if (title_key(indexed_title(s)).find(title_key(text)) != std::string::npos) ids.insert(s.id);
        return ids;
    };
    const auto hit_ids = [&](const std::string& query) {
        std::set<std::string> ids;
        for (const Hit& h : run(query, 200).hits) ids.insert(h.sheet.id);
        return ids;
    };
    for (const std::string phrase : {"基盤整備", "省エネルギー投資", "なりわい再建"}) {
        INFO(phrase);
        const std::set<std::string> expected = title_ids(phrase), found = hit_ids("title:\"" + phrase + "\"");
        CHECK(expected.size() >= 2);
        CHECK(found == expected);
        // The same phrase anywhere in the sheet finds more: the body's positions alone do not decide.
        CHECK(hit_ids("\"" + phrase + "\"").size() > found.size());
    }
    // What differs from positions of the title's own: a title with the words apart (技術の開発) is found
    // when its body has the phrase (技術開発). Every title that holds the phrase is still found.
    const std::set<std::string> expected = title_ids("技術開発"), found = hit_ids("title:\"技術開発\"");
    CHECK(std::includes(found.begin(), found.end(), expected.begin(), expected.end()));
    for (const Hit& h : run("title:\"技術開発\"", 200).hits) {
        CHECK(indexed_title(h.sheet).find("技術") != std::string::npos);
        CHECK(indexed_title(h.sheet).find("開発") != std::string::npos);
    }
    CHECK(found.size() <= expected.size() + 1);
}

TEST_CASE_METHOD(Fixture, "an inflected surface matches as a word without positions; a noun's surface keeps them", "[search]") {
    Xapian::Database db(test::corpus_index());
    // 進め (of 進める): a term of every sheet that writes it, at no position; the lemma has the positions.
    REQUIRE(db.get_termfreq("進め") > 3);
    for (auto it = db.postlist_begin("進め"); it != db.postlist_end("進め"); ++it) {
        CHECK(db.positionlist_begin(*it, "進め") == db.positionlist_end(*it, "進め"));
        CHECK(db.positionlist_begin(*it, "進める") != db.positionlist_end(*it, "進める"));
    }
    CHECK(run("進め", 200).total >= db.get_termfreq("進め"));
    // UniDic reads エネ as エイネ before の (再エネの導入) and as エネ after 再: the phrase 再エネ meets the
    // first through the noun's surface, which keeps its positions.
    std::set<std::string> expected, found;
    for (const Sheet& s : test::corpus_sheets())
        for (const Section& sec : s.sections)
            if (sec.text.find("再エネの") != std::string::npos) expected.insert(s.id);
    REQUIRE_FALSE(expected.empty());
    for (const Hit& h : run("\"再エネ\"", 200).hits) found.insert(h.sheet.id);
    CHECK(std::includes(found.begin(), found.end(), expected.begin(), expected.end()));
}

TEST_CASE_METHOD(Fixture, "related sheets", "[search]") {
    // The 補正 sheet of the same 事業 comes first for 宇宙戦略基金事業.
    auto similar = searcher.similar(test::sheet_at_line(198).id, 5);
    REQUIRE_FALSE(similar.empty());
    CHECK(similar.front().sheet.first_line == 227);
    CHECK_FALSE(searcher.sheet("no-such-id").has_value());
    CHECK(searcher.sheet(test::sheet_at_line(198).id)->title == "宇宙戦略基金事業");
}

TEST_CASE_METHOD(Fixture, "a katakana word never matches inside a longer loanword", "[search]") {
    // アース stands in the corpus only inside レアアース (lines 3884-3899, 428-452).
    CHECK(run("アース").total == 0);
    CHECK(run("レアアース", 20).total >= 2);
}

TEST_CASE_METHOD(Fixture, "every variant pair finds the same sheets from either side", "[search]") {
    // The pairs of issue 3: okurigana, long vowels, width and case, and dict/synonyms.tsv.
    const std::pair<const char*, const char*> pairs[] = {
        {"引継ぎ", "引き継ぎ"}, {"取組", "取り組み"}, {"受入れ", "受け入れ"}, {"モータ", "モーター"},
        {"ＡＩ", "AI"}, {"ドローン", "無人航空機"}, {"EV", "電気自動車"}, {"省エネ", "省エネルギー"},
        {"再エネ", "再生可能エネルギー"}, {"DX", "デジタルトランスフォーメーション"},
        {"GX", "グリーントランスフォーメーション"}, {"CN", "カーボンニュートラル"}, {"中小", "中小企業"},
        {"JETRO", "日本貿易振興機構"}, {"NEDO", "新エネルギー・産業技術総合開発機構"}, {"IPA", "情報処理推進機構"},
        {"中小機構", "中小企業基盤整備機構"}, {"INPIT", "工業所有権情報・研修館"},
    };
    for (const auto& [a, b] : pairs) {
        INFO(a << " / " << b);
        const auto from_a = lines(run(a, 200)), from_b = lines(run(b, 200));
        CHECK_FALSE(from_a.empty());
        CHECK(from_a == from_b);
    }
}

TEST_CASE("the facet table of an index revision is built once and shared", "[search]") {
    // The server's pool opens the same index once per worker thread; each built its own table.
    Xapian::Database a(test::corpus_index()), b(test::corpus_index());
    const auto table = FacetTable::shared(a);
    REQUIRE(table);
    CHECK(table->combinations() > 1);
    CHECK(FacetTable::shared(b) == table);

    // Another revision gets a table of its own (the sheets it counts may have changed); one still open at
    // the old revision keeps the old table.
    test::TempDir dir("facet-table");
    Xapian::WritableDatabase w(dir.file("db"), Xapian::DB_CREATE);
    w.add_document(Xapian::Document());
    w.commit();
    Xapian::Database old_revision(dir.file("db"));
    const auto old_table = FacetTable::shared(old_revision);
    CHECK(old_table != table);  // another database
    w.add_document(Xapian::Document());
    w.commit();
    Xapian::Database new_revision(dir.file("db"));
    CHECK(FacetTable::shared(new_revision) != old_table);
    CHECK(FacetTable::shared(old_revision) == old_table);
}
