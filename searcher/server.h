// `yosan-search serve`: the HTTP JSON API and the staff search page (cpp-httplib).
#pragma once

namespace yosan {
// argv[0] is "serve". Returns the process exit status.
int run_server(int argc, char** argv);
}  // namespace yosan
