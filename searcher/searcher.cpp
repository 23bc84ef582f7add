#include "searcher/searcher.h"

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/schema.h"
#include "core/terms.h"
#include "core/text.h"

namespace yosan {

SortOrder parse_sort(const std::string& s) {
    if (s.empty() || s == "relevance") return SortOrder::relevance;
    if (s == "amount") return SortOrder::amount_asc;
    if (s == "-amount") return SortOrder::amount_desc;
    if (s == "year" || s == "-year") return s == "year" ? SortOrder::year_desc : SortOrder::year_asc;
    throw UsageError("並べ順は relevance, amount, -amount, year, -year のいずれかです: " + s, "sort");
}

std::string sort_name(SortOrder order) {
    switch (order) {
        case SortOrder::relevance: return "relevance";
        case SortOrder::amount_asc: return "amount";
        case SortOrder::amount_desc: return "-amount";
        case SortOrder::year_desc: return "year";
        case SortOrder::year_asc: return "-year";
    }
    return "relevance";
}

namespace {

// Counts the values of the facets of core/facets.h over every match, in one pass. A slot holds the
// '\n'-separated values of a multi-valued facet; an empty slot counts under kNoValue.
class FacetSpy : public Xapian::MatchSpy {
public:
    explicit FacetSpy(std::vector<const Facet*> counted) : facets_(std::move(counted)), counts_(facets_.size()) {}
    void operator()(const Xapian::Document& doc, double) override {
        for (std::size_t i = 0; i < facets_.size(); ++i) {
            const std::string v = doc.get_value(facets_[i]->slot);
            if (v.empty()) {
                ++counts_[i][std::string(kNoValue)];
                continue;
            }
            for (std::string_view one : split_values(v)) ++counts_[i][std::string(one)];
        }
    }
    std::string name() const override { return "yosan.FacetSpy"; }
    const std::map<std::string, Xapian::doccount>& counts(std::size_t i) const { return counts_[i]; }

private:
    std::vector<const Facet*> facets_;
    std::vector<std::map<std::string, Xapian::doccount>> counts_;
};

std::string html_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

// Cuts s to at most `chars` code points on a character boundary.
std::size_t byte_offset_of_char(std::string_view s, std::size_t chars) {
    std::size_t i = 0;
    while (i < s.size() && chars--) next_code_point(s, i);
    return i;
}
std::size_t chars_before(std::string_view s, std::size_t byte) { return utf8_length(s.substr(0, byte)); }

}  // namespace

Searcher::Searcher(const Config& config, const Analyzer& analyzer, const BureauDirectory& bureaus, const Synonyms& synonyms)
    : config_(config), analyzer_(analyzer), bureaus_(bureaus), parser_(analyzer, bureaus, synonyms, config) {
    try {
        std::error_code ec;
        if (std::filesystem::is_regular_file(config.index_path, ec))
            opened_stub_time_ = std::filesystem::last_write_time(config.index_path, ec);
        db_ = Xapian::Database(config.index_path);
    } catch (const Xapian::DatabaseNotFoundError&) {
        throw IndexError("索引が見つかりません。先に yosan-index を実行してください", config.index_path);
    } catch (const Xapian::DatabaseOpeningError& e) {
        throw IndexError("索引を開けません: " + e.get_description(), config.index_path);
    }
}

bool Searcher::reopen() {
    std::error_code ec;
    if (std::filesystem::is_regular_file(config_.index_path, ec)) {
        const auto t = std::filesystem::last_write_time(config_.index_path, ec);
        if (!ec && t != opened_stub_time_) {
            db_ = Xapian::Database(config_.index_path);
            opened_stub_time_ = t;
            return true;
        }
    }
    try {
        return db_.reopen();
    } catch (const Xapian::DatabaseError&) {
        // The one-time switch of a directory index to a stub file (yosan-index --full) can pull the
        // directory from under an open handle; open the path afresh.
        db_ = Xapian::Database(config_.index_path);
        return true;
    }
}

Xapian::Query Searcher::filter_query(const Filters& f) const {
    std::vector<Xapian::Query> parts;
    for (const Facet& facet : facets()) {
        const std::vector<std::string>& values = f.of(facet.name);
        if (values.empty()) continue;
        std::vector<Xapian::Query> alts;  // OR within a facet
        for (const std::string& v : values) alts.emplace_back(terms::boolean(facet.prefix, v));
        parts.emplace_back(Xapian::Query::OP_OR, alts.begin(), alts.end());
    }
    if (f.amount_min) parts.emplace_back(Xapian::Query::OP_VALUE_GE, schema::kSlotAmount, Xapian::sortable_serialise(static_cast<double>(*f.amount_min)));
    if (f.amount_max) // exclusive: the largest representable amount below it
        parts.emplace_back(Xapian::Query::OP_VALUE_LE, schema::kSlotAmount, Xapian::sortable_serialise(static_cast<double>(*f.amount_max) - 0.5));
    if (parts.empty()) return Xapian::Query(std::string());  // match all; never the shared static MatchAll (query_parser.cpp)
    return Xapian::Query(Xapian::Query::OP_AND, parts.begin(), parts.end());  // AND across facets
}

SearchResult Searcher::search(const SearchRequest& req) {
    const auto started = std::chrono::steady_clock::now();
    if (req.limit > SearchRequest::kMaxLimit)
        throw UsageError("1 ページの件数は " + std::to_string(SearchRequest::kMaxLimit) + " 件までです", "limit");
    ParsedQuery pq = parser_.parse(req.query, db_);
    SearchResult r;
    r.recognised = pq.recognised;
    r.applied = req.filters;
    r.applied.merge(pq.filters);

    Xapian::Enquire enquire(db_);
    enquire.set_query(filtered(pq.query, r.applied));
    enquire.set_weighting_scheme(Xapian::BM25Weight(config_.bm25_k1, 0, 1, config_.bm25_b, 0.5));
    Xapian::MultiValueKeyMaker keys;
    const std::string high = Xapian::sortable_serialise(1e300), low = Xapian::sortable_serialise(-1);
    switch (req.sort) {
        case SortOrder::relevance:
            if (!pq.has_text) {  // browsing: the order of the source, which groups related sheets
                keys.add_value(schema::kSlotLine);
                enquire.set_sort_by_key(&keys, false);
            }
            break;
        case SortOrder::amount_asc: keys.add_value(schema::kSlotAmount, false, high); break;
        case SortOrder::amount_desc: keys.add_value(schema::kSlotAmount, true, low); break;
        case SortOrder::year_desc: keys.add_value(schema::kSlotYearSortable, true, low); break;
        case SortOrder::year_asc: keys.add_value(schema::kSlotYearSortable, false, high); break;
    }
    if (req.sort != SortOrder::relevance) enquire.set_sort_by_key_then_relevance(&keys, false);

    // Facets without a selected value are counted over the matches themselves, in the same pass.
    std::vector<const Facet*> unselected;
    for (const Facet& f : facets())
        if (r.applied.of(f.name).empty()) unselected.push_back(&f);
    FacetSpy spy(unselected);
    enquire.add_matchspy(&spy);
    // check_at_least = every document: the total and the facet counts are exact, not estimates.
    Xapian::MSet mset = enquire.get_mset(req.offset, req.limit, db_.get_doccount());
    r.total = mset.get_matches_estimated();
    for (std::size_t i = 0; i < unselected.size(); ++i) r.facets[std::string(unselected[i]->name)] = facet_values(*unselected[i], spy.counts(i), {});
    // A facet with a selected value is counted as if it were not filtered (OR within a facet, AND across
    // facets), so that a second value can be added: one more pass each, without fetching any hit.
    for (const Facet& f : facets()) {
        const std::vector<std::string>& selected = r.applied.of(f.name);
        if (selected.empty()) continue;
        Xapian::Enquire other(db_);
        other.set_query(filtered(pq.query, r.applied.without(f.name)));
        other.set_weighting_scheme(Xapian::BoolWeight());
        FacetSpy one({&f});
        other.add_matchspy(&one);
        other.get_mset(0, 0, db_.get_doccount());
        r.facets[std::string(f.name)] = facet_values(f, one.counts(0), selected);
    }

    int rank = static_cast<int>(req.offset);
    for (auto it = mset.begin(); it != mset.end(); ++it) {
        Hit h;
        h.sheet = Sheet::from_json(nlohmann::json::parse(it.get_document().get_data()));
        h.score = it.get_weight();
        h.rank = ++rank;
        h.snippet = make_snippet(h.sheet, pq.highlight);
        r.hits.push_back(std::move(h));
    }
    r.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    return r;
}

Xapian::Query Searcher::filtered(const Xapian::Query& query, const Filters& filters) const {
    if (filters.empty()) return query;
    return Xapian::Query(Xapian::Query::OP_FILTER, query, filter_query(filters));
}

std::vector<FacetValue> Searcher::facet_values(const Facet& facet, const std::map<std::string, Xapian::doccount>& counts,
                                               const std::vector<std::string>& selected) const {
    const FacetContext context{config_, bureaus_};
    std::vector<FacetValue> out;
    std::optional<FacetValue> none;
    const auto is_selected = [&](const std::string& v) { return std::find(selected.begin(), selected.end(), v) != selected.end(); };
    for (const auto& [value, count] : counts) {
        FacetValue v{value, value == kNoValue ? std::string(kNoValue) : facet.label_of(value, context), count, is_selected(value)};
        if (value == kNoValue) none = std::move(v);
        else out.push_back(std::move(v));
    }
    switch (facet.order) {
        case Facet::Order::value_desc: std::reverse(out.begin(), out.end()); break;
        case Facet::Order::value_asc: break;  // std::map order; bucket numbers are one digit
        case Facet::Order::count_desc:
            std::stable_sort(out.begin(), out.end(), [](const FacetValue& a, const FacetValue& b) { return a.count > b.count; });
            break;
    }
    if (none) out.push_back(std::move(*none));  // 記載なし last, whatever the order
    // A selected value that no longer matches anything still gets a row, so that it can be cleared.
    for (const std::string& v : selected)
        if (!counts.contains(v)) out.push_back({v, v == kNoValue ? std::string(kNoValue) : facet.label_of(v, context), 0, true});
    return out;
}

namespace {

// The byte ranges of `line` where a pattern matches, merged, and how many patterns matched.
std::pair<std::vector<std::pair<std::size_t, std::size_t>>, int> find_marks(const std::vector<Token>& all,
                                                                           const std::vector<HighlightPattern>& patterns) {
    std::vector<const Token*> tokens;
    for (const Token& t : all)
        if (t.indexed) tokens.push_back(&t);
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    int matched = 0;
    for (const HighlightPattern& p : patterns) {
        bool any = false;
        if (!p.compound_part.empty()) {
            // Runs of adjacent kanji words; mark the whole run when it contains the part.
            for (std::size_t i = 0; i < tokens.size();) {
                if (!all_of_script(tokens[i]->surface, is_kanji)) {
                    ++i;
                    continue;
                }
                // Mark the words of the run that the part overlaps: 電池 marks 蓄電+池, not 設計 in 電池設計.
                std::size_t j = i + 1;
                std::string run = tokens[i]->surface;
                std::vector<std::size_t> starts{0};
                while (j < tokens.size() && tokens[j]->begin == tokens[j - 1]->end && all_of_script(tokens[j]->surface, is_kanji)) {
                    starts.push_back(run.size());
                    run += tokens[j++]->surface;
                }
                for (std::size_t at = run.find(p.compound_part); at != std::string::npos; at = run.find(p.compound_part, at + 1)) {
                    const std::size_t end = at + p.compound_part.size();
                    std::optional<std::size_t> first;
                    std::size_t last = i;
                    for (std::size_t k = 0; k < starts.size(); ++k) {
                        const std::size_t tb = starts[k], te = tb + tokens[i + k]->surface.size();
                        if (te <= at || tb >= end) continue;  // this word does not overlap the part
                        if (!first) first = i + k;
                        last = i + k;
                    }
                    ranges.emplace_back(tokens[*first]->begin, tokens[last]->end);
                    any = true;
                }
                i = j;
            }
        } else if (!p.terms.empty()) {
            const std::size_t n = p.terms.size();
            for (std::size_t i = 0; i + n <= tokens.size(); ++i) {
                bool ok = true;
                for (std::size_t k = 0; k < n && ok; ++k) {
                    const Token& t = *tokens[i + k];
                    const std::string& want = p.terms[k];
                    ok = want == t.term || (k < p.surfaces.size() && p.surfaces[k] == t.surface) ||
                         (want.rfind(schema::kReading, 0) == 0 && !t.reading.empty() &&
                          want.compare(schema::kReading.size(), std::string::npos, t.reading) == 0);
                }
                if (ok) {
                    ranges.emplace_back(tokens[i]->begin, tokens[i + n - 1]->end);
                    any = true;
                }
            }
        }
        matched += any;
    }
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<std::size_t, std::size_t>> merged;
    for (const auto& r : ranges) {
        if (!merged.empty() && r.first <= merged.back().second) merged.back().second = std::max(merged.back().second, r.second);
        else merged.push_back(r);
    }
    return {merged, matched};
}

}  // namespace

Snippet Searcher::make_snippet(const Sheet& s, const std::vector<HighlightPattern>& patterns) const {
    constexpr std::size_t kWidth = 90;  // characters
    struct Best {
        int score = -1;
        const Section* section = nullptr;
        std::string line;
        std::vector<std::pair<std::size_t, std::size_t>> marks;
    } best;
    static const std::vector<std::string> order = {"purpose", "overview", "scheme", "goals"};
    std::vector<const Section*> sections;
    for (const std::string& key : order)
        for (const Section& sec : s.sections)
            if (sec.key == key) sections.push_back(&sec);
    for (const Section& sec : s.sections)
        if (std::find(order.begin(), order.end(), sec.key) == order.end()) sections.push_back(&sec);

    for (const Section* sec : sections) {
        std::istringstream in(sec->text);
        for (std::string line; std::getline(in, line);) {
            if (trim(line).empty()) continue;
            std::vector<std::pair<std::size_t, std::size_t>> marks;
            int distinct = 0;
            if (!patterns.empty()) std::tie(marks, distinct) = find_marks(analyzer_.analyze(line), patterns);
            // Lines that match more of the query first, then more often.
            const int score = distinct * 100 + static_cast<int>(marks.size());
            if (score > best.score) best = {score, sec, line, marks};
            if (patterns.empty() || distinct == static_cast<int>(patterns.size())) break;
        }
        // No line can do better than one matching every pattern; stop analysing there.
        if (best.section && (patterns.empty() || best.score / 100 == static_cast<int>(patterns.size()))) break;
    }
    Snippet out;
    if (!best.section) return out;
    out.section = best.section->title;
    // A window of kWidth characters that starts a little before the first mark.
    std::size_t from = 0;
    if (!best.marks.empty()) {
        const std::size_t first_char = chars_before(best.line, best.marks.front().first);
        from = byte_offset_of_char(best.line, first_char > 20 ? first_char - 20 : 0);
    }
    const std::size_t to = from + byte_offset_of_char(std::string_view(best.line).substr(from), kWidth);
    std::size_t at = from;
    if (from > 0) out.html += "…", out.plain += "…";
    for (const auto& [b, e] : best.marks) {
        if (e <= from || b >= to) continue;
        const std::size_t mb = std::max(b, from), me = std::min(e, to);
        out.html += html_escape(best.line.substr(at, mb - at)) + "<mark>" + html_escape(best.line.substr(mb, me - mb)) + "</mark>";
        out.plain += best.line.substr(at, mb - at) + "【" + best.line.substr(mb, me - mb) + "】";
        at = me;
    }
    out.html += html_escape(best.line.substr(at, to - at));
    out.plain += best.line.substr(at, to - at);
    if (to < best.line.size()) out.html += "…", out.plain += "…";
    return out;
}

std::optional<Sheet> Searcher::sheet(const std::string& id) {
    const std::string term = std::string(schema::kId) + id;
    auto it = db_.postlist_begin(term);
    if (it == db_.postlist_end(term)) return std::nullopt;
    return Sheet::from_json(nlohmann::json::parse(db_.get_document(*it).get_data()));
}

std::vector<Hit> Searcher::similar(const std::string& id, Xapian::doccount limit) {
    const std::string idterm = std::string(schema::kId) + id;
    auto pl = db_.postlist_begin(idterm);
    if (pl == db_.postlist_end(idterm)) return {};
    const Xapian::docid did = *pl;
    const Sheet self = Sheet::from_json(nlohmann::json::parse(db_.get_document(did).get_data()));

    // The same 事業 (other years and kinds), its parent and its sub-projects share title words: weigh a
    // title phrase of the sheet's own title and of its parent far above the general expansion.
    std::vector<Xapian::Query> parts;
    for (const std::string& name : {self.title, self.parent}) {
        std::vector<std::string> terms;
        for (const Token& t : analyzer_.analyze(name, 0, Analyzer::Mode::query))
            if (t.indexed) terms.push_back(std::string(schema::kTitle) + t.term);
        if (!terms.empty())
            parts.emplace_back(Xapian::Query::OP_SCALE_WEIGHT,
                               Xapian::Query(Xapian::Query::OP_PHRASE, terms.begin(), terms.end(), terms.size()), 10.0);
    }
    // Sheets whose titles share the words of this one (蓄電池, 半導体) come next.
    std::vector<std::string> title_words;
    for (const Token& t : analyzer_.analyze(self.title, 0, Analyzer::Mode::query))
        if (t.indexed && t.pos.rfind("名詞", 0) == 0 && utf8_length(t.term) >= 2) title_words.push_back(std::string(schema::kTitle) + t.term);
    if (!title_words.empty())
        parts.emplace_back(Xapian::Query::OP_SCALE_WEIGHT,
                           Xapian::Query(Xapian::Query::OP_OR, title_words.begin(), title_words.end()), 2.0);
    Xapian::Enquire enquire(db_);
    Xapian::RSet rset;
    rset.add_document(did);
    struct NoPrefix : Xapian::ExpandDecider {
        bool operator()(const std::string& t) const override { return !t.empty() && !(t[0] >= 'A' && t[0] <= 'Z'); }
    } decider;
    Xapian::ESet eset = enquire.get_eset(24, rset, &decider);
    std::vector<Xapian::Query> expand;
    for (auto it = eset.begin(); it != eset.end(); ++it) expand.emplace_back(*it);
    if (!expand.empty()) parts.emplace_back(Xapian::Query::OP_OR, expand.begin(), expand.end());
    if (parts.empty()) return {};
    Xapian::Query q(Xapian::Query::OP_OR, parts.begin(), parts.end());
    enquire.set_query(Xapian::Query(Xapian::Query::OP_AND_NOT, q, Xapian::Query(idterm)));
    Xapian::MSet mset = enquire.get_mset(0, limit);
    std::vector<Hit> out;
    int rank = 0;
    for (auto it = mset.begin(); it != mset.end(); ++it) {
        Hit h;
        h.sheet = Sheet::from_json(nlohmann::json::parse(it.get_document().get_data()));
        h.score = it.get_weight();
        h.rank = ++rank;
        out.push_back(std::move(h));
    }
    return out;
}

nlohmann::json hit_json(const Hit& h) {
    nlohmann::json j = h.sheet.to_json();
    j.erase("sections");  // the list shows a snippet; /api/sheets/{id} gives the whole sheet
    j["rank"] = h.rank;
    j["score"] = h.score;
    j["snippet"] = {{"section", h.snippet.section}, {"html", h.snippet.html}, {"text", h.snippet.plain}};
    return j;
}

nlohmann::json to_json(const SearchResult& r) {
    nlohmann::json j;
    j["total"] = r.total;
    j["milliseconds"] = r.milliseconds;
    j["hits"] = nlohmann::json::array();
    for (const Hit& h : r.hits) j["hits"].push_back(hit_json(h));
    // Facets in the table's order, each with its label, so that the page draws whatever the table holds.
    j["facets"] = nlohmann::json::object();
    j["facet_list"] = nlohmann::json::array();
    for (const Facet& f : facets()) {
        j["facet_list"].push_back({{"name", f.name}, {"label", f.label}});
        auto& arr = j["facets"][std::string(f.name)] = nlohmann::json::array();
        if (auto it = r.facets.find(std::string(f.name)); it != r.facets.end())
            for (const FacetValue& v : it->second)
                arr.push_back({{"value", v.value}, {"label", v.label}, {"count", v.count}, {"selected", v.selected}});
    }
    j["recognised_filters"] = nlohmann::json::array();
    for (const RecognisedFilter& f : r.recognised) j["recognised_filters"].push_back({{"field", f.field}, {"value", f.value}, {"text", f.text}});
    nlohmann::json applied = nlohmann::json::object();
    for (const auto& [facet, values] : r.applied.values) applied[facet] = values;
    if (r.applied.amount_min) applied["amount_min"] = *r.applied.amount_min;
    if (r.applied.amount_max) applied["amount_max"] = *r.applied.amount_max;
    j["filters"] = applied;
    return j;
}

}  // namespace yosan
