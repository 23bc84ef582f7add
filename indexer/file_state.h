// What the index remembers about each source file, so that a nightly run can skip unchanged files without
// parsing them.
//
// The state is stored as Xapian metadata ("yosan:file:" + SHA-256 of the path → JSON), written in the same
// commit as the documents: after a crash the states and the documents always agree. A state holds the
// SHA-256 of the file's bytes and the ids of the sheets indexed from it, so that an unchanged file's ids
// can be reserved (see IdAllocator) without touching its documents.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/sheet.h"
#include "indexer/sheet_record.h"

namespace yosan {

// Lower-case hex SHA-256 of `data` (FIPS 180-4). Thread safe.
std::string sha256_hex(std::string_view data);
// The hash FileState::sheet_hashes keeps for a sheet: the first 64 bits of the SHA-256 of its JSON.
std::uint64_t sheet_hash(const Sheet& sheet);

struct FileState {
    std::string path;
    std::string sha256;            // of the raw bytes
    std::uint64_t size = 0;
    std::vector<std::string> ids;  // sheet ids indexed from this file, in source order
    // For each id, sheet_hash() of the sheet's stored JSON: a re-parsed file's unchanged sheets are
    // recognised without reading their documents. Empty in states recovered from an older index (the JSON
    // is then compared instead). Stored as 16 hex digits; held as numbers, which take a quarter of the
    // memory of strings that long (a run holds one per sheet of the index).
    std::vector<std::uint64_t> sheet_hashes;

    std::string to_json() const;
    // nullopt for a value that is not a state (never written by us, or from an older format).
    static std::optional<FileState> from_json(std::string_view text);
    // The metadata key of a path. Paths are hashed because Xapian limits the length of metadata keys
    // and Japanese folder names are long in bytes.
    static std::string key(const std::string& path);
    static constexpr std::string_view kKeyPrefix = "yosan:file:";
};

// Gives the sheets of re-parsed files ids that are unique across the whole index, without changing the
// id of any sheet that is kept as it is.
//
// assign_ids() names the n-th sheet with the same normalised title, year and kind "base", "base-2", ...
// in the order of a run. Over a full run, "first free id among base, base-2, base-3, ..." in sorted-file
// order gives exactly the same ids. An incremental run first reserves the ids of every file it does not
// re-parse, then lets each sheet of a re-parsed file keep the id it had before when that id is still free
// (so an edit elsewhere in the file, or a sheet added before it, does not rename it), and gives the rest
// the first free id. Step 1 runs over all re-parsed files before step 2, so a sheet never loses its id to
// a new twin in a file that sorts earlier. Not thread safe.
class IdAllocator {
public:
    void reserve(const std::string& id) { taken_.insert(id); }
    bool taken(const std::string& id) const { return taken_.count(id) > 0; }
    // Step 1, for every re-parsed file in sorted order: each sheet keeps an id the file had before
    // (`previous`) when it has the same base and is still free; the others are left with an empty id.
    void keep_previous(std::span<SheetRecord> sheets, const std::vector<std::string>& previous);
    // Step 2, for every re-parsed file in sorted order: sheets without an id get the first free one.
    void assign_rest(std::span<SheetRecord> sheets);

private:
    std::set<std::string> taken_;
    std::map<std::string, int> next_suffix_;  // base → the smallest suffix that may still be free
};


}  // namespace yosan
