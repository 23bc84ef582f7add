#include "indexer/file_state.h"

#include <array>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "indexer/sheet_parser.h"

namespace yosan {

namespace {

constexpr std::array<std::uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
    0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
    0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
    0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void compress(std::array<std::uint32_t, 8>& h, const unsigned char* block) {
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i)
        w[i] = (std::uint32_t(block[4 * i]) << 24) | (std::uint32_t(block[4 * i + 1]) << 16) |
               (std::uint32_t(block[4 * i + 2]) << 8) | std::uint32_t(block[4 * i + 3]);
    for (int i = 16; i < 64; ++i) {
        const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; ++i) {
        const std::uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[i] + w[i];
        const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t n = data.size();
    for (; n >= 64; p += 64, n -= 64) compress(h, p);
    // The tail: the remaining bytes, 0x80, zeros, and the length in bits as a big-endian 64-bit number.
    unsigned char tail[128] = {};
    for (std::size_t i = 0; i < n; ++i) tail[i] = p[i];
    tail[n] = 0x80;
    const std::size_t tail_len = n + 9 <= 64 ? 64 : 128;
    const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    for (int i = 0; i < 8; ++i) tail[tail_len - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
    compress(h, tail);
    if (tail_len == 128) compress(h, tail + 64);
    std::string out(64, '0');
    for (int i = 0; i < 8; ++i) std::snprintf(&out[8 * i], 9, "%08x", h[i]);
    out.resize(64);
    return out;
}

std::uint64_t sheet_hash(const Sheet& sheet) { return std::stoull(sha256_hex(sheet.to_json().dump()).substr(0, 16), nullptr, 16); }

std::string FileState::to_json() const {
    std::vector<std::string> hashes;
    hashes.reserve(sheet_hashes.size());
    char hex[17];
    for (std::uint64_t h : sheet_hashes) {
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
        hashes.emplace_back(hex);
    }
    return nlohmann::json{{"path", path}, {"sha256", sha256}, {"size", size}, {"ids", ids}, {"sheets", hashes}}.dump();
}

std::optional<FileState> FileState::from_json(std::string_view text) {
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("path") || !j.contains("sha256") || !j.contains("ids"))
        return std::nullopt;
    try {
        FileState s;
        s.path = j.at("path").get<std::string>();
        s.sha256 = j.at("sha256").get<std::string>();
        s.size = j.value("size", std::uint64_t{0});
        s.ids = j.at("ids").get<std::vector<std::string>>();
        if (j.contains("sheets"))
            for (const std::string& hex : j.at("sheets").get<std::vector<std::string>>()) {
                std::uint64_t h = 0;
                const auto [end, error] = std::from_chars(hex.data(), hex.data() + hex.size(), h, 16);
                if (error != std::errc{} || end != hex.data() + hex.size() || hex.size() != 16) break;
                s.sheet_hashes.push_back(h);
            }
        if (s.sheet_hashes.size() != s.ids.size()) s.sheet_hashes.clear();
        return s;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

std::string FileState::key(const std::string& path) {
    std::string k(kKeyPrefix);
    return k.append(sha256_hex(path).substr(0, 32));
}

namespace {

// "base" → 1, "base-3" → 3.
int suffix_number(const std::string& id, const std::string& base) {
    if (id == base) return 1;
    try {
        return std::stoi(id.substr(base.size() + 1));
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

namespace {

// "base" → ("base", 1), "base-3" → ("base", 3). A base (base_id()) is hex digits, never a '-'.
std::pair<std::string, int> split_id(const std::string& id) {
    const auto dash = id.find('-');
    if (dash == std::string::npos) return {id, 1};
    const std::string base = id.substr(0, dash);
    return {base, suffix_number(id, base)};
}

}  // namespace

// Both steps are linear in the number of sheets: 10,000 sheets sharing one title used to cost a scan of
// every previous id (step 1) and a walk over every taken suffix (step 2) per sheet, 9–35 s to add one.
void IdAllocator::keep_previous(std::span<SheetRecord> sheets, const std::vector<std::string>& previous) {
    // The free previous ids by base, smallest suffix first (in-file twins keep their order; of equal
    // suffixes the first listed).
    std::map<std::string, std::multimap<int, std::string>, std::less<>> free_previous;
    for (const std::string& id : previous)
        if (!taken(id)) {
            auto [base, n] = split_id(id);
            free_previous[base].emplace(n, id);
        }
    for (SheetRecord& s : sheets) {
        s.id.clear();
        const auto it = free_previous.find(std::string_view(s.base));
        if (it == free_previous.end()) continue;
        auto& ids = it->second;
        while (!ids.empty() && taken(ids.begin()->second)) ids.erase(ids.begin());
        if (ids.empty()) continue;
        reserve(ids.begin()->second);
        s.id = ids.begin()->second;
        ids.erase(ids.begin());
    }
}

void IdAllocator::assign_rest(std::span<SheetRecord> sheets) {
    for (SheetRecord& s : sheets) {
        if (!s.id.empty()) continue;
        const std::string base(s.base);
        // Ids are only ever added to taken_, so every suffix below the one this base last got stays taken.
        int& n = next_suffix_[base];
        for (n = std::max(n, 1);; ++n) {
            std::string id = base;
            if (n > 1) id.append("-").append(std::to_string(n));
            if (taken(id)) continue;
            s.id = id;
            reserve(id);
            ++n;
            break;
        }
    }
}

}  // namespace yosan
