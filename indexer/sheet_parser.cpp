#include "indexer/sheet_parser.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "core/budget.h"
#include "core/error.h"
#include "core/text.h"

namespace yosan {

namespace {

// ---------------------------------------------------------------------------------------------------
// Line classification

// NFKC, without the PDF converter's ** emphasis, trimmed. Used for classifying; sheets keep the original.
std::string clean(std::string_view line) {
    std::string s = nfkc(line);
    replace_all(s, "**", "");
    return std::string(trim(s));
}

// The display form of a body line: the original characters without ** emphasis.
std::string display(std::string_view line) {
    std::string s(trim(line));
    replace_all(s, "**", "");
    return std::string(trim(s));
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

enum class Heading { none, container, purpose, overview, scheme, goals, background, roles, allocation };

Heading heading_of(const std::string& c) {
    if (utf8_length(c) > 32) return Heading::none;
    if (c == "事業目的・概要" || c == "事業の内容") return Heading::container;
    if (c == "事業目的") return Heading::purpose;
    if (c == "事業概要") return Heading::overview;
    if (starts_with(c, "事業スキーム") || c == "事業イメージ") return Heading::scheme;
    if (c == "成果目標" || starts_with(c, "成果目標・")) return Heading::goals;
    if (c == "背景・必要性") return Heading::background;
    if (c == "各省の役割") return Heading::roles;
    if (c == "予算配分額") return Heading::allocation;
    return Heading::none;
}

const char* section_key(Heading h) {
    switch (h) {
        case Heading::purpose: return "purpose";
        case Heading::overview: return "overview";
        case Heading::scheme: return "scheme";
        case Heading::goals: return "goals";
        case Heading::background: return "background";
        case Heading::roles: return "roles";
        case Heading::allocation: return "allocation";
        default: return "overview";
    }
}

bool is_within_note(const std::string& c) { return starts_with(c, "(") && c.ends_with("内数)"); }
bool is_ministry_marker(const std::string& c) { return starts_with(c, "主担当庁:"); }
bool is_project_number(const std::string& c) { return starts_with(c, "プロジェクト番号:"); }

// "(2) 子事業", "(2)子事業": the sub-project number and the rest.
std::optional<std::pair<std::string, std::string>> split_sub_label(const std::string& c) {
    static const std::regex re(R"(^\(([0-9]+)\)\s*(.+)$)");
    std::smatch m;
    if (!std::regex_match(c, m, re)) return std::nullopt;
    std::string label = "(";
    label.append(m[1].str()).append(")");
    return std::make_pair(label, std::string(trim(m[2].str())));
}

// ---------------------------------------------------------------------------------------------------
// Amounts inside a line

const std::string kAmount = R"(((?:約\s*)?[0-9][0-9,.]*(?:\s*(?:兆|億|百万|千万|万|千)\s*[0-9][0-9,.]*)*\s*(?:兆|億|百万|千万|万|千)?\s*円))";

std::optional<std::int64_t> amount_at_front(std::string_view& s, bool* approximate = nullptr) {
    static const std::regex re("^\\s*" + kAmount);
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(s.begin(), s.end(), m, re)) return std::nullopt;
    std::string text = m[1].str();
    if (starts_with(text, "約")) {
        if (approximate) *approximate = true;
        text = text.substr(3);
    }
    s.remove_prefix(m[0].length());
    return parse_yen(text);
}

std::vector<std::int64_t> all_amounts(const std::string& s) {
    static const std::regex re(kAmount);
    std::vector<std::int64_t> out;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) {
        std::string t = (*it)[1].str();
        if (starts_with(t, "約")) t = t.substr(3);
        if (auto y = parse_yen(t)) out.push_back(*y);
    }
    return out;
}

// Reads the bracketed remarks after an amount: (18億円) (新規) (一部GX 1,576億円) (国庫債務負担…総額3,000億円).
void read_remarks(std::string_view rest, BudgetLine& b) {
    while (true) {
        rest = trim(rest);
        if (!starts_with(rest, "(")) return;
        std::size_t close = rest.find(')');
        if (close == std::string_view::npos) return;
        std::string inside(trim(rest.substr(1, close - 1)));
        rest.remove_prefix(close + 1);
        auto amounts = all_amounts(inside);
        if (inside.find("新規") != std::string::npos && amounts.empty()) {
            b.is_new = true;
        } else if (starts_with(inside, "一部GX") && !amounts.empty()) {
            b.gx_amount = amounts.front();
        } else if (inside.find("含め") != std::string::npos || inside.find("含む") != std::string::npos) {
            b.total = amounts.empty() ? b.amount : std::optional<std::int64_t>(amounts.back());
            b.total_basis = inside;
        } else if (amounts.size() == 1) {
            b.previous_amount = amounts.front();
        }
    }
}

}  // namespace

std::optional<BudgetLine> parse_budget_line(std::string_view raw) {
    const std::string c = clean(raw);
    if (c.find("。") != std::string::npos || utf8_length(c) > 160 || starts_with(c, "-") || starts_with(c, "・"))
        return std::nullopt;
    static const std::regex fy_re(
        R"((令和|平成)\s*([0-9]+|元)\s*年度\s*(当初|補正|予備費)?\s*(概算要求額|要求額|予算額|予算)(等)?)");
    static const std::regex total_re(R"((国庫債務負担(?:行為)?(?:等)?(?:を)?含め|政府保証付借入含め)\s*(総額)?)");
    std::smatch fy, total;
    const bool has_fy = std::regex_search(c, fy, fy_re);
    const bool has_total = std::regex_search(c, total, total_re);
    if (!has_fy && !has_total) return std::nullopt;

    const std::size_t first = std::min(has_fy ? fy.position(0) : c.size(), has_total ? total.position(0) : c.size());
    BudgetLine b;
    b.title_prefix = std::string(trim(std::string_view(c).substr(0, first)));
    if (b.title_prefix.ends_with("※")) return std::nullopt;  // a remark that quotes a budget, not a budget line

    if (has_total) {
        std::string_view rest = std::string_view(c).substr(total.position(0) + total.length(0));
        b.total = amount_at_front(rest);
        b.total_basis = total[1].str();
    }
    if (has_fy) {
        const std::string era = fy[1].str(), num = fy[2].str();
        b.year = parse_fiscal_year(era + num + "年度");
        const std::string kind = fy[3].str(), label = fy[4].str();
        b.kind = label.find("要求") != std::string::npos ? std::string(kKindRequest)
                 : kind.empty()                          ? std::string(kKindInitial)
                                                         : *parse_kind(kind);
        std::string_view rest = std::string_view(c).substr(fy.position(0) + fy.length(0));
        rest = trim(rest);
        if (starts_with(rest, ":")) rest.remove_prefix(1);
        rest = trim(rest);
        const bool sum_label = starts_with(rest, "総額");
        if (sum_label) rest.remove_prefix(6);
        b.amount = amount_at_front(rest, &b.approximate);
        if (b.amount) read_remarks(rest, b);
    }
    b.readable = b.amount.has_value() || b.total.has_value();
    return b;
}

// ---------------------------------------------------------------------------------------------------
// Files

std::string read_sheet_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("ファイルを開けません", path);
    std::ostringstream buf;
    buf << in.rdbuf();
    std::string text = buf.str();
    if (trim(text).empty()) throw InputError("空のファイルです", path + ":1");
    const auto line_of = [&](std::size_t offset) {
        return path + ":" + std::to_string(1 + std::count(text.begin(), text.begin() + offset, '\n'));
    };
    // NUL bytes and other C0 controls (besides tab, newline, CR, form feed) mean binary data.
    for (std::size_t i = 0; i < text.size(); ++i) {
        const unsigned char ch = static_cast<unsigned char>(text[i]);
        if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f')
            throw InputError("バイナリファイルのようです（制御文字があります）", line_of(i));
    }
    if (auto bad = first_invalid_utf8(text); bad != std::string::npos)
        throw InputError("UTF-8 ではない文字があります（文字コードを UTF-8 にしてください）", line_of(bad));
    if (starts_with(text, "\xEF\xBB\xBF")) text.erase(0, 3);
    text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
    return text;
}

// ---------------------------------------------------------------------------------------------------
// Splitting a file into sheets

namespace {

struct Line {
    std::string raw;    // as in the file
    std::string clean;  // NFKC, no emphasis, trimmed
    Heading heading = Heading::none;
    std::optional<BudgetLine> budget;
};

struct Anchor {
    std::size_t line;            // 0-based index of the anchor line
    enum { budget, ministry, lost_title } kind;
    std::size_t start = 0;       // first line of the sheet (the title, or earlier)
    std::size_t title = SIZE_MAX, parent = SIZE_MAX;  // line indexes, SIZE_MAX for none
};

}  // namespace

ParseResult SheetParser::parse(std::string_view text, const std::string& file) const {
    ParseResult result;
    std::vector<Line> lines;
    for (std::size_t start = 0; start <= text.size();) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        Line l;
        l.raw = std::string(text.substr(start, end - start));
        l.clean = clean(l.raw);
        l.heading = heading_of(l.clean);
        if (l.heading == Heading::none) l.budget = parse_budget_line(l.raw);
        lines.push_back(std::move(l));
        if (end == text.size()) break;
        start = end + 1;
    }
    const auto warn = [&](std::size_t index, std::string message, bool skipped = true) {
        result.warnings.push_back({file, static_cast<std::uint32_t>(index + 1), std::move(message), skipped});
    };
    const auto is_blank = [&](std::size_t i) { return lines[i].clean.empty(); };
    const auto is_org = [&](std::size_t i) { return bureaus_.parse_line(lines[i].clean, "").has_value(); };

    // Pass 1: anchors, in order. A heading that follows a finished sheet starts a sheet with no title.
    std::vector<Anchor> anchors;
    bool seen_goals = false, in_sheet = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const Line& l = lines[i];
        if (l.budget) {
            // A second budget line in one header (「※令和7年度…」 was handled inside the line) belongs to it.
            if (in_sheet && !seen_goals && anchors.back().kind == Anchor::budget && i - anchors.back().line <= 6 &&
                !l.budget->readable)
                continue;
            anchors.push_back({i, Anchor::budget});
            in_sheet = true, seen_goals = false;
        } else if (is_ministry_marker(l.clean)) {
            anchors.push_back({i, Anchor::ministry});
            in_sheet = true, seen_goals = false;
        } else if (l.heading == Heading::container && in_sheet && seen_goals) {
            anchors.push_back({i, Anchor::lost_title});
            seen_goals = false;
        } else if (l.heading == Heading::goals) {
            seen_goals = true;
        }
    }

    // Pass 2: walk back from each anchor to the title.
    for (std::size_t k = 0; k < anchors.size(); ++k) {
        Anchor& a = anchors[k];
        const std::size_t floor = k == 0 ? 0 : anchors[k - 1].line + 1;
        a.start = a.line;
        if (a.kind == Anchor::lost_title) continue;
        if (a.kind == Anchor::budget && !lines[a.line].budget->title_prefix.empty()) {
            a.title = a.line;
        } else {
            std::size_t j = a.line;
            while (j > floor) {
                --j;
                const Line& l = lines[j];
                if (is_blank(j) || is_within_note(l.clean) || (a.kind == Anchor::budget && is_org(j))) continue;
                if (l.heading == Heading::none && !l.budget) a.title = j;
                break;
            }
        }
        if (a.title == SIZE_MAX) continue;
        a.start = a.title;
        // 「親事業のうち、」 on the line before a 「(2) 子事業」 title, or before a combined title line.
        const bool sub_title = a.title != a.line ? split_sub_label(lines[a.title].clean).has_value()
                                                 : lines[a.line].budget->title_prefix.ends_with("のうち、") ||
                                                       lines[a.line].budget->title_prefix.ends_with("のうち");
        std::size_t j = a.title;
        while (j > floor && is_blank(j - 1)) --j;
        if (j > floor) {
            const std::string& prev = lines[j - 1].clean;
            if (sub_title && (prev.ends_with("のうち、") || prev.ends_with("のうち"))) a.parent = j - 1, a.start = j - 1;
            else if (is_project_number(prev)) a.start = j - 1;
        }
    }

    // Text before the first sheet that is not blank cannot be attributed to any sheet.
    const std::size_t first_start = anchors.empty() ? lines.size() : anchors.front().start;
    for (std::size_t i = 0; i < first_start; ++i)
        if (!is_blank(i)) {
            warn(i, "どのシートにも属さない行があります（題名か予算額の行が見つかりません）");
            break;
        }

    // Pass 3: build each sheet.
    for (std::size_t k = 0; k < anchors.size(); ++k) {
        const Anchor& a = anchors[k];
        std::size_t end = k + 1 < anchors.size() ? anchors[k + 1].start : lines.size();
        while (end > a.start && is_blank(end - 1)) --end;
        Sheet s;
        s.file = file;
        s.first_line = static_cast<std::uint32_t>(a.start + 1);
        s.last_line = static_cast<std::uint32_t>(end);

        // Title, parent and sub label.
        std::string title;
        if (a.title == a.line && a.kind == Anchor::budget) title = lines[a.line].budget->title_prefix;
        else if (a.title != SIZE_MAX) title = lines[a.title].clean;
        if (a.parent != SIZE_MAX) s.parent = lines[a.parent].clean;
        if (auto at = title.find("のうち"); at != std::string::npos && s.parent.empty()) {
            s.parent = std::string(trim(title.substr(0, at)));
            title = std::string(trim(title.substr(at + std::string_view("のうち").size())));
            if (starts_with(title, "、")) title = std::string(trim(title.substr(3)));
        }
        for (const char* suffix : {"のうち、", "のうち"})
            if (s.parent.ends_with(suffix)) s.parent.resize(s.parent.size() - std::string_view(suffix).size());
        s.parent = std::string(trim(s.parent));
        if (auto sub = split_sub_label(title)) s.sub_label = sub->first, title = sub->second;
        s.title = title;
        if (title.empty()) warn(a.start, "題名がありません（PDF からの変換で失われた可能性があります）", false);

        // Header: budget, organisation lines and notes up to the first heading.
        std::size_t i = a.start;
        std::string inherited_top;
        Section notes{"note", "備考", "", 0};
        for (; i < end && lines[i].heading == Heading::none; ++i) {
            const Line& l = lines[i];
            if (is_blank(i) || ((i == a.title && i != a.line) || i == a.parent)) continue;
            if (l.budget && i == a.line) {
                const BudgetLine& b = *l.budget;
                s.budget_line = static_cast<std::uint32_t>(i + 1);
                s.budget_text = display(l.raw);
                s.year = b.year, s.kind = b.kind, s.amount = b.amount, s.previous_amount = b.previous_amount;
                s.total = b.total, s.total_basis = b.total_basis, s.gx_amount = b.gx_amount;
                s.is_new = b.is_new, s.approximate = b.approximate;
                if (!b.readable) warn(i, "予算額の行から金額を読み取れません: " + l.clean);
            } else if (auto orgs = bureaus_.parse_line(l.clean, inherited_top)) {
                merge_bureaus(s.bureaus, *orgs);
                if (!orgs->empty() && !orgs->back().top.empty()) inherited_top = orgs->back().top;
            } else if (is_within_note(l.clean)) {
                s.within = l.clean.substr(1, l.clean.size() - 2);
            } else {
                if (!notes.first_line) notes.first_line = static_cast<std::uint32_t>(i + 1);
                append_line(notes.text, display(l.raw));
            }
        }
        if (!notes.text.empty()) s.sections.push_back(notes);

        // Sections.
        Section* current = nullptr;
        bool cross_ministry = a.kind == Anchor::ministry;
        for (; i < end; ++i) {
            const Line& l = lines[i];
            if (l.heading != Heading::none) {
                if (l.heading == Heading::container && !cross_ministry) {
                    current = nullptr;  // 事業目的・概要 only groups the headings that follow
                    continue;
                }
                s.sections.push_back({section_key(l.heading), l.clean, "", static_cast<std::uint32_t>(i + 1)});
                current = &s.sections.back();
                continue;
            }
            if (is_blank(i)) continue;
            if (!current) {
                s.sections.push_back({"overview", "事業の内容", "", static_cast<std::uint32_t>(i + 1)});
                current = &s.sections.back();
            }
            append_line(current->text, display(l.raw));
        }
        // Empty sections (a heading with a figure under it in the PDF) carry nothing to search or show.
        std::erase_if(s.sections, [](const Section& x) { return x.text.empty(); });

        // Cross-ministry sheets: the latest 予算配分額 entry gives the year, kind and amount.
        if (const Section* alloc = s.section("allocation")) {
            static const std::regex re(R"((令和|平成)\s*([0-9]+|元)\s*年度\s*\(\s*(当初|補正|予備費)\s*\))");
            std::istringstream in(alloc->text);
            std::uint32_t n = alloc->first_line;
            for (std::string line; std::getline(in, line); ++n) {
                const std::string c = clean(line);
                std::smatch m;
                if (!std::regex_search(c, m, re)) continue;
                auto amounts = all_amounts(c.substr(m.position(0) + m.length(0)));
                if (amounts.empty()) continue;
                Allocation al{*parse_fiscal_year(m[1].str() + m[2].str()), *parse_kind(m[3].str()), 0, display(line)};
                for (auto y : amounts) al.yen += y;
                s.allocations.push_back(al);
            }
            // The latest year; of equal years the last written (補正 after 当初).
            const Allocation* latest = nullptr;
            for (const Allocation& al : s.allocations)
                if (!latest || al.year >= latest->year) latest = &al;
            if (latest && !s.amount) s.year = latest->year, s.kind = latest->kind, s.amount = latest->yen;
        }
        if (!s.budget_line && s.allocations.empty())
            warn(a.start, "予算額の行がありません（金額なしで登録します）", false);
        if (s.sections.empty()) warn(a.start, "本文（事業目的・事業概要など）がありません。シートが途中で切れている可能性があります");
        result.sheets.push_back(std::move(s));
    }

    // A 「(3) 子事業」 sheet without 「…のうち、」: its parent is the sheet whose overview lists it.
    for (Sheet& s : result.sheets) {
        if (s.sub_label.empty() || !s.parent.empty()) continue;
        const std::string wanted = normalize(s.sub_label + s.title);
        for (const Sheet& other : result.sheets) {
            if (&other == &s || other.title.empty()) continue;
            for (const Section& sec : other.sections) {
                std::string flat;
                for (char ch : normalize(sec.text))
                    if (ch != ' ' && ch != '*') flat += ch;
                std::string w;
                for (char ch : wanted)
                    if (ch != ' ') w += ch;
                if (flat.find(w) != std::string::npos) {
                    s.parent = other.parent.empty() ? other.title : other.parent;
                    break;
                }
            }
            if (!s.parent.empty()) break;
        }
    }
    return result;
}

// ---------------------------------------------------------------------------------------------------
// Ids

namespace {
std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return h;
}
}  // namespace

std::string base_id(const Sheet& s) {
    std::string key;
    for (char c : normalize(s.parent + "|" + s.sub_label + s.title))
        if (c != ' ') key += c;
    if (s.title.empty())  // no title: the opening words of the sheet stand in for it
        for (const Section& sec : s.sections) {
            key += normalize(sec.text.substr(0, sec.text.find('\n')));
            break;
        }
    key.append("|").append(s.year ? std::to_string(*s.year) : "-").append("|").append(s.kind.value_or("-"));
    char hex[17];
    std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(fnv1a(key) & 0xFFFFFFFFFFFFULL));
    return hex;
}

void assign_ids(std::vector<Sheet*>& sheets) {
    std::map<std::string, int> seen;
    for (Sheet* s : sheets) {
        std::string id = base_id(*s);
        int n = ++seen[id];
        if (n > 1) id.append("-").append(std::to_string(n));
        s->id = id;
    }
}

}  // namespace yosan
