// The document data of a sheet: how the indexer stores a Sheet in its Xapian document and how the searcher,
// the export and the indexer's own checks read it back. Nothing else calls set_data() or reads get_data().
//
// The data is the sheet's compact JSON (Sheet::to_json) compressed by zstd against a dictionary of what
// budget sheets repeat: the JSON keys, the section headings, the bureau names, the stock phrases of
// 事業目的 and 事業概要 (dict/docdata/sheets.zdict, trained on data/ by dict/docdata/make-dict and compiled
// into the binary). Xapian compresses each document's data on its own with zlib, which finds little to
// share inside one 2–3 KB sheet; against the dictionary the data takes less than half of that (on data/,
// with a dictionary trained on the other half of its sheets: 33 KB against zlib's 71 KB; on the generated
// bench corpus 5.6 MB against 13.9 MB; bench/perf/README.md, stop 25).
//
// Data written before schema 7 is plain JSON and is still read, so a searcher keeps answering from an
// older index until the nightly run (which rebuilds every document when the schema changes) replaces it.
//
// Thread safety: all functions are thread safe (the digested dictionary is shared and read only; each
// thread compresses with a context of its own).
#pragma once

#include <string>
#include <string_view>

#include "core/sheet.h"

namespace yosan::document_data {

// The stored form of a sheet (the same sheet always gives the same bytes).
std::string encode(const Sheet& sheet);

// The sheet stored as `data`. Throws IndexError when the data is neither a frame compressed against this
// build's dictionary nor JSON (a damaged index, or one written by a build with another dictionary).
Sheet decode(std::string_view data);

// The JSON text of the stored sheet, for what reads the fields without building a Sheet. Throws as decode.
std::string decode_json(std::string_view data);

// Whether `data` stores exactly `sheet`: how a run tells an unchanged sheet from a changed one. Damaged data
// stores nothing, so the sheet is written again rather than the run stopped.
bool holds(std::string_view data, const Sheet& sheet);

}  // namespace yosan::document_data
