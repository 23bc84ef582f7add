# Compiles the page files (index.html, app.js, style.css, ...) into a C++ source, so that the binary serves
# the page with nothing installed beside it. Run at build time:
#   cmake -DDIR=searcher/web -DOUT=web_assets.cpp -P embed.cmake
# Bytes are written as hex escapes: raw string literals would break on ")\"" inside JavaScript.
file(GLOB files RELATIVE "${DIR}" "${DIR}/*.html" "${DIR}/*.js" "${DIR}/*.css" "${DIR}/*.svg")
list(SORT files)
set(code "// Generated from searcher/web by searcher/web/embed.cmake. Do not edit.\n")
string(APPEND code "#include \"searcher/http_assets.h\"\n\nnamespace yosan::web {\nnamespace {\n")
set(table "")
set(i 0)
foreach(f IN LISTS files)
  file(READ "${DIR}/${f}" hex HEX)
  string(LENGTH "${hex}" n)
  math(EXPR size "${n} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # A trailing 0 keeps the array non-empty for an empty file; the size excludes it.
  string(APPEND code "const unsigned char data${i}[] = {${bytes}0};\n")
  string(APPEND table "    {\"${f}\", std::string_view(reinterpret_cast<const char*>(data${i}), ${size})},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND code "const Asset assets[] = {\n${table}};\n}  // namespace\n\n")
string(APPEND code "const Asset* find_asset(std::string_view name) {\n")
string(APPEND code "    for (const Asset& a : assets)\n        if (a.name == name) return &a;\n    return nullptr;\n}\n\n")
string(APPEND code "}  // namespace yosan::web\n")
# Rewrite only on change, so an unchanged page does not relink everything.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL code)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${code}")
