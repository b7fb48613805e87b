// tee-mutants (TEST-ONLY): writes the mutation campaign's inputs to files, with our verdict on
// each, for the differential test against the peer verifiers (scripts/differential.sh,
// docs/conformance.md).
//
//   tee-mutants --data tests/data --out DIR [--scale X] [--seed N]
//
// The cases are those of tests/mutation/mutation_campaign_test.cc, made by the same generator
// (tests/mutation/mutator.h) from the same seeds in the same order, so at --scale 1 they are the
// campaign's own mutants; plus every real vector unmutated at its MANIFEST time (those that verify
// and those that must not). DIR/cases.tsv has one line per case:
//
//   id tee group equivalent evidence cert collateral item item_file at ours reason message description
//
// tee: tdx, snp or nitro. group: "real" (an unmutated vector), "mutant", "swap" (another vector's
// part), "time" (outside a validity window). equivalent: 1 when the mutant differs from its vector
// only by trailing padding (see SameUpToTrailingPadding). evidence, cert, item_file: absolute
// paths ("-": none). collateral: a TDX collateral directory; item/item_file: one of its files
// replaced by another. at: the verification time (RFC 3339). ours: accept or reject, with the
// reason and message of our verifier (the core, with caches, as the sidecar runs it).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "tests/mutation/mutator.h"
#include "verifier/common/errors.h"
#include "verifier/common/time_util.h"
#include "verifier/evidence.h"
#include "verifier/io/files.h"
#include "verifier/nitro/real_documents_testdata.h"

namespace teeverify {
namespace {

using mutation::Mutant;
using mutation::Mutator;
using mutation::SameUpToTrailingPadding;

// Real TDX quotes that must not verify, at the times tdx_verifier_test uses (MANIFEST caveat 5:
// the TCB levels of the collateral do not match these platforms).
struct RealTdxCase {
  const char* quote;
  const char* collateral;
  const char* at;
};
const RealTdxCase kRefusedTdxQuotes[] = {
    {"dcap-qvl_tdx_quote_outdated_v5.bin", "dcap-qvl-2026-02", "2026-03-20T10:41:14Z"},
    {"oasis_quote_v4_tdx_ecdsa_p256_out_of_date.bin", "go-tdx-guest-2023-06", "2023-06-18T12:36:16Z"},
    {"go-tdx-guest_tdx_prod_quote_SPR_E4.bin", "go-tdx-guest-2023-06", "2023-07-01T01:00:00Z"},
    {"trustee_azure_td-quote.bin", "dcap-qvl-2025-06", "2025-07-19T10:00:34Z"},
};

struct Case {
  std::string tee, group, evidence, cert = "-", collateral = "-", item = "-", item_file = "-";
  bool equivalent = false;
  absl::Time at;
  std::string description;
};

class Writer {
 public:
  Writer(std::string data, std::string out)
      : data_(std::move(data)), out_(std::move(out)),
        verifier_(*TrustRoots::BuiltIn(), VerificationCaches::WithCapacity(64)),
        tsv_(out_ + "/cases.tsv") {
    tsv_ << "id\ttee\tgroup\tequivalent\tevidence\tcert\tcollateral\titem\titem_file\tat\tours\t"
            "reason\tmessage\tdescription\n";
  }

  std::string Data(absl::string_view relative) const { return absl::StrCat(data_, "/", relative); }

  // Writes bytes to DIR/files/<next id>-<suffix> and returns the path.
  std::string Save(absl::string_view bytes, absl::string_view suffix) {
    std::string path = absl::StrCat(out_, "/files/", next_id_, "-", suffix);
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  void Add(const Case& c) {
    EvidenceRequest request;
    std::string evidence = Read(c.evidence);
    std::string cert = c.cert == "-" ? "" : Read(c.cert);
    request.evidence = evidence;
    request.now = c.at;
    tdx::TdxCollateral collateral;
    if (c.tee == "tdx") {
      request.tee = TeeKind::kTdx;
      collateral = Collateral(c.collateral);
      if (c.item != "-") {
        for (const tdx::TdxCollateralItem& item : tdx::kTdxCollateralItems) {
          if (item.file == c.item) collateral.*item.bytes = Read(c.item_file);
        }
      }
      request.tdx_collateral = collateral;
    } else if (c.tee == "snp") {
      request.tee = TeeKind::kSevSnp;
      request.certificate = cert;
    } else {
      request.tee = TeeKind::kNitro;
    }
    absl::StatusOr<VerifiedClaims> result = verifier_.Verify(request);
    std::string message = result.ok() ? "" : std::string(result.status().message());
    message = absl::StrReplaceAll(message.substr(0, 300), {{"\t", " "}, {"\n", " "}});
    tsv_ << next_id_ << '\t' << c.tee << '\t' << c.group << '\t' << (c.equivalent ? 1 : 0) << '\t'
         << c.evidence << '\t' << c.cert << '\t' << c.collateral << '\t' << c.item << '\t'
         << c.item_file << '\t' << FormatRfc3339(c.at) << '\t'
         << (result.ok() ? "accept" : "reject") << '\t'
         << (result.ok() ? "-" : ReasonName(ReasonOf(result.status()))) << '\t'
         << (message.empty() ? "-" : message) << '\t' << c.description << '\n';
    ++next_id_;
    ++(result.ok() ? accepted_ : refused_);
  }

  std::string Read(const std::string& path) {
    absl::StatusOr<std::string> bytes = ReadFileBytes(path);
    if (!bytes.ok()) Die(bytes.status().ToString());
    return *bytes;
  }

  tdx::TdxCollateral Collateral(const std::string& dir) {
    absl::StatusOr<tdx::TdxCollateral> c = LoadTdxCollateralDir(dir);
    if (!c.ok()) Die(c.status().ToString());
    return *c;
  }

  void Summary() const {
    std::printf("tee-mutants: %d cases (%d accepted, %d refused by ours) in %s/cases.tsv\n",
                next_id_, accepted_, refused_, out_.c_str());
  }

  [[noreturn]] static void Die(const std::string& why) {
    std::fprintf(stderr, "tee-mutants: %s\n", why.c_str());
    std::exit(2);
  }

 private:
  std::string data_, out_;
  EvidenceVerifier verifier_;
  std::ofstream tsv_;
  int next_id_ = 0, accepted_ = 0, refused_ = 0;
};

absl::Time At(absl::string_view rfc3339) {
  absl::StatusOr<absl::Time> t = ParseRfc3339(rfc3339, "time");
  if (!t.ok()) Writer::Die(t.status().ToString());
  return *t;
}

int Scaled(int n, double scale) { return std::max(1, static_cast<int>(n * scale)); }

// The campaign's TDX cases (MutationCampaignTest.TdxQuotesAndCollateral), in its order.
void Tdx(Writer& w, uint64_t seed, double scale) {
  Mutator mutator(seed);
  const int per_quote = Scaled(1200, scale), per_collateral = Scaled(300, scale);
  for (const mutation::TdxVector& v : mutation::kTdxVectors) {
    const std::string quote_path = w.Data(absl::StrCat("tdx/quotes/", v.quote));
    const std::string dir = w.Data(absl::StrCat("tdx/collateral/", v.collateral));
    const std::string quote = w.Read(quote_path);
    const tdx::TdxCollateral collateral = w.Collateral(dir);
    const absl::Time at = At(v.at);
    w.Add({.tee = "tdx", .group = "real", .evidence = quote_path, .collateral = dir, .at = at,
           .description = v.quote});
    for (int i = 0; i < per_quote; ++i) {
      Mutant m = mutator.Mutate(quote);
      w.Add({.tee = "tdx", .group = "mutant", .evidence = w.Save(m.bytes, "quote.bin"),
             .collateral = dir, .equivalent = SameUpToTrailingPadding(m.bytes, quote), .at = at,
             .description = absl::StrCat(v.quote, ": ", m.description)});
    }
    for (int i = 0; i < per_collateral; ++i) {
      const tdx::TdxCollateralItem& item =
          tdx::kTdxCollateralItems[static_cast<size_t>(i) % std::size(tdx::kTdxCollateralItems)];
      Mutant m = mutator.Mutate(collateral.*item.bytes);
      w.Add({.tee = "tdx", .group = "mutant", .evidence = quote_path, .collateral = dir,
             .item = std::string(item.file), .item_file = w.Save(m.bytes, std::string(item.file)),
             .equivalent = SameUpToTrailingPadding(m.bytes, collateral.*item.bytes), .at = at,
             .description = absl::StrCat(v.quote, " with ", item.file, ": ", m.description)});
    }
    const std::string other_dir = w.Data(absl::StrCat("tdx/collateral/", v.other_platform_collateral));
    const tdx::TdxCollateral other = w.Collateral(other_dir);
    w.Add({.tee = "tdx", .group = "swap", .evidence = quote_path, .collateral = other_dir, .at = at,
           .description = absl::StrCat(v.quote, " other collateral")});
    for (const tdx::TdxCollateralItem& item : tdx::kTdxCollateralItems) {
      if (collateral.*item.bytes == other.*item.bytes) continue;
      w.Add({.tee = "tdx", .group = "swap", .evidence = quote_path, .collateral = dir,
             .item = std::string(item.file),
             .item_file = absl::StrCat(other_dir, "/", item.file), .at = at,
             .description = absl::StrCat(v.quote, " with another ", item.file)});
    }
    for (const char* t : {v.before_every_window, v.after_every_window}) {
      w.Add({.tee = "tdx", .group = "time", .evidence = quote_path, .collateral = dir, .at = At(t),
             .description = absl::StrCat(v.quote, " at ", t)});
    }
  }
  for (const RealTdxCase& r : kRefusedTdxQuotes) {
    w.Add({.tee = "tdx", .group = "real", .evidence = w.Data(absl::StrCat("tdx/quotes/", r.quote)),
           .collateral = w.Data(absl::StrCat("tdx/collateral/", r.collateral)), .at = At(r.at),
           .description = r.quote});
  }
}

// The campaign's SEV-SNP cases (MutationCampaignTest.SnpReportsAndCertificates).
void Snp(Writer& w, uint64_t seed, double scale) {
  Mutator mutator(seed + 1);
  const int per_report = Scaled(350, scale), per_cert = Scaled(100, scale);
  for (const mutation::SnpVector& v : mutation::kSnpVectors) {
    const std::string report_path = w.Data(absl::StrCat("sevsnp/reports/", v.report));
    const std::string cert_path = w.Data(absl::StrCat("sevsnp/certs/", v.cert));
    const std::string report = w.Read(report_path);
    const std::string cert = w.Read(cert_path);
    const absl::Time at = At(v.at);
    w.Add({.tee = "snp", .group = "real", .evidence = report_path, .cert = cert_path, .at = at,
           .description = v.report});
    for (int i = 0; i < per_report; ++i) {
      Mutant m = mutator.Mutate(report);
      w.Add({.tee = "snp", .group = "mutant", .evidence = w.Save(m.bytes, "report.bin"),
             .cert = cert_path, .equivalent = SameUpToTrailingPadding(m.bytes, report), .at = at,
             .description = absl::StrCat(v.report, ": ", m.description)});
    }
    for (int i = 0; i < per_cert; ++i) {
      Mutant m = mutator.Mutate(cert);
      w.Add({.tee = "snp", .group = "mutant", .evidence = report_path,
             .cert = w.Save(m.bytes, v.cert), .equivalent = SameUpToTrailingPadding(m.bytes, cert),
             .at = at, .description = absl::StrCat(v.report, " with ", v.cert, ": ", m.description)});
    }
    for (const mutation::SnpVector& o : mutation::kSnpVectors) {
      const std::string other_path = w.Data(absl::StrCat("sevsnp/certs/", o.cert));
      if (&o == &v || w.Read(other_path) == cert) continue;
      w.Add({.tee = "snp", .group = "swap", .evidence = report_path, .cert = other_path, .at = at,
             .description = absl::StrCat(v.report, " with ", o.cert)});
    }
    w.Add({.tee = "snp", .group = "swap", .evidence = report_path, .at = at,
           .description = absl::StrCat(v.report, " without cert")});
    for (const char* t : {"2010-01-01T00:00:00Z", v.after_cert}) {
      w.Add({.tee = "snp", .group = "time", .evidence = report_path, .cert = cert_path,
             .at = At(t), .description = absl::StrCat(v.report, " at ", t)});
    }
  }
}

// The campaign's Nitro cases (MutationCampaignTest.NitroDocuments).
void Nitro(Writer& w, uint64_t seed, double scale) {
  Mutator mutator(seed + 2);
  const int per_document = Scaled(500, scale);
  for (const nitro::testdata::RealDocument& d : nitro::testdata::kRealDocuments) {
    const std::string path = w.Data(absl::StrCat("nitro/docs/", d.file));
    const std::string document = w.Read(path);
    const absl::Time at = At(d.at);
    w.Add({.tee = "nitro", .group = "real", .evidence = path, .at = at, .description = d.name});
    for (int i = 0; i < per_document; ++i) {
      Mutant m = mutator.Mutate(document);
      w.Add({.tee = "nitro", .group = "mutant", .evidence = w.Save(m.bytes, "document.bin"),
             .equivalent = SameUpToTrailingPadding(m.bytes, document), .at = at,
             .description = absl::StrCat(d.name, ": ", m.description)});
    }
    w.Add({.tee = "nitro", .group = "time", .evidence = path, .at = At(d.one_hour_after_leaf),
           .description = absl::StrCat(d.name, " after the leaf expired")});
    w.Add({.tee = "nitro", .group = "time", .evidence = path, .at = at - absl::Hours(24),
           .description = absl::StrCat(d.name, " a day before")});
  }
}

}  // namespace
}  // namespace teeverify

int main(int argc, char** argv) {
  std::string data = "tests/data", out;
  double scale = 1.0;
  uint64_t seed = 20261125;  // the campaign's default (TEE_MUTATION_SEED)
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--data") {
      data = value;
    } else if (flag == "--out") {
      out = value;
    } else if (flag == "--scale") {
      scale = std::atof(value.c_str());
    } else if (flag == "--seed") {
      seed = std::strtoull(value.c_str(), nullptr, 10);
    } else {
      teeverify::Writer::Die("unknown flag " + flag);
    }
  }
  if (out.empty() || scale <= 0 || (argc - 1) % 2 != 0) {
    teeverify::Writer::Die("usage: tee-mutants --data DIR --out DIR [--scale X] [--seed N]");
  }
  data = std::filesystem::absolute(data).string();
  out = std::filesystem::absolute(out).string();
  std::filesystem::create_directories(out + "/files");
  teeverify::Writer writer(data, out);
  teeverify::Tdx(writer, seed, scale);
  teeverify::Snp(writer, seed, scale);
  teeverify::Nitro(writer, seed, scale);
  writer.Summary();
  return 0;
}
