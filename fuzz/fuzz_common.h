// Shared set-up of the fuzz targets: the config, dictionaries and analyzer are built once per process
// (MeCab start-up dominates otherwise). Paths come from the source tree (YOSAN_SOURCE_DIR).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/analyzer.h"
#include "core/bureaus.h"
#include "core/config.h"

namespace yosan::fuzz {

const Config& config();
const Analyzer& analyzer();
const BureauDirectory& bureaus();

}  // namespace yosan::fuzz

// The libFuzzer entry point each target defines.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
