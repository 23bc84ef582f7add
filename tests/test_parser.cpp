#include <catch2/catch.hpp>

#include "tests/test_support.h"
