#include "verifier/testing/testgen/profile.h"

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "verifier/common/hex.h"
#include "verifier/common/json_util.h"
#include "verifier/common/status_macros.h"

namespace teeverify::testgen {
namespace {

using nlohmann::ordered_json;

// One field of a section: its name and how to read its value (the path names it in errors).
using FieldReader = std::function<absl::Status(const Json& value, const std::string& path)>;
using Section = std::vector<std::pair<std::string, FieldReader>>;

absl::Status Bad(const std::string& path, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", problem));
}

template <size_t N>
FieldReader HexField(std::optional<ByteArray<N>>* out) {
  return [out](const Json& v, const std::string& path) -> absl::Status {
    if (!v.is_string()) return Bad(path, absl::StrCat("expected ", 2 * N, " hex digits as a string"));
    absl::StatusOr<ByteArray<N>> bytes = HexDecodeArray<N>(v.get<std::string>(), path);
    if (!bytes.ok()) return absl::InvalidArgumentError(bytes.status().message());
    *out = *bytes;
    return absl::OkStatus();
  };
}

FieldReader UintField(uint64_t max, std::function<void(uint64_t)> set) {
  return [max, set](const Json& v, const std::string& path) -> absl::Status {
    if (!v.is_number_unsigned() || v.get<uint64_t>() > max) {
      return Bad(path, absl::StrCat("expected an integer from 0 to ", max));
    }
    set(v.get<uint64_t>());
    return absl::OkStatus();
  };
}

// "0x30000" (hex) or a JSON number.
absl::Status ReadPolicy(const Json& v, const std::string& path, std::optional<uint64_t>* out) {
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
    return absl::OkStatus();
  }
  uint64_t value = 0;
  if (v.is_string()) {
    const std::string text = v.get<std::string>();
    if (absl::StartsWith(text, "0x") && text.size() > 2 && text.size() <= 18 &&
        absl::SimpleHexAtoi(absl::string_view(text).substr(2), &value)) {
      *out = value;
      return absl::OkStatus();
    }
  }
  return Bad(path, "expected a 64-bit value as a \"0x...\" hex string or a number");
}

// Reads each member of the object `section` with its reader in `fields`; an unknown member is
// named "PATH<separator>KEY" and refused as an unknown `noun`.
absl::Status ReadSection(const Json& section, const std::string& path, const Section& fields,
                         absl::string_view separator = ".", absl::string_view noun = "field") {
  if (!section.is_object()) return Bad(path, "expected an object");
  for (const auto& [key, value] : section.items()) {
    const std::string field_path = absl::StrCat(path, separator, key);
    const auto it = std::find_if(fields.begin(), fields.end(),
                                 [&key = key](const auto& f) { return f.first == key; });
    if (it == fields.end()) {
      std::vector<std::string> names;
      for (const auto& f : fields) names.push_back(f.first);
      return Bad(field_path,
                 absl::StrCat("unknown ", noun, " (known: ", absl::StrJoin(names, ", "), ")"));
    }
    RETURN_IF_ERROR(it->second(value, field_path));
  }
  return absl::OkStatus();
}

Section TdxFields(TdxProfile* p) {
  Section s = {{"mrtd", HexField(&p->mrtd)},
               {"mrconfigid", HexField(&p->mrconfigid)},
               {"mrowner", HexField(&p->mrowner)},
               {"mrownerconfig", HexField(&p->mrownerconfig)},
               {"td_attributes", HexField(&p->td_attributes)}};
  for (size_t i = 0; i < p->rtmr.size(); ++i) {
    s.emplace_back(absl::StrCat("rtmr", i), HexField(&p->rtmr[i]));
  }
  return s;
}

Section SnpFields(SnpProfile* p) {
  return {
      {"product",
       [p](const Json& v, const std::string& path) -> absl::Status {
         for (snp::Product product : {snp::Product::kMilan, snp::Product::kGenoa,
                                      snp::Product::kTurin}) {
           if (v.is_string() && v.get<std::string>() == snp::ProductName(product)) {
             p->product = product;
             return absl::OkStatus();
           }
         }
         return Bad(path, "expected \"Milan\", \"Genoa\" or \"Turin\"");
       }},
      {"signing_key",
       [p](const Json& v, const std::string& path) -> absl::Status {
         if (v == "vcek" || v == "vlek") {
           p->vlek = v == "vlek";
           return absl::OkStatus();
         }
         return Bad(path, "expected \"vcek\" or \"vlek\"");
       }},
      {"measurement", HexField(&p->measurement)},
      {"host_data", HexField(&p->host_data)},
      {"family_id", HexField(&p->family_id)},
      {"image_id", HexField(&p->image_id)},
      {"policy",
       [p](const Json& v, const std::string& path) { return ReadPolicy(v, path, &p->policy); }},
      {"guest_svn",
       UintField(0xffffffff, [p](uint64_t v) { p->guest_svn = static_cast<uint32_t>(v); })},
      {"vmpl", UintField(3, [p](uint64_t v) { p->vmpl = static_cast<uint32_t>(v); })},
  };
}

Section NitroFields(NitroProfile* p) {
  Section s = {{"module_id", [p](const Json& v, const std::string& path) -> absl::Status {
                  if (!v.is_string() || v.get<std::string>().empty()) {
                    return Bad(path, "expected a non-empty string");
                  }
                  p->module_id = v.get<std::string>();
                  return absl::OkStatus();
                }}};
  for (uint32_t i = 0; i < 16; ++i) {
    s.emplace_back(absl::StrCat("pcr", i), [p, i](const Json& v, const std::string& path) {
      std::optional<ByteArray<48>> pcr;
      RETURN_IF_ERROR(HexField(&pcr)(v, path));
      p->pcrs[i] = std::string(AsView(*pcr));
      return absl::OkStatus();
    });
  }
  return s;
}

}  // namespace

absl::StatusOr<Profile> ParseProfile(absl::string_view json, absl::string_view what) {
  absl::StatusOr<Json> doc = ParseJson(json, what, v1::REASON_BAD_REQUEST);
  if (!doc.ok()) return absl::InvalidArgumentError(doc.status().message());
  const std::string root(what);
  if (!doc->is_object()) return Bad(root, "expected a JSON object");
  Profile p;
  using Path = const std::string&;
  const Section sections = {
      {"tdx", [&](const Json& v, Path path) { return ReadSection(v, path, TdxFields(&p.tdx)); }},
      {"sev_snp",
       [&](const Json& v, Path path) { return ReadSection(v, path, SnpFields(&p.sev_snp)); }},
      {"nitro",
       [&](const Json& v, Path path) { return ReadSection(v, path, NitroFields(&p.nitro)); }},
  };
  RETURN_IF_ERROR(ReadSection(*doc, root, sections, ": ", "section"));
  return p;
}

void ApplyProfile(const TdxProfile& p, tdx::TdReport* r) {
  if (p.mrtd) r->mr_td = *p.mrtd;
  if (p.mrconfigid) r->mr_config_id = *p.mrconfigid;
  if (p.mrowner) r->mr_owner = *p.mrowner;
  if (p.mrownerconfig) r->mr_owner_config = *p.mrownerconfig;
  for (size_t i = 0; i < p.rtmr.size(); ++i) {
    if (p.rtmr[i]) r->rtmr[i] = *p.rtmr[i];
  }
  if (p.td_attributes) r->td_attributes = *p.td_attributes;
}

testing::SnpTestOptions SnpOptions(const SnpProfile& p) {
  testing::SnpTestOptions o;
  if (p.product) o.product = *p.product;
  if (p.vlek) o.vlek = *p.vlek;
  return o;
}

void ApplyProfile(const SnpProfile& p, snp::Report* r) {
  if (p.measurement) r->measurement = *p.measurement;
  if (p.host_data) r->host_data = *p.host_data;
  if (p.family_id) r->family_id = *p.family_id;
  if (p.image_id) r->image_id = *p.image_id;
  if (p.policy) r->policy = *p.policy;
  if (p.guest_svn) r->guest_svn = *p.guest_svn;
  if (p.vmpl) r->vmpl = *p.vmpl;
}

void ApplyProfile(const NitroProfile& p, testing::NitroDocumentSpec* spec) {
  for (const auto& [index, value] : p.pcrs) spec->pcrs[index] = value;
  if (p.module_id) spec->module_id = *p.module_id;
}

ordered_json ProfileJson(const tdx::TdReport& tdx, const testing::SnpTestOptions& snp_options,
                         const snp::Report& snp, const testing::NitroDocumentSpec& nitro) {
  ordered_json t = {{"mrtd", HexEncode(tdx.mr_td)}};
  for (size_t i = 0; i < tdx.rtmr.size(); ++i) t[absl::StrCat("rtmr", i)] = HexEncode(tdx.rtmr[i]);
  t["mrconfigid"] = HexEncode(tdx.mr_config_id);
  t["mrowner"] = HexEncode(tdx.mr_owner);
  t["mrownerconfig"] = HexEncode(tdx.mr_owner_config);
  t["td_attributes"] = HexEncode(tdx.td_attributes);
  ordered_json s = {{"product", std::string(snp::ProductName(snp_options.product))},
                    {"signing_key", snp_options.vlek ? "vlek" : "vcek"},
                    {"measurement", HexEncode(snp.measurement)},
                    {"host_data", HexEncode(snp.host_data)},
                    {"family_id", HexEncode(snp.family_id)},
                    {"image_id", HexEncode(snp.image_id)},
                    {"policy", absl::StrFormat("0x%x", snp.policy)},
                    {"guest_svn", snp.guest_svn},
                    {"vmpl", snp.vmpl}};
  ordered_json n = ordered_json::object();
  for (const auto& [index, value] : nitro.pcrs) n[absl::StrCat("pcr", index)] = HexEncode(value);
  n["module_id"] = nitro.module_id;
  return {{"tdx", t}, {"sev_snp", s}, {"nitro", n}};
}

}  // namespace teeverify::testgen
