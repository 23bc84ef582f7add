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
    for (const std::string& w : config.warnings) std::cerr << "warning: " << w << "\n";
    if (!index_path.empty()) config.index_path = index_path;
    return config;
}

int run_guarded(const char* program, const std::function<int()>& body,
                const std::function<void(int, const std::string&)>& also_report) {
    const auto fail = [&](int status, const std::string& message) {
        std::cerr << program << ": " << message << "\n";
        if (also_report) also_report(status, message);
        return status;
    };
    try {
        return body();
    } catch (const Error& e) {
        return fail(e.exit_status(), e.describe());
    } catch (const Xapian::Error& e) {
        return fail(1, "Xapian: " + e.get_description());
    } catch (const std::exception& e) {
        return fail(1, e.what());
    }
}

}  // namespace yosan
