// core/terms: the one rule that turns tokens and facet values into terms, for both sides.
#include <algorithm>

#include <catch2/catch.hpp>

#include <xapian.h>

#include "core/schema.h"
#include "core/terms.h"
#include "indexer/document_builder.h"
#include "tests/test_support.h"

using namespace yosan;

namespace {
std::string repeat(std::string_view s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}
}  // namespace

TEST_CASE("long boolean terms are hashed to fit, stay distinct and stay valid UTF-8", "[terms]") {
    const std::string folder = "corpus/予算/" + repeat("経済産業省", 16);  // 80 Japanese characters (never opened)
    const std::string a = terms::boolean(schema::kFile, folder + "/a.txt");
    const std::string b = terms::boolean(schema::kFile, folder + "/b.txt");
    CHECK(a.size() <= terms::kMaxTermBytes);
    CHECK(b.size() <= terms::kMaxTermBytes);
    CHECK(a != b);
    CHECK(a == terms::boolean(schema::kFile, folder + "/a.txt"));  // the same on both sides, every time
    CHECK(first_invalid_utf8(a) == std::string::npos);
    CHECK(terms::boolean(schema::kBureau, "製造産業局") == "XB製造産業局");  // short terms are left alone
}

TEST_CASE("over-long words are not terms, a token stands for its lemma and its surface", "[terms]") {
    Token t;
    t.surface = "宇宙";
    t.term = "ソラ";  // UniDic's lemma of 宇宙 standing alone
    CHECK(terms::word_forms("S", t) == std::vector<std::string>{"Sソラ", "S宇宙"});
    t.term = t.surface = repeat("あ", 100);
    CHECK(terms::word_forms("", t).empty());
    t.indexed = false;
    t.term = t.surface = "の";
    CHECK(terms::word_forms("", t).empty());
}

TEST_CASE("a sheet from a deep folder with a huge title indexes into a real database", "[terms][index]") {
    test::TempDir dir("terms-db");
    Config config = test::test_config(dir.file("db"));
    Sheet s = test::sheet_at_line(196);
    s.file = "corpus/予算/" + repeat("経済産業省予算資料", 10) + "/sheets.txt";
    s.title = repeat("宇宙戦略基金", 4000) + "事業";  // about 70 KB, with no break
    s.id = "longtitle";
    const DocumentBuilder builder(test::analyzer(), config);
    Analyzer::Session session(test::analyzer());
    Xapian::WritableDatabase db(dir.file("db"), Xapian::DB_CREATE_OR_OPEN);
    const DocumentBuilder::Built built = builder.build(s, session);
    REQUIRE_NOTHROW(db.add_document(built.doc));
    db.commit();
    CHECK(db.get_doccount() == 1);
    CHECK(db.term_exists(terms::boolean(schema::kFile, s.file)));
    CHECK(db.term_exists("宇宙"));
    // Readings are listed for the lexicon, once each, and are not terms of the document.
    CHECK(std::count(built.readings.begin(), built.readings.end(), "Rウチユウ\t宇宙") == 1);
    CHECK(db.allterms_begin(std::string(schema::kReading)) == db.allterms_end(std::string(schema::kReading)));
}

TEST_CASE("readings fold small kana to full size, and nothing else", "[terms]") {
    CHECK(terms::fold_reading("ダッタンソ") == "ダツタンソ");
    CHECK(terms::fold_reading("ジョウホウ") == "ジヨウホウ");
    CHECK(terms::fold_reading("ヵヶヮァィゥェォャュョ") == "カケワアイウエオヤユヨ");
    // Every katakana letter, next to hiragana, kanji and ASCII: the same as replacing each small letter
    // in turn (how the rule was first written), so the index and the queries keep their reading terms.
    std::string all = "abc ちょっと 蓄電池 ";
    for (char32_t c = 0x30A0; c <= 0x30FF; ++c) append_utf8(all, c);
    std::string expected = all;
    for (const auto& [from, to] : std::initializer_list<std::pair<const char*, const char*>>{
             {"ァ", "ア"}, {"ィ", "イ"}, {"ゥ", "ウ"}, {"ェ", "エ"}, {"ォ", "オ"}, {"ッ", "ツ"},
             {"ャ", "ヤ"}, {"ュ", "ユ"}, {"ョ", "ヨ"}, {"ヮ", "ワ"}, {"ヵ", "カ"}, {"ヶ", "ケ"}})
        replace_all(expected, from, to);
    CHECK(terms::fold_reading(all) == expected);
    CHECK(terms::fold_reading("") == "");
}

TEST_CASE("kanji bigram terms", "[terms]") {
    CHECK(terms::gram_terms("蓄電池") == std::vector<std::string>{"XG蓄電", "XG電池"});
    CHECK(terms::gram_terms("池").empty());
    CHECK(terms::gram_terms("").empty());
}
