// libFuzzer target: a network file's bytes -> parse_network, then a plan for every placement.
// Malformed input must end in UserError (exit status 2 in the CLI); any other exception, a crash,
// a hang or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/errors.h"
#include "net/network_file.h"
#include "net/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const alexnet::NetworkSpec spec = alexnet::parse_network(text, "fuzz.toml");
    for (auto placement :
         {alexnet::Placement::kSplit, alexnet::Placement::kSingle, alexnet::Placement::kDense}) {
      alexnet::PlanOptions options;
      options.placement = placement;
      try {
        alexnet::make_plan(spec, options);
      } catch (const alexnet::UserError&) {
      }
    }
  } catch (const alexnet::UserError&) {
  }
  return 0;
}
