// Run-level inference, applied where all sheets of a run are known together (after parsing, before
// documents are built): bureaus for the sheets that name none, so that every sheet sits somewhere in the
// bureau facet:
//    1. dict/assignments.tsv, reviewed and edited by staff (sheet title or id → bureau, division,
//       reason): source "assignment";
//    2. the same 事業 in another sheet of the run that names its bureau (the same normalised title in
//       another year or kind, the parent sheet of a sub-project, or a sibling sub-project of the same
//       parent): source "same事業".
// What was inferred is marked on the sheet (Sheet::bureau_source, bureau_reason) so the JSON and the
// page never present it as written on the sheet. A sheet neither step can place stays 記載なし.
//
// An incremental run knows only the sheets of the files it re-parses, so "same事業" looks only there; the
// corpus is one file per fiscal document, which keeps a 事業's sheets together.
//
// It works on SheetRecords (indexer/sheet_record.h), which a run holds instead of its sheets.
//
// Thread safety: pure functions over the records passed in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/bureaus.h"
#include "core/sheet.h"
#include "indexer/sheet_record.h"

namespace yosan {

struct Config;

struct Assignment {
    std::string key;       // a sheet title (compared normalised, spaces ignored) or a sheet id
    std::string bureau;    // canonical top unit
    std::string division;  // may be empty
    std::string reason;    // why a person says so (required)
    std::uint32_t line = 0;
};

// dict/assignments.tsv: `title-or-id <TAB> bureau <TAB> division <TAB> reason`; '#' starts a comment.
// Throws ConfigError naming file:line for a line without a bureau or a reason. "" → no assignments.
std::vector<Assignment> load_assignments(const std::string& path, const BureauDirectory& bureaus);

struct InferenceReport {
    int without_bureau = 0;       // sheets naming no bureau before inference
    int by_assignment = 0;        // placed by dict/assignments.tsv
    int by_same_project = 0;      // placed from another sheet of the same 事業
    int still_without = 0;        // left 記載なし
};

// Fills in the bureaus of sheets that name none (see above). Sheets that name a bureau are left alone.
InferenceReport infer_bureaus(const std::vector<SheetRecord*>& sheets, const std::vector<Assignment>& assignments);
// The same with the bureau directory and the assignments of `config`: what a reindex runs.
InferenceReport infer_run_bureaus(const std::vector<SheetRecord*>& sheets, const Config& config);

// infer_run_bureaus() over parsed sheets, the results written back to them: `yosan-index --dump` and
// the tests, which hold the sheets of the run anyway.
InferenceReport enrich_run_sheets(const std::vector<Sheet*>& sheets, const Config& config);

}  // namespace yosan
