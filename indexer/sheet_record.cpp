#include "indexer/sheet_record.h"

#include <map>

#include "indexer/sheet_parser.h"

namespace yosan {

SheetRecord SheetRecord::of(const Sheet& s, std::string_view file) {
    return {s.id, base_id(s), s.title, s.parent, s.year, s.kind, std::make_shared<const std::vector<BureauRef>>(s.bureaus),
            s.bureau_source, s.bureau_reason, file, s.first_line, s.last_line};
}

void SheetRecord::apply_to(Sheet& s) const {
    s.id = id;
    s.bureaus = *bureaus;
    s.bureau_source = bureau_source;
    s.bureau_reason = bureau_reason;
}

std::string SheetRecord::location() const { return sheet_location(std::string(file), first_line, last_line); }
std::string SheetRecord::display_title() const { return yosan::display_title(title); }

std::vector<SheetRecord> records_of(const std::vector<Sheet>& sheets, std::string_view file) {
    std::vector<SheetRecord> out;
    out.reserve(sheets.size());
    std::map<std::string, std::shared_ptr<const std::vector<BureauRef>>> shared;  // by the list, spelled out
    for (const Sheet& s : sheets) {
        std::string key;
        for (const BureauRef& b : s.bureaus) {
            key.append(b.top).append("\t");
            for (const std::string& d : b.divisions) key.append(d).append("\t");
            key.append("\n");
        }
        auto& list = shared[key];
        SheetRecord r = SheetRecord::of(s, file);
        if (list) r.bureaus = list;
        else list = r.bureaus;
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace yosan
