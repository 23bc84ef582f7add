// Hostile input for the indexer side: huge lines and numbers, files that are not regular files, unreadable
// folders, symlinked lock files, folders that are not ours, bad configs. Every hostile file is built here,
// under the build tree; the good sheet text comes from the real corpus.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/budget.h"
#include "core/error.h"
#include "indexer/sheet_parser.h"
#include "tests/test_support.h"

using namespace yosan;
namespace fs = std::filesystem;

namespace {

// A small, complete sheet: a title line, a budget line, a bureau and two sections.
std::string sheet(const std::string& title, const std::string& budget = "令和7年度予算額 10億円（新規）",
                  const std::string& body = "蓄電池の製造基盤を強化する。") {
    return title + "\n" + budget + "\n製造産業局宇宙産業課\n事業目的・概要\n事業目的\n" + body + "\n成果目標\n2030年までに達成する。\n\n";
}

ParseResult parse(const std::string& text, const std::string& file = "hostile.txt") {
    return SheetParser(test::bureaus()).parse(text, file);
}

bool has_warning(const ParseResult& r, std::uint32_t line, const std::string& words) {
    for (const ParseWarning& w : r.warnings)
        if (w.line == line && w.skipped && w.message.find(words) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("parse_yen refuses absurd amounts instead of throwing or overflowing", "[hostile][parser]") {
    CHECK_FALSE(parse_yen(std::string(401, '9') + "億円"));      // std::stod threw std::out_of_range
    CHECK_FALSE(parse_yen(std::string(30'000, '1') + "円"));
    CHECK_FALSE(parse_yen("99999999999999兆円"));                // was stored as INT64_MIN
    CHECK_FALSE(parse_yen("10001兆円"));
    CHECK_FALSE(parse_yen("1e17"));
    CHECK_FALSE(parse_yen("9999兆9999兆円"));                    // parts in range, their sum is not
    CHECK(parse_yen("10000兆円") == kMaxYen);
    CHECK(parse_yen("1兆2,000億円") == 1'200'000'000'000);
    CHECK(parse_yen("0.3億円") == 30'000'000);
    CHECK(parse_yen("9,916 億円") == 991'600'000'000);
    CHECK(parse_yen("1.617億円") == 161'700'000);
}

TEST_CASE("huge lines and numbers are parsed in linear time without recursion", "[hostile][parser]") {
    SECTION("a title line of 27 KB") {
        std::string title;
        while (title.size() < 27'000) title += "次世代蓄電池の研究開発事業";
        const ParseResult r = parse(sheet(title) + sheet("二つ目の事業"));
        REQUIRE(r.sheets.size() == 2);
        CHECK(r.sheets[0].title == title);
        CHECK(r.sheets[1].title == "二つ目の事業");
    }
    SECTION("a sub-project title of 9,000 characters") {
        const std::string rest(9'000, 'x');
        const ParseResult r = parse(sheet("(1) " + rest));
        REQUIRE(r.sheets.size() == 1);
        CHECK(r.sheets[0].sub_label == "(1)");
        CHECK(r.sheets[0].title == rest);
    }
    SECTION("a 予算配分額 line with a 30,000-digit amount is reported with its line") {
        const std::string text = "月面の事業\n主担当庁：文部科学省\n予算配分額\n令和6年度(当初)配分額：" + std::string(30'000, '7') +
                                 "億円(文科省)\n令和7年度(当初)配分額：10.3億円(経産省)\n背景・必要性\n月面で発電する。\n";
        const ParseResult r = parse(text);
        REQUIRE(r.sheets.size() == 1);
        CHECK(has_warning(r, 4, "予算配分額の金額を読み取れません"));
        CHECK(r.sheets[0].allocations.size() == 1);
        CHECK(r.sheets[0].amount == 1'030'000'000);
    }
    SECTION("a budget line with a 401-digit amount stays a budget line, reported as unreadable") {
        const ParseResult r = parse(sheet("前の事業") + sheet("巨額の事業", "令和7年度予算額 " + std::string(401, '9') + "億円"));
        REQUIRE(r.sheets.size() == 2);
        CHECK(r.sheets[1].title == "巨額の事業");
        CHECK_FALSE(r.sheets[1].amount);
        CHECK(has_warning(r, 11, "予算額の行から金額を読み取れません"));
        for (const ParseWarning& w : r.warnings) CHECK(w.message.size() < 400);  // the line is quoted short
    }
    SECTION("99999999999999兆円 is out of range, never a negative amount") {
        const ParseResult r = parse(sheet("兆の事業", "令和7年度予算額 99999999999999兆円"));
        REQUIRE(r.sheets.size() == 1);
        CHECK_FALSE(r.sheets[0].amount);
        CHECK(has_warning(r, 2, "金額を読み取れません"));
    }
    SECTION("a million digits in a row take linear time") {
        const auto started = std::chrono::steady_clock::now();
        const ParseResult r = parse(sheet("桁の事業", "令和7年度予算額 10億円", std::string(1'000'000, '1') + "円と" + std::string(1'000'000, '2')));
        CHECK(r.sheets.size() == 1);
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    }
}

TEST_CASE("a line of megabytes goes to MeCab in bounded pieces, positions continuing", "[hostile][analysis]") {
    std::string line;
    while (line.size() < 3'000'000) line += "蓄電池の製造基盤を強化し、サプライチェーンを強靱化する。";
    line += std::string(20'000, 'x');  // one "word" of 20,000 letters: cut, and never a search term
    const std::vector<Token> tokens = test::analyzer().analyze(line + "\n次の行");
    REQUIRE(tokens.size() > 100'000);
    bool ordered = true, in_range = true, short_terms = true;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        ordered &= i == 0 || tokens[i].position >= tokens[i - 1].position;
        in_range &= tokens[i].begin < tokens[i].end && tokens[i].end <= line.size() + 10;
        short_terms &= !tokens[i].indexed || tokens[i].term.size() <= 120;
    }
    CHECK(ordered);
    CHECK(in_range);
    CHECK(short_terms);
    CHECK(tokens.back().surface == "行");
    // The words of the line are all there: every sentence gives 製造 once.
    std::size_t batteries = 0;
    for (const Token& t : tokens) batteries += t.surface == "製造";
    CHECK(batteries >= 3'000'000 / std::string("蓄電池の製造基盤を強化し、サプライチェーンを強靱化する。").size() - 1);
}
