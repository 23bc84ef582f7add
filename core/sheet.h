// One budget sheet (予算PR資料, one per 事業): the record the parser produces, the indexer stores as
// document data, and the searcher shows. Amounts are integer yen; an absent amount is nullopt, never 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace yosan {

struct BureauRef {
    std::string top;                     // 局・庁・グループ・大臣官房; empty when the sheet never names one
    std::vector<std::string> divisions;  // 部・課・室 under it, in the order written
};

struct Section {
    std::string key;    // purpose | overview | scheme | goals | background | roles | allocation | other
    std::string title;  // the heading as written (事業目的, 成果目標・事業期間, ...)
    std::string text;   // the body lines, joined by '\n'
    std::uint32_t first_line = 0;
};

// One line of a cross-ministry sheet's 予算配分額 list: "令和3年度(補正)配分額：2.4億円(経産省)、9.0億円(総務省)".
struct Allocation {
    int year = 0;
    std::string kind;
    std::int64_t yen = 0;  // all ministries together
    std::string text;
};

// The scheme facets of a sheet (indexer/scheme.h extracts them): spending forms, subsidy rates and upper
// limits, each with the 1-based source line it was read from.
struct SchemeValue {
    std::string value;       // a form (委託, 補助, …) or a rate ("1/2", "定額")
    std::uint32_t line = 0;  // 1-based source line
    bool operator==(const SchemeValue&) const = default;
};

struct SchemeLimit {
    std::int64_t yen = 0;
    std::string text;        // the amount as written, e.g. "15億円"
    std::uint32_t line = 0;  // 1-based source line
    bool operator==(const SchemeLimit&) const = default;
};

struct SchemeInfo {
    std::vector<SchemeValue> forms;   // in kForms order
    std::vector<SchemeValue> rates;   // in order of first appearance
    std::vector<SchemeLimit> limits;  // in order of first appearance, one per distinct yen amount
    bool empty() const { return forms.empty() && rates.empty() && limits.empty(); }
};

struct Sheet {
    std::string id;
    std::string title;   // the full 事業 name; for a sub-project, the sub name
    std::string parent;  // the parent 事業 of a 「…のうち、(2) …」 sheet
    std::string sub_label;  // "(2)" of a sub-project

    std::optional<int> year;
    std::optional<std::string> kind;
    std::optional<std::int64_t> amount;           // the fiscal-year amount
    std::optional<std::int64_t> previous_amount;  // the figure in brackets: last year's
    bool is_new = false;                          // (新規)
    bool approximate = false;                     // 約
    std::optional<std::int64_t> total;            // multi-year total (国庫債務負担行為含め, 政府保証付借入含め, 総額)
    std::string total_basis;                      // what the total includes, as written
    std::optional<std::int64_t> gx_amount;        // (一部GX …)
    std::string budget_text;                      // the budget line as written
    std::string within;                           // 「(…の内数)」: the budget this one is counted inside
    std::vector<Allocation> allocations;          // cross-ministry sheets

    std::vector<BureauRef> bureaus;
    // How the bureaus were known when the sheet names none (indexer/bureau_inference.h): "" written on the
    // sheet, "assignment" (dict/assignments.tsv) or "same事業" (another sheet of the same 事業); the reason
    // is the assignment's reason or the sheet they were taken from.
    std::string bureau_source;
    std::string bureau_reason;
    SchemeInfo scheme;
    std::vector<Section> sections;

    std::string file;
    std::uint32_t first_line = 0, last_line = 0;  // 1-based, inclusive
    std::uint32_t budget_line = 0;                // 0 when the sheet has none

    // "file:first-last", how every message cites a sheet.
    std::string location() const;
    std::string display_title() const;  // the title, or 「（題名なし）」
    const Section* section(const std::string& key) const;

    nlohmann::json to_json() const;
    static Sheet from_json(const nlohmann::json& j);
};

// Sheet::location() and Sheet::display_title(), for what stands in for a sheet (indexer/sheet_record.h).
std::string sheet_location(const std::string& file, std::uint32_t first_line, std::uint32_t last_line);
std::string display_title(std::string_view title);

// The key by which two sheets are the same 事業: the title normalised, spaces dropped, so that a line break
// or a full-width space in the PDF conversion does not make two sheets of one 事業 look different.
std::string title_key(std::string_view title);

}  // namespace yosan
