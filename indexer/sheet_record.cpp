#include "indexer/sheet_record.h"

#include <map>

#include "indexer/sheet_parser.h"

namespace yosan {

SheetRecord SheetRecord::of(const Sheet& s, std::string_view file, std::pmr::memory_resource* memory) {
    const std::pmr::polymorphic_allocator<char> in(memory);
    SheetRecord r{std::pmr::string(s.id, in),
                  std::pmr::string(base_id(s), in),
                  std::pmr::string(s.title, in),
                  std::pmr::string(s.parent, in),
                  s.year,
                  std::nullopt,
                  std::make_shared<const std::vector<BureauRef>>(s.bureaus),
                  std::pmr::string(s.bureau_source, in),
                  std::pmr::string(s.bureau_reason, in),
                  file,
                  s.first_line,
                  s.last_line};
    if (s.kind) r.kind.emplace(*s.kind, in);
    return r;
}

void SheetRecord::apply_to(Sheet& s) const {
    SheetDecision::of(*this).apply_to(s, id);
}

SheetDecision SheetDecision::of(const SheetRecord& r) {
    return {r.bureaus, std::string(r.bureau_source), std::string(r.bureau_reason)};
}

void SheetDecision::apply_to(Sheet& s, std::string_view id) const {
    s.id = id;
    s.bureaus = *bureaus;
    s.bureau_source = bureau_source;
    s.bureau_reason = bureau_reason;
}

std::string SheetRecord::location() const { return sheet_location(std::string(file), first_line, last_line); }
std::string SheetRecord::display_title() const { return yosan::display_title(title); }

std::vector<SheetRecord> records_of(const std::vector<Sheet>& sheets, std::string_view file, std::pmr::memory_resource* memory) {
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
        SheetRecord r = SheetRecord::of(s, file, memory);
        if (list) r.bureaus = list;
        else list = r.bureaus;
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace yosan
