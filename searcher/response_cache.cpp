#include "searcher/response_cache.h"

namespace yosan {

namespace {
void append_part(std::string& key, const std::string& part) {
    key.append(std::to_string(part.size())).append(":").append(part);
}
}  // namespace

std::string ResponseCache::key(const std::string& generation, const std::string& path,
                               const std::multimap<std::string, std::string>& params) {
    std::string k;
    append_part(k, generation);
    append_part(k, path);
    for (const auto& [name, value] : params) {
        append_part(k, name);
        append_part(k, value);
    }
    return k;
}

std::optional<std::string> ResponseCache::get(const std::string& key) {
    if (!capacity_) return std::nullopt;
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    entries_.splice(entries_.begin(), entries_, it->second);
    return it->second->second;
}

void ResponseCache::put(const std::string& key, std::string body) {
    if (!capacity_) return;
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
        it->second->second = std::move(body);
        entries_.splice(entries_.begin(), entries_, it->second);
        return;
    }
    entries_.emplace_front(key, std::move(body));
    index_[key] = entries_.begin();
    while (entries_.size() > capacity_) {
        index_.erase(entries_.back().first);
        entries_.pop_back();
    }
}

}  // namespace yosan
