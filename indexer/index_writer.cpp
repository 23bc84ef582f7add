#include "indexer/index_writer.h"

#include <chrono>
#include <ctime>
#include <filesystem>

#include "core/error.h"
#include "core/schema.h"

namespace yosan {

IndexWriter::IndexWriter(const std::string& path, const DocumentBuilder& builder) : builder_(builder) {
    try {
        std::filesystem::create_directories(std::filesystem::path(path).parent_path());
        db_ = Xapian::WritableDatabase(path, Xapian::DB_CREATE_OR_OPEN);
    } catch (const Xapian::DatabaseLockError& e) {
        throw IndexError("別の索引処理が実行中です（ロックを取得できません）", path);
    } catch (const Xapian::Error& e) {
        throw IndexError("索引を開けません: " + e.get_description(), path);
    }
}

std::map<std::string, std::string> IndexWriter::file_ids(const std::string& file) const {
    std::map<std::string, std::string> ids;  // id → stored data
    const std::string term = std::string(schema::kFile) + file;
    for (auto it = db_.postlist_begin(term); it != db_.postlist_end(term); ++it) {
        Xapian::Document doc = db_.get_document(*it);
        auto t = doc.termlist_begin();
        t.skip_to(std::string(schema::kId));
        if (t != doc.termlist_end() && (*t).rfind(schema::kId, 0) == 0) ids[(*t).substr(schema::kId.size())] = doc.get_data();
    }
    return ids;
}

std::set<std::string> IndexWriter::indexed_files() const {
    std::set<std::string> files;
    const std::string prefix(schema::kFile);
    for (auto it = db_.allterms_begin(prefix); it != db_.allterms_end(prefix); ++it) files.insert((*it).substr(prefix.size()));
    return files;
}

void IndexWriter::replace_file(const std::string& file, const std::vector<Sheet>& sheets) {
    auto old = file_ids(file);
    for (const Sheet& s : sheets) {
        const std::string idterm = std::string(schema::kId) + s.id;
        auto it = old.find(s.id);
        if (it != old.end()) {
            const std::string data = s.to_json().dump();
            if (it->second == data) ++stats_.unchanged;
            else db_.replace_document(idterm, builder_.build(s)), ++stats_.updated;
            old.erase(it);
        } else {
            const bool existed = db_.term_exists(idterm);  // moved here from another file
            db_.replace_document(idterm, builder_.build(s));
            ++(existed ? stats_.updated : stats_.added);
        }
    }
    for (const auto& [id, data] : old) {
        db_.delete_document(std::string(schema::kId) + id);
        ++stats_.deleted;
    }
}

void IndexWriter::remove_file(const std::string& file) {
    for (const auto& [id, data] : file_ids(file)) {
        db_.delete_document(std::string(schema::kId) + id);
        ++stats_.deleted;
    }
}

void IndexWriter::commit() {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    db_.set_metadata(std::string(schema::kMetaIndexedAt), buf);
    db_.set_metadata(std::string(schema::kMetaSchema), std::string(schema::kSchemaVersion));
    db_.commit();
}

}  // namespace yosan
