# Compiles dict/docdata/sheets.zdict into a C++ source (yosan::document_data::kDictionary), so that reading
# and writing document data never depends on a file installed beside the binary. Run at build time:
#   cmake -DIN=dict/docdata/sheets.zdict -DOUT=document_dictionary.cpp -P embed.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
file(WRITE "${OUT}" "// Generated from dict/docdata/sheets.zdict by dict/docdata/embed.cmake. Do not edit.
#include <string_view>

namespace yosan::document_data {
namespace {
constexpr char bytes[] = {${bytes}};
}  // namespace
// Constant initialised (constinit): whole before any code runs, whatever the order of static initialisation.
extern constinit const std::string_view kDictionary;
constinit const std::string_view kDictionary(bytes, ${size});
}  // namespace yosan::document_data
")
