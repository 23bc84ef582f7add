// Scheme facets (indexer/scheme.h): the scanners on hand-made lines, and extract_scheme over the real
// corpus against the hand-labelled sample tests/fixtures/scheme-labels.tsv.
#include <catch2/catch.hpp>

#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "core/text.h"
#include "indexer/scheme.h"
#include "test_support.h"

using namespace yosan;
using Strings = std::vector<std::string>;

TEST_CASE("scan_rates reads fractions, 分の and 定額", "[scheme][unit]") {
    struct Case {
        const char* line;
        Strings rates;
    };
    const Case cases[] = {
        {"①超小型衛星の汎用バスの開発・実証支援（交付金：補助（1/2又は2/3））", {"1/2", "2/3"}},
        {"補助率：１／２以内", {"1/2"}},                       // full width
        {"補助率 ２分の１以内", {"1/2"}},                      // 分の, full width
        {"補助率は三分の二", {"2/3"}},                         // kanji numerals
        {"- （2）補助率：中小企業10/10以内、大企業3/4以内 等", {"10/10", "3/4"}},
        {"中小企業者・中小企業事業協同組合等：3/4（国1/2、県1/4）", {"3/4"}},  // 国/県 shares skipped
        {"- ・中小企業等：3/4以内（国 3/8以内、県3/8以内）", {"3/4"}},
        {"補助（定額：製革業の環境保全対策事業）", {"定額"}},
        {"（2/3：皮革関連団体等の取組支援）", {"2/3"}},
        {"(3) 補助率：更新1/2以内、新設1/5以内", {"1/2", "1/5"}},
        {"2024/4/1 から 1万円/kWh 2.5万トン/年 12/31 3/2 0/3", {}},  // dates, units, improper fractions
        {"1.5/2 と 1/2.5", {}},
        {"補助率 1/20", {}},
        {"定額補助（上限5億円）と定額", {"定額"}},
        {"", {}},
    };
    for (const Case& c : cases) {
        INFO(c.line);
        CHECK(scan_rates(c.line) == c.rates);
    }
}

TEST_CASE("scan_forms names the closed vocabulary", "[scheme][unit]") {
    struct Case {
        const char* line;
        Strings forms;
    };
    const Case cases[] = {
        {"(1) 及び (2) 委託費", {"委託"}},
        {"(3) 補助 (1/2)", {"補助"}},
        {"中小企業者等による外国出願に要する経費の一部を助成し", {"補助"}},
        {"事業形態 国立研究開発法人新エネルギー・産業技術総合開発機構（NEDO）交付金事業", {"交付金"}},
        {"IPAが業務を実施するにあたって必要となる運営費を交付し", {"交付金"}},
        {"県から交付決定を受けた事業者", {}},  // the decision on a subsidy, not 交付金
        {"助成金を交付する", {"補助"}},
        {"（出資獲得枠）単年1億円", {}},
        {"JOGMECに出資を行う", {"出資"}},
        {"出資獲得枠と出資金", {"出資"}},
        {"「東日本大震災復興特別貸付」等による低利融資", {"貸付"}},
        {"民間金融機関からの融資に保証を行い", {}},
        {"JAXAに基金を設置している", {"基金"}},
        {"給付金を支給する", {"給付"}},
        {"（委託・補助）", {"委託", "補助"}},
        {"国立研究開発法人において研究開発を支援する", {}},
    };
    for (const Case& c : cases) {
        INFO(c.line);
        CHECK(scan_forms(c.line) == c.forms);
    }
}

TEST_CASE("scan_limits reads the amounts after 上限", "[scheme][unit]") {
    using L = std::vector<std::pair<std::int64_t, std::string>>;
    CHECK(scan_limits("補助上限額：１５億円") == L{{1'500'000'000, "15億円"}});
    CHECK(scan_limits("上限5億円") == L{{500'000'000, "5億円"}});
    CHECK(scan_limits("上限額：15億円（非化石転換設備の場合は20億円等）") ==
          L{{1'500'000'000, "15億円"}, {2'000'000'000, "20億円"}});
    CHECK(scan_limits("- 補助上限額：（通常枠）単年4,500万円、3年間9,750万円（出資獲得枠）単年1億円、3年間3億円") ==
          L{{45'000'000, "4,500万円"}, {97'500'000, "9,750万円"}, {100'000'000, "1億円"}, {300'000'000, "3億円"}});
    CHECK(scan_limits("(注) 転籍の場合の給付上限額を420万に変更（1月16日）") == L{{4'200'000, "420万"}});
    CHECK(scan_limits("補助上限額50億円、投資下限額は10億円") == L{{5'000'000'000, "50億円"}});
    CHECK(scan_limits("上限は定めない。5億円までは定額補助可") == L{});
    CHECK(scan_limits("5億円までは定額補助可") == L{});
}

TEST_CASE("the scanners stay bounded on hostile lines", "[scheme][unit]") {
    // Each line is 1 MB or more; a quadratic scanner would take minutes on them (ctest's timeout fails it).
    const std::vector<std::string> lines = {
        [] { std::string s; while (s.size() < (1u << 20)) s += "上限"; return s; }(),
        [] { std::string s; while (s.size() < (1u << 20)) s += "上限1"; return s; }(),
        [] { std::string s = "上限"; while (s.size() < (1u << 20)) s += "1億円"; return s; }(),
        [] { std::string s; while (s.size() < (1u << 20)) s += "1/2、"; return s; }(),
        [] { std::string s; while (s.size() < (1u << 20)) s += "/"; return s; }(),
        [] { std::string s; while (s.size() < (1u << 20)) s += "分の"; return s; }(),
        [] { std::string s; while (s.size() < (1u << 20)) s += "出資出資獲得"; return s; }(),
        std::string(1u << 20, '9'),
        std::string(1u << 20, '\xff'),  // invalid UTF-8
    };
    for (const std::string& l : lines) {
        CHECK(scan_rates(l).size() <= 32);
        CHECK(scan_limits(l).size() <= 64);
        CHECK(scan_forms(l).size() <= kForms.size());
    }
    // And through extract_scheme, with the line in a section and the file.
    Sheet sheet;
    sheet.title = lines[0];
    sheet.first_line = 1, sheet.last_line = 3;
    sheet.sections.push_back({"scheme", "事業スキーム", lines[2] + "\n" + lines[3], 1});
    const std::string file = "事業スキーム\n" + lines[2] + "\n" + lines[3] + "\n";
    const SourceLines source(file);
    const SchemeInfo info = extract_scheme(sheet, &source);
    CHECK(info.rates.size() == 1);
    CHECK(info.limits.size() == 1);
    CHECK(info.limits.front().line == 2);
}

TEST_CASE("extract_scheme cites the file line of each value", "[scheme][unit]") {
    const std::string file =
        "省エネルギー設備への更新を促進するための補助金\n"  // 1
        "\n"
        "令和7年度予算額 **90億円（110億円）**\n"  // 3
        "\n"
        "事業スキーム（対象者、対象行為、補助率等）\n"  // 5
        "\n"
        " \n"
        "- （1）補助率：1/3以内、上限額：1億円\n"  // 8
        "\n"
        "- （2）補助率：中小企業10/10以内、大企業3/4以内 等\n"  // 10
        "**上限額：15億円**\n";                                 // 11
    Sheet sheet;
    sheet.title = "省エネルギー設備への更新を促進するための補助金";
    sheet.first_line = 1, sheet.last_line = 11;
    sheet.sections.push_back({"scheme", "事業スキーム（対象者、対象行為、補助率等）",
                              "- （1）補助率：1/3以内、上限額：1億円\n- （2）補助率：中小企業10/10以内、大企業3/4以内 等\n上限額：15億円", 5});
    const SourceLines source(file);
    const SchemeInfo info = extract_scheme(sheet, &source);
    CHECK(info.forms == std::vector<SchemeValue>{{"補助", 1}});
    CHECK(info.rates == std::vector<SchemeValue>{{"1/3", 8}, {"10/10", 10}, {"3/4", 10}});
    CHECK(info.limits == std::vector<SchemeLimit>{{100'000'000, "1億円", 8}, {1'500'000'000, "15億円", 11}});

    // Without the file, values are cited at the section's first line.
    const SchemeInfo rough = extract_scheme(sheet);
    CHECK(rough.rates.front().line == 5);
}

namespace {

struct Label {
    std::string title;
    std::set<std::string> forms, rates, limits;
};

std::set<std::string> split_commas(const std::string& s) {
    std::set<std::string> out;
    std::istringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) out.insert(item);
    return out;
}

std::map<std::uint32_t, Label> read_labels() {
    std::map<std::uint32_t, Label> out;
    std::istringstream in(test::read_file(test::source_path("tests/fixtures/scheme-labels.tsv")));
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> cols;
        std::istringstream l(line);
        for (std::string c; std::getline(l, c, '\t');) cols.push_back(c);
        cols.resize(6);
        out[static_cast<std::uint32_t>(std::stoul(cols[0]))] = {cols[1], split_commas(cols[2]), split_commas(cols[3]),
                                                                split_commas(cols[4])};
    }
    return out;
}

struct Score {
    int tp = 0, fp = 0, fn = 0;
    double precision() const { return tp + fp ? double(tp) / (tp + fp) : 1.0; }
    double recall() const { return tp + fn ? double(tp) / (tp + fn) : 1.0; }
    void add(const std::set<std::string>& want, const std::set<std::string>& got, const std::string& where,
             std::ostream& diff) {
        for (const std::string& g : got)
            if (want.count(g)) ++tp;
            else ++fp, diff << "  FP " << where << " " << g << "\n";
        for (const std::string& w : want)
            if (!got.count(w)) ++fn, diff << "  FN " << where << " " << w << "\n";
    }
};

}  // namespace

TEST_CASE("extract_scheme against the hand-labelled corpus sample", "[scheme][corpus]") {
    const auto labels = read_labels();
    REQUIRE(labels.size() >= 35);
    const std::string text = read_sheet_file(test::corpus_path());
    const SourceLines source(text);

    Score forms, rates, limits;
    std::ostringstream diff;
    int matched = 0;
    for (const Sheet& sheet : test::corpus_sheets()) {
        auto it = labels.find(sheet.first_line);
        if (it == labels.end()) continue;
        ++matched;
        const SchemeInfo info = extract_scheme(sheet, &source);
        std::set<std::string> f, r, l;
        for (const auto& v : info.forms) f.insert(v.value);
        for (const auto& v : info.rates) r.insert(v.value);
        for (const auto& v : info.limits) l.insert(std::to_string(v.yen));
        const std::string where = std::to_string(sheet.first_line) + " " + sheet.display_title();
        forms.add(it->second.forms, f, where + " form", diff);
        rates.add(it->second.rates, r, where + " rate", diff);
        limits.add(it->second.limits, l, where + " limit", diff);

        // Every value cites a line inside the sheet that really holds it (or the title line).
        for (const auto* values : {&info.forms, &info.rates})
            for (const auto& v : *values) {
                INFO(where << " " << v.value << " line " << v.line);
                CHECK(v.line >= sheet.first_line);
                CHECK(v.line <= sheet.last_line);
            }
        for (const auto& v : info.limits) {
            INFO(where << " " << v.text << " line " << v.line);
            CHECK(nfkc(source.line(v.line)).find(v.text) != std::string::npos);
        }
    }
    REQUIRE(matched == static_cast<int>(labels.size()));  // every label names a sheet the parser finds

    std::ostringstream report;
    report.precision(3);
    report << "scheme facets on " << matched << " labelled sheets (micro):\n";
    for (const auto& [name, s] : {std::pair{"forms", forms}, {"rates", rates}, {"limits", limits}})
        report << "  " << name << ": precision " << s.precision() << " recall " << s.recall() << " (tp " << s.tp
               << ", fp " << s.fp << ", fn " << s.fn << ")\n";
    std::cout << report.str() << diff.str();
    WARN(report.str());

    CHECK(forms.precision() >= 0.9);
    CHECK(forms.recall() >= 0.9);
    CHECK(rates.precision() >= 0.9);
    CHECK(rates.recall() >= 0.9);
    REQUIRE(forms.precision() >= 0.9);
    REQUIRE(forms.recall() >= 0.9);
    REQUIRE(rates.precision() >= 0.9);
    REQUIRE(rates.recall() >= 0.9);
}

// Not run by default: `test_scheme "[.dump]"` prints what extract_scheme finds on every corpus sheet, for
// reviewing the extractor against the text.
TEST_CASE("dump the scheme facets of the corpus", "[.dump]") {
    const std::string text = read_sheet_file(test::corpus_path());
    const SourceLines source(text);
    for (const Sheet& sheet : test::corpus_sheets()) {
        const SchemeInfo info = extract_scheme(sheet, &source);
        std::cout << sheet.first_line << " " << sheet.display_title() << "\n";
        for (const auto& v : info.forms) std::cout << "  form " << v.value << " @" << v.line << "\n";
        for (const auto& v : info.rates) std::cout << "  rate " << v.value << " @" << v.line << "\n";
        for (const auto& v : info.limits) std::cout << "  limit " << v.yen << " " << v.text << " @" << v.line << "\n";
    }
}
