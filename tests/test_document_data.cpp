// core/document_data: the stored form of a sheet (its JSON compressed against the built-in dictionary).
#include <catch2/catch.hpp>

#include <zstd.h>

#include "core/document_data.h"
#include "core/error.h"
#include "tests/test_support.h"

using namespace yosan;

TEST_CASE("every sheet of the corpus is stored compressed and read back whole", "[document_data]") {
    std::size_t json_bytes = 0, stored_bytes = 0;
    for (const Sheet& s : test::corpus_sheets()) {
        const std::string json = s.to_json().dump();
        const std::string data = document_data::encode(s);
        CHECK(document_data::decode_json(data) == json);
        CHECK(document_data::decode(data).to_json() == s.to_json());
        CHECK(document_data::holds(data, s));
        CHECK(document_data::encode(s) == data);  // the same sheet gives the same bytes
        json_bytes += json.size();
        stored_bytes += data.size();
    }
    REQUIRE(test::corpus_sheets().size() > 100);
    // Without the dictionary zstd keeps about half of this JSON (and Xapian's zlib as much); against it,
    // far less. This fails when the dictionary is not the one the sheets are written against.
    INFO(stored_bytes << " of " << json_bytes << " bytes");
    CHECK(stored_bytes * 10 < json_bytes * 4);
}

TEST_CASE("a changed sheet is not held by the data of the old one", "[document_data]") {
    const Sheet& s = test::corpus_sheets().front();
    const std::string data = document_data::encode(s);
    Sheet changed = s;
    changed.title += "（改）";
    CHECK_FALSE(document_data::holds(data, changed));
    changed = s;
    changed.last_line += 1;
    CHECK_FALSE(document_data::holds(data, changed));
}

TEST_CASE("data written before schema 7 (plain JSON) is still read", "[document_data]") {
    const Sheet& s = test::corpus_sheets().back();
    const std::string legacy = s.to_json().dump();
    CHECK(document_data::decode(legacy).to_json() == s.to_json());
    CHECK(document_data::holds(legacy, s));
}

TEST_CASE("damaged document data is an IndexError that says to rebuild, and holds no sheet", "[document_data]") {
    const Sheet& s = test::corpus_sheets().front();
    const std::string good = document_data::encode(s);
    const std::string json = s.to_json().dump();
    std::string without_dictionary(ZSTD_compressBound(json.size()), '\0');
    without_dictionary.resize(ZSTD_compress(without_dictionary.data(), without_dictionary.size(), json.data(), json.size(), 3));
    // Every frame carries a checksum: a byte flipped anywhere is an error, never another text.
    std::vector<std::string> flips;
    for (std::size_t at : {std::size_t{5}, good.size() / 2, good.size() - 1}) {
        flips.push_back(good);
        flips.back()[at] = static_cast<char>(flips.back()[at] ^ 0x5a);
    }
    const std::vector<std::pair<std::string, std::string>> damaged = {
        {"empty", ""},
        {"truncated", good.substr(0, good.size() / 2)},
        {"a header byte flipped", flips[0]},
        {"a byte flipped", flips[1]},
        {"the checksum flipped", flips[2]},
        {"binary", std::string("\x00\x01\x02\xff\xfe garbage", 14)},
        {"compressed without the dictionary", without_dictionary},
        {"JSON cut short", json.substr(0, json.size() / 2)},
    };
    for (const auto& [what, data] : damaged) {
        INFO(what);
        CHECK_FALSE(document_data::holds(data, s));
        try {
            (void)document_data::decode(data);
            FAIL("decoded");
        } catch (const IndexError& e) {
            CHECK_THAT(e.message(), Catch::Contains("yosan-index --full"));
        }
    }
}
