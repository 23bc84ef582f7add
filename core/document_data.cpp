#include "core/document_data.h"

#include <memory>
#include <new>
#include <optional>

#include <zstd.h>

#include "core/error.h"

namespace yosan::document_data {

// dict/docdata/sheets.zdict, compiled in by core/CMakeLists.txt (dict/docdata/embed.cmake); constant
// initialised, so that it is whole before any code runs.
extern constinit const std::string_view kDictionary;

namespace {

// zstd's level 3, its default: against the dictionary it compresses the bench corpus's sheets at ~400 MB/s
// to 20.7% of their JSON. Level 9 stores 18.5% at 55 MB/s: 0.9% of the index for 2% of the indexer's
// time at 10^5 sheets. Reading is as fast at any level (~1.3 GB/s).
constexpr int kLevel = 3;

// Decompressed sizes above this are taken for damage rather than allocated: a frame header is trusted for
// the size of the buffer. The largest line seen in a converted file was 50 MB.
constexpr unsigned long long kMaxJsonBytes = 256ull << 20;

struct FreeCDict { void operator()(ZSTD_CDict* d) const { ZSTD_freeCDict(d); } };
struct FreeDDict { void operator()(ZSTD_DDict* d) const { ZSTD_freeDDict(d); } };
struct FreeCCtx { void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); } };
struct FreeDCtx { void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); } };

// The dictionary digested once per process for each direction.
const ZSTD_CDict& compression_dictionary() {
    static const std::unique_ptr<ZSTD_CDict, FreeCDict> dict(
        ZSTD_createCDict(kDictionary.data(), kDictionary.size(), kLevel));
    if (!dict) throw IndexError("文書データの圧縮辞書を読み込めません");
    return *dict;
}

const ZSTD_DDict& decompression_dictionary() {
    static const std::unique_ptr<ZSTD_DDict, FreeDDict> dict(ZSTD_createDDict(kDictionary.data(), kDictionary.size()));
    if (!dict) throw IndexError("文書データの圧縮辞書を読み込めません");
    return *dict;
}

IndexError damaged(std::string_view why) {
    return IndexError("索引の文書データを読めません（" + std::string(why) + "）。索引を作り直してください（yosan-index --full）");
}

}  // namespace

std::string encode(const Sheet& sheet) {
    thread_local const std::unique_ptr<ZSTD_CCtx, FreeCCtx> context(ZSTD_createCCtx());
    if (!context) throw std::bad_alloc();
    const std::string json = sheet.to_json().dump();
    std::string out(ZSTD_compressBound(json.size()), '\0');
    // With a checksum (4 bytes a sheet), so that damaged data is an error rather than another text.
    ZSTD_CCtx_reset(context.get(), ZSTD_reset_session_and_parameters);
    std::size_t n = ZSTD_CCtx_refCDict(context.get(), &compression_dictionary());
    if (!ZSTD_isError(n)) n = ZSTD_CCtx_setParameter(context.get(), ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(n)) n = ZSTD_compress2(context.get(), out.data(), out.size(), json.data(), json.size());
    if (ZSTD_isError(n)) throw IndexError(std::string("zstd: ") + ZSTD_getErrorName(n));
    out.resize(n);
    return out;
}

namespace {

// The JSON stored as `data` into `json`, or why it cannot be read.
std::optional<std::string_view> inflate(std::string_view data, std::string& json) {
    if (!data.empty() && data.front() == '{') {  // schema 6 and before
        json.assign(data);
        return std::nullopt;
    }
    const unsigned long long size = ZSTD_getFrameContentSize(data.data(), data.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) return "圧縮形式ではありません";
    if (size > kMaxJsonBytes) return "大きさが不正です";
    if (ZSTD_getDictID_fromFrame(data.data(), data.size()) != ZSTD_getDictID_fromDDict(&decompression_dictionary()))
        return "別の圧縮辞書で書かれています";
    thread_local const std::unique_ptr<ZSTD_DCtx, FreeDCtx> context(ZSTD_createDCtx());
    if (!context) throw std::bad_alloc();
    json.resize(size);
    const std::size_t n = ZSTD_decompress_usingDDict(context.get(), json.data(), json.size(), data.data(), data.size(),
                                                     &decompression_dictionary());
    if (ZSTD_isError(n)) return ZSTD_getErrorName(n);
    if (n != size) return "長さが合いません";
    return std::nullopt;
}

}  // namespace

std::string decode_json(std::string_view data) {
    std::string json;
    if (const auto why = inflate(data, json)) throw damaged(*why);
    return json;
}

bool holds(std::string_view data, const Sheet& sheet) {
    std::string json;
    return !inflate(data, json) && json == sheet.to_json().dump();
}

Sheet decode(std::string_view data) {
    const std::string json = decode_json(data);
    nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) throw damaged("JSON ではありません");
    try {
        return Sheet::from_json(j);
    } catch (const nlohmann::json::exception& e) {  // a field missing or of the wrong type
        throw damaged(e.what());
    }
}

}  // namespace yosan::document_data
