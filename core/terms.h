// How a token or a facet value becomes Xapian terms: the one rule both the indexer and the query parser
// follow. If the two sides turned tokens into terms differently, matches would be silently lost, so neither
// side builds a term string by hand.
//
// Xapian refuses a term longer than 245 bytes (and a whole run with it). Two caps keep every term below:
//   - boolean terms (ids, facet values, file paths) are exact keys that may be long (a folder of 80
//     Japanese characters), so a long one is cut and a hash of the whole is appended, as Omega's
//     hash_long_term does: still exact, still unique in practice, and computed the same way on both sides;
//   - free-text words longer than kMaxWordBytes are not search terms at all (nobody types a 27 KB word,
//     and such a "word" is a conversion accident); the position still advances.
//
// All functions are thread safe, and pure but for the overloads that write into a caller's buffer.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "core/analyzer.h"
#include "core/schema.h"
#include "core/text.h"

namespace yosan::terms {

// Xapian's limit for glass databases.
inline constexpr std::size_t kMaxTermBytes = 245;
// Free-text words above this are not indexed (and a query word above it matches nothing).
inline constexpr std::size_t kMaxWordBytes = 120;

// prefix + value, hashed when it would be too long for Xapian.
std::string boolean(std::string_view prefix, std::string_view value);

// The free-text term of a word under a field prefix ("" for the body, "S" for titles), or "" when the word
// is too long to be a term.
std::string word(std::string_view prefix, std::string_view text);

// The terms one token stands for in a field, strongest first: its folded term (the lemma), then its
// surface when that differs (UniDic reads 宇宙 standing alone as the name ソラ; indexing and searching the
// surface too means 宇宙 still finds 宇宙). The indexer posts them at the token's position (in the body;
// not an inflected surface, nor title terms: surface_has_positions, positional); the query parser ORs them
// as synonyms. Empty for a token that is not indexed or too long.
std::vector<std::string> word_forms(std::string_view prefix, const Token& token);
// The same into `out`, assigned into its strings so that their memory is reused (the indexer asks this of
// every token twice; allocating each term cost more than looking it up in the document): how many forms.
std::size_t word_forms(std::string_view prefix, const Token& token, std::array<std::string, 2>& out);

// Readings link a kana spelling to the words the index holds (ちくでんち → 蓄電池). A reading entry is
// "R" + the folded katakana reading + TAB + the token's folded body term: R チクデン\t蓄電. The entries form
// a lexicon of the whole index, not terms of documents: each distinct pair is one metadata key of the
// first database (shard 0, like the spelling table; Xapian reads a combined database's metadata from its
// first one, xapian-tcpsrv serves it, and compaction merges it). The query parser looks up which words a
// reading stands for by this prefix (metadata_keys_begin) and asks for those words, which carry the
// positions. As document terms the readings were a quarter of all postings and a large part of every
// termlist, for a feature that only needs the lexicon. The indexer drops an entry once its word has left
// the index (indexer/index_writer.h).
//
// The reading entry of a token whose surface is not already kana, or "" (no reading, or too long).
std::string reading(const Token& token);
// The same into `out` (its memory reused, as for word_forms): false when the token has no entry.
bool reading(const Token& token, std::string& out);
// The prefix under which the index lists the words read as `folded_reading`: "R" + reading + TAB.
std::string reading_prefix(std::string_view folded_reading);
// A katakana reading with small kana folded to full size (ダッタン → ダツタン), as reading entries hold it.
std::string fold_reading(std::string_view katakana);

// Whether a token's surface, where it differs from the folded term (word_forms' second form), is posted
// with positions. Not for inflecting words (動詞, 形容詞, 助動詞): their lemma stands at every position
// of every inflection, which is what phrases of them need, and their surfaces' positions (進め, 高く)
// were 4% of the index. They still match as words. A noun's surface keeps its positions: a
// noun's lemma can change with its context (エネ reads エイネ before の and エネ after 再), and a phrase
// (再エネ) then meets it through its surface.
bool surface_has_positions(const Token& token);

// A phrase or NEAR of words, each given in its forms (word_forms under `prefix`). Title terms ("S") carry no
// positions: the body holds every title word at the same position, so the positions are checked on the
// body terms, and the title terms (ANDed) decide which sheets match and weigh them as a phrase of them
// would. Positions of S would add a twentieth to the index for title phrases alone. The price: the body's
// phrase may stand outside the title, so a title with the words apart (技術の開発) matches title:"技術開発"
// when its body has the phrase (one sheet of data/; tests/test_search.cpp). The indexer and every
// positional query over a field take this rule from here.
Xapian::Query positional(Xapian::Query::op op, std::string_view prefix, const std::vector<std::vector<std::string>>& forms,
                         Xapian::termcount window);

// Kanji bigram terms of a run of kanji ("XG" + the overlapping two-character pieces): 蓄電池 → XG蓄電,
// XG電池. The indexer and the query parser both take them from here, so compound parts match the same way
// on both sides. Indexed without positions: a compound part of three or more kanji is asked for as all
// of its bigrams (半導体 → 半導 AND 導体), which in practice only meet inside the compound itself.
std::vector<std::string> gram_terms(std::string_view kanji_run);
// The same, each term passed to `f` in turn (in one buffer, reused).
template <class F>
void for_each_gram_term(std::string_view kanji_run, F&& f);

// Whether a body term goes into the spelling dictionary for "did you mean": katakana words of three
// letters or more (ロボティクス: typed by ear, where small-kana and long-vowel slips happen) and Latin
// words of four letters or more. Kanji words are typed through an IME and come out as real words, and
// two-letter words have too many neighbours for a suggestion to mean anything.
bool spelling_word(std::string_view term);

template <class F>
void for_each_gram_term(std::string_view kanji_run, F&& f) {
    std::string term;
    std::size_t previous = 0, i = 0;
    if (!kanji_run.empty()) next_code_point(kanji_run, i);
    while (i < kanji_run.size()) {
        const std::size_t at = i;
        next_code_point(kanji_run, i);
        term.assign(schema::kGram).append(kanji_run.substr(previous, i - previous));
        f(static_cast<const std::string&>(term));
        previous = at;
    }
}

}  // namespace yosan::terms
