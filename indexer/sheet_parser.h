// Splits a sheet file (UTF-8 text converted from the PDF budget material) into Sheet records.
//
// A sheet is found by its anchor: a budget line (令和7年度予算額 …, 国庫債務負担行為含め総額 …), a
// cross-ministry marker (主担当庁：…), or a 事業目的・概要 / 事業の内容 heading that follows a finished
// sheet (the sheet whose title was lost in conversion). From each anchor the parser walks back over
// organisation lines and 「(…の内数)」 notes to the title, so the previous sheet ends just before it.
//
// Thread safety: a SheetParser is immutable; parse() may be called from several threads.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "core/bureaus.h"
#include "core/sheet.h"

namespace yosan {

struct ParseWarning {
    std::string file;
    std::uint32_t line = 0;
    std::string message;  // for staff, in Japanese
    // True when something in the file was not indexed as written (an amount that cannot be read, a sheet
    // cut short, lines outside any sheet): the run is partial. False for a notice about a sheet that is
    // indexed whole but lacks something in the source itself (no title, no budget line).
    bool skipped = true;
    std::string describe() const { return file + ":" + std::to_string(line) + ": " + message; }
};

struct ParseResult {
    std::vector<Sheet> sheets;
    std::vector<ParseWarning> warnings;
};

// What a budget line says. Exposed for tests.
struct BudgetLine {
    std::string title_prefix;  // a title written on the same line, before the budget
    std::optional<int> year;
    std::optional<std::string> kind;
    std::optional<std::int64_t> amount, previous_amount, total, gx_amount;
    std::string total_basis;
    bool is_new = false, approximate = false;
    bool readable = false;  // false: it looks like a budget line but no amount could be read
};
// nullopt when the line is not a budget line at all.
std::optional<BudgetLine> parse_budget_line(std::string_view line);

class SheetParser {
public:
    explicit SheetParser(const BureauDirectory& bureaus) : bureaus_(bureaus) {}
    // `file` is used for the source location and in warnings. Ids are assigned per file here and made
    // unique across files by assign_ids(). The sheets come with their scheme facets (indexer/scheme.h).
    ParseResult parse(std::string_view text, const std::string& file) const;

private:
    const BureauDirectory& bureaus_;
};

// Gives every sheet a stable id derived from its normalised title, fiscal year and kind; sheets that
// would collide get "-2", "-3" in source order. Call once over all sheets of a run.
void assign_ids(std::vector<Sheet*>& sheets);
// The id a sheet gets when nothing collides with it (assign_ids() adds "-2", "-3" to later twins).
std::string base_id(const Sheet& sheet);

// The bytes of a regular file and its modification time. Anything else (a FIFO, a device, a symlink put
// in the file's place) is refused with an InputError naming the path, without blocking.
struct RegularFile {
    std::string bytes;
    std::time_t modified = 0;
};
RegularFile read_regular_file(const std::string& path);

// Checks and cleans the bytes of a sheet file: refuses empty, binary and non-UTF-8 text with an
// InputError naming path:line; strips a UTF-8 BOM and carriage returns.
std::string decode_sheet_text(std::string bytes, const std::string& path);

// read_regular_file, then decode_sheet_text.
std::string read_sheet_file(const std::string& path);

}  // namespace yosan
