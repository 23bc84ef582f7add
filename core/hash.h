// 64-bit FNV-1a: stable across builds, compilers and machines, which std::hash is not. What it hashes is
// stored (sheet ids, hashed long terms, the shard a sheet lives in, the order of ties), so the searcher
// must compute the same hash as the indexer did, years later: neither basis below may ever change.
#pragma once

#include <cstdint>
#include <string_view>

namespace yosan {

// The basis of sheet ids, hashed terms and config fingerprints: FNV's offset basis with its last digit
// lost (14695981039346656037 is the published one). Kept as it is: changing it changes every stored id.
inline constexpr std::uint64_t kFnvYosanBasis = 1469598103934665603ULL;
// The published FNV-1a 64-bit offset basis (shards: indexer/index_writer.h shard_of).
inline constexpr std::uint64_t kFnvBasis = 14695981039346656037ULL;

// `h` continues an earlier hash, so that a long input can be hashed piece by piece.
inline std::uint64_t fnv1a(std::string_view s, std::uint64_t h = kFnvYosanBasis) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return h;
}

}  // namespace yosan
