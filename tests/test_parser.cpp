// The sheet parser on the real corpus (every expectation below was read off the corpus file, with its
// line number) and on small sheets in other ministries' layouts (tests/fixtures/other-ministries.txt).
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "core/error.h"
#include "tests/test_support.h"

using namespace yosan;
using test::sheet_at_line;

namespace {
bool has_top(const Sheet& s, const std::string& top) {
    for (const BureauRef& b : s.bureaus)
        if (b.top == top) return true;
    return false;
}
bool has_division(const Sheet& s, const std::string& d) {
    for (const BureauRef& b : s.bureaus)
        for (const std::string& x : b.divisions)
            if (x == d) return true;
    return false;
}
}  // namespace

TEST_CASE("the corpus splits into its sheets", "[parser]") {
    const auto& sheets = test::corpus_sheets();
    // 99 sheets whose budget line stands alone, 6 whose title and budget share a line, 3 cross-ministry
    // R&D sheets with 予算配分額 lists, and the sheet whose title was lost at line 792.
    CHECK(sheets.size() == 109);
    std::uint32_t previous_end = 0;
    std::set<std::string> ids;
    for (const Sheet& s : sheets) {
        INFO(s.location());
        CHECK(s.first_line > previous_end);
        CHECK(s.first_line <= s.last_line);
        if (s.budget_line) CHECK((s.first_line <= s.budget_line && s.budget_line <= s.last_line));
        CHECK(ids.insert(s.id).second);
        if (s.amount) CHECK(*s.amount > 0);  // never a made-up 0
        previous_end = s.last_line;
    }
}

TEST_CASE("every judged line of the relevance sets lies in exactly one sheet", "[parser]") {
    // The sets live in the repository (bench/relevance; the dev set is a copy of shared/eval).
    for (const auto& [file, expected] : {std::pair{"bench/relevance/qrels-dev.tsv", 69}, std::pair{"bench/relevance/qrels-check.tsv", 0},
                                         std::pair{"bench/relevance/qrels-sentence.tsv", 0}}) {
        INFO(file);
        std::ifstream in(test::source_path(file));
        REQUIRE(in);
        int checked = 0;
        for (std::string line; std::getline(in, line);) {
            if (line.empty() || line[0] == '#') continue;
            const auto t1 = line.find('\t'), t2 = line.find('\t', t1 + 1), t3 = line.find('\t', t2 + 1);
            const std::uint32_t judged = std::stoul(line.substr(t1 + 1, t2 - t1 - 1));
            const std::string title = line.substr(t3 + 1);
            const Sheet& s = sheet_at_line(judged);
            INFO(judged << " " << title);
            // The judged title is the sheet's own title or its 「親事業のうち、(n) 子事業」 form.
            CHECK(normalize(title).find(normalize(s.title)) != std::string::npos);
            ++checked;
        }
        if (expected) CHECK(checked == expected);
        else CHECK(checked > 0);
    }
}

TEST_CASE("fields of ordinary sheets", "[parser]") {
    SECTION("title, budget with previous year, bureau and division (lines 3-5)") {
        const Sheet& s = sheet_at_line(5);
        CHECK(s.title == "宇宙産業技術情報基盤整備研究開発事業(SERVISプロジェクト)");
        CHECK(s.first_line == 3);
        CHECK(s.budget_line == 5);
        CHECK(s.year == 2025);
        CHECK(s.kind == "当初");
        CHECK(s.amount == 730'000'000);
        CHECK(s.previous_amount == 2'000'000'000);
        CHECK(has_top(s, "製造産業局"));
        CHECK(has_division(s, "宇宙産業課"));
        REQUIRE(s.section("purpose"));
        CHECK(s.section("purpose")->text.find("衛星コンステレーション") != std::string::npos);
        REQUIRE(s.section("goals"));
    }
    SECTION("** emphasis and three bureaus on one line (line 259)") {
        const Sheet& s = sheet_at_line(259);
        CHECK(s.title == "次世代全固体蓄電池材料の評価・基盤技術の開発事業");
        CHECK(s.amount == 2'000'000'000);
        CHECK(s.previous_amount == 1'800'000'000);
        CHECK(has_division(s, "素材産業課"));
        CHECK(has_division(s, "自動車課"));
        CHECK(has_top(s, "商務情報政策局"));
        CHECK(has_division(s, "電池産業課"));
    }
    SECTION("supplementary budget with 9,916 億円 and a GX part, inside another budget (line 678)") {
        const Sheet& s = sheet_at_line(678);
        CHECK(s.title == "AI基盤モデル及び先端半導体関連技術開発事業等");
        CHECK(s.year == 2024);
        CHECK(s.kind == "補正");
        CHECK(s.amount == 991'600'000'000);
        CHECK(s.gx_amount == 157'600'000'000);
        CHECK_FALSE(s.previous_amount.has_value());
        CHECK(s.within == "ポスト5G情報通信システム基盤強化研究開発事業等の内数");
    }
    SECTION("a GX part in full-width brackets is not last year's amount (line 711)") {
        const Sheet& s = sheet_at_line(711);
        CHECK(s.amount == 161'700'000'000);
        CHECK(s.gx_amount == 150'200'000'000);
        CHECK_FALSE(s.previous_amount.has_value());
    }
    SECTION("0.3億円 (line 2953)") {
        const Sheet& s = sheet_at_line(2953);
        CHECK(s.title == "東日本大震災復興特別貸付等");
        CHECK(s.amount == 30'000'000);
        CHECK(s.previous_amount == 30'000'000);
    }
    SECTION("3.0億円 (新規) (line 515)") {
        const Sheet& s = sheet_at_line(515);
        CHECK(s.amount == 300'000'000);
        CHECK(s.is_new);
        CHECK_FALSE(s.previous_amount.has_value());
    }
    SECTION("multi-year total with the fiscal-year amount after ※ (line 542)") {
        const Sheet& s = sheet_at_line(542);
        CHECK(s.title == "次期航空機開発等支援事業");
        CHECK(s.total == 86'800'000'000);
        CHECK(s.amount == 8'100'000'000);
        CHECK(s.year == 2025);
        CHECK(s.kind == "当初");
        CHECK(s.is_new);
        CHECK(s.total_basis.find("国庫債務負担") != std::string::npos);
    }
    SECTION("government-guaranteed borrowing (line 3857)") {
        const Sheet& s = sheet_at_line(3857);
        CHECK(s.total == 159'700'000'000);
        CHECK(s.amount == 92'200'000'000);
        CHECK(s.kind == "補正");
        CHECK(s.total_basis == "政府保証付借入含め");
    }
    SECTION("総額約1,500億円 (line 1564)") {
        const Sheet& s = sheet_at_line(1564);
        CHECK(s.title == "グローバルサウス未来志向型共創等事業");
        CHECK(s.amount == 150'000'000'000);
        CHECK(s.approximate);
        CHECK(s.total == 150'000'000'000);
    }
    SECTION("a new-call total in brackets (line 2797)") {
        const Sheet& s = sheet_at_line(2797);
        CHECK(s.amount == 140'000'000'000);
        CHECK(s.total == 300'000'000'000);
    }
    SECTION("reserve fund (line 3911)") {
        const Sheet& s = sheet_at_line(3911);
        CHECK(s.kind == "予備費");
        CHECK(s.amount == 39'000'000'000);
        CHECK(has_division(s, "鉱物課"));
    }
    SECTION("bureau lines before the budget line (lines 1148-1153)") {
        const Sheet& s = sheet_at_line(1153);
        CHECK(s.first_line == 1148);
        CHECK(has_top(s, "中小企業庁"));
        CHECK(has_division(s, "イノベーションチーム"));
        CHECK(s.amount == 12'300'000'000);
    }
    SECTION("bureau lines on both sides of the budget line (lines 611-617)") {
        const Sheet& s = sheet_at_line(615);
        CHECK(has_top(s, "製造産業局"));
        CHECK(has_division(s, "製造産業戦略企画室"));
    }
    SECTION("(1)/(2) prefixed bureau lines (lines 1321-1323)") {
        const Sheet& s = sheet_at_line(1319);
        CHECK(has_top(s, "製造産業局"));
        CHECK(has_top(s, "資源エネルギー庁"));
    }
    SECTION("商務サービスグループ is the alias of 商務・サービスグループ (line 3163)") {
        const Sheet& s = sheet_at_line(3166);
        CHECK(has_top(s, "商務・サービスグループ"));
        CHECK_FALSE(has_top(s, "商務サービスグループ"));
    }
    SECTION("a sheet that names no bureau (line 1531)") {
        const Sheet& s = sheet_at_line(1531);
        CHECK(s.title == "伝統的工芸品支援事業");
        CHECK(s.bureaus.empty());
    }
}

TEST_CASE("sub-project sheets keep the parent and the sub name", "[parser]") {
    SECTION("parent line, then (2) title (lines 364-368)") {
        const Sheet& s = sheet_at_line(368);
        CHECK(s.parent == "次世代航空機開発・次世代空モビリティ社会実装に向けた基盤技術開発事業");
        CHECK(s.sub_label == "(2)");
        CHECK(s.title == "航空機向け革新的推進システム開発事業");
        CHECK(s.first_line == 364);
    }
    SECTION("title and budget on one line, full-width （２） (line 2180)") {
        const Sheet& s = sheet_at_line(2180);
        CHECK(s.parent == "中小企業資金繰り支援事業");
        CHECK(s.sub_label == "(2)");
        CHECK(s.title == "中小企業信用補完制度関連補助事業");
        CHECK(s.amount == 3'900'000'000);
        CHECK(s.previous_amount == 1'400'000'000);
    }
    SECTION("のうち without a number (line 1607)") {
        const Sheet& s = sheet_at_line(1607);
        CHECK(s.parent == "スタートアップ支援事業");
        CHECK(s.title == "医工連携グローバル展開事業");
        CHECK(s.amount == 1'400'000'000);
        CHECK(s.is_new);
    }
    SECTION("(3) without 「のうち」 takes its parent from the sheet that lists it (line 395)") {
        const Sheet& s = sheet_at_line(399);
        CHECK(s.sub_label == "(3)");
        CHECK(s.title == "航空機エンジン向け材料開発・評価システム基盤整備事業");
        CHECK(s.parent == "次世代航空機開発・次世代空モビリティ社会実装に向けた基盤技術開発事業");
        // 「(1)(3)航空機武器産業課」 names no top unit; the dictionary knows it is 製造産業局's.
        CHECK(has_top(s, "製造産業局"));
    }
    SECTION("title with the budget on the same line after a bracket (line 3465)") {
        const Sheet& s = sheet_at_line(3465);
        CHECK(s.title == "経済環境変化に応じた重要物資サプライチェーン強靱化支援事業 (先端電子部品)");
        CHECK(s.kind == "補正");
        CHECK(s.amount == 1'200'000'000);
    }
}

TEST_CASE("the sheet that lost its title is a sheet of its own", "[parser]") {
    const Sheet& s = sheet_at_line(796);
    CHECK(s.first_line == 792);
    CHECK(s.title.empty());
    CHECK(s.display_title() == "（題名なし）");
    CHECK_FALSE(s.amount.has_value());
    REQUIRE(s.section("purpose"));
    CHECK(s.section("purpose")->text.find("エビデンス構築") != std::string::npos);
    // ... and the sheet before it keeps its own ending.
    const Sheet& before = sheet_at_line(790);
    CHECK(before.title == "次世代エッジAI半導体研究開発事業");
    CHECK(before.last_line == 790);
}

TEST_CASE("cross-ministry sheets with 予算配分額 lists", "[parser]") {
    SECTION("小型衛星コンステレーション (line 39)") {
        const Sheet& s = sheet_at_line(41);
        CHECK(s.title == "小型衛星コンステレーション関連要素技術開発");
        CHECK(s.allocations.size() == 5);
        CHECK(s.year == 2024);
        CHECK(s.kind == "補正");
        CHECK(s.amount == 250'000'000);
        CHECK(s.section("background"));
    }
    SECTION("月面 (line 114): the latest allocation is 令和7年度(当初) 10.3億円") {
        const Sheet& s = sheet_at_line(116);
        CHECK(s.title == "月面におけるエネルギー関連技術開発");
        CHECK(s.year == 2025);
        CHECK(s.kind == "当初");
        CHECK(s.amount == 1'030'000'000);
        // Two ministries in one line are added up: 令和3年度(補正) 2.4億円 + 9.0億円.
        bool found = false;
        for (const Allocation& a : s.allocations)
            if (a.year == 2021 && a.kind == "補正") found = a.yen == 1'140'000'000;
        CHECK(found);
    }
    SECTION("多種衛星 (line 157) starts at its project number") {
        const Sheet& s = sheet_at_line(161);
        CHECK(s.first_line == 157);
        CHECK(s.title == "多種衛星のオンデマンドタスキング 及びデータ生産・配信技術の研究開発");
        CHECK(s.amount == 350'000'000);
    }
}

TEST_CASE("sheets in other ministries' layouts", "[parser]") {
    SheetParser parser(test::bureaus());
    const std::string file = test::source_path("tests/fixtures/other-ministries.txt");
    ParseResult r = parser.parse(read_sheet_file(file), file);
    REQUIRE(r.sheets.size() == 6);
    const auto& s = r.sheets;
    CHECK(s[0].kind == "要求");
    CHECK(s[0].year == 2026);
    CHECK(s[0].amount == 1'234'000'000);
    CHECK(s[0].previous_amount == 1'000'000'000);
    CHECK(has_top(s[0], "輸出・国際局"));
    CHECK(s[1].year == 2018);
    CHECK(s[1].amount == 82'400'000);
    CHECK(has_top(s[1], "老健局"));
    CHECK(s[2].year == 2019);
    CHECK(s[2].kind == "補正");
    CHECK(s[2].amount == 45'000'000);
    CHECK(s[3].amount == 980'000);
    CHECK(s[3].is_new);
    // An unreadable amount: indexed without one, with a warning naming the line.
    CHECK(s[4].title == "予算額調整中事業");
    CHECK_FALSE(s[4].amount.has_value());
    // A sheet cut off after its budget line is still a sheet, with a warning.
    CHECK(s[5].title == "途中で切れた事業");
    CHECK(s[5].amount == 500'000'000);
    bool unreadable = false, truncated = false;
    for (const ParseWarning& w : r.warnings) {
        unreadable |= w.line == 63 && w.message.find("読み取れません") != std::string::npos;
        truncated |= w.line == 75 && w.message.find("途中で切れて") != std::string::npos;
    }
    CHECK(unreadable);
    CHECK(truncated);
}

TEST_CASE("ids are stable across runs and unique", "[parser]") {
    SheetParser parser(test::bureaus());
    ParseResult again = parser.parse(read_sheet_file(test::corpus_path()), test::corpus_path());
    std::vector<Sheet*> ptrs;
    for (Sheet& s : again.sheets) ptrs.push_back(&s);
    assign_ids(ptrs);
    REQUIRE(again.sheets.size() == test::corpus_sheets().size());
    for (std::size_t i = 0; i < again.sheets.size(); ++i) CHECK(again.sheets[i].id == test::corpus_sheets()[i].id);
    // The 当初 and 補正 sheets of one 事業 are different documents.
    CHECK(sheet_at_line(198).id != sheet_at_line(229).id);
}

TEST_CASE("bad files are refused with the file and line", "[parser]") {
    test::TempDir dir("bad-files");
    const auto write = [&](const std::string& name, const std::string& bytes) {
        std::ofstream(dir.file(name), std::ios::binary) << bytes;
        return dir.file(name);
    };
    const auto message_of = [](const std::string& path) {
        try {
            read_sheet_file(path);
        } catch (const InputError& e) {
            return e.describe();
        }
        return std::string("no error");
    };
    CHECK(message_of(write("empty.txt", "")).find("empty.txt:1: 空のファイル") != std::string::npos);
    CHECK(message_of(write("blank.txt", "\n \n")).find("空のファイル") != std::string::npos);
    CHECK(message_of(write("binary.txt", std::string("PK\x03\x04\0\0", 6))).find("binary.txt:1: バイナリ") != std::string::npos);
    CHECK(message_of(write("latin1.txt", "題名\n\n\xe9t\xe9\n")).find("latin1.txt:3: UTF-8") != std::string::npos);
    CHECK(message_of(dir.file("missing.txt")).find("開けません") != std::string::npos);
    // A BOM and CRLF line ends are accepted.
    CHECK(read_sheet_file(write("crlf.txt", "\xEF\xBB\xBF題名\r\n令和7年度予算額 1億円\r\n")) == "題名\n令和7年度予算額 1億円\n");
}

TEST_CASE("notices and skips are told apart", "[parser]") {
    SheetParser parser(test::bureaus());
    ParseResult corpus = parser.parse(read_sheet_file(test::corpus_path()), test::corpus_path());
    // The corpus's only warnings are about the title-less sheet at line 792: notices, nothing skipped.
    REQUIRE(corpus.warnings.size() == 2);
    for (const ParseWarning& w : corpus.warnings) {
        CHECK(w.line == 792);
        CHECK_FALSE(w.skipped);
    }
    const std::string file = test::source_path("tests/fixtures/other-ministries.txt");
    ParseResult other = parser.parse(read_sheet_file(file), file);
    int skipped = 0;
    for (const ParseWarning& w : other.warnings) skipped += w.skipped;
    CHECK(skipped == 2);  // the unreadable amount (line 63) and the truncated sheet (line 75)
}
