#include "core/bureaus.h"

#include <algorithm>
#include <fstream>

#include "core/error.h"
#include "core/text.h"

namespace yosan {

namespace {

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= line.size(); ++i)
        if (i == line.size() || line[i] == '\t') {
            out.emplace_back(trim(std::string_view(line).substr(start, i - start)));
            start = i + 1;
        }
    return out;
}

bool ends_with_any(std::string_view s, std::initializer_list<std::string_view> suffixes) {
    for (auto x : suffixes)
        if (s.ends_with(x)) return true;
    return false;
}

// Unit suffixes, longest first so that グループ wins over nothing and 官房 is tried before 部/室.
constexpr std::string_view kSuffixes[] = {"グループ", "チーム", "官房", "局", "庁", "部", "課", "室"};

// "1", "1・2", "1,4", "2" of "(2)・(3)": the sub-project numbers that prefix organisation lines.
bool is_numbering(std::string_view inside) {
    bool digit = false;
    for (std::size_t i = 0; i < inside.size();) {
        if (inside[i] >= '0' && inside[i] <= '9') digit = true, ++i;
        else if (inside[i] == ',' || inside[i] == ' ') ++i;
        else if (inside.compare(i, 3, "・") == 0 || inside.compare(i, 3, "、") == 0) i += 3;
        else return false;
    }
    return digit;
}

}  // namespace

BureauDirectory BureauDirectory::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ConfigError("組織名辞書を開けません", path);
    BureauDirectory d;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (trim(line).empty() || trim(line).front() == '#') continue;
        auto f = split_tabs(line);
        if (f.size() != 3) throw ConfigError("3 列（種類・名称・値）で書いてください", path + ":" + std::to_string(n));
        if (f[0] == "alias") d.add_alias(nfkc(f[1]), nfkc(f[2]));
        else if (f[0] == "division") d.add_division(nfkc(f[1]), nfkc(f[2]));
        else throw ConfigError("種類は alias か division です: " + f[0], path + ":" + std::to_string(n));
    }
    return d;
}

std::string BureauDirectory::canonical(std::string_view name) const {
    std::string n(trim(nfkc(name)));
    if (auto it = aliases_.find(n); it != aliases_.end()) return it->second;
    return n;
}

std::optional<std::string> BureauDirectory::top_of(std::string_view division) const {
    if (auto it = division_top_.find(canonical(division)); it != division_top_.end()) return it->second;
    return std::nullopt;
}

bool BureauDirectory::is_top_unit(std::string_view name) {
    return name == "大臣官房" || ends_with_any(name, {"局", "庁", "グループ"});
}

std::optional<std::vector<BureauRef>> BureauDirectory::parse_line(std::string_view raw,
                                                                  const std::string& inherited_top) const {
    // Drop list markers and sub-project numbers: "- (1) (2)", "(1・2)", "(1,4)", "(2)・(3)".
    std::string s = nfkc(trim(raw));
    for (const auto& [from, to] : aliases_)
        replace_all(s, from, to);
    std::string cleaned;
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == '(') {
            std::size_t close = s.find(')', i);
            if (close != std::string::npos && is_numbering(std::string_view(s).substr(i + 1, close - i - 1))) {
                cleaned += ' ';
                i = close + 1;
                continue;
            }
        }
        cleaned += s[i++];
    }
    std::string_view rest = trim(cleaned);
    if (rest.starts_with("-")) rest = trim(rest.substr(1));

    // Scan units: each ends at the nearest unit suffix; separators are spaces, 、 and ・ between units.
    std::vector<std::string> units;
    while (true) {
        while (true) {
            std::string_view t = trim(rest);
            if (t.starts_with("、") || t.starts_with("・")) t = t.substr(3);
            else if (t.starts_with(",") || t.starts_with("-")) t = t.substr(1);
            if (t.size() == rest.size()) break;
            rest = t;
        }
        if (rest.empty()) break;
        std::size_t best = std::string_view::npos, best_len = 0;
        for (auto suf : kSuffixes) {
            std::size_t at = rest.find(suf);
            if (at != std::string_view::npos && (at < best || (at == best && suf.size() > best_len))) best = at, best_len = suf.size();
        }
        if (best == std::string_view::npos) return std::nullopt;
        std::string unit(rest.substr(0, best + best_len));
        // A unit never contains sentence punctuation or spaces, and never names an incorporated body.
        if (unit.find(' ') != std::string::npos || unit.find("。") != std::string::npos ||
            unit.find("独立行政法人") != std::string::npos || utf8_length(unit) > 24)
            return std::nullopt;
        // A bare suffix is a typo in the sheet (事業環境部課企画課), not a unit of its own.
        if (best > 0) units.push_back(std::move(unit));
        rest.remove_prefix(best + best_len);
    }
    if (units.empty()) return std::nullopt;

    std::vector<BureauRef> out;
    std::string top = inherited_top;
    for (const std::string& u0 : units) {
        std::string u = canonical(u0);
        if (is_top_unit(u)) {
            top = u;
            out.push_back({u, {}});
            continue;
        }
        std::string owner = top.empty() ? top_of(u).value_or("") : top;
        if (out.empty() || out.back().top != owner) out.push_back({owner, {}});
        out.back().divisions.push_back(u);
    }
    return out;
}

void merge_bureaus(std::vector<BureauRef>& into, const std::vector<BureauRef>& more) {
    for (const BureauRef& b : more) {
        auto it = std::find_if(into.begin(), into.end(), [&](const BureauRef& x) { return x.top == b.top; });
        if (it == into.end()) it = into.insert(into.end(), BureauRef{b.top, {}});
        for (const std::string& d : b.divisions)
            if (std::find(it->divisions.begin(), it->divisions.end(), d) == it->divisions.end()) it->divisions.push_back(d);
    }
}

}  // namespace yosan
