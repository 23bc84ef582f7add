#include "indexer/document_builder.h"

#include "core/schema.h"
#include "core/text.h"

namespace yosan {

std::string indexed_title(const Sheet& sheet) {
    std::string t = sheet.parent;
    if (!sheet.sub_label.empty()) t += (t.empty() ? "" : " ") + sheet.sub_label;
    if (!sheet.title.empty()) t += (t.empty() ? "" : " ") + sheet.title;
    return t;
}

namespace {

// Adds the terms of one piece of text; `position` continues across calls so fields never overlap.
struct TermSink {
    Xapian::Document& doc;
    Xapian::termpos gram_position = schema::kGramPositionBase;

    void add_text(const std::vector<Token>& tokens, unsigned weight, const std::string& field_prefix) {
        std::string run;
        std::size_t run_end = 0;
        const auto flush_run = [&] {
            for (const std::string& g : kanji_bigrams(run)) doc.add_posting(std::string(schema::kGram) + g, gram_position++, weight);
            if (!run.empty()) gram_position += 2;  // runs never join into one phrase
            run.clear();
        };
        for (const Token& t : tokens) {
            if (!t.indexed) {
                flush_run();
                continue;
            }
            doc.add_posting(t.term, t.position + 1, weight);
            if (t.surface != t.term) doc.add_posting(t.surface, t.position + 1, 0);
            if (!field_prefix.empty()) doc.add_posting(field_prefix + t.term, t.position + 1, 1);
            const bool kanji = all_of_script(t.surface, is_kanji);
            if (!t.reading.empty() && !all_of_script(t.surface, is_katakana) && !all_of_script(t.surface, is_hiragana))
                doc.add_posting(std::string(schema::kReading) + t.reading, t.position + 1, 0);
            if (kanji) {
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

Xapian::Document DocumentBuilder::build(const Sheet& s) const {
    Xapian::Document doc;
    doc.add_boolean_term(std::string(schema::kId) + s.id);
    doc.add_boolean_term(std::string(schema::kFile) + s.file);
    std::string tops, divisions;
    for (const BureauRef& b : s.bureaus) {
        if (!b.top.empty()) {
            doc.add_boolean_term(std::string(schema::kBureau) + b.top);
            append_line(tops, b.top);
        }
        for (const std::string& d : b.divisions) {
            doc.add_boolean_term(std::string(schema::kDivision) + d);
            append_line(divisions, d);
        }
    }
    if (!tops.empty()) doc.add_value(schema::kSlotBureaus, tops);
    if (!divisions.empty()) doc.add_value(schema::kSlotDivisions, divisions);
    if (s.year) {
        doc.add_boolean_term(std::string(schema::kYear) + std::to_string(*s.year));
        doc.add_value(schema::kSlotYear, std::to_string(*s.year));
        doc.add_value(schema::kSlotYearSortable, Xapian::sortable_serialise(*s.year));
    }
    if (s.kind) {
        doc.add_boolean_term(std::string(schema::kKind) + *s.kind);
        doc.add_value(schema::kSlotKind, *s.kind);
    }
    if (s.amount) {
        const int bucket = config_.buckets.bucket_of(*s.amount);
        doc.add_boolean_term(std::string(schema::kBucket) + std::to_string(bucket));
        doc.add_value(schema::kSlotBucket, std::to_string(bucket));
        doc.add_value(schema::kSlotAmount, Xapian::sortable_serialise(static_cast<double>(*s.amount)));
    }
    doc.add_value(schema::kSlotLine, Xapian::sortable_serialise(s.first_line));

    // Free text. Each part gets its own stretch of positions, 50 apart, so no phrase spans two parts.
    TermSink sink{doc};
    std::uint32_t position = 0;
    const auto add = [&](const std::string& text, unsigned weight, const std::string& prefix) {
        auto tokens = analyzer_.analyze(text, position);
        sink.add_text(tokens, weight, prefix);
        position = (tokens.empty() ? position : tokens.back().position) + 50;
    };
    const FieldWeights& w = config_.weights;
    add(indexed_title(s), w.title, std::string(schema::kTitle));
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
    doc.set_data(s.to_json().dump());
    return doc;
}

}  // namespace yosan
