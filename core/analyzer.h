// The Japanese analysis chain shared by the indexer and the query parser:
//
//   text ─ line split ─ CharMap fixes + ICU NFKC/case fold ─ MeCab ─ token filters ─ Token[]
//
// Line breaks are token boundaries: each line is analysed on its own, so a budget figure at the end of one
// line never glues onto a bureau name on the next. Particles, auxiliaries and symbols are kept in the output
// with `indexed == false`: they are not search terms, but they consume a position so phrases stay exact.
//
// Thread safety: an Analyzer is immutable after construction (but for a cache behind a mutex) and analyze()
// is thread safe (the MeCab model is shared; each call makes its own tagger and lattice, or uses the
// caller's Session, which belongs to one thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.h"

namespace MeCab {
class Model;
class Tagger;
class Lattice;
}

namespace yosan {

struct Token {
    std::string surface;  // normalised surface form
    std::string term;     // the search term: the lemma, with okurigana and long-vowel variants folded
    std::string reading;  // katakana reading of the surface, when the dictionary knows it
    std::string_view pos;  // part of speech, first three levels joined by ',' (interned: valid for the process)
    std::uint32_t position = 0;
    std::size_t begin = 0, end = 0;  // byte range in the original (unnormalised) text
    bool indexed = true;             // false: a particle, auxiliary or symbol
};

// Which MeCab dictionary layout the feature strings follow.
enum class DictionaryKind { unidic, ipadic };
DictionaryKind parse_dictionary_kind(const std::string& name);  // throws ConfigError

struct AnalyzerOptions {
    DictionaryKind dictionary = DictionaryKind::unidic;
    // Directory holding the compiled system dictionary (sys.dic, matrix.bin). Required: the system
    // default changes whenever another dictionary package is installed.
    std::string dictionary_path;
    // Compiled user dictionary for the same system dictionary; empty for none.
    std::string user_dictionary;
    CharMap char_fixes;
};

class Analyzer {
public:
    explicit Analyzer(AnalyzerOptions options);  // throws AnalysisError if MeCab cannot load
    ~Analyzer();
    Analyzer(const Analyzer&) = delete;
    Analyzer& operator=(const Analyzer&) = delete;

    // How words from the user dictionary come out: for the index, the whole word and then its parts
    // (sharing positions: ポスト5G at p, ポスト p, 5 p+1, G p+2); for a query, the whole word only, so a
    // phrase over the query's tokens stays in order.
    enum class Mode { index, query };

    // A MeCab tagger and lattice of this analyser's model. Making them costs about 120 µs, tagging a short
    // line about 3 µs (UniDic): whoever analyses many texts in a row (the indexer, sheet after sheet; a
    // snippet, line after line) keeps one Session and passes it to analyze(). A Session is used by one
    // thread at a time and must not outlive its Analyzer.
    class Session {
    public:
        explicit Session(const Analyzer& analyzer);
        ~Session();
        Session(const Session&) = delete;
        Session& operator=(const Session&) = delete;
        struct FeatureCache;  // what the Session has read of MeCab's feature strings (analyzer.cpp)

    private:
        friend class Analyzer;
        const Analyzer& analyzer_;
        std::unique_ptr<MeCab::Tagger> tagger_;
        std::unique_ptr<MeCab::Lattice> lattice_;
        std::unique_ptr<FeatureCache> features_;
    };
    // Tokens of `text`, numbered from `first_position`. Offsets refer to `text` itself.
    std::vector<Token> analyze(std::string_view text, std::uint32_t first_position = 0, Mode mode = Mode::index) const;
    // The same with the caller's Session (made of this Analyzer).
    std::vector<Token> analyze(Session& session, std::string_view text, std::uint32_t first_position = 0,
                               Mode mode = Mode::index) const;

    // The folded form of a single word, as analyze() would give for it standing alone; used for facet
    // values and query words that must not be split.
    std::string normalize(std::string_view text) const { return yosan::normalize(text, options_.char_fixes); }
    const AnalyzerOptions& options() const { return options_; }


private:
    void analyze_line(Session& session, std::string_view line, std::size_t line_offset, std::uint32_t& position,
                      Mode mode, std::vector<Token>& out) const;
    // The parts of a user-dictionary word (its normalised surface) as the system dictionary alone splits
    // it standing alone: a pure function of the word, so each is computed once and kept. The words listed
    // in the CSV the user dictionary was compiled from (beside it, the same name with .csv; the build and
    // the package put it there) are split when the Analyzer loads, with one model without the user
    // dictionary made for that and dropped at once; a word met that the list lacks is split the same way
    // when first met (about 2 ms). Kept for the Analyzer's life, that model held a second mapping of
    // UniDic's files, some 34 MB of resident memory in every indexer and server, to split a few dozen words.
    struct UserWordPart {
        Token token;
        std::size_t nbegin, nend;  // byte range in the word
    };
    const std::vector<UserWordPart>& user_word_parts(std::string_view word) const;
    void split_user_words(const std::vector<std::string>& words) const;  // those not split yet, into user_word_parts_

    AnalyzerOptions options_;
    std::unique_ptr<MeCab::Model> model_;  // with the user dictionary
    mutable std::mutex user_word_parts_mutex_;
    mutable std::map<std::string, std::vector<UserWordPart>, std::less<>> user_word_parts_;
};

// The term folding rules, exposed for tests: a lemma becomes its term by dropping UniDic's "-english"
// gloss, folding okurigana (引き継ぎ, 引継ぎ → 引継) and dropping a final long-vowel mark from katakana
// words of four letters or more (モーター → モータ).
std::string fold_term(std::string_view lemma);

}  // namespace yosan
