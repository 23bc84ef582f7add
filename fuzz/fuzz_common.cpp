#include "fuzz/fuzz_common.h"

#include <filesystem>

namespace yosan::fuzz {

const Config& config() {
    static const Config c = [] {
        Config c = Config::load(std::string(YOSAN_SOURCE_DIR).append("/config/yosan.toml"));
        // The user dictionary this build compiled, if any; never one from another build tree.
        const std::string user = std::string(YOSAN_BINARY_DIR).append("/dict/user-unidic.dic");
        c.analysis.user_dictionary = std::filesystem::exists(user) ? user : std::string();
        return c;
    }();
    return c;
}

const Analyzer& analyzer() {
    static const Analyzer a(config().analysis);
    return a;
}

const BureauDirectory& bureaus() {
    static const BureauDirectory b = BureauDirectory::load(config().bureaus_path);
    return b;
}

}  // namespace yosan::fuzz
