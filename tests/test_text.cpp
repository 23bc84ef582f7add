// Text utilities, budget vocabulary and organisation lines: tables of input and expected output.
#include <catch2/catch.hpp>

#include "core/budget.h"
#include "core/facets.h"
#include "core/text.h"
#include "tests/test_support.h"

using namespace yosan;

TEST_CASE("NFKC with case folding folds width and case", "[text]") {
    CHECK(normalize("ＡＩ") == "ai");
    CHECK(normalize("ｻｲﾊﾞｰ") == "サイバー");
    CHECK(normalize("（２）１，６１７億円") == "(2)1,617億円");
    CHECK(normalize("鈳物", {{U'鈳', U'鉱'}}) == "鉱物");
}

TEST_CASE("normalised offsets map back to the original text", "[text]") {
    const std::string original = "ＡＩ半導体とｻｲﾊﾞｰ";
    const NormalizedText n = normalize_for_search(original, {});
    REQUIRE(n.text == "ai半導体とサイバー");
    // "サイバー" in the normalised text is the half-width ｻｲﾊﾞｰ (5 code points, 15 bytes) in the original.
    const std::size_t at = n.text.find("サイバー");
    auto [b, e] = n.to_original(at, at + std::string("サイバー").size());
    CHECK(original.substr(b, e - b) == "ｻｲﾊﾞｰ");
    auto [b2, e2] = n.to_original(0, 2);
    CHECK(original.substr(b2, e2 - b2) == "ＡＩ");
}

TEST_CASE("invalid UTF-8 is located", "[text]") {
    CHECK(first_invalid_utf8("予算") == std::string::npos);
    CHECK(first_invalid_utf8("ab\xff") == 2);
    CHECK(first_invalid_utf8("予\xe7\xAE") == 3);        // truncated sequence
    CHECK(first_invalid_utf8("\xc0\xaf") == 0);          // overlong
    CHECK(first_invalid_utf8("\xed\xa0\x80") == 0);      // surrogate
}

TEST_CASE("amounts in yen", "[text][budget]") {
    const std::pair<const char*, long long> table[] = {
        {"10億", 1'000'000'000},      {"10億円", 1'000'000'000},    {"1,617億円", 161'700'000'000},
        {"9,916 億円", 991'600'000'000}, {"0.3億円", 30'000'000},     {"500百万", 500'000'000},
        {"3000万", 30'000'000},       {"1兆2,000億円", 1'200'000'000'000}, {"1,234千円", 1'234'000},
        {"500円", 500},               {"1e9", 1'000'000'000},       {"１０億円", 1'000'000'000},
        {"約1,500億円", 150'000'000'000},
    };
    for (const auto& [text, yen] : table) {
        INFO(text);
        REQUIRE(parse_yen(text).has_value());
        CHECK(*parse_yen(text) == yen);
    }
    for (const char* bad : {"", "億円", "たくさん", "10億円以上", "1e99", "abc", "99999999999e15", "100000000000億円"}) {
        INFO(bad);
        CHECK_FALSE(parse_yen(bad).has_value());
    }
    // Beyond a double: refused, not thrown (std::stod throws out_of_range there).
    CHECK_FALSE(parse_yen("1" + std::string(400, '0') + "億円").has_value());
    CHECK(parse_yen("0." + std::string(400, '0') + "1億円").value_or(0) == 0);  // never a throw; rounds to nothing
}

TEST_CASE("fiscal years and kinds", "[text][budget]") {
    CHECK(parse_fiscal_year("令和7") == 2025);
    CHECK(parse_fiscal_year("令和7年度") == 2025);
    CHECK(parse_fiscal_year("令和元年度") == 2019);
    CHECK(parse_fiscal_year("平成30年度") == 2018);
    CHECK(parse_fiscal_year("2025") == 2025);
    CHECK(parse_fiscal_year("FY2025") == 2025);
    CHECK(parse_fiscal_year("R6") == 2024);
    CHECK_FALSE(parse_fiscal_year("7").has_value());
    CHECK_FALSE(parse_fiscal_year("令和").has_value());
    CHECK(parse_kind("補正") == "補正");
    CHECK(parse_kind("補正予算") == "補正");
    CHECK(parse_kind("当初予算") == "当初");
    CHECK(parse_kind("概算要求") == "要求");
    CHECK(parse_kind("予備費") == "予備費");
    CHECK_FALSE(parse_kind("本気").has_value());
}

TEST_CASE("fiscal years are named in their era", "[text][budget]") {
    CHECK(era_year(2025) == "令和7年度");
    CHECK(era_year(2019) == "令和元年度");
    CHECK(era_year(2018) == "平成30年度");
    CHECK(era_year(1989) == "平成元年度");
}

TEST_CASE("amounts are shown in 億円", "[text][budget]") {
    CHECK(format_yen(730'000'000) == "7.3億円");
    CHECK(format_yen(2'000'000'000) == "20億円");
    CHECK(format_yen(161'700'000'000) == "1,617億円");
    CHECK(format_yen(30'000'000) == "0.3億円");
    CHECK(format_yen(45'000'000) == "4,500万円");
    CHECK(format_yen(980'000) == "98万円");
}

TEST_CASE("amount buckets", "[text][budget]") {
    const AmountBuckets b = AmountBuckets::defaults();
    CHECK(b.count() == 5);
    CHECK(b.bucket_of(99'999'999) == 0);
    CHECK(b.bucket_of(100'000'000) == 1);
    CHECK(b.bucket_of(2'000'000'000) == 2);
    CHECK(b.bucket_of(100'000'000'000) == 4);
    CHECK(b.label(0) == "1億円未満");
    CHECK(b.label(2) == "10億〜100億円");
    CHECK(b.label(4) == "1,000億円以上");
}

TEST_CASE("organisation lines split into top units and divisions", "[text][bureau]") {
    const BureauDirectory& d = test::bureaus();
    struct Row {
        const char* line;
        std::vector<BureauRef> expected;
    };
    const Row rows[] = {
        {"製造産業局宇宙産業課", {{"製造産業局", {"宇宙産業課"}}}},
        {"製造産業局素材産業課、製造産業局自動車課、商務情報政策局電池産業課",
         {{"製造産業局", {"素材産業課"}}, {"製造産業局", {"自動車課"}}, {"商務情報政策局", {"電池産業課"}}}},
        {"- (3) 製造産業局 航空機武器産業課・金属課 金属技術室", {{"製造産業局", {"航空機武器産業課", "金属課", "金属技術室"}}}},
        {"中小企業庁経営支援部 小規模企業振興課", {{"中小企業庁", {"経営支援部", "小規模企業振興課"}}}},
        {"(1・2) 情報技術利用促進課", {{"商務情報政策局", {"情報技術利用促進課"}}}},
        {"商務サービスグループ", {{"商務・サービスグループ", {}}}},
        {"(3) 大臣官房福島復興推進グループ", {{"福島復興推進グループ", {}}}},
        {"- (2) 商務・サービスグループ参事官室", {{"商務・サービスグループ", {"参事官室"}}}},
        {"医療・福祉機器産業室", {{"", {"医療・福祉機器産業室"}}}},
    };
    for (const Row& r : rows) {
        INFO(r.line);
        auto got = d.parse_line(r.line, "");
        REQUIRE(got.has_value());
        REQUIRE(got->size() == r.expected.size());
        for (std::size_t i = 0; i < got->size(); ++i) {
            CHECK((*got)[i].top == r.expected[i].top);
            CHECK((*got)[i].divisions == r.expected[i].divisions);
        }
    }
    // A division inherits the top unit named on an earlier line of the same header.
    auto inherited = d.parse_line("イノベーションチーム", "中小企業庁");
    REQUIRE(inherited);
    CHECK(inherited->front().top == "中小企業庁");
    for (const char* not_org : {"事業目的", "宇宙戦略基金事業", "独立行政法人工業所有権情報・研修館室",
                                "本事業は、補助事業を行う部局の課題を解決する。"}) {
        INFO(not_org);
        CHECK_FALSE(d.parse_line(not_org, "").has_value());
    }
}
