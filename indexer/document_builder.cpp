#include "indexer/document_builder.h"

#include <array>
#include <limits>
#include <set>

#include "core/bureaus.h"
#include "core/document_data.h"
#include "core/facets.h"
#include "core/schema.h"
#include "core/terms.h"
#include "core/text.h"

namespace yosan {

std::string indexed_title(const Sheet& sheet) {
    std::string t = sheet.parent;
    if (!sheet.sub_label.empty()) t += (t.empty() ? "" : " ") + sheet.sub_label;
    if (!sheet.title.empty()) t += (t.empty() ? "" : " ") + sheet.title;
    return t;
}

namespace {

// Adds the terms of one piece of text. Which terms a token stands for is core/terms.h's rule, the same the
// query parser follows. Only words carry positions; kanji bigrams carry none, and readings go to the
// reading lexicon (`readings`), not into the document.
struct TermSink {
    Xapian::Document& doc;
    std::set<std::string>& readings;
    // Reused across tokens, so that a term costs no allocation of its own.
    std::array<std::string, 2> forms;
    std::string reading;

    void add_text(const std::vector<Token>& tokens, unsigned weight, std::string_view field_prefix) {
        std::string run;
        std::size_t run_end = 0;
        const auto flush_run = [&] {
            terms::for_each_gram_term(run, [&](const std::string& g) { doc.add_term(g, weight); });
            run.clear();
        };
        for (const Token& t : tokens) {
            if (!t.indexed) {
                flush_run();
                continue;
            }
            const Xapian::termpos pos = t.position + 1;
            // The folded term carries the weight; other forms match at the same position without adding
            // to the word's frequency, so a word written two ways does not count twice. An inflected
            // surface matches as a word but stands at no position (terms::surface_has_positions).
            for (std::size_t i = 0, n = terms::word_forms("", t, forms); i < n; ++i) {
                if (i == 0 || terms::surface_has_positions(t)) doc.add_posting(forms[i], pos, i == 0 ? weight : 0);
                else doc.add_term(forms[i], 0);
            }
            // A field's terms (the title's S) carry no positions: its words stand at these positions in the
            // body already (terms::positional).
            if (!field_prefix.empty())
                for (std::size_t i = 0, n = terms::word_forms(field_prefix, t, forms); i < n; ++i) doc.add_term(forms[i], i == 0 ? 1 : 0);
            if (terms::reading(t, reading)) readings.insert(reading);
            if (all_of_script(t.surface, is_kanji)) {
                if (run.empty() || t.begin != run_end) flush_run();
                run += t.surface;
                run_end = t.end;
            } else {
                flush_run();
            }
        }
        flush_run();
    }
};

}  // namespace

DocumentBuilder::Built DocumentBuilder::build(const Sheet& s, Analyzer::Session& session) const {
    Xapian::Document doc;
    doc.add_boolean_term(terms::boolean(schema::kId, s.id));
    doc.add_boolean_term(terms::boolean(schema::kFile, s.file));
    // Facets (core/facets.h): a boolean term per value for the filters, and the record for the counts; a
    // sheet without a value gets the 記載なし term, so that it can be filtered like any other value.
    static const BureauDirectory no_aliases;
    const FacetContext context{config_, no_aliases};
    for (const Facet& f : facets()) {
        const std::vector<std::string> values = f.values_of(s, context);
        for (const std::string& v : values) doc.add_boolean_term(terms::boolean(f.prefix, v));
        if (values.empty()) doc.add_boolean_term(terms::boolean(f.prefix, kNoValue));
    }
    doc.add_value(schema::kSlotFacetRecord, facet_record(s, context));
    // Orders (core/schema.h): each a plain value, so that remote shards can sort too.
    constexpr double kLast = std::numeric_limits<double>::max();
    if (s.year) doc.add_value(schema::kSlotYearSortable, Xapian::sortable_serialise(*s.year));
    doc.add_value(schema::kSlotYearAscending, Xapian::sortable_serialise(s.year ? *s.year : kLast));
    if (s.amount) doc.add_value(schema::kSlotAmount, Xapian::sortable_serialise(static_cast<double>(*s.amount)));
    doc.add_value(schema::kSlotAmountAscending, Xapian::sortable_serialise(s.amount ? static_cast<double>(*s.amount) : kLast));
    doc.add_value(schema::kSlotLine, Xapian::sortable_serialise(s.first_line));
    doc.add_value(schema::kSlotId, s.id);
    doc.add_value(schema::kSlotTieWeight, Xapian::sortable_serialise(schema::tie_weight(s.id)));
    // Which bureau each division sits under, so that the searcher can nest the division facet (core/facets.h
    // Facet::parent) without reading document data.
    std::string pairs;
    for (const BureauRef& b : s.bureaus)
        for (const std::string& d : b.divisions) append_line(pairs, b.top + "\t" + d);
    if (!pairs.empty()) doc.add_value(schema::kSlotBureauPairs, pairs);

    // Free text. Each part gets its own stretch of positions, 50 apart, so no phrase spans two parts.
    std::set<std::string> readings;
    TermSink sink{doc, readings, {}, {}};
    std::uint32_t position = 0;
    const auto add = [&](const std::string& text, unsigned weight, std::string_view prefix) {
        auto tokens = analyzer_.analyze(session, text, position);
        sink.add_text(tokens, weight, prefix);
        position = (tokens.empty() ? position : tokens.back().position) + 50;
    };
    const FieldWeights& w = config_.weights;
    add(indexed_title(s), w.title, schema::kTitle);
    if (!s.within.empty()) add(s.within, w.other, "");
    for (const BureauRef& b : s.bureaus) {
        std::string names = b.top;
        for (const std::string& d : b.divisions) names += " " + d;
        add(names, w.other, "");
    }
    for (const Section& sec : s.sections) {
        const unsigned weight = sec.key == "purpose" ? w.purpose : sec.key == "overview" ? w.overview : w.other;
        add(sec.text, weight, "");
    }
    doc.set_data(document_data::encode(s));
    return {std::move(doc), {readings.begin(), readings.end()}};
}

}  // namespace yosan
