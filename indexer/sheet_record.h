// What the run-level steps of a reindex need of one sheet: its id (IdAllocator), what bureau inference
// reads and writes (indexer/bureau_inference.h), and where the sheet stands.
//
// A run holds one record per sheet of the run, not the sheet: the sheets of a file are parsed again from
// the file's bytes when the file is written (indexer/reindex.h, "Two passes"). A parsed sheet takes about
// 4 KB, its record about 500 bytes. Once the run-level steps are done, each record is cut down to its
// SheetDecision, which carries the run's decisions over to the sheet parsed again.
//
// The records' strings (titles, parents, reasons) live in a memory resource the run owns and releases
// whole when the records are cut down. Freed one string at a time instead, they left holes all over the
// heap among the strings still in use, and the second pass, whose allocations (Xapian's buffered
// postings) landed in them, ran 10-50% slower (bench/perf/README.md, "Stop 23" and "Stop 24").
#pragma once

#include <cstdint>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sheet.h"

namespace yosan {

struct SheetRecord {
    std::pmr::string id;    // as the parser gave it, then as IdAllocator assigns it
    std::pmr::string base;  // base_id() of the sheet: the id it gets when nothing collides with it
    std::pmr::string title, parent;
    std::optional<int> year;
    std::optional<std::pmr::string> kind;
    // Never null. Shared by the records of a file that name the same bureaus (records_of()): most of a
    // file's sheets name one of a few, and a list of its own took a third of a record's memory.
    std::shared_ptr<const std::vector<BureauRef>> bureaus;
    std::pmr::string bureau_source, bureau_reason;  // Sheet's, as bureau inference sets them
    std::string_view file;  // the path, held by whoever holds the run's list of files (not copied per sheet)
    std::uint32_t first_line = 0, last_line = 0;

    // `file`: the sheet's path, in a string that outlives the record (sheet.file itself when the sheet does).
    // The strings are allocated from `memory`.
    static SheetRecord of(const Sheet& sheet, std::string_view file,
                          std::pmr::memory_resource* memory = std::pmr::get_default_resource());
    // The run's decisions, the id and the bureaus (as inferred), for enrich_run_sheets(), which infers
    // bureaus on sheets it holds whole.
    void apply_to(Sheet& sheet) const;
    std::string location() const;       // as Sheet::location()
    std::string display_title() const;  // as Sheet::display_title()
};

// The records of one file's sheets, their strings in `memory`; `file` as for SheetRecord::of().
std::vector<SheetRecord> records_of(const std::vector<Sheet>& sheets, std::string_view file,
                        std::pmr::memory_resource* memory = std::pmr::get_default_resource());

// What the second pass needs of a sheet once the run-level steps are done, besides its id (the file's
// state lists the ids in the same order): the bureaus the run decided on, which it applies to the sheet
// parsed again. A run keeps these instead of the records while it writes, some 80 bytes a sheet against
// some 450, and no allocation of their own for the sheets that name their bureaus.
struct SheetDecision {
    std::shared_ptr<const std::vector<BureauRef>> bureaus;  // never null, shared as in the records
    std::string bureau_source, bureau_reason;

    static SheetDecision of(const SheetRecord& record);
    void apply_to(Sheet& sheet, std::string_view id) const;
};

}  // namespace yosan
