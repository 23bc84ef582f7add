// What the run-level steps of a reindex need of one sheet: its id (IdAllocator), what bureau inference
// reads and writes (indexer/bureau_inference.h), and where the sheet stands.
//
// A run holds one record per sheet of the run, not the sheet: the sheets of a file are parsed again from
// the file's bytes when the file is written (indexer/reindex.h, "Two passes"), and the records carry the
// run's decisions over to them. A parsed sheet takes about 4 KB, its record about 500 bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sheet.h"

namespace yosan {

struct SheetRecord {
    std::string id;    // as the parser gave it, then as IdAllocator assigns it
    std::string base;  // base_id() of the sheet: the id it gets when nothing collides with it
    std::string title, parent;
    std::optional<int> year;
    std::optional<std::string> kind;
    // Never null. Shared by the records of a file that name the same bureaus (records_of()): most of a
    // file's sheets name one of a few, and a list of its own took a third of a record's memory.
    std::shared_ptr<const std::vector<BureauRef>> bureaus;
    std::string bureau_source, bureau_reason;  // Sheet's, as bureau inference sets them
    std::string_view file;  // the path, held by whoever holds the run's list of files (not copied per sheet)
    std::uint32_t first_line = 0, last_line = 0;

    // `file`: the sheet's path, in a string that outlives the record (sheet.file itself when the sheet does).
    static SheetRecord of(const Sheet& sheet, std::string_view file);
    // The run's decisions: the id and the bureaus (as inferred).
    void apply_to(Sheet& sheet) const;
    std::string location() const;       // as Sheet::location()
    std::string display_title() const;  // as Sheet::display_title()
};

// The records of one file's sheets; `file` as for SheetRecord::of().
std::vector<SheetRecord> records_of(const std::vector<Sheet>& sheets, std::string_view file);

}  // namespace yosan
