// The analysis chain: what the dictionary really produces for variants, particles and positions.
#include <catch2/catch.hpp>

#include "core/analyzer.h"
#include "tests/test_support.h"

using namespace yosan;

namespace {
// The indexed terms of a text, in order.
std::vector<std::string> terms(const std::string& text) {
    std::vector<std::string> out;
    for (const Token& t : test::analyzer().analyze(text))
        if (t.indexed) out.push_back(t.term);
    return out;
}
}  // namespace

TEST_CASE("spelling variants fold to one term", "[analysis]") {
    const std::pair<const char*, const char*> pairs[] = {
        {"引継ぎ", "引き継ぎ"}, {"取組", "取り組み"}, {"受入れ", "受け入れ"}, {"モータ", "モーター"},
        {"ＡＩ", "AI"},         {"ｻｲﾊﾞｰ", "サイバー"}, {"ＪＥＴＲＯ", "jetro"},
    };
    for (const auto& [a, b] : pairs) {
        INFO(a << " / " << b);
        CHECK(terms(a) == terms(b));
        CHECK_FALSE(terms(a).empty());
    }
}

TEST_CASE("the fold rules", "[analysis]") {
    CHECK(fold_term("引き継ぎ") == "引継");
    CHECK(fold_term("受け入れる") == "受入");
    CHECK(fold_term("モーター-motor") == "モータ");
    CHECK(fold_term("コンピューター") == "コンピュータ");
    CHECK(fold_term("ドル-dollar") == "ドル");
    CHECK(fold_term("見る") == "見る");  // one kanji: too short to fold safely
}

TEST_CASE("particles and symbols are not terms but keep their positions", "[analysis]") {
    const auto tokens = test::analyzer().analyze("蓄電池の製造、半導体");
    std::vector<std::string> indexed;
    std::uint32_t last = 0;
    bool saw_particle = false;
    for (const Token& t : tokens) {
        CHECK(t.position >= last);
        last = t.position;
        if (t.surface == "の" || t.surface == "、") {
            CHECK_FALSE(t.indexed);
            saw_particle = true;
        }
    }
    CHECK(saw_particle);
    // Positions count every token, so the particle leaves a gap between 池 and 製造.
    const auto find = [&](const std::string& s) {
        for (const Token& t : tokens)
            if (t.surface == s) return t.position;
        return 9999u;
    };
    CHECK(find("製造") - find("池") == 2);
}

TEST_CASE("line breaks are token boundaries", "[analysis]") {
    // The PDF text breaks between a budget figure and the bureau on the next line.
    const auto tokens = test::analyzer().analyze("7.3億円\n製造産業局");
    bool glued = false;
    for (const Token& t : tokens) glued |= t.surface.find("円") != std::string::npos && t.surface.find("製") != std::string::npos;
    CHECK_FALSE(glued);
    CHECK(terms("7.3億円\n製造産業局") == [] {
        auto a = terms("7.3億円");
        auto b = terms("製造産業局");
        a.insert(a.end(), b.begin(), b.end());
        return a;
    }());
}

TEST_CASE("offsets point into the original text", "[analysis]") {
    const std::string text = "ＡＩ・ｻｲﾊﾞｰ対策";
    for (const Token& t : test::analyzer().analyze(text)) {
        INFO(t.surface);
        const std::string original = text.substr(t.begin, t.end - t.begin);
        CHECK(normalize(original) == t.surface);
    }
}

TEST_CASE("extraction errors are corrected before analysis", "[analysis]") {
    CHECK(terms("鈳物資源") == terms("鉱物資源"));
}

TEST_CASE("words of the user dictionary stand whole, with their parts beside them", "[analysis]") {
    REQUIRE_FALSE(test::analyzer().options().user_dictionary.empty());
    // For a query the whole word only; for the index the whole word and then its parts.
    CHECK(terms("J-クレジット").front() == "j-クレジット");
    const auto query = test::analyzer().analyze("ポスト5G情報通信", 0, Analyzer::Mode::query);
    REQUIRE_FALSE(query.empty());
    CHECK(query.front().term == "ポスト5g");
    const auto index = test::analyzer().analyze("ポスト5G情報通信");
    std::vector<std::string> at_first;
    for (const Token& t : index)
        if (t.position == 0) at_first.push_back(t.term);
    CHECK(at_first == std::vector<std::string>{"ポスト5g", "ポスト"});
    // The word after it keeps the same position in both modes, so phrases line up.
    const auto position_of = [](const std::vector<Token>& ts, const std::string& term) {
        for (const Token& t : ts)
            if (t.term == term) return t.position;
        return 9999u;
    };
    CHECK(position_of(query, "情報") == position_of(index, "情報"));
    CHECK(position_of(index, "g") == 2);
}

TEST_CASE("a user dictionary without its CSV beside it splits its words as they are met, the same way", "[analysis]") {
    // The Analyzer splits the words listed in the CSV when it loads (analyzer.h, user_word_parts); a
    // dictionary compiled elsewhere may come alone, and its words are then split when first met.
    const test::TempDir dir("user-dict-alone");
    AnalyzerOptions alone = test::analyzer().options();
    REQUIRE(std::filesystem::exists(std::filesystem::path(alone.user_dictionary).replace_extension(".csv")));
    std::filesystem::copy_file(alone.user_dictionary, dir.file("user-unidic.dic"));
    alone.user_dictionary = dir.file("user-unidic.dic");
    const Analyzer lazy(alone);
    for (const std::string text : {"ポスト5G情報通信システム", "J-クレジットとサプライチェーン", "半導体"}) {
        INFO(text);
        const std::vector<Token> x = lazy.analyze(text), y = test::analyzer().analyze(text);
        REQUIRE(x.size() == y.size());
        for (std::size_t i = 0; i < x.size(); ++i) {
            CHECK(x[i].term == y[i].term);
            CHECK(x[i].surface == y[i].surface);
            CHECK(x[i].pos == y[i].pos);
            CHECK(x[i].position == y[i].position);
        }
    }
    // Its parts are there: ポスト stands beside ポスト5G at the first position.
    std::vector<std::string> at_first;
    for (const Token& t : lazy.analyze("ポスト5G情報通信"))
        if (t.position == 0) at_first.push_back(t.term);
    CHECK(at_first == std::vector<std::string>{"ポスト5g", "ポスト"});
}

TEST_CASE("one Session kept across many texts gives what a Session per text gives", "[analysis]") {
    // The indexer keeps one MeCab session per thread across sheets, and a Searcher one across its
    // snippets' lines: a lattice reused after long lines, user words (their parts come from the
    // Analyzer's cache of them), the Session's cache of feature strings and empty texts must not leak into
    // the next text.
    const Analyzer& a = test::analyzer();
    Analyzer::Session session(a);
    const auto same = [](const std::vector<Token>& x, const std::vector<Token>& y) {
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (x[i].term != y[i].term || x[i].surface != y[i].surface || x[i].reading != y[i].reading || x[i].pos != y[i].pos ||
                x[i].position != y[i].position || x[i].begin != y[i].begin || x[i].end != y[i].end || x[i].indexed != y[i].indexed)
                return false;
        return true;
    };
    std::size_t texts = 0, user_words = 0;
    for (const Sheet& s : test::corpus_sheets()) {
        if (texts >= 400) break;
        std::vector<std::string> parts{s.title, "ポスト5G情報通信システム基盤強化研究開発事業", ""};
        for (const Section& sec : s.sections) parts.push_back(sec.text);
        for (const std::string& text : parts) {
            for (const Analyzer::Mode mode : {Analyzer::Mode::index, Analyzer::Mode::query}) {
                INFO(text);
                CHECK(same(a.analyze(session, text, 7, mode), a.analyze(text, 7, mode)));
            }
            ++texts;
            user_words += text.find("ポスト5G") != std::string::npos;
        }
    }
    CHECK(texts >= 400);
    CHECK(user_words > 0);
    // A session belongs to the Analyzer it was made of.
    AnalyzerOptions other_options = a.options();
    other_options.user_dictionary.clear();
    const Analyzer other(other_options);
    CHECK_THROWS_AS(other.analyze(session, "半導体"), std::logic_error);
}
