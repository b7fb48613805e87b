// The AMD collateral cache's disk layout: one flat JSON file per item (snp-KEY.json: kind,
// product, vlek, hw_id and tcb for a VCEK, then the item as served or when it was last not found),
// read at start and verified at first use, written atomically after every fetch.
#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "verifier/collateral/atomic_file.h"
#include "verifier/collateral/snp_cache.h"
#include "verifier/collateral/snp_cache_entry.h"
#include "verifier/common/hex.h"
#include "verifier/common/json_util.h"
#include "verifier/io/files.h"
#include "verifier/snp/product.h"
#include "verifier/snp/snp_claims.h"

namespace teeverify::collateral {
namespace fs = std::filesystem;

void LiveSnpCollateral::LoadDisk() {
  if (options_.cache.cache_dir.empty()) return;
  std::error_code ec;
  fs::create_directories(options_.cache.cache_dir, ec);
  fs::directory_iterator it(options_.cache.cache_dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!absl::StartsWith(name, kSnpCacheFilePrefix) || !absl::EndsWith(name, ".json")) continue;
    const std::string file = it->path().string();
    auto ignore = [&](absl::string_view why) {
      log_("warn", "collateral_cache_file_ignored", {{"file", file}, {"error", std::string(why)}});
    };
    absl::StatusOr<std::string> text = ReadFileBytes(file, 1 << 20);
    if (!text.ok()) {
      ignore(text.status().message());
      continue;
    }
    // A cache file is one flat object (kind, product, hw_id, tcb, vlek, the item): depth 1.
    absl::StatusOr<Json> parsed = ParseJson(*text, "SNP collateral cache file",
                                            v1::REASON_COLLATERAL_INVALID, /*max_depth=*/1);
    if (!parsed.ok()) {
      ignore(parsed.status().message());
      continue;
    }
    Json& doc = *parsed;
    if (!doc.is_object() || !doc.value("kind", nlohmann::json()).is_string() ||
        !doc.value("product", nlohmann::json()).is_string()) {
      ignore("not an SNP collateral cache file");
      continue;
    }
    const std::string kind = doc["kind"];
    const bool vlek = doc.value("vlek", false);
    absl::StatusOr<snp::Product> product = snp::ProductFromVekName(doc["product"].get<std::string>());
    std::string path, key;
    if (product.ok() && kind == "vcek") {
      absl::StatusOr<std::string> hw_id = HexDecode(doc.value("hw_id", ""), "hw_id");
      uint64_t tcb = 0;
      if (hw_id.ok() && absl::SimpleHexAtoi(doc.value("tcb", ""), &tcb)) {
        path = KdsVcekPath(*product, *hw_id, snp::DecodeTcb(tcb, *product));
        key = absl::StrCat("vcek-", snp::ProductName(*product), "-", HexEncode(*hw_id), "-",
                           doc.value("tcb", ""));
      }
    } else if (product.ok() && (kind == "cert_chain" || kind == "crl")) {
      path = kind == "crl" ? KdsCrlPath(*product, vlek) : KdsCertChainPath(*product, vlek);
      key = absl::StrCat(kind, "-", vlek ? "vlek-" : "vcek-", snp::ProductName(*product));
    }
    std::string raw;
    const bool has_body = doc.contains("body") && doc["body"].is_string() &&
                          absl::Base64Unescape(doc["body"].get<std::string>(), &raw);
    if (key.empty() || name != absl::StrCat(kSnpCacheFilePrefix, key, ".json") ||
        (!has_body && !doc.value("not_found_until", nlohmann::json()).is_number_integer())) {
      ignore("fields do not name an SNP collateral item, or the file name is not its own");
      continue;
    }
    absl::MutexLock lock(&mu_);
    Entry& e = EntryLocked(key, kind, *product, vlek, path);
    e.hw_id = doc.value("hw_id", "");
    e.tcb = doc.value("tcb", "");
    if (has_body) {
      e.disk = std::make_pair(doc.value("source", ""), std::move(raw));
    } else {
      e.not_found_until = absl::FromUnixSeconds(doc["not_found_until"].get<int64_t>());
    }
  }
}

void LiveSnpCollateral::Persist(const Entry& e) const {
  if (options_.cache.cache_dir.empty()) return;
  nlohmann::ordered_json doc;
  doc["version"] = 1;
  doc["kind"] = e.kind;
  doc["product"] = std::string(snp::ProductName(e.product));
  doc["vlek"] = e.vlek;
  if (e.kind == "vcek") {
    doc["hw_id"] = e.hw_id;
    doc["tcb"] = e.tcb;
  }
  if (e.held) {
    doc["source"] = e.held->source;
    doc["body"] = absl::Base64Escape(e.held->raw);
  } else {
    doc["not_found_until"] = absl::ToUnixSeconds(e.not_found_until);
  }
  const std::string path =
      absl::StrCat(options_.cache.cache_dir, "/", kSnpCacheFilePrefix, e.key, ".json");
  if (absl::Status s = WriteFileAtomically(path, doc.dump(1)); !s.ok()) {
    log_("warn", "collateral_cache_write_failed", {{"file", path}, {"error", std::string(s.message())}});
  }
}

}  // namespace teeverify::collateral
