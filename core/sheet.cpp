#include "core/sheet.h"

#include "core/text.h"

namespace yosan {

std::string sheet_location(const std::string& file, std::uint32_t first_line, std::uint32_t last_line) {
    return file + ":" + std::to_string(first_line) + "-" + std::to_string(last_line);
}

std::string display_title(std::string_view title) { return title.empty() ? "（題名なし）" : std::string(title); }

std::string Sheet::location() const { return sheet_location(file, first_line, last_line); }

std::string Sheet::display_title() const { return yosan::display_title(title); }

const Section* Sheet::section(const std::string& key) const {
    for (const Section& s : sections)
        if (s.key == key) return &s;
    return nullptr;
}

namespace {
template <class T>
void put(nlohmann::json& j, const char* name, const std::optional<T>& v) {
    if (v) j[name] = *v;
}
template <class T>
void get(const nlohmann::json& j, const char* name, std::optional<T>& v) {
    if (auto it = j.find(name); it != j.end() && !it->is_null()) v = it->get<T>();
}
}  // namespace

nlohmann::json Sheet::to_json() const {
    nlohmann::json j;
    j["id"] = id;
    j["title"] = title;
    if (!parent.empty()) j["parent"] = parent;
    if (!sub_label.empty()) j["sub_label"] = sub_label;
    put(j, "year", year);
    put(j, "kind", kind);
    put(j, "amount", amount);
    put(j, "previous_amount", previous_amount);
    if (is_new) j["new"] = true;
    if (approximate) j["approximate"] = true;
    put(j, "total", total);
    if (!total_basis.empty()) j["total_basis"] = total_basis;
    put(j, "gx_amount", gx_amount);
    if (!budget_text.empty()) j["budget_text"] = budget_text;
    if (!within.empty()) j["within"] = within;
    for (const Allocation& a : allocations)
        j["allocations"].push_back({{"year", a.year}, {"kind", a.kind}, {"yen", a.yen}, {"text", a.text}});
    j["bureaus"] = nlohmann::json::array();
    for (const BureauRef& b : bureaus) j["bureaus"].push_back({{"top", b.top}, {"divisions", b.divisions}});
    if (!bureau_source.empty()) j["bureau_inferred"] = {{"source", bureau_source}, {"reason", bureau_reason}};
    if (!scheme.empty()) {
        auto values = [](const std::vector<SchemeValue>& vs) {
            nlohmann::json a = nlohmann::json::array();
            for (const SchemeValue& v : vs) a.push_back({{"value", v.value}, {"line", v.line}});
            return a;
        };
        nlohmann::json limits = nlohmann::json::array();
        for (const SchemeLimit& l : scheme.limits) limits.push_back({{"yen", l.yen}, {"text", l.text}, {"line", l.line}});
        j["scheme"] = {{"forms", values(scheme.forms)}, {"rates", values(scheme.rates)}, {"limits", limits}};
    }
    j["sections"] = nlohmann::json::array();
    for (const Section& s : sections)
        j["sections"].push_back({{"key", s.key}, {"title", s.title}, {"text", s.text}, {"line", s.first_line}});
    j["source"] = {{"file", file}, {"first_line", first_line}, {"last_line", last_line}};
    if (budget_line) j["source"]["budget_line"] = budget_line;
    return j;
}

Sheet Sheet::from_json(const nlohmann::json& j) {
    Sheet s;
    s.id = j.value("id", "");
    s.title = j.value("title", "");
    s.parent = j.value("parent", "");
    s.sub_label = j.value("sub_label", "");
    get(j, "year", s.year);
    get(j, "kind", s.kind);
    get(j, "amount", s.amount);
    get(j, "previous_amount", s.previous_amount);
    s.is_new = j.value("new", false);
    s.approximate = j.value("approximate", false);
    get(j, "total", s.total);
    s.total_basis = j.value("total_basis", "");
    get(j, "gx_amount", s.gx_amount);
    s.budget_text = j.value("budget_text", "");
    s.within = j.value("within", "");
    if (auto it = j.find("allocations"); it != j.end())
        for (const auto& a : *it) s.allocations.push_back({a.at("year"), a.at("kind"), a.at("yen"), a.at("text")});
    for (const auto& b : j.value("bureaus", nlohmann::json::array()))
        s.bureaus.push_back({b.at("top"), b.at("divisions").get<std::vector<std::string>>()});
    if (auto it = j.find("bureau_inferred"); it != j.end()) {
        s.bureau_source = it->value("source", "");
        s.bureau_reason = it->value("reason", "");
    }
    if (auto it = j.find("scheme"); it != j.end()) {
        for (const auto& v : it->value("forms", nlohmann::json::array())) s.scheme.forms.push_back({v.at("value"), v.at("line")});
        for (const auto& v : it->value("rates", nlohmann::json::array())) s.scheme.rates.push_back({v.at("value"), v.at("line")});
        for (const auto& v : it->value("limits", nlohmann::json::array()))
            s.scheme.limits.push_back({v.at("yen"), v.at("text"), v.at("line")});
    }
    for (const auto& x : j.value("sections", nlohmann::json::array()))
        s.sections.push_back({x.at("key"), x.at("title"), x.at("text"), x.at("line")});
    const auto& src = j.at("source");
    s.file = src.value("file", "");
    s.first_line = src.value("first_line", 0u);
    s.last_line = src.value("last_line", 0u);
    s.budget_line = src.value("budget_line", 0u);
    return s;
}

std::string title_key(std::string_view title) {
    std::string key;
    for (char c : normalize(title))
        if (c != ' ') key += c;
    return key;
}

}  // namespace yosan
