#include "searcher/facet_table.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/facets.h"
#include "core/schema.h"

namespace yosan {

std::int64_t record_amount(std::string_view decimal) {
    std::int64_t yen = 0;
    const auto [end, ec] = std::from_chars(decimal.data(), decimal.data() + decimal.size(), yen);
    return decimal.empty() || ec != std::errc() || end != decimal.data() + decimal.size() ? RecordSums::kNone : yen;
}

void DivisionParents::add(std::string_view pairs, Xapian::doccount sheets) {
    for (std::string_view pair : split_values(pairs)) {
        const std::size_t tab = pair.find('\t');
        if (tab == std::string_view::npos || tab == 0) continue;  // a division without a bureau nests nowhere
        const std::string_view division = pair.substr(tab + 1), bureau = pair.substr(0, tab);
        auto d = seen_.find(division);
        if (d == seen_.end()) d = seen_.emplace(std::string(division), std::map<std::string, Xapian::doccount>()).first;
        d->second[std::string(bureau)] += sheets;
    }
}

std::map<std::string, std::string> DivisionParents::parents() const {
    std::map<std::string, std::string> out;
    for (const auto& [division, tops] : seen_)
        out[division] = std::max_element(tops.begin(), tops.end(), [](const auto& a, const auto& b) { return a.second < b.second; })->first;
    return out;
}

FacetTable::FacetTable(const Xapian::Database& db) {
    docs_.resize(static_cast<std::size_t>(db.get_lastdocid()) + 1);
    // Combinations by their facet fields as the record encodes them (each field length-prefixed, so the
    // bytes before the amounts tell one combination from another).
    // Looked up by a view into the record (a transparent hash), copied only for a new combination.
    struct Hash : std::hash<std::string_view> {
        using is_transparent = void;
    };
    std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> ids;
    std::vector<std::string_view> fields;
    const Xapian::valueno slot = schema::kSlotFacetRecord;
    for (auto it = db.valuestream_begin(slot); it != db.valuestream_end(slot); ++it) {
        const Xapian::docid did = it.get_docid();
        if (did >= docs_.size()) continue;  // not expected: the last docid bounds every docid
        const std::string record = *it;
        record_fields(record, fields);
        const std::string_view key = std::string_view(record).substr(
            0, fields.size() >= kRecordAmount ? static_cast<std::size_t>(fields[kRecordAmount - 1].end() - record.data()) : record.size());
        fields.resize(kRecordFields);  // a damaged record: its missing fields count as empty
        auto found = ids.find(key);
        if (found == ids.end()) {
            found = ids.emplace(std::string(key), static_cast<std::uint32_t>(combination_fields_.size())).first;
            combination_fields_.emplace_back(fields.begin(), fields.begin() + kRecordAmount);
        }
        docs_[did] = {found->second, record_amount(fields[kRecordAmount]), record_amount(fields[kRecordPrevious])};
    }
    // Most sheets share their pairs with many others: each distinct value is split once.
    std::unordered_map<std::string, Xapian::doccount> pairs;
    const Xapian::valueno pairs_slot = schema::kSlotBureauPairs;
    for (auto it = db.valuestream_begin(pairs_slot); it != db.valuestream_end(pairs_slot); ++it) ++pairs[*it];
    DivisionParents parents;
    for (const auto& [value, sheets] : pairs) parents.add(value, sheets);
    division_parents_ = parents.parents();
}

std::shared_ptr<const FacetTable> FacetTable::shared(const Xapian::Database& db) {
    const std::string uuid = db.get_uuid();
    if (uuid.empty()) return std::make_shared<const FacetTable>(db);
    static std::mutex mutex;
    static std::map<std::pair<std::string, Xapian::rev>, std::weak_ptr<const FacetTable>> tables;
    // Held while a table is built: the others asking for it would only build the same.
    const std::lock_guard lock(mutex);
    std::erase_if(tables, [](const auto& entry) { return entry.second.expired(); });  // revisions no one reads
    std::weak_ptr<const FacetTable>& entry = tables[{uuid, db.get_revision()}];
    if (auto table = entry.lock()) return table;
    auto table = std::make_shared<const FacetTable>(db);
    entry = table;
    return table;
}

}  // namespace yosan
