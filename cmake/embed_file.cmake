# Script mode (cmake -P): writes OUT, a C++ file defining facefleet::embedded::SYMBOL with the bytes of IN.
file(READ "${IN}" content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
string(LENGTH "${content}" hex_length)
math(EXPR length "${hex_length} / 2")
file(WRITE "${OUT}" "// Generated from ${IN} by cmake/embed_file.cmake; do not edit.\n#include <string_view>\n"
     "namespace facefleet::embedded {\nnamespace {\nconstexpr char kData[] = {${bytes} 0};\n}  // namespace\n"
     "extern const std::string_view ${SYMBOL};\nconst std::string_view ${SYMBOL}(kData, ${length});\n"
     "}  // namespace facefleet::embedded\n")
