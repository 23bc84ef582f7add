#include "core/analyzer.h"

#include <mecab.h>

#include "core/error.h"

namespace yosan {

DictionaryKind parse_dictionary_kind(const std::string& name) {
    if (name == "unidic") return DictionaryKind::unidic;
    if (name == "ipadic") return DictionaryKind::ipadic;
    throw ConfigError("辞書の種類は unidic か ipadic で指定してください: " + name, "analysis.dictionary");
}

namespace {

// Splits a MeCab feature string on commas, honouring UniDic's double-quoted fields.
std::vector<std::string_view> split_features(std::string_view f) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= f.size(); ++i) {
        if (i < f.size() && f[i] == '"') quoted = !quoted;
        if (i == f.size() || (f[i] == ',' && !quoted)) {
            std::string_view field = f.substr(start, i - start);
            if (field.size() >= 2 && field.front() == '"' && field.back() == '"') field = field.substr(1, field.size() - 2);
            out.push_back(field);
            start = i + 1;
        }
    }
    return out;
}

std::string_view field(const std::vector<std::string_view>& f, std::size_t i) {
    return i < f.size() && f[i] != "*" ? f[i] : std::string_view{};
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

}  // namespace

std::string fold_term(std::string_view lemma) {
    // UniDic writes loanword lemmas as "モーター-motor".
    if (auto dash = lemma.find('-'); dash != std::string_view::npos && dash > 0 && dash + 1 < lemma.size()) {
        bool ascii_tail = true;
        for (char c : lemma.substr(dash + 1)) ascii_tail &= static_cast<unsigned char>(c) < 0x80;
        bool kana_head = all_of_script(lemma.substr(0, dash), is_katakana);
        if (ascii_tail && kana_head) lemma = lemma.substr(0, dash);
    }
    std::u32string cps;
    for (std::size_t i = 0; i < lemma.size();) cps.push_back(next_code_point(lemma, i));

    // Okurigana: a word that mixes kanji and hiragana and starts with a kanji keeps only its kanji when
    // two or more remain, so 受入れ, 受け入れ and 受け入れる all become 受入.
    std::size_t kanji = 0, hira = 0;
    for (char32_t c : cps) kanji += is_kanji(c), hira += (c >= 0x3041 && c <= 0x3096);
    if (!cps.empty() && is_kanji(cps[0]) && kanji >= 2 && hira > 0 && kanji + hira == cps.size()) {
        std::string out;
        for (char32_t c : cps)
            if (is_kanji(c)) append_utf8(out, c);
        return out;
    }
    // Katakana long vowel: コンピューター/コンピュータ, モーター/モータ.
    if (cps.size() >= 4 && cps.back() == U'ー') {
        bool kata = true;
        for (char32_t c : cps) kata &= is_katakana(c);
        if (kata) cps.pop_back();
    }
    std::string out;
    for (char32_t c : cps) append_utf8(out, c);
    return out;
}

Analyzer::Analyzer(AnalyzerOptions options) : options_(std::move(options)) {
    if (options_.dictionary_path.empty())
        throw ConfigError("MeCab 辞書のパスが設定されていません", "analysis.dictionary_path");
    std::string args = "-d " + options_.dictionary_path;
    if (!options_.user_dictionary.empty()) args += " -u " + options_.user_dictionary;
    model_.reset(MeCab::createModel(args.c_str()));
    if (!model_) {
        throw AnalysisError(std::string("MeCab を初期化できません: ") + MeCab::getLastError(),
                            options_.dictionary_path);
    }
}

Analyzer::~Analyzer() = default;

std::vector<Token> Analyzer::analyze(std::string_view text, std::uint32_t first_position) const {
    std::vector<Token> tokens;
    std::uint32_t position = first_position;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        if (!trim(line).empty()) {
            analyze_line(line, start, position, tokens);
            ++position;  // a gap, so that a phrase never spans a line break
        }
        start = end + 1;
    }
    return tokens;
}

void Analyzer::analyze_line(std::string_view line, std::size_t line_offset, std::uint32_t& position,
                            std::vector<Token>& out) const {
    const NormalizedText norm = normalize_for_search(line, options_.char_fixes);
    std::unique_ptr<MeCab::Tagger> tagger(model_->createTagger());
    std::unique_ptr<MeCab::Lattice> lattice(model_->createLattice());
    if (!tagger || !lattice) throw AnalysisError("MeCab のタガーを作成できません");
    lattice->set_sentence(norm.text.c_str(), norm.text.size());
    if (!tagger->parse(lattice.get())) throw AnalysisError(std::string("MeCab の解析に失敗しました: ") + lattice->what());

    const bool unidic = options_.dictionary == DictionaryKind::unidic;
    for (const MeCab::Node* node = lattice->bos_node(); node; node = node->next) {
        if (node->stat == MECAB_BOS_NODE || node->stat == MECAB_EOS_NODE || node->length == 0) continue;
        Token t;
        t.surface.assign(node->surface, node->length);
        const std::size_t nbegin = static_cast<std::size_t>(node->surface - norm.text.data());
        auto [ob, oe] = norm.to_original(nbegin, nbegin + node->length);
        t.begin = line_offset + ob;
        t.end = line_offset + oe;

        const auto f = split_features(node->feature);
        const std::string_view pos1 = field(f, 0);
        t.pos = std::string(pos1);
        for (std::size_t k : {1, 2})
            if (!field(f, k).empty()) t.pos.append(",").append(field(f, k));
        // UniDic: 6 lForm, 7 lemma, 20 kana. IPADIC: 6 base form, 7 reading.
        std::string_view lemma = field(f, unidic ? 7 : 6);
        t.reading = std::string(field(f, unidic ? 20 : 7));
        if (lemma.empty()) lemma = t.surface;
        t.term = fold_term(lemma);

        const bool function_word = pos1 == "助詞" || pos1 == "助動詞" || pos1 == "補助記号" || pos1 == "空白" ||
                                   (pos1 == "記号" && !unidic && field(f, 1) != "アルファベット");
        t.indexed = !function_word && has_word_character(t.surface);
        t.position = position++;
        out.push_back(std::move(t));
    }
}

}  // namespace yosan
