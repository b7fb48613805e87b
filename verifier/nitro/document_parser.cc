#include "verifier/nitro/document_parser.h"

#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"
#include "verifier/nitro/cbor_reader.h"
#include "verifier/nitro/cbor_writer.h"

namespace teeverify::nitro {
namespace {

constexpr absl::string_view kWhat = "nitro document";
constexpr absl::string_view kPayloadWhat = "nitro document payload";

// The COSE layer nests at most tag > array > map; the payload map > pcrs map or cabundle array.
constexpr CborLimits kCoseLimits{/*max_depth=*/4, /*max_items=*/64};
constexpr CborLimits kHeaderLimits{/*max_depth=*/4, /*max_items=*/64};
constexpr CborLimits kPayloadLimits{/*max_depth=*/4, /*max_items=*/512};

absl::Status WrongType(absl::string_view what, absl::string_view field, CborType want,
                       const CborItem& got) {
  return Malformed(absl::StrCat(what, ": ", field, " must be ", CborTypeWithArticle(want), ", got ",
                                CborTypeWithArticle(got.type)));
}

absl::Status CheckType(absl::string_view what, absl::string_view field, const CborItem& item,
                       CborType want) {
  return item.type == want ? absl::OkStatus() : WrongType(what, field, want, item);
}

absl::Status CheckSize(absl::string_view field, size_t size, size_t min, size_t max) {
  if (size < min || size > max) {
    return Malformed(absl::StrCat(kPayloadWhat, ": ", field, " is ", size, " bytes, allowed ", min,
                                  "..", max));
  }
  return absl::OkStatus();
}

absl::Status ReadBytes(const CborItem& v, absl::string_view field, size_t min, size_t max,
                       std::string* out) {
  RETURN_IF_ERROR(CheckType(kPayloadWhat, field, v, CborType::kBytes));
  RETURN_IF_ERROR(CheckSize(field, v.bytes.size(), min, max));
  *out = v.bytes;
  return absl::OkStatus();
}

// Optional fields: null means absent, as in AWS's documents.
absl::Status ReadOptionalBytes(const CborItem& v, absl::string_view field, size_t max,
                               std::optional<std::string>* out) {
  if (v.type == CborType::kNull) {
    out->reset();
    return absl::OkStatus();
  }
  std::string bytes;
  RETURN_IF_ERROR(ReadBytes(v, field, 0, max, &bytes));
  *out = std::move(bytes);
  return absl::OkStatus();
}

absl::Status ReadPcrs(const CborItem& v, std::map<uint32_t, std::string>* out) {
  RETURN_IF_ERROR(CheckType(kPayloadWhat, "pcrs", v, CborType::kMap));
  if (v.map_size() < 1 || v.map_size() > kMaxPcrCount) {
    return Malformed(absl::StrCat(kPayloadWhat, ": pcrs has ", v.map_size(),
                                  " entries, allowed 1..", kMaxPcrCount));
  }
  for (size_t i = 0; i < v.map_size(); ++i) {
    const CborItem& index = v.map_key(i);
    const CborItem& value = v.map_value(i);
    RETURN_IF_ERROR(CheckType(kPayloadWhat, "a pcrs index", index, CborType::kUnsigned));
    if (index.value > kMaxPcrIndex) {
      return Malformed(absl::StrCat(kPayloadWhat, ": pcrs index ", index.value,
                                    " is out of range 0..", kMaxPcrIndex));
    }
    const std::string field = absl::StrCat("pcrs[", index.value, "]");
    RETURN_IF_ERROR(CheckType(kPayloadWhat, field, value, CborType::kBytes));
    if (!IsValidPcrSize(value.bytes.size())) {
      return Malformed(absl::StrCat(kPayloadWhat, ": ", field, " is ", value.bytes.size(),
                                    " bytes, expected 32, 48 or 64"));
    }
    (*out)[static_cast<uint32_t>(index.value)] = value.bytes;
  }
  return absl::OkStatus();
}

absl::Status ReadCabundle(const CborItem& v, std::vector<std::string>* out) {
  RETURN_IF_ERROR(CheckType(kPayloadWhat, "cabundle", v, CborType::kArray));
  if (v.items.empty() || v.items.size() > kMaxCabundleSize) {
    return Malformed(absl::StrCat(kPayloadWhat, ": cabundle has ", v.items.size(),
                                  " certificates, allowed 1..", kMaxCabundleSize));
  }
  for (size_t i = 0; i < v.items.size(); ++i) {
    std::string der;
    RETURN_IF_ERROR(ReadBytes(v.items[i], absl::StrCat("cabundle[", i, "]"), 1,
                              kMaxCertificateSize, &der));
    out->push_back(std::move(der));
  }
  return absl::OkStatus();
}

absl::Status ReadField(absl::string_view name, const CborItem& v, AttestationPayload* p) {
  if (name == "module_id") {
    RETURN_IF_ERROR(CheckType(kPayloadWhat, name, v, CborType::kText));
    RETURN_IF_ERROR(CheckSize(name, v.bytes.size(), 1, kMaxModuleIdSize));
    p->module_id = v.bytes;
  } else if (name == "digest") {
    RETURN_IF_ERROR(CheckType(kPayloadWhat, name, v, CborType::kText));
    if (v.bytes != kDigestSha384) {
      return Unsupported(absl::StrCat(kPayloadWhat, ": digest \"", v.bytes,
                                      "\" is not supported (only SHA384)"));
    }
    p->digest = v.bytes;
  } else if (name == "timestamp") {
    RETURN_IF_ERROR(CheckType(kPayloadWhat, name, v, CborType::kUnsigned));
    if (v.value == 0 || v.value > kMaxTimestampMs) {
      return Malformed(absl::StrCat(kPayloadWhat, ": timestamp ", v.value,
                                    " ms is not a time (allowed 1..", kMaxTimestampMs, ")"));
    }
    p->timestamp_ms = v.value;
  } else if (name == "pcrs") {
    return ReadPcrs(v, &p->pcrs);
  } else if (name == "certificate") {
    return ReadBytes(v, name, 1, kMaxCertificateSize, &p->certificate);
  } else if (name == "cabundle") {
    return ReadCabundle(v, &p->cabundle);
  } else if (name == "public_key") {
    return ReadOptionalBytes(v, name, kMaxPublicKeySize, &p->public_key);
  } else if (name == "user_data") {
    return ReadOptionalBytes(v, name, kMaxUserDataSize, &p->user_data);
  } else if (name == "nonce") {
    return ReadOptionalBytes(v, name, kMaxNonceSize, &p->nonce);
  } else {
    // Signed but unknown: refused rather than silently dropped from the claims.
    return Malformed(absl::StrCat(kPayloadWhat, ": unknown field \"", name, "\""));
  }
  return absl::OkStatus();
}

// The protected header must say alg: ES384 and nothing else. Other parameters are signed, so
// they could change the meaning of the document (e.g. "crit"); we do not guess.
absl::StatusOr<int64_t> ParseProtectedHeader(absl::string_view bytes) {
  constexpr absl::string_view kHeaderWhat = "nitro document protected header";
  if (bytes.empty()) {
    return Unsupported(absl::StrCat(kHeaderWhat, ": empty; alg ES384 (-35) must be protected"));
  }
  ASSIGN_OR_RETURN(const CborItem map, ParseCbor(bytes, kHeaderWhat, kHeaderLimits));
  RETURN_IF_ERROR(CheckType(kHeaderWhat, "the header", map, CborType::kMap));
  std::optional<int64_t> alg;
  for (size_t i = 0; i < map.map_size(); ++i) {
    const CborItem& label = map.map_key(i);
    const CborItem& value = map.map_value(i);
    if (label.type != CborType::kUnsigned || label.value != static_cast<uint64_t>(kHeaderAlg)) {
      return Unsupported(absl::StrCat(kHeaderWhat, ": parameter ", DescribeCborKey(label),
                                      " is not supported (only alg, label 1)"));
    }
    if (value.type == CborType::kNegative && value.value < (uint64_t{1} << 63)) {
      alg = -1 - static_cast<int64_t>(value.value);
    } else if (value.type == CborType::kUnsigned && value.value < (uint64_t{1} << 63)) {
      alg = static_cast<int64_t>(value.value);
    } else {
      return Unsupported(absl::StrCat(kHeaderWhat, ": alg is ", CborTypeWithArticle(value.type),
                                      ", expected the integer -35 (ES384)"));
    }
  }
  if (!alg) return Unsupported(absl::StrCat(kHeaderWhat, ": alg is missing"));
  if (*alg != kAlgEs384) {
    return Unsupported(absl::StrCat(kHeaderWhat, ": alg ", *alg,
                                    " is not supported (only ES384, -35)"));
  }
  return *alg;
}

}  // namespace

absl::StatusOr<AttestationPayload> ParsePayload(absl::string_view bytes) {
  ASSIGN_OR_RETURN(const CborItem map, ParseCbor(bytes, kPayloadWhat, kPayloadLimits));
  RETURN_IF_ERROR(CheckType(kPayloadWhat, "the payload", map, CborType::kMap));
  AttestationPayload p;
  p.indefinite_map = map.indefinite;
  std::set<std::string> seen;
  for (size_t i = 0; i < map.map_size(); ++i) {
    const CborItem& key = map.map_key(i);
    if (key.type != CborType::kText) {
      return Malformed(absl::StrCat(kPayloadWhat, ": key ", i, " is ",
                                    CborTypeWithArticle(key.type), ", expected a text string"));
    }
    RETURN_IF_ERROR(ReadField(key.bytes, map.map_value(i), &p));
    seen.insert(key.bytes);  // the reader refused duplicate keys
  }
  for (absl::string_view required :
       {"module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle"}) {
    if (seen.count(std::string(required)) == 0) {
      return Malformed(absl::StrCat(kPayloadWhat, ": required field \"", required,
                                    "\" is missing"));
    }
  }
  return p;
}

absl::StatusOr<AttestationDocument> ParseDocument(absl::string_view cose) {
  if (cose.size() > kMaxDocumentSize) {
    return Malformed(absl::StrCat(kWhat, ": ", cose.size(), " bytes, more than the ",
                                  kMaxDocumentSize, " accepted"));
  }
  ASSIGN_OR_RETURN(const CborItem top, ParseCbor(cose, kWhat, kCoseLimits));
  AttestationDocument doc;
  const CborItem* message = &top;
  if (top.type == CborType::kTag) {
    if (top.value != kCoseSign1Tag) {
      return Unsupported(absl::StrCat(kWhat, ": tag ", top.value,
                                      " is not COSE_Sign1 (18)"));
    }
    doc.tagged = true;
    message = &top.items[0];
  }
  if (message->type != CborType::kArray || message->items.size() != 4) {
    return Malformed(absl::StrCat(
        kWhat, ": a COSE_Sign1 is an array of 4 items (protected, unprotected, payload, "
               "signature), got ", CborTypeWithArticle(message->type),
        message->type == CborType::kArray ? absl::StrCat(" of ", message->items.size()) : ""));
  }
  const std::vector<CborItem>& items = message->items;
  RETURN_IF_ERROR(CheckType(kWhat, "the protected header", items[0], CborType::kBytes));
  doc.protected_header = items[0].bytes;
  ASSIGN_OR_RETURN(doc.alg, ParseProtectedHeader(doc.protected_header));

  RETURN_IF_ERROR(CheckType(kWhat, "the unprotected header", items[1], CborType::kMap));
  if (items[1].map_size() != 0) {
    return Malformed(absl::StrCat(kWhat, ": the unprotected header has ", items[1].map_size(),
                                  " parameter(s); Nitro documents have none and unsigned "
                                  "parameters are not accepted"));
  }
  if (items[2].type == CborType::kNull) {
    return Unsupported(absl::StrCat(kWhat, ": detached payloads are not supported"));
  }
  RETURN_IF_ERROR(CheckType(kWhat, "the payload", items[2], CborType::kBytes));
  doc.payload_bytes = items[2].bytes;
  RETURN_IF_ERROR(CheckType(kWhat, "the signature", items[3], CborType::kBytes));
  if (items[3].bytes.size() != kEs384SignatureSize) {
    return Malformed(absl::StrCat(kWhat, ": the signature is ", items[3].bytes.size(),
                                  " bytes, expected ", kEs384SignatureSize, " (ES384 r||s)"));
  }
  doc.signature = items[3].bytes;
  ASSIGN_OR_RETURN(doc.payload, ParsePayload(doc.payload_bytes));
  return doc;
}

std::string SerializePayload(const AttestationPayload& p) {
  CborWriter w;
  if (p.indefinite_map) {
    w.IndefiniteMapStart();
  } else {
    w.MapStart(9);
  }
  auto optional_bytes = [&w](absl::string_view name, const std::optional<std::string>& v) {
    w.Text(name);
    if (v) {
      w.Bytes(*v);
    } else {
      w.Null();
    }
  };
  w.Text("module_id");
  w.Text(p.module_id);
  w.Text("digest");
  w.Text(p.digest);
  w.Text("timestamp");
  w.Unsigned(p.timestamp_ms);
  w.Text("pcrs");
  w.MapStart(p.pcrs.size());
  for (const auto& [index, value] : p.pcrs) {
    w.Unsigned(index);
    w.Bytes(value);
  }
  w.Text("certificate");
  w.Bytes(p.certificate);
  w.Text("cabundle");
  w.ArrayStart(p.cabundle.size());
  for (const std::string& der : p.cabundle) w.Bytes(der);
  optional_bytes("public_key", p.public_key);
  optional_bytes("user_data", p.user_data);
  optional_bytes("nonce", p.nonce);
  if (p.indefinite_map) w.Break();
  return w.Take();
}

std::string SerializeDocument(const AttestationDocument& d) {
  CborWriter w;
  if (d.tagged) w.Tag(kCoseSign1Tag);
  w.ArrayStart(4);
  w.Bytes(d.protected_header);
  w.MapStart(0);
  w.Bytes(d.payload_bytes);
  w.Bytes(d.signature);
  return w.Take();
}

bool LooksLikeCoseSign1(absl::string_view raw) {
  size_t i = 0;
  if (!raw.empty() && static_cast<uint8_t>(raw[0]) == 0xd2) i = 1;  // tag 18
  return raw.size() >= i + 2 && static_cast<uint8_t>(raw[i]) == 0x84 &&
         (static_cast<uint8_t>(raw[i + 1]) >> 5) == 2;
}

}  // namespace teeverify::nitro
