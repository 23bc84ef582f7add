#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <xapian.h>

// Xapian's errors do not derive from std::exception; without this Catch reports them as "Unknown exception".
CATCH_TRANSLATE_EXCEPTION(const Xapian::Error& e) { return e.get_description(); }
