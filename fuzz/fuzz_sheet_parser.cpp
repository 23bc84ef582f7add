// Fuzz target: arbitrary bytes through what yosan-index does with a file, without the disk: the checks of
// read_sheet_file (binary, UTF-8), SheetParser::parse, assign_ids, the JSON round trip of every sheet, and
// the document builder (the analysis chain) for the first sheets.
//
// Properties checked (a failure aborts, which libFuzzer reports as a crash):
//   - nothing throws besides what read_sheet_file would have refused;
//   - every sheet's source range lies inside the text and first_line <= last_line;
//   - Sheet::from_json(s.to_json()) gives the same JSON back (the index stores and shows exactly that).
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/text.h"
#include "fuzz/fuzz_common.h"
#include "indexer/document_builder.h"
#include "indexer/sheet_parser.h"

using namespace yosan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 64 * 1024) return -1;  // sheets files are large, but the parser is line-local
    std::string text(reinterpret_cast<const char*>(data), size);
    // What read_sheet_file refuses with an InputError never reaches the parser.
    if (trim(text).empty() || first_invalid_utf8(text) != std::string::npos) return -1;
    for (unsigned char ch : text)
        if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f') return -1;
    if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
    text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());

    const SheetParser parser(fuzz::bureaus());
    ParseResult r = parser.parse(text, "fuzz.txt");
    const auto lines = static_cast<std::uint32_t>(std::count(text.begin(), text.end(), '\n') + 1);
    std::vector<Sheet*> ptrs;
    for (Sheet& s : r.sheets) {
        if (s.first_line < 1 || s.first_line > s.last_line || s.last_line > lines) std::abort();
        ptrs.push_back(&s);
    }
    assign_ids(ptrs);
    const DocumentBuilder builder(fuzz::analyzer(), fuzz::config());
    Analyzer::Session session(fuzz::analyzer());
    std::size_t built = 0;
    for (const Sheet& s : r.sheets) {
        const std::string json = s.to_json().dump();
        if (Sheet::from_json(nlohmann::json::parse(json)).to_json().dump() != json) std::abort();
        if (built++ < 3) builder.build(s, session);
    }
    return 0;
}
