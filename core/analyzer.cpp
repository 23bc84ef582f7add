#include "core/analyzer.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>

#include <mecab.h>

#include "core/error.h"

namespace yosan {

DictionaryKind parse_dictionary_kind(const std::string& name) {
    if (name == "unidic") return DictionaryKind::unidic;
    if (name == "ipadic") return DictionaryKind::ipadic;
    throw ConfigError("辞書の種類は unidic か ipadic で指定してください: " + name, "analysis.dictionary");
}

namespace {

// The fields of a MeCab feature string, split on commas; a double-quoted field (UniDic quotes those that
// hold a comma) is taken whole, without its quotes. Every token of every sheet comes through here, so
// commas and quotes are found with find() (memchr) rather than by a test of every byte, which cost as
// much as MeCab's own analysis. The fields read are among the first kMax.
struct Features {
    static constexpr std::size_t kMax = 32;
    std::array<std::string_view, kMax> fields;
    std::size_t size = 0;
};

Features split_features(std::string_view s) {
    Features out;
    std::size_t quote = s.find('"');  // the first double quote not yet passed
    for (std::size_t start = 0; out.size < Features::kMax;) {
        std::size_t end = s.find(',', start);
        while (quote < end) {  // a quote opens before the comma: the field goes on past its closing quote
            const std::size_t close = s.find('"', quote + 1);
            if (close == std::string_view::npos) {  // never closed: the rest is the field
                end = quote = std::string_view::npos;
                break;
            }
            if (end != std::string_view::npos && end < close) end = s.find(',', close + 1);
            quote = s.find('"', close + 1);
        }
        if (end == std::string_view::npos) end = s.size();
        std::string_view field = s.substr(start, end - start);
        if (field.size() >= 2 && field.front() == '"' && field.back() == '"') field = field.substr(1, field.size() - 2);
        out.fields[out.size++] = field;
        if (end == s.size()) break;
        start = end + 1;
    }
    return out;
}

std::string_view field(const Features& f, std::size_t i) {
    return i < f.size && f.fields[i] != "*" ? f.fields[i] : std::string_view{};
}

bool has_word_character(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const char32_t cp = next_code_point(s, i);
        if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || is_kanji(cp) ||
            is_katakana(cp) || is_hiragana(cp) || (cp >= 0xC0 && cp < 0x2000 && cp != 0xD7 && cp != 0xF7))
            return true;
    }
    return false;
}

// MeCab gives up on a very long sentence ("too long sentence"), and a sheet converted from a PDF can hold
// a line of megabytes. Lines are therefore analysed in pieces of at most kChunkBytes, cut after 。、 or a
// space where one stands in the second half of the piece, else at a code-point boundary. A word cut in
// two at such a place is rare (real lines are far shorter) and costs only that word.
constexpr std::size_t kChunkBytes = 4096;

std::size_t chunk_end(std::string_view line, std::size_t from) {
    if (line.size() - from <= kChunkBytes) return line.size();
    const std::size_t limit = from + kChunkBytes;
    for (std::size_t i = limit; i > from + kChunkBytes / 2; --i) {
        const std::string_view before = line.substr(0, i);
        if (before.ends_with("。") || before.ends_with("、") || before.ends_with("　") || before.back() == ' ' ||
            before.back() == '\t')
            return i;
    }
    std::size_t i = limit;
    while (i > from + 1 && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) --i;  // not inside a character
    return i;
}

// Words longer than this are never search terms: no real word is, and Xapian refuses terms over 245 bytes
// (with a prefix), which would fail the whole document. A run of thousands of letters is one such "word".
constexpr std::size_t kMaxWordBytes = 120;

// The surfaces (first fields) of the CSV a compiled user dictionary was made from, which lies beside it
// with the extension .csv; none when it is not there (user_word_parts() then splits words as they come).
std::vector<std::string> user_dictionary_words(const std::string& dictionary) {
    std::ifstream in(std::filesystem::path(dictionary).replace_extension(".csv"));
    std::vector<std::string> words;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.front() == '"') {  // a quoted surface (one that holds a comma)
            if (const auto close = line.find('"', 1); close != std::string::npos) words.push_back(line.substr(1, close - 1));
        } else {
            words.push_back(line.substr(0, line.find(',')));
        }
    }
    return words;
}

}  // namespace

std::string fold_term(std::string_view lemma) {
    // UniDic writes loanword lemmas as "モーター-motor".
    if (auto dash = lemma.find('-'); dash != std::string_view::npos && dash > 0 && dash + 1 < lemma.size()) {
        bool ascii_tail = true;
        for (char c : lemma.substr(dash + 1)) ascii_tail &= static_cast<unsigned char>(c) < 0x80;
        bool kana_head = all_of_script(lemma.substr(0, dash), is_katakana);
        if (ascii_tail && kana_head) lemma = lemma.substr(0, dash);
    }
    // One pass decides which rule applies; most lemmas need none and are returned as they are (this runs
    // for every token of every sheet).
    std::size_t count = 0, kanji = 0, hira = 0;
    bool starts_with_kanji = false, katakana = true, invalid = false;
    char32_t last = 0;
    for (std::size_t i = 0; i < lemma.size(); ++count) {
        last = next_code_point(lemma, i);
        if (count == 0) starts_with_kanji = is_kanji(last);
        kanji += is_kanji(last);
        hira += last >= 0x3041 && last <= 0x3096;
        katakana &= is_katakana(last);
        invalid |= last == 0xFFFD;
    }
    // Okurigana: a word that mixes kanji and hiragana and starts with a kanji keeps only its kanji when
    // two or more remain, so 受入れ, 受け入れ and 受け入れる all become 受入.
    if (starts_with_kanji && kanji >= 2 && hira > 0 && kanji + hira == count) {
        std::string out;
        for (std::size_t i = 0; i < lemma.size();)
            if (const char32_t c = next_code_point(lemma, i); is_kanji(c)) append_utf8(out, c);
        return out;
    }
    std::string out;
    if (invalid)  // bytes that are not UTF-8 become U+FFFD, as everywhere else
        for (std::size_t i = 0; i < lemma.size();) append_utf8(out, next_code_point(lemma, i));
    else
        out.assign(lemma);
    // Katakana long vowel: コンピューター/コンピュータ, モーター/モータ.
    if (count >= 4 && last == U'ー' && katakana) out.resize(out.size() - std::string_view("ー").size());
    return out;
}

Analyzer::Analyzer(AnalyzerOptions options) : options_(std::move(options)) {
    if (options_.dictionary_path.empty())
        throw ConfigError("MeCab 辞書のパスが設定されていません", "analysis.dictionary_path");
    // MeCab would fail with a message of its own, or worse, a missing user dictionary used to be dropped
    // in silence and its words went unindexed; name the file instead.
    if (!options_.user_dictionary.empty() && !std::filesystem::is_regular_file(options_.user_dictionary))
        throw ConfigError("MeCab のユーザー辞書がありません（ビルドで作られます）", options_.user_dictionary);
    std::string args = "-d " + options_.dictionary_path;
    if (!options_.user_dictionary.empty()) args += " -u " + options_.user_dictionary;
    model_.reset(MeCab::createModel(args.c_str()));
    if (!model_) {
        throw AnalysisError(std::string("MeCab を初期化できません: ") + MeCab::getLastError(),
                            options_.dictionary_path);
    }
    if (!options_.user_dictionary.empty()) split_user_words(user_dictionary_words(options_.user_dictionary));
}

Analyzer::~Analyzer() = default;

std::vector<Token> Analyzer::analyze(std::string_view text, std::uint32_t first_position, Mode mode) const {
    Session session(*this);
    return analyze(session, text, first_position, mode);
}

std::vector<Token> Analyzer::analyze(Session& session, std::string_view text, std::uint32_t first_position, Mode mode) const {
    if (&session.analyzer_ != this) throw std::logic_error("Analyzer::analyze: a Session of another Analyzer");
    std::vector<Token> tokens;
    std::uint32_t position = first_position;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        if (!trim(line).empty()) {
            // Long lines go to MeCab in pieces, positions continuing across them (see chunk_end).
            for (std::size_t from = 0, to; from < line.size(); from = to) {
                to = chunk_end(line, from);
                analyze_line(session, line.substr(from, to - from), start + from, position, mode, tokens);
            }
            ++position;  // a gap, so that a phrase never spans a line break
        }
        start = end + 1;
    }
    return tokens;
}

namespace {

// The search term of a lemma (or of a surface standing in for one). UniDic writes the lemmas of letters and
// digits in full width (Ｇ for G); they are folded like the text.
std::string fold_lemma(std::string_view lemma) {
    const bool full_width = lemma.find("\xEF\xBC") != std::string_view::npos || lemma.find("\xEF\xBD") != std::string_view::npos;
    return fold_term(full_width ? normalize(lemma) : std::string(lemma));
}

// The tokens MeCab finds in `text` (a normalised line, or a user word), with offsets in `text`.
struct RawToken {
    std::size_t nbegin, nend;
    Token token;
    bool user_word;             // from dict/user.csv
    bool user_katakana_pieces;  // … marked "pieces": its katakana pieces are searchable words too
};

// A part of speech as a view of one copy kept for the process: there are a few hundred of them, and a
// string of its own in every token cost a tenth of the analysis (allocated, copied, freed).
std::string_view intern(std::string_view s) {
    static std::mutex mutex;
    static std::set<std::string, std::less<>> pool;  // only grows, by the distinct parts of speech
    const std::lock_guard lock(mutex);
    auto it = pool.find(s);
    if (it == pool.end()) it = pool.emplace(s).first;
    return *it;
}

// What a token's feature string says about it, for every occurrence of its dictionary entry alike.
struct FeatureEntry {
    std::string_view pos;
    bool has_lemma = false;
    std::string term;  // the folded lemma (when has_lemma; else the surface stands in for it)
    std::string reading;
    bool function_word = false;
    bool user_word = false, user_katakana_pieces = false;
};

FeatureEntry read_features(const char* feature, bool unidic) {
    const Features f = split_features(feature);
    FeatureEntry e;
    const std::string_view pos1 = field(f, 0);
    std::string pos(pos1);
    for (std::size_t k : {1, 2})
        if (!field(f, k).empty()) pos.append(",").append(field(f, k));
    e.pos = intern(pos);
    // UniDic: 6 lForm, 7 lemma, 20 kana, 26 aModType (our user-word marker). IPADIC: 6 base form, 7 reading.
    const std::string_view lemma = field(f, unidic ? 7 : 6);
    e.has_lemma = !lemma.empty();
    if (e.has_lemma) e.term = fold_lemma(lemma);
    e.reading = std::string(field(f, unidic ? 20 : 7));
    e.function_word = pos1 == "助詞" || pos1 == "助動詞" || pos1 == "補助記号" || pos1 == "空白" ||
                      (pos1 == "記号" && !unidic && field(f, 1) != "アルファベット");
    const std::string_view marker = unidic ? field(f, 26) : std::string_view();
    e.user_word = marker == "yosan-user" || marker == "yosan-user-pieces";
    e.user_katakana_pieces = marker == "yosan-user-pieces";
    return e;
}

}  // namespace

// The FeatureEntry of each dictionary entry a Session has met. MeCab keeps an entry's feature string at
// one address for the model's life, so the address is the key: a word met again is not read again
// (splitting the feature string, some 200 bytes in UniDic, and folding the lemma cost as much as a third
// of MeCab's own analysis). Bounded (some 10 MB at most): a server's Session lives for the process, and
// the dictionary entries a corpus uses fit many times over.
struct Analyzer::Session::FeatureCache {
    static constexpr std::size_t kMaxEntries = 1 << 16;
    std::unordered_map<const char*, FeatureEntry> entries;
};

Analyzer::Session::Session(const Analyzer& analyzer)
    : analyzer_(analyzer),
      tagger_(analyzer.model_->createTagger()),
      lattice_(analyzer.model_->createLattice()),
      features_(std::make_unique<FeatureCache>()) {
    if (!tagger_ || !lattice_) throw AnalysisError("MeCab のタガーを作成できません");
}

Analyzer::Session::~Session() = default;

namespace {

// `cache`: the Session's, when the tagger is of the Analyzer's model (null for a model about to go).
std::vector<RawToken> tag(MeCab::Tagger* tagger, MeCab::Lattice* lattice, std::string_view text, bool unidic,
                          Analyzer::Session::FeatureCache* cache) {
    lattice->set_sentence(text.data(), text.size());  // MeCab reads `size` bytes; `text` outlives the nodes read here
    if (!tagger->parse(lattice)) throw AnalysisError(std::string("MeCab の解析に失敗しました: ") + lattice->what());
    std::vector<RawToken> out;
    FeatureEntry uncached;
    for (const MeCab::Node* node = lattice->bos_node(); node; node = node->next) {
        if (node->stat == MECAB_BOS_NODE || node->stat == MECAB_EOS_NODE || node->length == 0) continue;
        const FeatureEntry* e = &uncached;
        if (cache) {
            auto it = cache->entries.find(node->feature);
            if (it == cache->entries.end()) {
                if (cache->entries.size() >= cache->kMaxEntries) cache->entries.clear();
                it = cache->entries.emplace(node->feature, read_features(node->feature, unidic)).first;
            }
            e = &it->second;
        } else {
            uncached = read_features(node->feature, unidic);
        }
        RawToken r;
        r.nbegin = static_cast<std::size_t>(node->surface - lattice->sentence());
        r.nend = r.nbegin + node->length;
        Token& t = r.token;
        t.surface.assign(node->surface, node->length);
        t.pos = e->pos;
        t.reading = e->reading;
        t.term = e->has_lemma ? e->term : fold_lemma(t.surface);
        t.indexed = !e->function_word && has_word_character(t.surface) && t.surface.size() <= kMaxWordBytes &&
                    t.term.size() <= kMaxWordBytes && t.reading.size() <= kMaxWordBytes;
        r.user_word = e->user_word;
        r.user_katakana_pieces = e->user_katakana_pieces;
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace

void Analyzer::analyze_line(Session& session, std::string_view line, std::size_t line_offset,
                            std::uint32_t& position, Mode mode, std::vector<Token>& out) const {
    const NormalizedText norm = normalize_for_search(line, options_.char_fixes);
    const bool unidic = options_.dictionary == DictionaryKind::unidic;
    const auto place = [&](Token t, std::size_t nbegin, std::size_t nend, std::uint32_t pos) {
        auto [ob, oe] = norm.to_original(nbegin, nend);
        t.begin = line_offset + ob;
        t.end = line_offset + oe;
        t.position = pos;
        out.push_back(std::move(t));
    };
    for (RawToken& r : tag(session.tagger_.get(), session.lattice_.get(), norm.text, unidic, session.features_.get())) {
        if (!r.user_word) {
            place(std::move(r.token), r.nbegin, r.nend, position++);
            continue;
        }
        // A word from the user dictionary stands whole at its first position; its parts, as the system
        // dictionary alone splits it, follow from the same position, so that 5G still finds ポスト5G and
        // a phrase over the whole word and what follows it keeps its spacing.
        const auto& parts = user_word_parts(std::string_view(norm.text).substr(r.nbegin, r.nend - r.nbegin));
        const std::uint32_t first = position;
        const std::size_t word_begin = r.nbegin;
        place(std::move(r.token), r.nbegin, r.nend, first);
        // Katakana parts next to katakana are a loanword compound's pieces (レア|アース of レアアース):
        // those stay unsearchable, as in text MeCab never split (ドル does not match ミドルウェア). A word
        // marked "pieces" (サプライチェーン) keeps them, as MeCab splits it in text without the dictionary:
        // there the whole word only spares the query a positional check.
        const auto katakana = [&](std::size_t k) {
            return !r.user_katakana_pieces && k < parts.size() && all_of_script(parts[k].token.surface, is_katakana);
        };
        if (mode == Mode::index && parts.size() > 1)  // a word MeCab keeps whole anyway has no parts
            for (std::size_t k = 0; k < parts.size(); ++k)
                if (!katakana(k) || !((k > 0 && katakana(k - 1)) || katakana(k + 1)))
                    place(parts[k].token, word_begin + parts[k].nbegin, word_begin + parts[k].nend,
                          first + static_cast<std::uint32_t>(k));
        position = first + static_cast<std::uint32_t>(std::max<std::size_t>(parts.size(), 1));
    }
}

const std::vector<Analyzer::UserWordPart>& Analyzer::user_word_parts(std::string_view word) const {
    {
        const std::lock_guard lock(user_word_parts_mutex_);
        if (const auto it = user_word_parts_.find(word); it != user_word_parts_.end()) return it->second;
    }
    split_user_words({std::string(word)});
    const std::lock_guard lock(user_word_parts_mutex_);
    // std::map never moves its elements: the reference stays valid while other words are added.
    return user_word_parts_.find(word)->second;
}

void Analyzer::split_user_words(const std::vector<std::string>& words) const {
    std::vector<std::string> missing;
    {
        const std::lock_guard lock(user_word_parts_mutex_);
        for (const std::string& word : words)
            if (!word.empty() && !user_word_parts_.count(word)) missing.push_back(word);
    }
    if (missing.empty()) return;
    // Made outside the lock: other threads go on with the words already split.
    const std::unique_ptr<MeCab::Model> base(MeCab::createModel(("-d " + options_.dictionary_path).c_str()));
    if (!base) throw AnalysisError(std::string("MeCab を初期化できません: ") + MeCab::getLastError(), options_.dictionary_path);
    const std::unique_ptr<MeCab::Tagger> tagger(base->createTagger());
    const std::unique_ptr<MeCab::Lattice> lattice(base->createLattice());
    if (!tagger || !lattice) throw AnalysisError("MeCab のタガーを作成できません");
    std::vector<std::pair<std::string, std::vector<UserWordPart>>> split;
    for (std::string& word : missing) {
        std::vector<UserWordPart> parts;
        for (RawToken& r : tag(tagger.get(), lattice.get(), word, options_.dictionary == DictionaryKind::unidic, nullptr))
            parts.push_back({std::move(r.token), r.nbegin, r.nend});
        split.emplace_back(std::move(word), std::move(parts));
    }
    const std::lock_guard lock(user_word_parts_mutex_);
    for (auto& [word, parts] : split) user_word_parts_.emplace(std::move(word), std::move(parts));  // a word split twice keeps the first
}

}  // namespace yosan
