#include "searcher/server.h"

#include <iostream>

#include "core/error.h"

namespace yosan {

int run_server(int, char**) {
    throw UsageError("serve はまだ実装されていません");
}

}  // namespace yosan
