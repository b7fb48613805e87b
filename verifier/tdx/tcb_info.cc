#include "verifier/tdx/tcb_info.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "verifier/common/json_util.h"
#include "verifier/common/status_macros.h"

namespace teeverify::tdx {
namespace {

constexpr Reason kInvalid = v1::REASON_COLLATERAL_INVALID;

absl::StatusOr<TcbStatus> ReadStatus(const JsonFields& f) {
  ASSIGN_OR_RETURN(std::string name, f.String("tcbStatus"));
  std::optional<TcbStatus> status = ParseTcbStatus(name);
  if (!status) return f.Error("tcbStatus", absl::StrCat("unknown status \"", name, "\""));
  return *status;
}

absl::StatusOr<std::vector<std::string>> ReadAdvisoryIds(const JsonFields& f) {
  std::vector<std::string> ids;
  if (!f.Has("advisoryIDs")) return ids;
  ASSIGN_OR_RETURN(const Json* list, f.Array("advisoryIDs"));
  for (const Json& id : *list) {
    if (!id.is_string()) return f.Error("advisoryIDs", "expected strings");
    ids.push_back(id.get<std::string>());
  }
  return ids;
}

absl::StatusOr<ByteArray<16>> ReadComponents(const JsonFields& tcb, absl::string_view key) {
  ASSIGN_OR_RETURN(const Json* list, tcb.Array(key));
  if (list->size() != 16) {
    return tcb.Error(key, absl::StrCat("expected 16 components, found ", list->size()));
  }
  ByteArray<16> svns;
  for (size_t i = 0; i < 16; ++i) {
    JsonFields component((*list)[i], absl::StrCat(tcb.FieldPath(key), "[", i, "]"), kInvalid);
    ASSIGN_OR_RETURN(const uint64_t svn, component.Uint("svn", 255));
    svns[i] = static_cast<uint8_t>(svn);
  }
  return svns;
}

absl::StatusOr<TcbLevel> ReadPlatformLevel(const JsonFields& f) {
  TcbLevel level;
  ASSIGN_OR_RETURN(const Json* tcb_json, f.Object("tcb"));
  JsonFields tcb(*tcb_json, f.FieldPath("tcb"), kInvalid);
  ASSIGN_OR_RETURN(level.sgx_svns, ReadComponents(tcb, "sgxtcbcomponents"));
  ASSIGN_OR_RETURN(level.tdx_svns, ReadComponents(tcb, "tdxtcbcomponents"));
  ASSIGN_OR_RETURN(const uint64_t pce_svn, tcb.Uint("pcesvn", 0xffff));
  level.pce_svn = static_cast<uint16_t>(pce_svn);
  ASSIGN_OR_RETURN(level.tcb_date, f.Time("tcbDate"));
  ASSIGN_OR_RETURN(level.status, ReadStatus(f));
  ASSIGN_OR_RETURN(level.advisory_ids, ReadAdvisoryIds(f));
  return level;
}

// Reads the "tcb": {"isvsvn": N} levels shared by TDX module identities and enclave identities.
template <typename Level>
absl::StatusOr<std::vector<Level>> ReadIsvSvnLevels(const JsonFields& f) {
  ASSIGN_OR_RETURN(const Json* list, f.Array("tcbLevels"));
  if (list->empty()) return f.Error("tcbLevels", "is empty");
  std::vector<Level> levels;
  for (size_t i = 0; i < list->size(); ++i) {
    JsonFields entry((*list)[i], absl::StrCat(f.FieldPath("tcbLevels"), "[", i, "]"), kInvalid);
    ASSIGN_OR_RETURN(const Json* tcb_json, entry.Object("tcb"));
    JsonFields tcb(*tcb_json, entry.FieldPath("tcb"), kInvalid);
    Level level;
    ASSIGN_OR_RETURN(const uint64_t isv_svn, tcb.Uint("isvsvn", 0xffff));
    level.isv_svn = static_cast<uint16_t>(isv_svn);
    ASSIGN_OR_RETURN(level.tcb_date, entry.Time("tcbDate"));
    ASSIGN_OR_RETURN(level.status, ReadStatus(entry));
    ASSIGN_OR_RETURN(level.advisory_ids, ReadAdvisoryIds(entry));
    levels.push_back(std::move(level));
  }
  return levels;
}

absl::StatusOr<TdxModuleIdentity> ReadModule(const JsonFields& f, bool with_levels) {
  TdxModuleIdentity module;
  if (with_levels) {
    ASSIGN_OR_RETURN(module.id, f.String("id"));
    module.id = absl::AsciiStrToUpper(module.id);
  }
  ASSIGN_OR_RETURN(module.mr_signer, f.Hex<48>("mrsigner"));
  ASSIGN_OR_RETURN(module.attributes, f.Hex<8>("attributes"));
  ASSIGN_OR_RETURN(module.attributes_mask, f.Hex<8>("attributesMask"));
  if (!with_levels) return module;
  ASSIGN_OR_RETURN(module.tcb_levels, ReadIsvSvnLevels<TdxModuleTcbLevel>(f));
  for (const TdxModuleTcbLevel& level : module.tcb_levels) {
    if (level.status != TcbStatus::kUpToDate && level.status != TcbStatus::kOutOfDate &&
        level.status != TcbStatus::kRevoked) {
      return f.Error("tcbLevels", absl::StrCat("status ", TcbStatusName(level.status),
                                               " is not valid for a TDX module"));
    }
  }
  std::sort(module.tcb_levels.begin(), module.tcb_levels.end(),
            [](const auto& a, const auto& b) { return a.isv_svn > b.isv_svn; });
  for (size_t i = 1; i < module.tcb_levels.size(); ++i) {
    if (module.tcb_levels[i].isv_svn == module.tcb_levels[i - 1].isv_svn) {
      return f.Error("tcbLevels", absl::StrCat("duplicate isvsvn ", module.tcb_levels[i].isv_svn));
    }
  }
  return module;
}

auto LevelKey(const TcbLevel& l) { return std::tie(l.sgx_svns, l.pce_svn, l.tdx_svns); }

}  // namespace

absl::StatusOr<SignedCollateral> ParseSignedCollateral(absl::string_view response,
                                                       absl::string_view body_key,
                                                       absl::string_view what) {
  if (response.size() > kMaxCollateralJsonSize) {
    return MakeError(kInvalid, absl::StrCat(what, ": ", response.size(), " bytes, more than the ",
                                            kMaxCollateralJsonSize, " accepted"));
  }
  // The envelope is only delimited here; the body is parsed in full by ParseTcbInfo or
  // ParseEnclaveIdentity, and the signature must be a plain string of hex digits.
  ASSIGN_OR_RETURN(const auto members, RawTopLevelMembers(response, what));
  auto not_exactly_the_members = [&] {
    return MakeError(kInvalid, absl::StrCat(what, ": expected exactly the members \"", body_key,
                                            "\" and \"signature\""));
  };
  SignedCollateral out;
  bool have_body = false, have_signature = false;  // each at most once: duplicates are refused
  for (const auto& [name, value] : members) {
    if (name == body_key) {
      out.body = std::string(value);
      have_body = true;
    } else if (name == "signature") {
      if (value.size() < 2 || value.front() != '"' || value.back() != '"') {
        return MakeError(kInvalid, absl::StrCat(what, ": signature: expected a string"));
      }
      // Intel writes lowercase hex. The signature is the one member outside the signed body, so
      // it gets exactly one spelling: changing a byte of the response never still verifies.
      const absl::string_view hex = value.substr(1, value.size() - 2);
      if (std::any_of(hex.begin(), hex.end(), [](char c) { return c >= 'A' && c <= 'F'; })) {
        return MakeError(kInvalid, absl::StrCat(what, ": signature: expected lowercase hex"));
      }
      absl::StatusOr<ByteArray<64>> signature =
          HexDecodeArray<64>(hex, absl::StrCat(what, ": signature"));
      if (!signature.ok()) return MakeError(kInvalid, signature.status().message());
      out.signature = *signature;
      have_signature = true;
    } else {
      return not_exactly_the_members();
    }
  }
  if (!have_body || !have_signature) return not_exactly_the_members();
  // Intel PCS answers in compact form; the envelope is outside the signature, so it is held to
  // that one spelling (a final line break allowed, as files often have one).
  absl::string_view compact = response;
  absl::ConsumeSuffix(&compact, "\n");
  if (compact != absl::StrCat("{\"", members[0].first, "\":", members[0].second, ",\"",
                              members[1].first, "\":", members[1].second, "}")) {
    return MakeError(kInvalid, absl::StrCat(what, ": expected Intel PCS's compact JSON (no spaces "
                                            "or escapes outside the signed body)"));
  }
  return out;
}

absl::StatusOr<TcbInfo> ParseTcbInfo(absl::string_view body, absl::string_view what) {
  ASSIGN_OR_RETURN(const Json doc, ParseJson(body, what, kInvalid));
  JsonFields f(doc, absl::StrCat(what, ": tcbInfo"), kInvalid);
  TcbInfo info;
  ASSIGN_OR_RETURN(info.id, f.String("id"));
  ASSIGN_OR_RETURN(const uint64_t version, f.Uint("version", 0xffffffff));
  info.version = static_cast<uint32_t>(version);
  if (info.id != "TDX" || info.version != 3) {
    return f.Error("id", absl::StrCat("TCB info id \"", info.id, "\" version ", info.version,
                                      " is not TDX TCB info (id \"TDX\", version 3)"));
  }
  ASSIGN_OR_RETURN(info.issue_date, f.Time("issueDate"));
  ASSIGN_OR_RETURN(info.next_update, f.Time("nextUpdate"));
  ASSIGN_OR_RETURN(info.fmspc, f.Hex<6>("fmspc"));
  ASSIGN_OR_RETURN(info.pce_id, f.Hex<2>("pceId"));
  ASSIGN_OR_RETURN(const uint64_t tcb_type, f.Uint("tcbType", 0xffffffff));
  info.tcb_type = static_cast<uint32_t>(tcb_type);
  if (info.tcb_type != 0) {
    return f.Error("tcbType", absl::StrCat("value ", info.tcb_type, " is not supported (0)"));
  }
  ASSIGN_OR_RETURN(const uint64_t eval, f.Uint("tcbEvaluationDataNumber", 0xffffffff));
  info.tcb_evaluation_data_number = static_cast<uint32_t>(eval);

  ASSIGN_OR_RETURN(const Json* module_json, f.Object("tdxModule"));
  ASSIGN_OR_RETURN(info.tdx_module,
                   ReadModule(JsonFields(*module_json, f.FieldPath("tdxModule"), kInvalid),
                              /*with_levels=*/false));
  if (f.Has("tdxModuleIdentities")) {
    ASSIGN_OR_RETURN(const Json* identities, f.Array("tdxModuleIdentities"));
    for (size_t i = 0; i < identities->size(); ++i) {
      JsonFields entry((*identities)[i],
                       absl::StrCat(f.FieldPath("tdxModuleIdentities"), "[", i, "]"), kInvalid);
      ASSIGN_OR_RETURN(TdxModuleIdentity identity, ReadModule(entry, /*with_levels=*/true));
      info.tdx_module_identities.push_back(std::move(identity));
    }
  }

  ASSIGN_OR_RETURN(const Json* levels, f.Array("tcbLevels"));
  if (levels->empty()) return f.Error("tcbLevels", "is empty");
  for (size_t i = 0; i < levels->size(); ++i) {
    JsonFields entry((*levels)[i], absl::StrCat(f.FieldPath("tcbLevels"), "[", i, "]"), kInvalid);
    ASSIGN_OR_RETURN(TcbLevel level, ReadPlatformLevel(entry));
    info.tcb_levels.push_back(std::move(level));
  }
  // QVL matches against levels sorted from the highest TCB down, not in document order.
  std::sort(info.tcb_levels.begin(), info.tcb_levels.end(),
            [](const TcbLevel& a, const TcbLevel& b) { return LevelKey(a) > LevelKey(b); });
  for (size_t i = 1; i < info.tcb_levels.size(); ++i) {
    if (LevelKey(info.tcb_levels[i]) == LevelKey(info.tcb_levels[i - 1])) {
      return f.Error("tcbLevels", "contains a duplicated TCB level");
    }
  }
  return info;
}

absl::StatusOr<EnclaveIdentity> ParseEnclaveIdentity(absl::string_view body,
                                                     absl::string_view what) {
  ASSIGN_OR_RETURN(const Json doc, ParseJson(body, what, kInvalid));
  JsonFields f(doc, absl::StrCat(what, ": enclaveIdentity"), kInvalid);
  EnclaveIdentity identity;
  ASSIGN_OR_RETURN(identity.id, f.String("id"));
  ASSIGN_OR_RETURN(const uint64_t version, f.Uint("version", 0xffffffff));
  identity.version = static_cast<uint32_t>(version);
  if (identity.id != "TD_QE" || identity.version != 2) {
    return f.Error("id", absl::StrCat("enclave identity id \"", identity.id, "\" version ",
                                      identity.version,
                                      " is not the TDX quoting enclave (id \"TD_QE\", version 2)"));
  }
  ASSIGN_OR_RETURN(identity.issue_date, f.Time("issueDate"));
  ASSIGN_OR_RETURN(identity.next_update, f.Time("nextUpdate"));
  ASSIGN_OR_RETURN(const uint64_t eval, f.Uint("tcbEvaluationDataNumber", 0xffffffff));
  identity.tcb_evaluation_data_number = static_cast<uint32_t>(eval);
  ASSIGN_OR_RETURN(identity.misc_select, f.Hex<4>("miscselect"));
  ASSIGN_OR_RETURN(identity.misc_select_mask, f.Hex<4>("miscselectMask"));
  ASSIGN_OR_RETURN(identity.attributes, f.Hex<16>("attributes"));
  ASSIGN_OR_RETURN(identity.attributes_mask, f.Hex<16>("attributesMask"));
  ASSIGN_OR_RETURN(identity.mr_signer, f.Hex<32>("mrsigner"));
  ASSIGN_OR_RETURN(const uint64_t prod_id, f.Uint("isvprodid", 0xffff));
  identity.isv_prod_id = static_cast<uint16_t>(prod_id);
  ASSIGN_OR_RETURN(identity.tcb_levels, ReadIsvSvnLevels<QeTcbLevel>(f));
  return identity;
}

}  // namespace teeverify::tdx
