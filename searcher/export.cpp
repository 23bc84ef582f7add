#include "searcher/export.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/budget.h"
#include "core/document_data.h"
#include "core/schema.h"
#include "core/terms.h"
#include "core/text.h"

namespace yosan {

std::vector<Sheet> Searcher::all_matches(const SearchRequest& req, Xapian::doccount cap, Xapian::doccount& total) {
    // The same matches as the search, in the order of its pages (relaxed the same way).
    Relaxation relaxation;
    const Plan plan = make_plan(req, relaxation, false);
    Xapian::Enquire enquire(db_);
    prepare(enquire, plan, req.sort);
    const Xapian::MSet mset = enquire.get_mset(0, cap, db_.get_doccount());
    total = mset.get_matches_estimated();  // exact: check_at_least is every document
    std::vector<Sheet> out;
    out.reserve(mset.size());
    for (auto it = mset.begin(); it != mset.end(); ++it) out.push_back(document_data::decode(it.get_document().get_data()));
    return out;
}

std::vector<Sheet> Searcher::title_phrase_sheets(const std::string& name, Xapian::doccount limit) {
    std::vector<std::string> words;
    for (const Token& t : analyzer_.analyze(name, 0, Analyzer::Mode::query))
        if (t.indexed) words.push_back(std::string(schema::kTitle) + t.term);
    if (words.empty()) return {};
    Xapian::Enquire enquire(db_);
    // All the title words, not a phrase: the positions of punctuation (・) make phrases brittle, and the
    // caller compares normalised titles anyway.
    enquire.set_query(Xapian::Query(Xapian::Query::OP_AND, words.begin(), words.end()));
    enquire.set_weighting_scheme(Xapian::BoolWeight());
    const Xapian::MSet mset = enquire.get_mset(0, limit);
    std::vector<Sheet> out;
    for (auto it = mset.begin(); it != mset.end(); ++it) out.push_back(document_data::decode(it.get_document().get_data()));
    return out;
}

ExportResult export_matches(Searcher& searcher, const SearchRequest& request, Xapian::doccount cap) {
    ExportResult r;
    r.sheets = searcher.all_matches(request, cap, r.total);
    return r;
}

std::string csv_field(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

namespace {

std::string joined(const std::vector<std::string>& values) {
    std::string out;
    for (const std::string& v : values) out.append(out.empty() ? "" : " / ").append(v);
    return out;
}

std::string optional_yen(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : std::string(); }

}  // namespace

std::string export_csv(const ExportResult& result) {
    std::string out = "\xEF\xBB\xBF";  // BOM: Excel reads the file as UTF-8
    const auto row = [&](const std::vector<std::string>& fields) {
        for (std::size_t i = 0; i < fields.size(); ++i) out.append(i ? "," : "").append(csv_field(fields[i]));
        out += "\r\n";
    };
    row({"ID", "事業名", "親事業", "年度", "予算区分", "金額（円）", "前年度額（円）", "増減（円）", "局・庁", "課・室", "局・庁の出所",
         "支出形態", "補助率", "出典ファイル", "出典行"});
    for (const Sheet& s : result.sheets) {
        std::vector<std::string> tops, divisions, forms, rates;
        for (const BureauRef& b : s.bureaus) {
            if (!b.top.empty() && std::find(tops.begin(), tops.end(), b.top) == tops.end()) tops.push_back(b.top);
            for (const std::string& d : b.divisions) divisions.push_back(d);
        }
        for (const SchemeValue& v : s.scheme.forms) forms.push_back(v.value);
        for (const SchemeValue& v : s.scheme.rates) rates.push_back(v.value);
        std::string parent = s.parent;
        if (!s.sub_label.empty()) parent += (parent.empty() ? "" : " のうち ") + s.sub_label;
        // A string rather than an optional: GCC's -Wmaybe-uninitialized misfires on an optional built here.
        const std::string change = s.amount && s.previous_amount ? std::to_string(*s.amount - *s.previous_amount) : std::string();
        const std::string source = s.bureau_source == "assignment" ? "割り当て表" : s.bureau_source == "same事業" ? "同じ事業の資料" : "";
        row({s.id, s.title, parent, s.year ? std::to_string(*s.year) : "", s.kind.value_or(""), optional_yen(s.amount),
             optional_yen(s.previous_amount), change, joined(tops), joined(divisions), source, joined(forms),
             joined(rates), s.file, std::to_string(s.first_line) + "-" + std::to_string(s.last_line)});
    }
    if (result.truncated())
        row({"# " + std::to_string(result.sheets.size()) + " 件で打ち切りました（該当 " + std::to_string(result.total) +
             " 件）。条件を絞ってください"});
    return out;
}

namespace {

int kind_rank(const std::optional<std::string>& kind) {
    static constexpr std::string_view order[] = {"当初", "補正", "予備費", "要求"};
    for (int i = 0; i < 4; ++i)
        if (kind == order[i]) return i;
    return 4;
}

}  // namespace

std::optional<Timeline> timeline(Searcher& searcher, const std::string& id) {
    std::optional<Sheet> self = searcher.sheet(id);
    if (!self) return std::nullopt;
    Timeline t;
    t.name = self->title.empty() ? self->parent : self->title;
    if (t.name.empty()) {  // an untitled sheet is a 事業 of its own
        t.sheets.push_back(std::move(*self));
        return t;
    }
    // The 事業 is its name: sheets with that title (in any year or kind, also where it is written as a part
    // of a larger 事業), its sub-projects (「name のうち、…」), and the parent sheet of this one. The
    // candidates hold the name as a title phrase; the key comparison drops longer titles that merely
    // contain it (another 事業).
    const std::string key = title_key(t.name), parent_key = title_key(self->parent);
    std::vector<Sheet> candidates = searcher.title_phrase_sheets(t.name, 1000);
    if (!self->parent.empty())
        for (Sheet& s : searcher.title_phrase_sheets(self->parent, 1000)) candidates.push_back(std::move(s));
    std::set<std::string> seen;
    for (Sheet& s : candidates) {
        const bool same = title_key(s.title) == key || title_key(s.parent) == key;
        const bool parent = !parent_key.empty() && s.parent.empty() && title_key(s.title) == parent_key;
        if ((same || parent) && seen.insert(s.id).second) t.sheets.push_back(std::move(s));
    }
    if (!seen.count(id)) t.sheets.push_back(std::move(*self));
    t.parent = self->parent;
    std::stable_sort(t.sheets.begin(), t.sheets.end(), [&](const Sheet& a, const Sheet& b) {
        if (a.year.value_or(0) != b.year.value_or(0)) return a.year.value_or(0) < b.year.value_or(0);
        if (kind_rank(a.kind) != kind_rank(b.kind)) return kind_rank(a.kind) < kind_rank(b.kind);
        const auto level = [&](const Sheet& s) { return title_key(s.title) == key ? 1 : title_key(s.parent) == key ? 2 : 0; };
        if (level(a) != level(b)) return level(a) < level(b);  // parent, the 事業, its parts
        return a.first_line < b.first_line;
    });
    return t;
}

nlohmann::json timeline_json(const Timeline& t) {
    nlohmann::json j = {{"name", t.name}, {"sheets", nlohmann::json::array()}, {"series", nlohmann::json::array()}};
    // The series: per year × kind, the 事業's own sheet; without one, its parts added up (marked).
    struct Point {
        std::optional<std::int64_t> own, previous;
        std::int64_t parts = 0;
        int part_count = 0;
    };
    std::map<std::pair<int, int>, Point> points;
    std::map<std::pair<int, int>, std::string> kind_of;
    const std::string key = title_key(t.name);
    for (const Sheet& s : t.sheets) {
        const bool own = title_key(s.title) == key, part = !own && title_key(s.parent) == key;
        nlohmann::json e = {{"id", s.id}, {"title", s.display_title()}, {"level", own ? "事業" : part ? "内訳" : "親事業"}};
        if (!s.sub_label.empty()) e["sub_label"] = s.sub_label;
        if (s.year) e["year"] = *s.year, e["year_label"] = era_year(*s.year);
        if (s.kind) e["kind"] = *s.kind;
        if (s.amount) e["amount"] = *s.amount;
        if (s.previous_amount) e["previous_amount"] = *s.previous_amount;
        if (s.amount && s.previous_amount) e["change_yen"] = *s.amount - *s.previous_amount;
        if (s.is_new) e["new"] = true;
        j["sheets"].push_back(std::move(e));
        if (!s.year || !s.amount || !(own || part)) continue;  // the parent's amount is another 事業's
        const std::pair<int, int> at{*s.year, kind_rank(s.kind)};
        kind_of[at] = s.kind.value_or("");
        Point& p = points[at];
        if (own) {
            p.own = *s.amount;
            p.previous = s.previous_amount;
        } else {
            p.parts += *s.amount;
            ++p.part_count;
        }
    }
    for (const auto& [at, p] : points) {
        const std::int64_t amount = p.own ? *p.own : p.parts;
        nlohmann::json e = {{"year", at.first}, {"year_label", era_year(at.first)}, {"kind", kind_of[at]}, {"amount_yen", amount}};
        if (!p.own) e["sum_of_parts"] = p.part_count;
        // The change from the previous year: as the sheet states it, else from last year's point of the
        // same kind in this timeline.
        std::optional<std::int64_t> before = p.previous;
        if (!before)
            if (auto prev = points.find({at.first - 1, at.second}); prev != points.end())
                before = prev->second.own ? *prev->second.own : prev->second.parts;
        if (before) e["previous_yen"] = *before, e["change_yen"] = amount - *before;
        j["series"].push_back(std::move(e));
    }
    return j;
}

}  // namespace yosan
