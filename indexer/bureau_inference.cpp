#include "indexer/bureau_inference.h"

#include <algorithm>
#include <fstream>
#include <map>

#include "core/config.h"
#include "core/error.h"
#include "core/text.h"

namespace yosan {

namespace {

// Titles are compared as the ids compare them: normalised, spaces dropped, so that a line break or a
// full-width space in the PDF conversion does not make two sheets of one 事業 look different.
std::vector<std::string> split_tabs(std::string_view line) {
    std::vector<std::string> out;
    while (true) {
        const std::size_t tab = line.find('\t');
        out.emplace_back(trim(line.substr(0, tab)));
        if (tab == std::string_view::npos) break;
        line.remove_prefix(tab + 1);
    }
    return out;
}

}  // namespace

std::vector<Assignment> load_assignments(const std::string& path, const BureauDirectory& bureaus) {
    std::vector<Assignment> out;
    if (path.empty()) return out;
    std::ifstream in(path);
    if (!in) return out;  // optional: a site without the file simply has no assignments
    std::string line;
    for (std::uint32_t n = 1; std::getline(in, line); ++n) {
        if (trim(line).empty() || trim(line).front() == '#') continue;
        const std::vector<std::string> f = split_tabs(line);
        const std::string where = path + ":" + std::to_string(n);
        if (f.size() < 4 || f[0].empty() || f[1].empty() || f[3].empty())
            throw ConfigError("割り当ては「資料名またはID<TAB>局・庁<TAB>課・室<TAB>理由」の形で、局・庁と理由は必須です", where);
        Assignment a;
        a.key = f[0];
        a.bureau = bureaus.canonical(f[1]);
        if (!BureauDirectory::is_top_unit(a.bureau)) throw ConfigError("局・庁の欄に局・庁・グループ以外の名前があります: " + f[1], where);
        a.division = f[2].empty() ? std::string() : bureaus.canonical(f[2]);
        a.reason = f[3];
        a.line = n;
        out.push_back(std::move(a));
    }
    return out;
}

InferenceReport infer_bureaus(const std::vector<SheetRecord*>& sheets, const std::vector<Assignment>& assignments) {
    InferenceReport report;
    const auto placed = [](const SheetRecord& s) {
        return std::any_of(s.bureaus->begin(), s.bureaus->end(), [](const BureauRef& b) { return !b.top.empty(); });
    };
    std::vector<SheetRecord*> missing;
    for (SheetRecord* s : sheets)
        if (!placed(*s)) missing.push_back(s);
    report.without_bureau = static_cast<int>(missing.size());

    // 1. Assignments, by id (as assigned, or as it will be) or by title.
    std::map<std::string, const Assignment*, std::less<>> by_key;
    for (const Assignment& a : assignments) by_key.emplace(title_key(a.key), &a);
    for (SheetRecord* s : missing) {
        const Assignment* a = nullptr;
        const std::string title = title_key(s->title);
        for (const std::string_view key : {std::string_view(s->id), std::string_view(s->base), std::string_view(title)})
            if (auto it = by_key.find(key); !key.empty() && it != by_key.end()) {
                a = it->second;
                break;
            }
        if (!a) continue;
        BureauRef ref;
        ref.top = a->bureau;
        if (!a->division.empty()) ref.divisions.push_back(a->division);
        // Divisions the sheet named without a top unit stay, under the assigned bureau.
        for (const BureauRef& b : *s->bureaus)
            for (const std::string& d : b.divisions)
                if (std::find(ref.divisions.begin(), ref.divisions.end(), d) == ref.divisions.end()) ref.divisions.push_back(d);
        s->bureaus = std::make_shared<const std::vector<BureauRef>>(std::vector<BureauRef>{ref});
        s->bureau_source = "assignment";
        s->bureau_reason = a->reason;
        ++report.by_assignment;
    }

    // 2. The same 事業 elsewhere in the run: the same title (another year or kind) first, then the parent
    // sheet of a sub-project, then a sibling sub-project. Only sheets that name their bureau (or were
    // assigned one by a person) are sources, so an inference never feeds another.
    std::multimap<std::string, const SheetRecord*> by_title, by_parent;
    for (const SheetRecord* s : sheets) {
        if (!placed(*s) || s->bureau_source == "same事業") continue;
        if (!s->title.empty()) by_title.emplace(title_key(s->title), s);
        if (!s->parent.empty()) by_parent.emplace(title_key(s->parent), s);
    }
    for (SheetRecord* s : missing) {
        if (placed(*s)) continue;
        const SheetRecord* from = nullptr;
        const char* how = "";
        const auto first = [&](const std::multimap<std::string, const SheetRecord*>& m, const std::string& key) -> const SheetRecord* {
            if (key.empty()) return nullptr;
            auto it = m.find(key);
            return it == m.end() ? nullptr : it->second;
        };
        if (!s->title.empty() && (from = first(by_title, title_key(s->title)))) how = "同じ事業名の資料";
        else if (!s->parent.empty() && (from = first(by_title, title_key(s->parent)))) how = "親事業の資料";
        else if (!s->parent.empty() && (from = first(by_parent, title_key(s->parent)))) how = "同じ親事業の資料";
        else if (!s->title.empty() && (from = first(by_parent, title_key(s->title)))) how = "この事業のうちの資料";
        if (!from) continue;
        s->bureaus = from->bureaus;
        s->bureau_source = "same事業";
        std::string what = from->display_title();
        if (from->year) what.append(" ").append(std::to_string(*from->year)).append("年度");
        if (from->kind) what += *from->kind;
        s->bureau_reason = std::string(how) + "「" + what + "」（" + from->location() + "）から";
        ++report.by_same_project;
    }
    for (SheetRecord* s : missing) report.still_without += !placed(*s);
    return report;
}

InferenceReport infer_run_bureaus(const std::vector<SheetRecord*>& sheets, const Config& config) {
    const BureauDirectory bureaus = config.bureaus_path.empty() ? BureauDirectory{} : BureauDirectory::load(config.bureaus_path);
    return infer_bureaus(sheets, load_assignments(config.assignments_path, bureaus));
}

InferenceReport enrich_run_sheets(const std::vector<Sheet*>& sheets, const Config& config) {
    std::vector<SheetRecord> records;
    records.reserve(sheets.size());
    for (const Sheet* s : sheets) records.push_back(SheetRecord::of(*s, s->file));
    std::vector<SheetRecord*> pointers;
    for (SheetRecord& r : records) pointers.push_back(&r);
    const InferenceReport report = infer_run_bureaus(pointers, config);
    for (std::size_t i = 0; i < sheets.size(); ++i) records[i].apply_to(*sheets[i]);
    return report;
}

}  // namespace yosan
