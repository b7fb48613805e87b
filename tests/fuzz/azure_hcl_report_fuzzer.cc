// libFuzzer target: the Azure HCL report (NV index 0x01400001) and the runtime data JSON inside
// it. Any input must parse or fail cleanly; what parses must be internally consistent: the
// hardware report has its type's size and the runtime data parses on its own as it did inside.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "verifier/azure/hcl_report.h"
#include "verifier/azure/runtime_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  using namespace teeverify::azure;
  auto hcl = ParseHclReport(input);
  if (hcl.ok()) {
    const size_t expected =
        hcl->report_type == HwReportType::kSnp ? kHwReportSlotSize : kTdReportSize;
    if (hcl->hw_report.size() != expected) abort();
    if (hcl->runtime_data.empty() || hcl->runtime_data.size() > input.size()) abort();
    (void)ParseRuntimeData(hcl->runtime_data);
  }
  // The runtime data parser on the raw input too (most mutations of a JSON text are JSON).
  auto runtime = ParseRuntimeData(input);
  if (runtime.ok() && (runtime->ak_modulus.size() < 256 || runtime->ak_modulus.size() > 512)) {
    abort();
  }
  return 0;
}
