// The mutation campaign's generators (tests/mutation/mutation_campaign_test.cc) and the real
// vectors it mutates, shared with tee-mutants (tests/mutation/mutants_main.cc), which writes the
// same mutants to files for the differential test against the peer verifiers
// (scripts/differential.sh, docs/conformance.md). One generator, so both see the same inputs.
#ifndef TEE_TESTS_MUTATION_MUTATOR_H_
#define TEE_TESTS_MUTATION_MUTATOR_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace teeverify::mutation {

// One mutation of a byte string, described so that a failure can be reproduced by hand.
struct Mutant {
  std::string bytes;
  std::string description;
};

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  uint8_t Byte() { return static_cast<uint8_t>(Below(256)); }

  Mutant Mutate(const std::string& original) {
    Mutant m{original, ""};
    const size_t n = original.size();
    switch (Below(10)) {
      case 0:
      case 1:
      case 2: {  // one bit: the most common mutation, anywhere (all of it is signed or structure)
        size_t at = Below(n);
        int bit = static_cast<int>(Below(8));
        m.bytes[at] = static_cast<char>(m.bytes[at] ^ (1 << bit));
        m.description = absl::StrCat("flip bit ", bit, " of byte ", at);
        break;
      }
      case 3: {  // one byte to another value
        size_t at = Below(n);
        uint8_t v = Byte();
        if (v == static_cast<uint8_t>(m.bytes[at])) v ^= 0xff;
        m.bytes[at] = static_cast<char>(v);
        m.description = absl::StrCat("byte ", at, " := ", static_cast<int>(v));
        break;
      }
      case 4: {  // boundary values over 1, 2 or 4 bytes (lengths, counts, versions)
        static constexpr uint8_t kValues[] = {0x00, 0xff, 0x7f, 0x80, 0x01};
        size_t width = size_t{1} << Below(3);
        size_t at = Below(n > width ? n - width + 1 : 1);
        uint8_t v = kValues[Below(5)];
        std::string before = m.bytes.substr(at, width);
        for (size_t i = at; i < at + width && i < n; ++i) m.bytes[i] = static_cast<char>(v);
        if (m.bytes == original) m.bytes[at] = static_cast<char>(v ^ 0x01);
        m.description = absl::StrCat(width, " bytes at ", at, " := ", static_cast<int>(v));
        break;
      }
      case 5: {  // truncation
        size_t keep = Below(n);
        m.bytes.resize(keep);
        m.description = absl::StrCat("truncate to ", keep, " of ", n, " bytes");
        break;
      }
      case 6: {  // extension: trailing bytes
        size_t extra = 1 + Below(64);
        for (size_t i = 0; i < extra; ++i) m.bytes.push_back(static_cast<char>(Byte()));
        m.description = absl::StrCat("append ", extra, " bytes");
        break;
      }
      case 7: {  // insertion inside
        size_t at = Below(n);
        size_t extra = 1 + Below(8);
        std::string ins;
        for (size_t i = 0; i < extra; ++i) ins.push_back(static_cast<char>(Byte()));
        m.bytes.insert(at, ins);
        m.description = absl::StrCat("insert ", extra, " bytes at ", at);
        break;
      }
      case 8: {  // deletion inside
        size_t at = Below(n);
        size_t len = 1 + Below(std::min<size_t>(32, n - at));
        m.bytes.erase(at, len);
        m.description = absl::StrCat("delete ", len, " bytes at ", at);
        break;
      }
      default: {  // a chunk copied over another place (duplicated fields, swapped halves)
        size_t len = 1 + Below(std::min<size_t>(64, n));
        size_t from = Below(n - len + 1);
        size_t to = Below(n - len + 1);
        m.bytes.replace(to, len, original.substr(from, len));
        if (m.bytes == original) {
          m.bytes[to] = static_cast<char>(m.bytes[to] ^ 0x01);
        }
        m.description = absl::StrCat("copy ", len, " bytes from ", from, " to ", to);
        break;
      }
    }
    if (m.bytes == original) {  // an insertion of a byte equal to its neighbour, and the like
      m.bytes.push_back('\0');
      m.description += " + append 1 byte";
    }
    return m;
  }

 private:
  std::mt19937_64 rng_;
};

// The formats allow a few trailing bytes with no meaning: zero padding after a TDX quote
// (dcap-qvl's real quote carries 70 bytes of it, and verifiers accept it), NUL terminators and one
// line break after a PEM chain, one line break after a PCS JSON response. A mutant that only adds
// or removes such bytes at the end is the same input.
inline bool SameUpToTrailingPadding(absl::string_view a, absl::string_view b) {
  auto strip = [](absl::string_view s) {
    while (!s.empty() && (s.back() == '\0' || s.back() == '\n')) s.remove_suffix(1);
    return s;
  };
  return strip(a) == strip(b);
}

// ---- The real vectors that verify (MANIFEST), with their collateral or certificate and times ----

struct TdxVector {
  const char* quote;
  const char* collateral;
  const char* other_platform_collateral;  // valid collateral of another FMSPC, or of another time
  const char* at;
  const char* before_every_window;  // a time before some item of the chain or collateral is valid
  const char* after_every_window;   // a time after some item expired
};

// The three real quotes that verify (MANIFEST), with their collateral and times.
inline const TdxVector kTdxVectors[] = {
    {"dcap-qvl_tdx_quote.bin", "dcap-qvl-2025-06", "go-tdx-guest-2023-06",
     "2025-07-19T10:00:34Z", "2025-06-19T10:16:02Z", "2025-07-19T10:16:04Z"},
    {"go-tdx-guest_quote_v5_sample.bin", "dcap-qvl-2026-02", "dcap-qvl-2025-06",
     "2026-03-20T10:41:14Z", "2018-01-01T00:00:00Z", "2049-12-31T00:00:00Z"},
    {"trustee_tdx_quote_4_debug.bin", "go-tdx-guest-2023-06", "dcap-qvl-2026-02",
     "2023-07-01T01:00:00Z", "2018-01-01T00:00:00Z", "2023-07-08T07:25:00Z"},
};

struct SnpVector {
  const char* report;
  const char* cert;
  const char* at;
  const char* after_cert;  // after the VCEK/VLEK (or the ASK) expired
};

// Every real report that verifies (MANIFEST), with its VCEK/VLEK.
inline const SnpVector kSnpVectors[] = {
    {"go-sev-guest_attestation.bin", "go-sev-guest_vcek.der", "2022-09-24T01:00:00Z",
     "2029-09-24T00:55:29Z"},
    {"virtee-sev_report_milan.bin", "virtee-sev_vcek_milan.der", "2025-10-01T08:00:00Z",
     "2030-04-03T19:23:44Z"},
    {"trustee_test-report.bin", "trustee_test-vcek.der", "2025-10-01T08:00:00Z",
     "2030-01-24T17:58:27Z"},
    {"trustee_test-vlek-report.bin", "trustee_test-vlek.der", "2025-10-01T08:00:00Z",
     "2025-12-10T22:14:22Z"},
    {"trustee_e2e-report.bin", "trustee_e2e-vcek.der", "2025-10-01T08:00:00Z",
     "2032-05-27T17:57:04Z"},
    {"oak_genoa_oc_report.bin", "oak_genoa_oc_vcek.der", "2025-10-01T08:00:00Z",
     "2032-08-07T17:21:42Z"},
    {"oak_milan_oc_release_report.bin", "oak_milan_oc_release_vcek.der", "2025-10-01T08:00:00Z",
     "2032-01-15T21:21:55Z"},
    {"oak_milan_rk_release_report.bin", "oak_milan_rk_release_vcek.der", "2025-10-01T08:00:00Z",
     "2032-01-15T23:04:20Z"},
    {"azure_milan_hcl_snp_report.bin", "azure_milan_vcek_ask_ark.pem", "2025-10-01T08:00:00Z",
     "2030-05-02T21:22:20Z"},
    {"azure_genoa_hcl_snp_report.bin", "azure_genoa_vcek.pem", "2025-10-01T08:00:00Z",
     "2032-01-24T02:21:49Z"},
};

}  // namespace teeverify::mutation

#endif  // TEE_TESTS_MUTATION_MUTATOR_H_
