// What the command-line programs share: option parsing that reports mistakes as UsageError, the config
// with its --index override, and main()'s mapping from errors to exit statuses.
#pragma once

#include <functional>
#include <string>

#include <boost/program_options.hpp>

#include "core/config.h"

namespace yosan {

// Parses argv into `vm`. Returns false when --help was asked for (the help is then printed on stdout).
// Throws UsageError for anything boost::program_options rejects.
bool parse_command_line(int argc, char** argv, const boost::program_options::options_description& options,
                        const boost::program_options::positional_options_description* positional,
                        boost::program_options::variables_map& vm);

// Loads the config file and applies --index when given.
Config load_config(const std::string& config_path, const std::string& index_path);

// Runs `body` and returns its exit status. This is where the programs catch: an error is printed as
// "program: context: message" and mapped through Error::exit_status() (usage 2, a held lock 4, else 1);
// `also_report`, when given, hears the status and message too (yosan-index --json answers on stdout).
int run_guarded(const char* program, const std::function<int()>& body,
                const std::function<void(int status, const std::string& message)>& also_report = {});

}  // namespace yosan
