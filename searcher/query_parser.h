// Turns what staff type into a Xapian::Query, using the same Analyzer as the indexer.
//
// Syntax: words are ANDed; "quoted phrases"; -word and -"phrase" exclude; OR between two items; title:word
// searches titles only; bureau:name filters by organisation. Budget words become filters rather than text:
// 10億円以上, 100億円未満, 令和6年度, FY2025, 2025年度, 補正, 補正予算, 当初予算, 予備費, 概算要求, and
// combinations such as 令和6年度補正. Inside quotes they stay text.
//
// Each word is analysed; a word that splits into several tokens (半導体製造装置) becomes a phrase of them.
// A word made of kanji also matches, with a low weight, as a phrase of kanji bigrams, so that 電池 finds
// 蓄電池 and 中小 finds 中小企業 (katakana is never split that way, so ドル never matches ミドルウェア).
// A word in kana also matches through the reading lexicon (はんどうたい → 半導体). Synonyms from
// dict/synonyms.tsv are added as alternatives, each in all the forms above, so either word of a pair
// finds the same sheets; the file is read at start-up, so editing it needs no re-index.
//
// Thread safety: parse() is const and thread safe if the database handle passed to it is not shared.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <xapian.h>

#include "core/analyzer.h"
#include "core/bureaus.h"
#include "core/config.h"
#include "core/facets.h"

namespace yosan {

// A filter the parser recognised in the text, for the page to show as a removable chip.
struct RecognisedFilter {
    std::string field;  // amount_min | amount_max | year | kind | bureau
    std::string value;  // the normalised value ("1000000000", "2024", "補正")
    std::string text;   // the words it came from, as typed
};

// What a snippet should mark: a sequence of analysed terms that must stand together (a word, a phrase, a
// synonym, or a reading sequence with the "R" prefix), or a word found inside a kanji compound.
struct HighlightPattern {
    std::vector<std::string> terms;
    std::vector<std::string> surfaces;  // the surface of each term as typed, also accepted (宇宙, whose lemma alone is ソラ)
    std::string compound_part;  // when set: mark a run of kanji words that contains this text
    // Texts whose presence in a line makes a match there likely (the words a reading stands for): the
    // snippet analyses such lines first. They only choose lines; marks come from the fields above.
    std::vector<std::string> hints;
    // Which word of the query it marks (numbered as typed): the patterns of one word are alternatives (its
    // forms and words, a compound part, readings, synonyms), and a line that has every word needs no more.
    std::size_t word = 0;
};

// One thing a query asks for: a word or a compound as typed (医療機器), a quoted phrase, a title: word, or
// several of those joined by OR. A sheet matches when it meets every requirement, unless the searcher has
// to relax the query (searcher.h) and drops some.
struct Requirement {
    std::string text;     // as typed, for the page (a dropped word is shown struck through)
    Xapian::Query query;  // the words of a compound near each other, in any of their forms
    Xapian::Query loose;  // the same words anywhere in the sheet (the first relaxation)
    bool strict = false;  // quoted, title:, or part of an OR: never loosened or dropped
};

struct ParsedQuery {
    std::vector<Requirement> required;
    std::vector<Xapian::Query> bonus;     // ranking only: compounds as phrases, verbs, nearness of all words
    // For each bonus, the requirement whose strict query has every sheet the bonus matches (a word's own
    // phrase), if any: a query of that requirement alone needs no check that the bonus adds no match.
    std::vector<std::optional<std::size_t>> bonus_within;
    std::vector<Xapian::Query> excluded;  // -word
    bool has_text = false;
    Filters filters;  // what the text contributed
    std::vector<RecognisedFilter> recognised;
    std::vector<HighlightPattern> highlight;

    // The query for the requirements marked in `keep` (all when empty), in their loose form when `loose`,
    // ranked with the bonuses and without the excluded words. MatchAll when there is no text.
    Xapian::Query build(const std::vector<bool>& keep = {}, bool loose = false) const;
    // The same sheets without the bonuses: for passes that only count (the bonuses cost positional checks).
    Xapian::Query matching(const std::vector<bool>& keep = {}, bool loose = false) const;
    // Sheets matching `matching`, ranked by all the words (loose) and the bonuses, without the excluded.
    Xapian::Query ranked(const Xapian::Query& matching) const;
    Xapian::Query without_excluded(const Xapian::Query& q) const;

private:
    // The queries of the requirements marked in `keep` (all when empty), loose ones in their loose form.
    std::vector<Xapian::Query> requirements(const std::vector<bool>& keep, bool loose) const;
};

// Word groups that mean the same (one group per line, tab separated).
class Synonyms {
public:
    static Synonyms load(const std::string& path, const Analyzer& analyzer);  // "" → none
    // The other members of w's group, when w (normalised) belongs to one.
    std::vector<std::string> alternatives(const std::string& normalised_word) const;

private:
    std::map<std::string, std::size_t> group_of_;
    std::vector<std::vector<std::string>> groups_;
};

class QueryParser {
public:
    QueryParser(const Analyzer& analyzer, const BureauDirectory& bureaus, const Synonyms& synonyms,
                const Config& config)
        : analyzer_(analyzer), bureaus_(bureaus), synonyms_(synonyms), config_(config) {}

    // Throws UsageError for an absurd query (too long, unbalanced quotes are tolerated).
    ParsedQuery parse(const std::string& text, const Xapian::Database& db) const;
    // The same with the caller's MeCab session (a Searcher keeps one: analyzer.h).
    ParsedQuery parse(const std::string& text, const Xapian::Database& db, Analyzer::Session& session) const;

    static constexpr std::size_t kMaxQueryBytes = 1024;
    static constexpr std::size_t kMaxItems = 32;

private:
    // One word, compound or phrase (no operators) in all its forms: the analysed words (lemma and surface),
    // a part of a kanji compound, the reading of a kana word, and its synonyms. `strict` wants a compound's
    // words near each other (a phrase when `phrase`), `loose` anywhere; `phrase` is the exact phrase, for
    // ranking. nullopt when the text has no searchable word.
    struct WordQuery {
        Xapian::Query strict, loose;
        std::optional<Xapian::Query> phrase;
        std::vector<std::string> near_terms;  // its words' terms, for the nearness bonus of the whole query
    };
    std::optional<WordQuery> word_query(const std::string& text, bool title_only, bool phrase, const Xapian::Database& db,
                                        Analyzer::Session& session, std::vector<HighlightPattern>& highlight) const;
    const Analyzer& analyzer_;
    const BureauDirectory& bureaus_;
    const Synonyms& synonyms_;
    const Config& config_;
};

// Budget-word recognition, exposed for tests: fills `out` and returns true when the whole word is a filter.
bool recognise_filter_word(const std::string& word, Filters& out, std::vector<RecognisedFilter>& recognised);

}  // namespace yosan
