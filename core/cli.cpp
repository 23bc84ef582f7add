#include "core/cli.h"

#include <iostream>

#include <xapian.h>

#include "core/error.h"

namespace yosan {

namespace po = boost::program_options;

bool parse_command_line(int argc, char** argv, const po::options_description& options,
                        const po::positional_options_description* positional, po::variables_map& vm) {
    try {
        po::command_line_parser parser(argc, argv);
        parser.options(options);
        if (positional) parser.positional(*positional);
        po::store(parser.run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    if (vm.count("help")) {
        std::cout << options << "\n";
        return false;
    }
    return true;
}

Config load_config(const std::string& config_path, const std::string& index_path) {
    Config config = Config::load(config_path);
    if (!index_path.empty()) config.index_path = index_path;
    return config;
}

int run_guarded(const char* program, const std::function<int()>& body) {
    try {
        return body();
    } catch (const Error& e) {
        std::cerr << program << ": " << e.describe() << "\n";
        return e.exit_status();
    } catch (const Xapian::Error& e) {
        std::cerr << program << ": Xapian: " << e.get_description() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << program << ": " << e.what() << "\n";
        return 1;
    }
}

}  // namespace yosan
