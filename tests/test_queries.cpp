// Queries as staff type them: sentences without spaces, kana spellings, typos, spans of years and amount
// ranges written with a wave dash. Each case checks which sheets come back, on the real corpus, not only
// that something does (the source line of a sheet identifies it: see data/meti-budget-sheets-r7.txt).
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "searcher/query_parser.h"
#include "tests/test_support.h"

using namespace yosan;

namespace {

struct Queries : test::CorpusSearch {
    static std::vector<std::uint32_t> lines(const SearchResult& r) {
        std::vector<std::uint32_t> out;
        for (const Hit& h : r.hits) out.push_back(h.sheet.first_line);
        return out;
    }
    static std::set<std::uint32_t> line_set(const SearchResult& r) {
        const auto v = lines(r);
        return {v.begin(), v.end()};
    }
    static bool top(const SearchResult& r, std::size_t n, std::uint32_t line) {
        const auto v = lines(r);
        return std::find(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(n, v.size())), line) != v.end();
    }
    static bool title_has(const Hit& h, const std::string& word) {
        return (h.sheet.title + h.sheet.parent).find(word) != std::string::npos;
    }
};

}  // namespace

TEST_CASE_METHOD(Queries, "sentences typed without spaces find the sheets they describe", "[search][queries]") {
    SECTION("水素の利活用を進める事業: the hydrogen refuelling sheets") {
        SearchResult r = run("水素の利活用を進める事業");
        REQUIRE(r.total > 0);
        CHECK(top(r, 3, 1317));  // 充電・充てんインフラ (水素充てんインフラ整備事業)
        CHECK(top(r, 3, 1355));
        // No sheet says 利活用 together with the rest: the word is dropped, and that is said.
        CHECK(r.relaxation.relaxed);
        CHECK(r.relaxation.dropped == std::vector<std::string>{"利活用"});
    }
    SECTION("蓄電池の国内製造基盤: the battery supply-chain sheet first") {
        SearchResult r = run("蓄電池の国内製造基盤");
        REQUIRE(r.total > 0);
        CHECK(lines(r).front() == 989);
        for (const Hit& h : r.hits) CHECK(h.snippet.plain.find("【") != std::string::npos);
    }
    SECTION("中小企業のデジタル化支援: every word required, found apart") {
        SearchResult r = run("中小企業のデジタル化支援");
        REQUIRE(r.total > 0);
        CHECK_FALSE(r.relaxation.relaxed);
        CHECK(top(r, 2, 2234));  // 中小企業生産性革命推進事業 (デジタル化)
    }
    SECTION("能登半島地震からの復旧: the なりわい再建 sheets for Noto") {
        SearchResult r = run("能登半島地震からの復旧");
        REQUIRE(r.hits.size() >= 2);
        for (std::size_t i = 0; i < 2; ++i) CHECK(r.hits[i].sheet.title.find("能登半島地震") != std::string::npos);
    }
    SECTION("医療機器の開発を支援する補助金: the medical-device sheets first") {
        SearchResult r = run("医療機器の開発を支援する補助金");
        REQUIRE(r.hits.size() >= 2);
        CHECK(line_set(r).count(1607));  // 医工連携グローバル展開事業
        CHECK(line_set(r).count(3161));  // 福島県医療機器開発・安全性評価センター
        CHECK(r.hits[0].sheet.title.find("医") != std::string::npos);
    }
    SECTION("ロボットを導入する: the robot sheets, 導入 dropped") {
        SearchResult r = run("ロボットを導入する");
        CHECK(line_set(r) == line_set(run("ロボット")));
        CHECK(r.relaxation.dropped == std::vector<std::string>{"導入"});
    }
    SECTION("サイバー攻撃への対策: the cyber-security sheets") {
        SearchResult r = run("サイバー攻撃への対策");
        REQUIRE(r.total > 0);
        for (const Hit& h : r.hits) CHECK(h.snippet.plain.find("サイバー") != std::string::npos);
        CHECK(top(r, 3, 1741));  // 産業サイバーセキュリティ対策の強化
    }
    SECTION("a verb only ranks: 人手不足に対応する省力化 needs no sheet to say 対応") {
        SearchResult r = run("人手不足に対応する省力化のための大規模な設備投資");
        REQUIRE(r.total > 0);
        CHECK(top(r, 2, 2795));  // 中堅・中小企業の賃上げに向けた省力化等の大規模成長投資補助金
    }
    SECTION("a budget word inside a sentence is a filter") {
        SearchResult r = run("令和7年度補正予算の半導体関係の事業");
        CHECK(r.applied.of("year") == std::vector<std::string>{"2025"});
        CHECK(r.applied.of("kind") == std::vector<std::string>{"補正"});
        REQUIRE(r.total > 0);
        for (const Hit& h : r.hits) CHECK((h.sheet.year == 2025 && h.sheet.kind == "補正"));
        CHECK(top(r, 3, 1122));  // 半導体設計・製造基盤整備事業
    }
}

TEST_CASE_METHOD(Queries, "a word no sheet has is dropped and named, a sentence of such words stays empty", "[search][queries]") {
    SearchResult r = run("京都の中小企業の事業承継");
    CHECK(r.relaxation.relaxed);
    CHECK(r.relaxation.dropped == std::vector<std::string>{"京都"});
    CHECK(r.relaxation.required == std::vector<std::string>{"中小企業", "事業", "承継"});
    CHECK(line_set(r) == line_set(run("中小企業 事業承継")));
    // Insisting on the word (in quotes) makes it required again: nothing.
    CHECK(run("京都の中小企業の事業承継 \"京都\"").total == 0);
    // Words in no sheet at all give nothing, alone or in a sentence.
    for (const char* q : {"ドル", "京都", "京都の観光を盛り上げる", "ローカル鉄道の路線の廃止", "存在しない語句ぴよぴよ"}) {
        INFO(q);
        CHECK(run(q).total == 0);
    }
    // 京都 is not 東京都 (a kanji compound part never crosses a word boundary of the sheet).
    CHECK(run("京都").total == 0);
    // A relaxed answer is said in the JSON: the flag, the words kept and the words dropped.
    const nlohmann::json j = to_json(r);
    CHECK(j["relaxed"] == true);
    CHECK(j["dropped_words"] == nlohmann::json::array({"京都"}));
    CHECK(j["required_words"].size() == 3);
    CHECK(to_json(run("蓄電池"))["relaxed"] == false);
}

TEST_CASE_METHOD(Queries, "kana finds the kanji and the katakana word", "[search][queries]") {
    SECTION("hiragana of a kanji word, several readings long") {
        CHECK(line_set(run("ちくでんち")) == line_set(run("蓄電池")));
        CHECK(line_set(run("だつたんそ", 50)) == line_set(run("脱炭素", 50)));  // ダッタンソ: small kana typed full size
        // 中小企業 also finds sheets through its synonym 中小, and MeCab reads a few contexts otherwise, so
        // the reading finds nearly all, not all, of its sheets.
        const auto sme = line_set(run("ちゅうしょうきぎょう", 100)), kanji = line_set(run("中小企業", 100));
        std::size_t shared = 0;
        for (std::uint32_t line : kanji) shared += sme.count(line);
        CHECK(shared * 10 >= kanji.size() * 9);
    }
    SECTION("hiragana of a katakana word") { CHECK(line_set(run("ろぼっと")) == line_set(run("ロボット"))); }
    SECTION("katakana of a kanji word") { CHECK(line_set(run("チクデンチ")) == line_set(run("蓄電池"))); }
    SECTION("a kana word starting a sentence") {
        SearchResult r = run("じゅうでん設備を増やすための補助");
        REQUIRE(r.total > 0);
        CHECK(top(r, 3, 1317));  // 充電・充てんインフラ等導入促進補助金
    }
}

TEST_CASE_METHOD(Queries, "ranges with a wave dash and spans of fiscal years are filters", "[search][queries]") {
    SECTION("10億〜100億円 人材育成") {
        SearchResult r = run("10億〜100億円 人材育成", 50);
        REQUIRE(r.total > 0);
        CHECK(r.applied.amount_min == 1'000'000'000);
        CHECK(r.applied.amount_max == 10'000'000'001);
        for (const Hit& h : r.hits) CHECK((*h.sheet.amount >= 1'000'000'000 && *h.sheet.amount <= 10'000'000'000));
        CHECK(run("10億～100億円 人材育成", 50).total == r.total);  // full-width tilde
        CHECK(run("10〜100億円 人材育成", 50).total == r.total);    // the unit written once
    }
    SECTION("2024-2025, 令和6〜7年度, 令和6年度〜令和7年度, FY2024-2025") {
        Filters both;
        both.add("year", "2024");
        both.add("year", "2025");
        const auto expected = line_set(run("宇宙", 50, both));
        REQUIRE(!expected.empty());
        for (const char* q : {"2024-2025 宇宙", "令和6〜7年度 宇宙", "令和6年度〜令和7年度 宇宙", "FY2024-2025 宇宙"}) {
            INFO(q);
            SearchResult r = run(q, 50);
            CHECK(r.applied.of("year") == std::vector<std::string>{"2024", "2025"});
            CHECK_FALSE(r.applied.amount_min.has_value());  // never an amount of 2,024 yen
            CHECK(line_set(r) == expected);
        }
    }
}

TEST_CASE_METHOD(Queries, "did you mean: a typo gets a suggestion, never applied by itself", "[search][queries]") {
    SearchResult r = run("ロボテイクス");
    CHECK(r.total == 0);
    REQUIRE(r.suggestion.has_value());
    CHECK(*r.suggestion == "ロボティクス");
    CHECK(to_json(r)["suggestion"] == "ロボティクス");
    CHECK(run(*r.suggestion).total > 0);
    // A query that finds sheets gets no suggestion, and a short absent word none either.
    CHECK_FALSE(run("ロボティクス").suggestion.has_value());
    CHECK_FALSE(run("ドル").suggestion.has_value());
}

TEST_CASE_METHOD(Queries, "synonyms, titles and zero-hit help", "[search][queries]") {
    SECTION("人工知能 finds the sheets that say AI") {
        SearchResult r = run("人工知能", 50);
        REQUIRE(r.total > 0);
        CHECK(line_set(r) == line_set(run("AI", 50)));
        CHECK(top(r, 3, 770));  // 次世代エッジAI半導体研究開発事業
    }
    SECTION("title:宇宙 finds the three titles with 宇宙 (UniDic reads 宇宙 alone as a name)") {
        SearchResult r = run("title:宇宙", 50);
        CHECK(r.total == 3);
        for (const Hit& h : r.hits) CHECK(h.sheet.title.find("宇宙") != std::string::npos);
    }
    SECTION("nothing found: the filters whose removal would give hits, with their counts") {
        Filters f;
        f.add("kind", "予備費");
        SearchResult r = run("ロボティクス", 10, f);
        CHECK(r.total == 0);
        REQUIRE(r.removable.size() == 1);
        CHECK(r.removable[0].field == "kind");
        CHECK(r.removable[0].count == run("ロボティクス").total);
    }
}

TEST_CASE_METHOD(Queries, "operators keep their meaning next to sentences and compounds", "[search][queries]") {
    SECTION("A OR B with compounds: either whole compound") {
        SearchResult r = run("電気自動車 OR 医療機器", 50);
        CHECK(line_set(r).count(303));   // 電気自動車用革新型蓄電池技術開発
        CHECK(line_set(r).count(1607));  // 医工連携グローバル展開事業
        CHECK(r.total >= run("電気自動車", 50).total);
        CHECK(r.total >= run("医療機器", 50).total);
    }
    SECTION("-bureau: leaves the organisation out") {
        SearchResult r = run("蓄電池 -bureau:商務情報政策局", 50);
        REQUIRE(r.total > 0);
        CHECK(r.total < run("蓄電池", 50).total);
        for (const Hit& h : r.hits)
            for (const BureauRef& b : h.sheet.bureaus) CHECK(b.top != "商務情報政策局");
    }
    SECTION("a lone 当初 or 補正 inside a sentence is a word, not a filter") {
        CHECK(run("当初の目標を達成する事業").applied.of("kind").empty());
        CHECK(run("令和6年度補正の半導体").applied.of("kind") == std::vector<std::string>{"補正"});
    }
    SECTION("a run of a thousand bytes without spaces is refused, not searched word by word") {
        std::string run_on;
        while (run_on.size() < 1000) run_on += "蓄電池製造基盤";
        CHECK_THROWS_AS(run(run_on), UsageError);
    }
}

TEST_CASE_METHOD(Queries, "the spellings of one compound make one positional query", "[search][queries]") {
    // 強靱化, 強靭化 and 強じん化 (dict/synonyms.tsv) all read 強靭 + 化: one NEAR whose first word may be any of
    // the three, checked once per sheet, instead of one NEAR per spelling and form that counted 化 again
    // for every form a sheet matched.
    const QueryParser parser(test::analyzer(), test::bureaus(), synonyms, config);
    const Xapian::Database db(config.index_path);
    for (const char* spelling : {"強靱化", "強靭化", "強じん化"}) {
        INFO(spelling);
        const ParsedQuery pq = parser.parse(spelling, db);
        REQUIRE(pq.required.size() == 1);
        const std::string d = pq.required.front().query.get_description();
        std::size_t nears = 0;
        for (std::size_t at = d.find(" NEAR "); at != std::string::npos; at = d.find(" NEAR ", at + 1)) ++nears;
        CHECK(nears == 1);
        for (const char* form : {"強靭", "強靱", "強じん"}) CHECK(d.find(form) != std::string::npos);
    }
    // The sheets are those of the spelling they write, whichever spelling is typed.
    const SearchResult typed = run("強靱化", 50);
    REQUIRE(typed.total > 0);
    CHECK(line_set(run("強じん化", 50)) == line_set(typed));
    CHECK(line_set(run("強靭化", 50)) == line_set(typed));
}

TEST_CASE_METHOD(Queries, "the ranking bonuses never change which sheets match", "[search][queries]") {
    // build() ranks with the bonuses (phrases, nearness), matching() is what the counting passes use: the
    // two must match the same sheets, whichever requirements are kept and whether loosened. A bonus taken
    // as lying within its word's requirement (bonus_within), and so added without a filter, that did not,
    // would add sheets here.
    const QueryParser parser(test::analyzer(), test::bureaus(), synonyms, config);
    const Xapian::Database db(config.index_path);
    const auto ids = [&](const Xapian::Query& q) {
        Xapian::Enquire e(db);
        e.set_query(q);
        e.set_weighting_scheme(Xapian::BoolWeight());
        std::set<Xapian::docid> out;
        for (const Xapian::docid id : e.get_mset(0, db.get_doccount())) out.insert(id);
        return out;
    };
    for (const char* q : {"蓄電池", "再エネ", "NEDO", "はんどうたい", "サプライチェーン 強靱化", "カーボンニュートラル 技術開発",
                          "医療機器の開発を支援する補助金", "蓄電池の国内製造基盤", "中小企業 OR 小規模事業者", "title:半導体",
                          "\"水素 社会\"", "半導体 -補助金", "生成AI 開発", "地域 経済 活性化"}) {
        INFO(q);
        const ParsedQuery pq = parser.parse(q, db);
        REQUIRE_FALSE(pq.required.empty());
        for (const bool loose : {false, true}) {
            CHECK(ids(pq.build({}, loose)) == ids(pq.matching({}, loose)));
            for (std::size_t i = 0; i < pq.required.size(); ++i) {
                std::vector<bool> keep(pq.required.size(), false);
                keep[i] = true;
                INFO("requirement " << i << (loose ? ", loose" : ""));
                CHECK(ids(pq.build(keep, loose)) == ids(pq.matching(keep, loose)));
            }
        }
    }
}
