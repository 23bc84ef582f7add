// Answers already computed, keyed by the request and the index generation (database UUID and revision),
// so that a nightly commit or a --full switch never serves an old answer. Staff repeat queries (the back
// button, a shared link, clicking a facet off again) and a search costs milliseconds of matching and
// snippet work, while a lookup costs microseconds. Least recently used entries go first.
//
// Thread safe: one mutex; the work under it is a hash lookup and a list splice.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace yosan {

class ResponseCache {
public:
    // 0 turns the cache off.
    explicit ResponseCache(std::size_t capacity) : capacity_(capacity) {}

    std::optional<std::string> get(const std::string& key);
    void put(const std::string& key, std::string body);

    // The key of a request: every part length-prefixed, so that no value, whatever bytes it holds, can
    // make two different requests look alike (a separator byte inside a value once could). The parameters
    // come ordered by name, so the key does not depend on their order in the URL.
    static std::string key(const std::string& generation, const std::string& path,
                           const std::multimap<std::string, std::string>& params);

private:
    using Entry = std::pair<std::string, std::string>;
    std::size_t capacity_;
    std::mutex mutex_;
    std::list<Entry> entries_;
    std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace yosan
