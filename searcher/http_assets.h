// The page files (searcher/web) compiled into the binary by searcher/web/embed.cmake.
//
// Thread safety: the table is constant; find_asset() is thread safe.
#pragma once

#include <string_view>

namespace yosan::web {

struct Asset {
    std::string_view name;  // the file name in searcher/web, e.g. "app.js"
    std::string_view body;
};

// The built-in file called `name`, or nullptr. Only exact names match, so no path can reach outside.
const Asset* find_asset(std::string_view name);

}  // namespace yosan::web
