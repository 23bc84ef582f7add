// Scheme facets of a budget sheet: how the money is spent (支出形態), at what subsidy rates (補助率) and up to
// which upper limits (上限額), read from the sheet's title, header notes, 事業概要 and 事業スキーム text.
//
// The scheme diagrams of the PDF are mostly lost in conversion; what survives is text such as
// 「①超小型衛星の汎用バスの開発・実証支援（交付金：補助（1/2又は2/3））」, 「(1) 及び (2) 委託費」,
// 「補助率：中小企業1/2以内、大企業1/3以内」, 「補助上限額：15億円」. Only what the text says is extracted;
// nothing is inferred from the implementing agency (NEDO, JAXA, ...).
//
// Spending forms, a closed vocabulary (kForms), each recognised by words in the text:
//   委託    the state commissions the work and owns the result: 委託, 委託費, 委託事業.
//   補助    the state pays part of someone else's costs, directly or through an agency or prefecture:
//           補助, 補助金, 補助事業, 間接補助, 補助率, 補助上限, 助成 (a grant paid on costs is a subsidy).
//   交付金  money handed to an independent agency to run its work or programmes: 交付金 (運営費交付金,
//           NEDO交付金事業), 「運営費を交付」「経費を交付する」. Not 交付決定 (the decision on a subsidy).
//   出資    the state puts in capital (to JOGMEC, 中小機構, 日本政策金融公庫, a fund): 出資, 出資金.
//           Not 出資獲得枠 (a subsidy window for firms that raised private equity).
//   貸付    money lent on to firms: 貸付, 低利融資. A loan merely mentioned (信用保証 on private 融資,
//           a related 融資事業) is not a form of this budget.
//   基金    a multi-year fund is created or fed: 基金 (基金を設置, 基金造成, 基金2,000億円を措置).
//   給付    fixed payments to firms that are not a share of costs: 給付金.
// 定額 is a subsidy rate (the full amount, or a fixed sum), not a form.
//
// Subsidy rates, normalised: "1/2", "2/3", "10/10", ... (full-width digits and slashes, 「2分の1」 and
// 「二分の一」 all become "1/2"), and "定額". A fraction right after 国 or 県 is the state's or the
// prefecture's share of a rate (「3/4（国1/2、県1/4）」), not a rate of its own, and is skipped.
//
// Upper limits: every amount after 上限 (上限額, 補助上限額, 給付上限額) on the same line, up to 下限 or
// the end of the sentence, as yen (「上限額：15億円（非化石転換設備の場合は20億円等）」 gives both).
//
// Every value carries the 1-based source line it was read from; a value found on several lines is
// reported once, at its first line.
//
// Thread safety and cost: pure functions; the work is linear in the text, and the number of values kept
// per sheet is capped, so a hostile 1 MB line costs milliseconds.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sheet.h"

namespace yosan {

inline constexpr std::array<std::string_view, 7> kForms = {"委託", "補助", "交付金", "出資", "貸付", "基金", "給付"};
inline constexpr std::string_view kRateFixed = "定額";

// SchemeValue, SchemeLimit and SchemeInfo are defined in core/sheet.h: a sheet carries its scheme.

// The lines of a sheet file, as views into its text (which must outlive this). Build it once per file
// from the text the parser saw (read_sheet_file()) and pass it for every sheet of that file.
class SourceLines {
public:
    explicit SourceLines(std::string_view text);
    std::size_t size() const { return lines_.size(); }
    std::string_view line(std::uint32_t number) const;  // 1-based; empty outside the file

private:
    std::vector<std::string_view> lines_;
};

// With `source`, each value gets the exact line it stands on: Section::text drops the blank lines and
// the header lines the parser consumed, so an offset inside it does not give the file line. Without
// `source`, a value found in a section is cited at the section's first line and one in the title at the
// sheet's first line.
SchemeInfo extract_scheme(const Sheet& sheet, const SourceLines* source = nullptr);

// The scanners, exposed for tests. Each takes one line of text (any width, any length).
// Rates on the line in order, normalised ("1/2", "定額"); shares after 国/県 skipped.
std::vector<std::string> scan_rates(std::string_view line);
// Forms named on the line, as kForms entries in kForms order.
std::vector<std::string> scan_forms(std::string_view line);
// Upper limits stated on the line: (yen, amount as written).
std::vector<std::pair<std::int64_t, std::string>> scan_limits(std::string_view line);

}  // namespace yosan
