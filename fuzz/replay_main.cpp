// A main() for the fuzz targets where libFuzzer is not available (GCC builds, the normal test suite):
// runs the target on every seed and regression file given, then on a fixed number of deterministic
// mutations of each (std::mt19937 with a fixed seed: the same inputs every run, so a failure reproduces).
// The mutations splice in budget-sheet vocabulary, because random bytes are mostly refused as non-UTF-8.
//
//   fuzz_sheet_parser_replay [--mutations N] FILES_OR_DIRS...
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_common.h"

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTokens = {
    "\n", "\n\n", " ", "　", "令和", "平成", "7年度", "年度", "予算額", "補正予算額", "予備費", "概算要求額", "億円", "百万円",
    "千円", "万円", "円", "（", "）", "(", ")", "**", "※", "、", "。", "のうち、", "(2)", "新規", "一部GX", "総額", "約",
    "国庫債務負担行為含め", "事業目的", "事業概要", "事業目的・概要", "事業の内容", "成果目標", "事業スキーム", "の内数",
    "製造産業局", "資源エネルギー庁", "課", "室", "グループ", "主担当庁：", "予算配分額", "配分額：", "9,916", "3.0", "0", "-",
    "\"", "AND", "OR", "NOT", "title:", "10億円以上", "〜", "~", "*", "ｻｲﾊﾞｰ", "ＡＩ", "\xEF\xBB\xBF", "\t", "𠮷"};

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string mutate(std::string s, std::mt19937& rng) {
    const auto pick = [&](std::size_t n) { return n ? std::uniform_int_distribution<std::size_t>(0, n - 1)(rng) : 0; };
    const int edits = 1 + static_cast<int>(pick(4));
    for (int e = 0; e < edits; ++e) {
        switch (pick(6)) {
            case 0: s.insert(pick(s.size() + 1), kTokens[pick(kTokens.size())]); break;
            case 1:
                if (!s.empty()) s.erase(pick(s.size()), 1 + pick(64));
                break;
            case 2: s.resize(pick(s.size() + 1)); break;
            case 3: {  // duplicate a stretch
                const std::size_t at = pick(s.size() + 1), len = pick(256);
                s.insert(at, s.substr(at, len));
                break;
            }
            case 4:
                if (!s.empty()) s[pick(s.size())] = static_cast<char>(pick(256));
                break;
            default: s.insert(pick(s.size() + 1), std::string(1 + pick(8), kTokens[pick(kTokens.size())][0])); break;
        }
    }
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    int mutations = 200;
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--mutations" && i + 1 < argc) {
            mutations = std::stoi(argv[++i]);
            continue;
        }
        if (fs::is_directory(a)) {
            for (const auto& e : fs::recursive_directory_iterator(a))
                if (e.is_regular_file()) files.push_back(e.path());
        } else {
            files.emplace_back(a);
        }
    }
    std::sort(files.begin(), files.end());
    std::mt19937 rng(20261201);
    std::size_t runs = 0;
    for (const fs::path& f : files) {
        const std::string seed = read(f);
        // Large seeds (a whole corpus file) are run whole, and mutated in slices to keep the run short.
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size());
        ++runs;
        for (int m = 0; m < mutations; ++m) {
            std::string base = seed;
            if (base.size() > 8192) {
                // Cut at line starts, so that the slice is still UTF-8.
                std::size_t at = std::uniform_int_distribution<std::size_t>(0, base.size() - 4096)(rng);
                at = base.rfind('\n', at) == std::string::npos ? 0 : base.rfind('\n', at) + 1;
                const std::size_t end = base.find('\n', at + 4096);
                base = base.substr(at, end == std::string::npos ? std::string::npos : end + 1 - at);
            }
            const std::string input = mutate(base, rng);
            LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
            ++runs;
        }
    }
    std::cout << "replayed " << runs << " inputs from " << files.size() << " files\n";
    return files.empty() ? 1 : 0;
}
