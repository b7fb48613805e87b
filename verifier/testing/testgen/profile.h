// A tee-testgen profile: the measurements the test TEEs put into their evidence (docs/testgen.md).
// Every field is optional; a field left out keeps the generator's default (TdxTestTee::
// DefaultReport, SnpTestTee::DefaultReport with SnpTestOptions{}, NitroTestTee::DefaultSpec).
//
//   {"tdx":     {"mrtd", "rtmr0".."rtmr3", "mrconfigid", "mrowner", "mrownerconfig": 96 hex,
//                "td_attributes": 16 hex},
//    "sev_snp": {"product": "Milan"|"Genoa"|"Turin", "signing_key": "vcek"|"vlek",
//                "measurement": 96 hex, "host_data": 64 hex, "family_id", "image_id": 32 hex,
//                "policy": "0x30000" or a number, "guest_svn": u32, "vmpl": 0..3},
//    "nitro":   {"pcr0".."pcr15": 96 hex, "module_id": string}}
//
// Unknown sections or fields, and values of the wrong type or length, are errors.
#ifndef TEE_VERIFIER_TESTING_TESTGEN_PROFILE_H_
#define TEE_VERIFIER_TESTING_TESTGEN_PROFILE_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json_fwd.hpp"
#include "verifier/common/byte_reader.h"
#include "verifier/snp/report.h"
#include "verifier/snp/snp_claims.h"
#include "verifier/tdx/quote.h"
#include "verifier/testing/nitro_test_tee.h"
#include "verifier/testing/snp_test_tee.h"

namespace teeverify::testgen {

struct TdxProfile {
  std::optional<ByteArray<48>> mrtd, mrconfigid, mrowner, mrownerconfig;
  std::array<std::optional<ByteArray<48>>, 4> rtmr;
  std::optional<ByteArray<8>> td_attributes;
};

struct SnpProfile {
  std::optional<snp::Product> product;
  std::optional<bool> vlek;
  std::optional<ByteArray<48>> measurement;
  std::optional<ByteArray<32>> host_data;
  std::optional<ByteArray<16>> family_id, image_id;
  std::optional<uint64_t> policy;
  std::optional<uint32_t> guest_svn;
  std::optional<uint32_t> vmpl;
};

struct NitroProfile {
  std::map<uint32_t, std::string> pcrs;  // index -> 48 bytes
  std::optional<std::string> module_id;
};

struct Profile {
  TdxProfile tdx;
  SnpProfile sev_snp;
  NitroProfile nitro;
};

// Parses the JSON text of a profile; `what` names it in errors (the file name).
absl::StatusOr<Profile> ParseProfile(absl::string_view json, absl::string_view what);

// The profile's choices applied to a generator's defaults.
void ApplyProfile(const TdxProfile& profile, tdx::TdReport* report);
testing::SnpTestOptions SnpOptions(const SnpProfile& profile);
void ApplyProfile(const SnpProfile& profile, snp::Report* report);
void ApplyProfile(const NitroProfile& profile, testing::NitroDocumentSpec* spec);

// The profile form of concrete values: what `tee-testgen profile` prints (every field).
nlohmann::ordered_json ProfileJson(const tdx::TdReport& tdx,
                                   const testing::SnpTestOptions& snp_options,
                                   const snp::Report& snp,
                                   const testing::NitroDocumentSpec& nitro);

}  // namespace teeverify::testgen

#endif  // TEE_VERIFIER_TESTING_TESTGEN_PROFILE_H_
