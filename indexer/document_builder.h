// Turns a Sheet into a Xapian::Document following core/schema.h: boolean filter terms, weighted and
// positional free-text terms (title, sections), kanji bigrams, value slots and the document data
// (core/document_data.h), and lists the sheet's reading entries, which the writer keeps in the database's
// reading lexicon (core/terms.h), not in the document.
//
// Thread safety: build() is const and thread safe when each thread passes its own Analyzer::Session.
#pragma once

#include <string>
#include <vector>

#include <xapian.h>

#include "core/analyzer.h"
#include "core/config.h"
#include "core/sheet.h"

namespace yosan {

class DocumentBuilder {
public:
    DocumentBuilder(const Analyzer& analyzer, const Config& config) : analyzer_(analyzer), config_(config) {}
    struct Built {
        Xapian::Document doc;
        std::vector<std::string> readings;  // terms::reading() of its words, each once
    };
    // `session`: a MeCab session of the builder's Analyzer, kept by the calling thread across sheets.
    Built build(const Sheet& sheet, Analyzer::Session& session) const;
    const Analyzer& analyzer() const { return analyzer_; }

private:
    const Analyzer& analyzer_;
    const Config& config_;
};

// The text of a sheet's title as indexed and shown: 「親事業 (2) 子事業」 for a sub-project.
std::string indexed_title(const Sheet& sheet);

}  // namespace yosan
