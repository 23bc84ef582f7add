#include "indexer/sheet_parser.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/budget.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/text.h"
#include "indexer/scheme.h"

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

// ---------------------------------------------------------------------------------------------------
// Scanning a cleaned line by hand
//
// No std::regex here: libstdc++'s matcher recurses once per character and overflows the stack on a
// line of some ten thousand characters (a title line of 27 KB, a 30,000-digit amount killed whole runs).
// These scanners walk the line once, need no stack, and cost time linear in the line's length. The
// pattern each implements is written above it. Lines are NFKC already: digits, brackets, colons and
// spaces are ASCII.

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::size_t skip_spaces(std::string_view s, std::size_t i) {
    while (i < s.size() && is_space(s[i])) ++i;
    return i;
}

// Eats `word` at s[i].
bool eat(std::string_view s, std::size_t& i, std::string_view word) {
    if (i > s.size() || s.substr(i, word.size()) != word) return false;
    i += word.size();
    return true;
}

// Eats the first of `words` found at s[i] and returns it, or returns an empty view. Where one word is a
// prefix of another, the longer comes first.
std::string_view eat_any(std::string_view s, std::size_t& i, std::initializer_list<std::string_view> words) {
    for (std::string_view w : words)
        if (eat(s, i, w)) return w;
    return {};
}

// "(2) 子事業", "(2)子事業": the sub-project number and the rest.   ^\(([0-9]+)\)\s*(.+)$
std::optional<std::pair<std::string, std::string>> split_sub_label(std::string_view c) {
    std::size_t i = 0;
    if (!eat(c, i, "(")) return std::nullopt;
    const std::size_t digits = i;
    while (i < c.size() && is_digit(c[i])) ++i;
    if (i == digits || !eat(c, i, ")")) return std::nullopt;
    const std::string label(c.substr(0, i));
    i = skip_spaces(c, i);
    if (i == c.size()) return std::nullopt;
    return std::make_pair(label, std::string(trim(c.substr(i))));
}

// ---------------------------------------------------------------------------------------------------
// Amounts inside a line
//
//   (約\s*)?  N (\s* UNIT \s* N)*  \s* UNIT? \s* 円      N = [0-9][0-9,.]*   UNIT = 兆|億|百万|千万|万|千

bool eat_unit(std::string_view s, std::size_t& i) { return !eat_any(s, i, {"兆", "億", "百万", "千万", "万", "千"}).empty(); }

// The end of the number starting at s[i], or npos when no digit stands there.
std::size_t number_end(std::string_view s, std::size_t i) {
    if (i >= s.size() || !is_digit(s[i])) return std::string_view::npos;
    while (i < s.size() && (is_digit(s[i]) || s[i] == ',' || s[i] == '.')) ++i;
    return i;
}

struct AmountText {
    std::size_t begin = 0, end = 0;  // the whole match, 約 included
    std::string_view number;         // from the first digit to 円, for parse_yen
    bool approximate = false;
};

// The amount starting at s[i]. On failure `stop` is where the scan gave up: no amount can start before it
// (every character passed over was part of the failed attempt, and an attempt from any of them fails the
// same way), which keeps a search over a long run of digits linear.
std::optional<AmountText> amount_at(std::string_view s, std::size_t i, std::size_t& stop) {
    AmountText a;
    a.begin = i;
    std::size_t j = i;
    if (eat(s, j, "約")) a.approximate = true, j = skip_spaces(s, j);
    const std::size_t first_digit = j;
    j = number_end(s, j);
    if (j == std::string_view::npos) {
        stop = std::max(first_digit, i + 1);
        return std::nullopt;
    }
    while (true) {  // greedy, as the regex was: a unit not followed by a number is the final unit
        std::size_t k = skip_spaces(s, j);
        if (!eat_unit(s, k)) break;
        k = number_end(s, skip_spaces(s, k));
        if (k == std::string_view::npos) break;
        j = k;
    }
    j = skip_spaces(s, j);
    eat_unit(s, j);
    j = skip_spaces(s, j);
    if (!eat(s, j, "円")) {
        stop = j;
        return std::nullopt;
    }
    a.end = j;
    a.number = s.substr(first_digit, j - first_digit);
    return a;
}

// Every amount in s, left to right, without overlaps.
std::vector<AmountText> find_amounts(std::string_view s) {
    std::vector<AmountText> out;
    for (std::size_t i = 0; i < s.size();) {
        if (!is_digit(s[i]) && s.substr(i, 3) != "約") {
            ++i;
            continue;
        }
        std::size_t stop = i + 1;
        if (auto a = amount_at(s, i, stop)) {
            out.push_back(*a);
            i = a->end;
        } else {
            i = std::max(stop, i + 1);
        }
    }
    return out;
}

// Reads the amount at the front of s (after spaces); advances s past it. nullopt when no amount stands
// there, or when it is one parse_yen refuses (out of range).
std::optional<std::int64_t> amount_at_front(std::string_view& s, bool* approximate = nullptr) {
    std::size_t stop = 0;
    const auto a = amount_at(s, skip_spaces(s, 0), stop);
    if (!a) return std::nullopt;
    if (a->approximate && approximate) *approximate = true;
    const auto yen = parse_yen(a->number);
    s.remove_prefix(a->end);
    return yen;
}

// The amounts in s that parse_yen accepts, and how many more looked like amounts but were refused.
struct Amounts {
    std::vector<std::int64_t> yen;
    int unreadable = 0;
};
Amounts all_amounts(std::string_view s) {
    Amounts out;
    for (const AmountText& a : find_amounts(s)) {
        if (auto y = parse_yen(a.number)) out.yen.push_back(*y);
        else ++out.unreadable;
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
        auto amounts = all_amounts(inside).yen;
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

// ---------------------------------------------------------------------------------------------------
// Fiscal years and totals inside a line

// A match of one of the patterns below: where it is and its parts.
struct Match {
    std::size_t begin = 0, end = 0;
    std::string era, number, kind, label;
};

//   (令和|平成)\s*([0-9]+|元)\s*年度      at s[i]
std::optional<Match> fiscal_year_at(std::string_view s, std::size_t i) {
    Match m;
    m.begin = i;
    m.era = std::string(eat_any(s, i, {"令和", "平成"}));
    if (m.era.empty()) return std::nullopt;
    i = skip_spaces(s, i);
    const std::size_t digits = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == digits && !eat(s, i, "元")) return std::nullopt;
    m.number = std::string(s.substr(digits, i - digits));
    i = skip_spaces(s, i);
    if (!eat(s, i, "年度")) return std::nullopt;
    m.end = i;
    return m;
}

// Where 令和 or 平成 first stands at or after `from`.
std::size_t find_era(std::string_view s, std::size_t from) { return std::min(s.find("令和", from), s.find("平成", from)); }

//   FY \s*(当初|補正|予備費)?\s*(概算要求額|要求額|予算額|予算)(等)?      anywhere in s (FY: fiscal_year_at)
std::optional<Match> find_budget_label(std::string_view s) {
    for (std::size_t at = find_era(s, 0); at != std::string_view::npos; at = find_era(s, at + 1)) {
        auto m = fiscal_year_at(s, at);
        if (!m) continue;
        std::size_t j = skip_spaces(s, m->end);
        m->kind = std::string(eat_any(s, j, {"当初", "補正", "予備費"}));
        j = skip_spaces(s, j);
        m->label = std::string(eat_any(s, j, {"概算要求額", "要求額", "予算額", "予算"}));
        if (m->label.empty()) continue;
        eat(s, j, "等");
        m->end = j;
        return m;
    }
    return std::nullopt;
}

//   (国庫債務負担(行為)?(等)?(を)?含め|政府保証付借入含め)\s*(総額)?      anywhere in s; label: the first group
std::optional<Match> find_total_label(std::string_view s) {
    const auto next = [&](std::size_t from) { return std::min(s.find("国庫債務負担", from), s.find("政府保証付借入含め", from)); };
    for (std::size_t at = next(0); at != std::string_view::npos; at = next(at + 1)) {
        std::size_t j = at;
        if (eat(s, j, "国庫債務負担")) {
            eat(s, j, "行為");
            eat(s, j, "等");
            eat(s, j, "を");
            if (!eat(s, j, "含め")) continue;
        } else if (!eat(s, j, "政府保証付借入含め")) {
            continue;
        }
        Match m;
        m.begin = at;
        m.label = std::string(s.substr(at, j - at));
        j = skip_spaces(s, j);
        eat(s, j, "総額");
        m.end = j;
        return m;
    }
    return std::nullopt;
}

//   FY \s*\(\s*(当初|補正|予備費)\s*\)      a 予算配分額 entry, anywhere in s
std::optional<Match> find_allocation_label(std::string_view s) {
    for (std::size_t at = find_era(s, 0); at != std::string_view::npos; at = find_era(s, at + 1)) {
        auto m = fiscal_year_at(s, at);
        if (!m) continue;
        std::size_t j = skip_spaces(s, m->end);
        if (!eat(s, j, "(")) continue;
        j = skip_spaces(s, j);
        m->kind = std::string(eat_any(s, j, {"当初", "補正", "予備費"}));
        if (m->kind.empty()) continue;
        j = skip_spaces(s, j);
        if (!eat(s, j, ")")) continue;
        m->end = j;
        return m;
    }
    return std::nullopt;
}

// The length of a line in code points, a run of digits counting as one: a budget line stays a budget
// line however absurd its amount (it is then reported as unreadable instead of silently becoming text).
std::size_t length_with_short_numbers(std::string_view s) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++n) {
        if (const std::size_t e = number_end(s, i); e != std::string_view::npos) i = e;
        else next_code_point(s, i);
    }
    return n;
}

// The start of a long line, for messages.
std::string excerpt(std::string_view s, std::size_t max_code_points = 60) {
    std::size_t i = 0;
    for (std::size_t n = 0; i < s.size() && n < max_code_points; ++n) next_code_point(s, i);
    return i < s.size() ? std::string(s.substr(0, i)).append("…") : std::string(s);
}

}  // namespace

std::optional<BudgetLine> parse_budget_line(std::string_view raw) {
    const std::string c = clean(raw);
    if (c.find("。") != std::string::npos || length_with_short_numbers(c) > 160 || starts_with(c, "-") ||
        starts_with(c, "・"))
        return std::nullopt;
    const std::optional<Match> fy = find_budget_label(c), total = find_total_label(c);
    if (!fy && !total) return std::nullopt;

    const std::size_t first = std::min(fy ? fy->begin : c.size(), total ? total->begin : c.size());
    BudgetLine b;
    b.title_prefix = std::string(trim(std::string_view(c).substr(0, first)));
    if (b.title_prefix.ends_with("※")) return std::nullopt;  // a remark that quotes a budget, not a budget line

    if (total) {
        std::string_view rest = std::string_view(c).substr(total->end);
        b.total = amount_at_front(rest);
        b.total_basis = total->label;
    }
    if (fy) {
        b.year = parse_fiscal_year(fy->era + fy->number + "年度");
        b.kind = fy->label.find("要求") != std::string::npos ? std::string(kKindRequest)
                 : fy->kind.empty()                          ? std::string(kKindInitial)
                                                             : *parse_kind(fy->kind);
        std::string_view rest = std::string_view(c).substr(fy->end);
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

namespace {

// An open file descriptor, closed when it goes out of scope.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

}  // namespace

RegularFile read_regular_file(const std::string& path) {
    // O_NONBLOCK: opening a FIFO for reading waits for a writer, forever when there is none (a file
    // replaced by a FIFO held the run lock all night). O_NOFOLLOW: a file replaced by a symlink after the
    // folder was listed is not followed out of the corpus.
    const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
        const int err = errno;
        throw InputError(err == ELOOP ? std::string("シンボリックリンクに置き換えられています（読みません）")
                                      : std::string("ファイルを開けません: ").append(std::strerror(err)),
                         path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw InputError(std::string("ファイルの情報を読めません: ").append(std::strerror(errno)), path);
    if (!S_ISREG(st.st_mode)) throw InputError("通常のファイルではありません（FIFO やデバイスは読みません）", path);
    // A regular file never blocks, but reads should behave as usual: clear O_NONBLOCK again.
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    RegularFile file;
    file.modified = st.st_mtime;
    file.bytes.reserve(static_cast<std::size_t>(st.st_size));
    char buf[1 << 16];
    while (true) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            throw InputError(std::string("ファイルを読めません: ").append(std::strerror(errno)), path);
        }
        file.bytes.append(buf, static_cast<std::size_t>(n));
    }
    return file;
}

std::string decode_sheet_text(std::string text, const std::string& path) {
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

std::string read_sheet_file(const std::string& path) { return decode_sheet_text(read_regular_file(path).bytes, path); }

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

// One parse() call: the file's lines and what the phases found in them. Each phase is a member function
// named for what it does; parse() runs them in order.
class FileParse {
public:
    FileParse(const BureauDirectory& bureaus, std::string_view text, const std::string& file)
        : bureaus_(bureaus), file_(file) {
        classify_lines(text);
    }

    ParseResult run() {
        find_anchors();
        find_titles();
        warn_about_text_before_the_first_sheet();
        for (std::size_t k = 0; k < anchors_.size(); ++k) result_.sheets.push_back(build_sheet(k));
        link_sub_projects_to_parents();
        return std::move(result_);
    }

private:
    void warn(std::size_t index, std::string message, bool skipped = true) {
        result_.warnings.push_back({file_, static_cast<std::uint32_t>(index + 1), std::move(message), skipped});
    }
    bool is_blank(std::size_t i) const { return lines_[i].clean.empty(); }
    bool is_org(std::size_t i) const { return bureaus_.parse_line(lines_[i].clean, "").has_value(); }

    // Phase 1: every line cleaned and classified as a heading, a budget line or neither.
    void classify_lines(std::string_view text) {
        for (std::size_t start = 0; start <= text.size();) {
            std::size_t end = text.find('\n', start);
            if (end == std::string_view::npos) end = text.size();
            Line l;
            l.raw = std::string(text.substr(start, end - start));
            l.clean = clean(l.raw);
            l.heading = heading_of(l.clean);
            if (l.heading == Heading::none) l.budget = parse_budget_line(l.raw);
            lines_.push_back(std::move(l));
            if (end == text.size()) break;
            start = end + 1;
        }
    }

    // Phase 2: anchors, in order. A heading that follows a finished sheet starts a sheet with no title.
    void find_anchors() {
        bool seen_goals = false, in_sheet = false;
        for (std::size_t i = 0; i < lines_.size(); ++i) {
            const Line& l = lines_[i];
            if (l.budget) {
                // A second budget line in one header (「※令和7年度…」 was handled inside the line) belongs to it.
                if (in_sheet && !seen_goals && anchors_.back().kind == Anchor::budget && i - anchors_.back().line <= 6 &&
                    !l.budget->readable)
                    continue;
                anchors_.push_back({i, Anchor::budget});
                in_sheet = true, seen_goals = false;
            } else if (is_ministry_marker(l.clean)) {
                anchors_.push_back({i, Anchor::ministry});
                in_sheet = true, seen_goals = false;
            } else if (l.heading == Heading::container && in_sheet && seen_goals) {
                anchors_.push_back({i, Anchor::lost_title});
                seen_goals = false;
            } else if (l.heading == Heading::goals) {
                seen_goals = true;
            }
        }
    }

    // Phase 3: from each anchor, walk back over organisation lines and notes to the title, and from the
    // title to a 「親事業のうち、」 line or a project number.
    void find_titles() {
        for (std::size_t k = 0; k < anchors_.size(); ++k) {
            Anchor& a = anchors_[k];
            const std::size_t floor = k == 0 ? 0 : anchors_[k - 1].line + 1;
            a.start = a.line;
            if (a.kind == Anchor::lost_title) continue;
            if (a.kind == Anchor::budget && !lines_[a.line].budget->title_prefix.empty()) {
                a.title = a.line;
            } else {
                std::size_t j = a.line;
                while (j > floor) {
                    --j;
                    const Line& l = lines_[j];
                    if (is_blank(j) || is_within_note(l.clean) || (a.kind == Anchor::budget && is_org(j))) continue;
                    if (l.heading == Heading::none && !l.budget) a.title = j;
                    break;
                }
            }
            if (a.title == SIZE_MAX) continue;
            a.start = a.title;
            // 「親事業のうち、」 on the line before a 「(2) 子事業」 title, or before a combined title line.
            const bool sub_title = a.title != a.line ? split_sub_label(lines_[a.title].clean).has_value()
                                                     : lines_[a.line].budget->title_prefix.ends_with("のうち、") ||
                                                           lines_[a.line].budget->title_prefix.ends_with("のうち");
            std::size_t j = a.title;
            while (j > floor && is_blank(j - 1)) --j;
            if (j > floor) {
                const std::string& prev = lines_[j - 1].clean;
                if (sub_title && (prev.ends_with("のうち、") || prev.ends_with("のうち"))) a.parent = j - 1, a.start = j - 1;
                else if (is_project_number(prev)) a.start = j - 1;
            }
        }
    }

    // Text before the first sheet that is not blank cannot be attributed to any sheet.
    void warn_about_text_before_the_first_sheet() {
        const std::size_t first_start = anchors_.empty() ? lines_.size() : anchors_.front().start;
        for (std::size_t i = 0; i < first_start; ++i)
            if (!is_blank(i)) {
                warn(i, "どのシートにも属さない行があります（題名か予算額の行が見つかりません）");
                break;
            }
    }

    // Phase 4: the sheet of anchor k, from its start to the next sheet's start.
    Sheet build_sheet(std::size_t k) {
        const Anchor& a = anchors_[k];
        std::size_t end = k + 1 < anchors_.size() ? anchors_[k + 1].start : lines_.size();
        while (end > a.start && is_blank(end - 1)) --end;
        Sheet s;
        s.file = file_;
        s.first_line = static_cast<std::uint32_t>(a.start + 1);
        s.last_line = static_cast<std::uint32_t>(end);
        read_title(a, s);
        const std::size_t body = read_header(a, end, s);
        read_sections(a, body, end, s);
        read_allocations(s);
        if (!s.budget_line && s.allocations.empty())
            warn(a.start, "予算額の行がありません（金額なしで登録します）", false);
        if (s.sections.empty()) warn(a.start, "本文（事業目的・事業概要など）がありません。シートが途中で切れている可能性があります");
        return s;
    }

    // Title, parent and sub label.
    void read_title(const Anchor& a, Sheet& s) {
        std::string title;
        if (a.title == a.line && a.kind == Anchor::budget) title = lines_[a.line].budget->title_prefix;
        else if (a.title != SIZE_MAX) title = lines_[a.title].clean;
        if (a.parent != SIZE_MAX) s.parent = lines_[a.parent].clean;
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
    }

    // Header: budget, organisation lines and notes up to the first heading. Returns the first line after it.
    std::size_t read_header(const Anchor& a, std::size_t end, Sheet& s) {
        std::size_t i = a.start;
        std::string inherited_top;
        Section notes{"note", "備考", "", 0};
        for (; i < end && lines_[i].heading == Heading::none; ++i) {
            const Line& l = lines_[i];
            if (is_blank(i) || ((i == a.title && i != a.line) || i == a.parent)) continue;
            if (l.budget && i == a.line) {
                const BudgetLine& b = *l.budget;
                s.budget_line = static_cast<std::uint32_t>(i + 1);
                s.budget_text = display(l.raw);
                s.year = b.year, s.kind = b.kind, s.amount = b.amount, s.previous_amount = b.previous_amount;
                s.total = b.total, s.total_basis = b.total_basis, s.gx_amount = b.gx_amount;
                s.is_new = b.is_new, s.approximate = b.approximate;
                if (!b.readable) warn(i, "予算額の行から金額を読み取れません: " + excerpt(l.clean));
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
        return i;
    }

    // Sections: each heading opens one; text before any heading goes to 事業の内容.
    void read_sections(const Anchor& a, std::size_t i, std::size_t end, Sheet& s) {
        Section* current = nullptr;
        const bool cross_ministry = a.kind == Anchor::ministry;
        for (; i < end; ++i) {
            const Line& l = lines_[i];
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
    }

    // Cross-ministry sheets: the latest 予算配分額 entry gives the year, kind and amount.
    void read_allocations(Sheet& s) {
        const Section* alloc = s.section("allocation");
        if (!alloc) return;
        std::uint32_t n = alloc->first_line + 1;  // the line after the heading (blank lines aside)
        for (std::size_t start = 0; start <= alloc->text.size(); ++n) {
            std::size_t stop = alloc->text.find('\n', start);
            if (stop == std::string::npos) stop = alloc->text.size();
            const std::string_view line = std::string_view(alloc->text).substr(start, stop - start);
            start = stop + 1;
            const std::string c = clean(line);
            const auto m = find_allocation_label(c);
            if (!m) continue;
            const Amounts amounts = all_amounts(std::string_view(c).substr(m->end));
            if (amounts.unreadable) warn(n - 1, "予算配分額の金額を読み取れません: " + excerpt(c));
            if (amounts.yen.empty()) continue;
            Allocation al{*parse_fiscal_year(m->era + m->number), *parse_kind(m->kind), 0, display(line)};
            for (auto y : amounts.yen) al.yen += y;  // each at most kMaxYen: a few never overflow
            s.allocations.push_back(al);
        }
        // The latest year; of equal years the last written (補正 after 当初).
        const Allocation* latest = nullptr;
        for (const Allocation& al : s.allocations)
            if (!latest || al.year >= latest->year) latest = &al;
        if (latest && !s.amount) s.year = latest->year, s.kind = latest->kind, s.amount = latest->yen;
    }

    // Phase 5: a 「(3) 子事業」 sheet without 「…のうち、」: its parent is the sheet whose overview lists it.
    void link_sub_projects_to_parents() {
        for (Sheet& s : result_.sheets) {
            if (s.sub_label.empty() || !s.parent.empty()) continue;
            const std::string wanted = normalize(s.sub_label + s.title);
            for (const Sheet& other : result_.sheets) {
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
    }

    const BureauDirectory& bureaus_;
    const std::string& file_;
    std::vector<Line> lines_;
    std::vector<Anchor> anchors_;
    ParseResult result_;
};

}  // namespace

ParseResult SheetParser::parse(std::string_view text, const std::string& file) const {
    ParseResult result = FileParse(bureaus_, text, file).run();
    // The scheme facets cite exact file lines, which only the text itself gives (indexer/scheme.h).
    const SourceLines lines(text);
    for (Sheet& s : result.sheets) s.scheme = extract_scheme(s, &lines);
    return result;
}

// ---------------------------------------------------------------------------------------------------
// Ids


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
