// Writes sheets into the Xapian database: add or replace by unique id, delete the sheets of a source file
// that are gone, and commit once so that searchers see the old index or the new one, never a mix.
//
// Xapian allows one writer per database; a second writer gets IndexError("locked"). Not thread safe: one
// IndexWriter per process.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <xapian.h>

#include "core/sheet.h"
#include "indexer/document_builder.h"

namespace yosan {

struct WriteStats {
    int added = 0, updated = 0, deleted = 0, unchanged = 0;
};

class IndexWriter {
public:
    // Opens or creates the database at `path`. Throws IndexError when another run holds the lock.
    IndexWriter(const std::string& path, const DocumentBuilder& builder);

    // Replaces everything indexed from `file` with `sheets`: same id → replaced (or left as is when the
    // stored data is identical), new id → added, id no longer present → deleted.
    void replace_file(const std::string& file, const std::vector<Sheet>& sheets);
    // Deletes every sheet that came from `file`.
    void remove_file(const std::string& file);
    // The source files the index holds sheets from.
    std::set<std::string> indexed_files() const;
    std::map<std::string, std::string> file_ids(const std::string& file) const;

    void commit();  // one atomic commit; records the time in the metadata
    const WriteStats& stats() const { return stats_; }
    Xapian::doccount size() const { return db_.get_doccount(); }

private:
    Xapian::WritableDatabase db_;
    const DocumentBuilder& builder_;
    WriteStats stats_;
};

}  // namespace yosan
