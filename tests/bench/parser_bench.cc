// Google Benchmark of every parser on a normal input and on the worst inputs we could craft
// within its bounds: the most entries, the deepest nesting, the longest lengths, and inputs that
// are refused only after as much reading as the parser will do. The claim it backs
// (docs/performance.md, "Worst-case inputs"): no input costs a parser more than 5x a normal one.
// scripts/bench.sh runs it and prints worst / normal per parser.
//
// Benchmarks are named BM_<Parser>/<case>; "normal" is the reference of each parser:
//   SnpReport, SnpCertTable, TdxQuote (the quote and its PCK chain: everything parsed before the
//   first signature check), PckExtensions, NitroDocument: a real vector.
//   TdxCollateralJson, RoleJson: these take operator files that may grow to their size bound
//   with legitimate content (TCB levels, allowed measurements), so their reference is a real
//   vector grown to the bound with more of the same content ("normal" at the bound), and the
//   worst inputs have the same size.
// Every input is built in Prepare() (bench_main.cc calls it) before any benchmark runs.
#include <openssl/evp.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "benchmark/benchmark.h"
#include "tests/bench/bench_main.h"
#include "tests/test_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/nitro/document_input.h"
#include "verifier/nitro/document_parser.h"
#include "verifier/policy/role_json.h"
#include "verifier/snp/extended_evidence.h"
#include "verifier/snp/report_parser.h"
#include "verifier/tdx/collateral.h"
#include "verifier/tdx/pck_chain.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/tdx/tcb_info.h"

namespace teeverify {
namespace {

using ::teeverify::testing::ReadTestData;

[[noreturn]] void Die(absl::string_view what, absl::string_view why) {
  fprintf(stderr, "parser_bench setup: %s: %s\n", std::string(what).c_str(),
          std::string(why).c_str());
  std::exit(2);
}

template <typename T>
T Must(absl::StatusOr<T> v, absl::string_view what) {
  if (!v.ok()) Die(what, v.status().ToString());
  return *std::move(v);
}

// One parser call on one input; `accepted` says whether the input is one the parser accepts
// (checked once in main, so that a benchmark never measures a different path than it names).
struct Case {
  std::string name;
  std::string input;
  bool accepted;
};

struct Parser {
  std::string name;
  std::function<absl::Status(const std::string&)> parse;
  std::vector<Case> cases;
};

std::vector<Parser>* parsers = nullptr;

// ---- DER and little-endian helpers ----

std::string DerLength(size_t n) {
  if (n < 0x80) return std::string(1, static_cast<char>(n));
  std::string bytes;
  for (; n > 0; n >>= 8) bytes.insert(bytes.begin(), static_cast<char>(n & 0xff));
  return absl::StrCat(std::string(1, static_cast<char>(0x80 | bytes.size())), bytes);
}

std::string Tlv(uint8_t tag, absl::string_view content) {
  return absl::StrCat(std::string(1, static_cast<char>(tag)), DerLength(content.size()), content);
}

std::string Repeat(absl::string_view unit, size_t times) {
  std::string out;
  out.reserve(unit.size() * times);
  for (size_t i = 0; i < times; ++i) out.append(unit.data(), unit.size());
  return out;
}

// ---- SEV-SNP ----

Parser SnpReportParser() {
  const std::string genoa = ReadTestData("sevsnp/reports/oak_genoa_oc_report.bin");
  const std::string milan = ReadTestData("sevsnp/reports/oak_milan_oc_release_report.bin");
  return {"SnpReport",
          [](const std::string& in) { return snp::ParseReport(in).status(); },
          {{"normal", genoa, true},
           {"v3_report", milan, true},
           {"oversized_1MiB", genoa + std::string((1 << 20) - genoa.size(), '\0'), false}}};
}

snp::Guid NumberedGuid(size_t i) {
  snp::Guid g = {0x7e};
  g[14] = static_cast<uint8_t>(i >> 8);
  g[15] = static_cast<uint8_t>(i);
  return g;
}

Parser SnpCertTableParser() {
  const std::string report = ReadTestData("sevsnp/reports/oak_genoa_oc_report.bin");
  const std::string vcek = ReadTestData("sevsnp/certs/oak_genoa_oc_vcek.der");
  const std::vector<std::string> ask_ark = Must(
      PemCertificatesToDer(ReadTestData("sevsnp/chains/ask_ark_genoa.pem"), "ask_ark"), "ask_ark");
  const std::string real = snp::SerializeCertTable(
      {{snp::kVcekGuid, vcek}, {snp::kAskGuid, ask_ark[0]}, {snp::kArkGuid, ask_ark[1]}});
  // The most entries, their certificates filling the whole 16 KiB.
  std::vector<snp::CertTableEntry> full;
  const size_t each = (snp::kMaxCertTableSize - (snp::kMaxCertTableEntries + 1) *
                                                    snp::kCertTableEntrySize) /
                      snp::kMaxCertTableEntries;
  for (size_t i = 0; i < snp::kMaxCertTableEntries; ++i) {
    full.push_back({NumberedGuid(i), std::string(each, static_cast<char>('a' + i))});
  }
  // As many tiny entries as 16 KiB holds (what made the old pairwise scans quadratic).
  const size_t tiny = snp::kMaxCertTableSize / (snp::kCertTableEntrySize + 1) - 1;
  std::vector<snp::CertTableEntry> tiny_entries;
  for (size_t i = 0; i < tiny; ++i) tiny_entries.push_back({NumberedGuid(i), "c"});
  // The 1 MiB login that took 2-2.7 s before the bounds: 1 MiB of tiny entries.
  std::vector<snp::CertTableEntry> huge_entries;
  for (size_t i = 0; i < (1 << 20) / 25; ++i) huge_entries.push_back({NumberedGuid(i), "c"});
  return {"SnpCertTable",
          [](const std::string& in) { return snp::ParseEvidence(in).status(); },
          {{"normal", report + real, true},
           {"max_entries_max_bytes", report + snp::SerializeCertTable(full), true},
           {"zero_padded_to_bound",
            report + real + std::string(snp::kMaxCertTableSize - real.size(), '\0'), true},
           {"tiny_entries_16KiB", report + snp::SerializeCertTable(tiny_entries), false},
           {"tiny_entries_1MiB", report + snp::SerializeCertTable(huge_entries), false}}};
}

// ---- TDX ----

// Everything parsed of a quote before its first signature check: the quote and its PCK chain
// (three certificates and the leaf's SGX extension).
absl::Status ParseTdxQuote(const std::string& in) {
  absl::StatusOr<tdx::Quote> q = tdx::ParseQuote(in);
  if (!q.ok()) return q.status();
  return tdx::InspectPckChain(q->certification.pck_chain_pem).status();
}

Parser TdxQuoteParser() {
  const std::string real = ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin");
  const tdx::Quote quote = Must(tdx::ParseQuote(real), "quote");
  // The longest QE authentication data that keeps the quote within its bound.
  tdx::Quote auth = quote;
  auth.certification.qe_auth_data.append(tdx::kMaxQuoteSize - real.size(), 'q');
  // A PCK chain of as many copies of its certificates as the bound holds: refused for its
  // count before any is parsed.
  tdx::Quote many = quote;
  const std::string pem = quote.certification.pck_chain_pem;
  for (size_t copies = 2;; ++copies) {
    tdx::Quote more = quote;
    more.certification.pck_chain_pem = Repeat(pem, copies);
    if (tdx::SerializeQuote(more).size() > tdx::kMaxQuoteSize) break;
    many = more;
  }
  return {"TdxQuote",
          ParseTdxQuote,
          {{"normal", real, true},
           {"zero_padded_to_bound", real + std::string(tdx::kMaxQuoteSize - real.size(), '\0'),
            true},
           {"max_qe_auth_data", tdx::SerializeQuote(auth), true},
           {"many_certificates", tdx::SerializeQuote(many), false},
           {"oversized_1MiB", real + std::string((1 << 20) - real.size(), '\0'), false}}};
}

// The SGX extension value of the leaf of `pem`.
std::string SgxExtensionValue(const std::string& pem) {
  std::vector<X509Ptr> certs = Must(ParsePemCertificates(pem, "pck chain"), "pck chain");
  const int n = X509_get_ext_count(certs[0].get());
  for (int i = 0; i < n; ++i) {
    X509_EXTENSION* ext = X509_get_ext(certs[0].get(), i);
    if (OidText(X509_EXTENSION_get_object(ext)) == "1.2.840.113741.1.13.1") {
      const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
      return std::string(reinterpret_cast<const char*>(data->data), data->length);
    }
  }
  Die("pck chain", "no SGX extension");
}

Parser PckExtensionsParser() {
  const tdx::Quote quote =
      Must(tdx::ParseQuote(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin")), "quote");
  const std::string real = SgxExtensionValue(quote.certification.pck_chain_pem);
  // The real entries (the content of the outer SEQUENCE) plus entry 7 (Configuration, kept
  // unread) as long as a quote leaves room for.
  // The real entries (the content of the outer SEQUENCE) without the last one, whose place the
  // long entry 7 takes (a platform CA's PCK certificate already carries all seven).
  std::string entries = real.substr(static_cast<uint8_t>(real[1]) == 0x82 ? 4 : 2);
  size_t last = 0;
  for (size_t p = 0; p < entries.size();) {
    last = p;
    const uint8_t l = static_cast<uint8_t>(entries[p + 1]);
    const size_t header = l < 0x80 ? 2 : 2 + (l & 0x7f);
    size_t length = l < 0x80 ? l : 0;
    for (size_t i = 2; i < header; ++i) length = (length << 8) | static_cast<uint8_t>(entries[p + i]);
    p += header + length;
  }
  entries.resize(last);
  const std::string oid_prefix("\x2a\x86\x48\x86\xf8\x4d\x01\x0d\x01", 9);
  const std::string entry7 =
      Tlv(0x30, absl::StrCat(Tlv(0x06, oid_prefix + "\x07"), Tlv(0x04, std::string(12000, 'x'))));
  // 8000 NULL elements at the top; a TCB entry of 8000 NULL elements.
  const std::string nulls = Repeat(std::string("\x05\x00", 2), 8000);
  const std::string tcb = Tlv(0x30, absl::StrCat(Tlv(0x06, oid_prefix + "\x02"), Tlv(0x30, nulls)));
  return {"PckExtensions",
          [](const std::string& in) { return tdx::ParsePckExtensionValue(in).status(); },
          {{"normal", real, true},
           {"long_unread_entry", Tlv(0x30, entries + entry7), true},
           {"many_top_elements", Tlv(0x30, nulls), false},
           {"many_tcb_elements", Tlv(0x30, tcb), false}}};
}

// Intel PCS's envelope around a TCB info body, as ParseSignedCollateral requires it.
std::string TcbInfoResponse(absl::string_view body) {
  return absl::StrCat(R"({"tcbInfo":)", body, R"(,"signature":")", std::string(128, 'a'), "\"}");
}

absl::Status ParseTcbInfoResponse(const std::string& in) {
  absl::StatusOr<tdx::SignedCollateral> s =
      tdx::ParseSignedCollateral(in, "tcbInfo", tdx::kTcbInfoFile);
  if (!s.ok()) return s.status();
  return tdx::ParseTcbInfo(s->body, tdx::kTcbInfoFile).status();
}

// Pads `prefix` + filler... + `suffix` to `size` bytes with copies of `unit`.
std::string Fill(absl::string_view prefix, absl::string_view unit, absl::string_view suffix,
                 size_t size) {
  const size_t room = size - prefix.size() - suffix.size();
  return absl::StrCat(prefix, Repeat(unit, room / unit.size()), suffix);
}

Parser TdxCollateralParser() {
  const tdx::TdxCollateral real = testing::TestTdxCollateral("dcap-qvl-2026-02");
  const tdx::SignedCollateral signed_info =
      Must(tdx::ParseSignedCollateral(real.tcb_info_response, "tcbInfo", tdx::kTcbInfoFile), "tcb");
  const std::string& body = signed_info.body;
  // A real TCB info grown to the bound with more levels of the same shape (distinct PCE SVNs).
  const size_t levels_at = body.rfind(R"("tcbLevels":[)") + 13;  // the platform levels
  const size_t first_end = body.find(R"(},{"tcb")", levels_at) + 1;
  const std::string level = body.substr(levels_at, first_end - levels_at);
  // The rest of the body (the real levels and the TDX module identities) follows the new levels,
  // so it counts towards the bound too.
  const std::string rest = body.substr(levels_at);
  std::string grown = body.substr(0, levels_at);
  for (int i = 0; TcbInfoResponse(grown).size() + rest.size() + level.size() + 200 <
                  tdx::kMaxCollateralJsonSize;
       ++i) {
    grown += absl::StrReplaceAll(level, {{R"("pcesvn":13)", absl::StrCat(R"("pcesvn":)", 1000 + i)}});
    grown += ",";
  }
  grown += rest;
  const size_t size = TcbInfoResponse(grown).size();
  const size_t body_size = size - TcbInfoResponse("").size();
  const std::string head = body.substr(0, levels_at);
  return {"TdxCollateralJson",
          ParseTcbInfoResponse,
          {{"real", real.tcb_info_response, true},
           {"normal", TcbInfoResponse(grown), true},
           {"tiny_levels", TcbInfoResponse(Fill(head, "0,", "0]}", body_size)), false},
           {"deep_nesting", TcbInfoResponse(Fill(head, "[", "]}", body_size)), false},
           {"many_members",
            Fill(R"({"tcbInfo":{},"signature":"",)", R"("a":0,)", R"("b":0})", size), false},
           {"long_strings",
            TcbInfoResponse(absl::StrCat(head, "\"", std::string(body_size - head.size() - 4, 'x'),
                                         "\"]}")),
            false}}};
}

// ---- Nitro ----

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

Parser NitroParser() {
  const std::string real = ReadTestData("nitro/docs/ga_debug.bin");
  nitro::AttestationDocument doc = Must(nitro::ParseDocument(real), "nitro document");
  // Every field at its maximum: 32 PCRs of 48 bytes (SHA384), a certificate and 16 CA certificates of
  // 1024 bytes, public key 1024, user data and nonce 512 each.
  nitro::AttestationPayload max = doc.payload;
  for (uint32_t i = 0; i < nitro::kMaxPcrCount; ++i) max.pcrs[i] = std::string(48, 'p');
  max.certificate = std::string(nitro::kMaxCertificateSize, 'c');
  max.cabundle.assign(nitro::kMaxCabundleSize, std::string(nitro::kMaxCertificateSize, 'b'));
  max.public_key = std::string(nitro::kMaxPublicKeySize, 'k');
  max.user_data = std::string(nitro::kMaxUserDataSize, 'u');
  max.nonce = std::string(nitro::kMaxNonceSize, 'n');
  nitro::AttestationDocument max_doc = doc;
  max_doc.payload_bytes = nitro::SerializePayload(max);
  // A payload map of as many tiny entries as the item limit lets the reader see (unknown keys).
  std::string tiny_map("\xb8\xff", 2);  // a map of 255 entries: keys 0..254, values 0
  for (int i = 0; i < 255; ++i) {
    tiny_map += i < 24 ? std::string(1, static_cast<char>(i))
                       : absl::StrCat("\x18", std::string(1, static_cast<char>(i)));
    tiny_map += std::string(1, '\0');
  }
  nitro::AttestationDocument tiny_doc = doc;
  tiny_doc.payload_bytes = tiny_map;
  // The largest document: one byte string filling the 64 KiB.
  nitro::AttestationDocument long_doc = doc;
  long_doc.payload_bytes = std::string(nitro::kMaxDocumentSize - 200, 'x');
  const std::string max_fields = nitro::SerializeDocument(max_doc);
  // Base64 of the largest document, refused only by its last character: non-zero padding bits
  // (read to the end twice: decoded, then the error named), or a byte outside the alphabet (then
  // it is raw bytes, refused by the parser's size bound).
  const std::string long_base64 = Base64(nitro::SerializeDocument(long_doc));
  const std::string bad_padding = long_base64.substr(0, long_base64.size() - 4) + "QR==";
  const std::string raw_at_end = long_base64.substr(0, long_base64.size() - 1) + "\x84";
  return {"NitroDocument",
          // As NitroVerifier reads evidence: base64 text is decoded first.
          [](const std::string& in) {
            absl::StatusOr<std::string> raw = nitro::DocumentBytes(in);
            if (!raw.ok()) return raw.status();
            return nitro::ParseDocument(*raw).status();
          },
          {{"normal", real, true},
           {"normal_base64", Base64(real), true},
           {"max_fields", max_fields, true},
           {"max_fields_base64", Base64(max_fields), true},
           {"max_items", nitro::SerializeDocument(tiny_doc), false},
           {"max_size", nitro::SerializeDocument(long_doc), false},
           {"max_size_base64", long_base64, false},
           {"max_size_base64_bad_padding", bad_padding, false},
           {"max_size_base64_raw_at_end", raw_at_end, false}}};
}

// ---- Role JSON ----

Parser RoleJsonParser() {
  const std::string real = ReadTestData("../../policy_examples/mcp-server-tdx.role.json");
  const std::string head = R"({"tee_types":["tdx"],"tdx_mrtd":[)";
  const std::string mrtd = absl::StrCat("\"", std::string(96, 'a'), "\",");
  const size_t size = policy::kMaxRoleJsonSize;
  const std::string normal = Fill(head, mrtd, "\"" + std::string(96, 'b') + "\"]}", size);
  return {"RoleJson",
          [](const std::string& in) { return policy::PolicyFromRoleJson(in).status(); },
          {{"real", real, true},
           {"normal", normal, true},
           {"tiny_list_items", Fill(head, "\"a\",", "\"a\"]}", size), true},
           {"comma_list", Fill(R"({"tee_types":["tdx"],"tdx_mrtd":")", "a,", "a\"}", size), true},
           {"deep_nesting", Fill(R"({"tee_types":)", "[", "]}", size), false},
           {"many_unknown_keys", Fill("{", R"("x":0,)", R"("y":0})", size), false}}};
}

void Run(benchmark::State& state, const Parser* parser, const Case* c) {
  for (auto _ : state) {
    absl::Status s = parser->parse(c->input);
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c->input.size()));
  state.counters["bytes"] = static_cast<double>(c->input.size());
}

void RegisterParsers() {
  parsers = new std::vector<Parser>{SnpReportParser(),    SnpCertTableParser(), TdxQuoteParser(),
                                    PckExtensionsParser(), TdxCollateralParser(), NitroParser(),
                                    RoleJsonParser()};
  for (const Parser& p : *parsers) {
    for (const Case& c : p.cases) {
      const absl::Status s = p.parse(c.input);
      if (s.ok() != c.accepted) {
        Die(absl::StrCat(p.name, "/", c.name),
            s.ok() ? "accepted, expected a refusal" : s.ToString());
      }
      benchmark::RegisterBenchmark(absl::StrCat("BM_", p.name, "/", c.name).c_str(), Run, &p, &c);
    }
  }
}

}  // namespace

void bench::Prepare() { RegisterParsers(); }

}  // namespace teeverify
