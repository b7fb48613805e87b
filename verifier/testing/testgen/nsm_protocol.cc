#include "verifier/testing/testgen/nsm_protocol.h"

#include "absl/strings/str_cat.h"
#include "verifier/nitro/cbor_reader.h"
#include "verifier/nitro/cbor_writer.h"

namespace teeverify::testgen {
namespace {

using nitro::CborItem;
using nitro::CborType;

// The codes are told apart by the status code: each NSM error code maps to one canonical code.
absl::Status Invalid(absl::string_view message) { return absl::InvalidArgumentError(message); }

// The request variants of the NSM API (src/api/mod.rs, enum Request) other than Attestation.
bool IsOtherRequest(absl::string_view name) {
  for (absl::string_view other : {"DescribePCR", "ExtendPCR", "LockPCR", "LockPCRs",
                                  "DescribeNSM", "GetRandom"}) {
    if (name == other) return true;
  }
  return false;
}

absl::Status ReadField(const CborItem& value, absl::string_view name, size_t min, size_t max,
                       std::optional<std::string>* out) {
  if (value.type == CborType::kNull) return absl::OkStatus();
  if (value.type != CborType::kBytes) {
    return Invalid(absl::StrCat("nsm request: ", name, " is a ", nitro::CborTypeName(value.type),
                                ", expected a byte string or null"));
  }
  if (value.bytes.size() > max) {
    return absl::OutOfRangeError(absl::StrCat("nsm request: ", name, " has ", value.bytes.size(),
                                              " bytes, at most ", max, " allowed"));
  }
  if (value.bytes.size() < min) {
    return Invalid(absl::StrCat("nsm request: ", name, " is empty"));
  }
  *out = value.bytes;
  return absl::OkStatus();
}

void OptionalBytes(nitro::CborWriter* w, absl::string_view name,
                   const std::optional<std::string>& value) {
  w->Text(name);
  if (value) {
    w->Bytes(*value);
  } else {
    w->Null();
  }
}

}  // namespace

absl::StatusOr<NsmAttestationRequest> ParseNsmRequest(absl::string_view cbor) {
  absl::StatusOr<CborItem> item = nitro::ParseCbor(cbor, "nsm request");
  if (!item.ok()) return Invalid(item.status().message());
  // A unit variant (DescribeNSM, GetRandom) is a bare text string.
  if (item->type == CborType::kText && IsOtherRequest(item->bytes)) {
    return absl::UnimplementedError(absl::StrCat("nsm request: ", item->bytes, " is not served"));
  }
  if (item->type != CborType::kMap || item->map_size() != 1 ||
      item->map_key(0).type != CborType::kText) {
    return Invalid("nsm request: expected a map with one text key naming the request");
  }
  const std::string& kind = item->map_key(0).bytes;
  if (IsOtherRequest(kind)) {
    return absl::UnimplementedError(absl::StrCat("nsm request: ", kind, " is not served"));
  }
  if (kind != "Attestation") {
    return Invalid(absl::StrCat("nsm request: unknown request \"", kind, "\""));
  }
  const CborItem& fields = item->map_value(0);
  if (fields.type != CborType::kMap) return Invalid("nsm request: Attestation is not a map");
  NsmAttestationRequest out;
  for (size_t i = 0; i < fields.map_size(); ++i) {
    const CborItem& key = fields.map_key(i);
    const CborItem& value = fields.map_value(i);
    if (key.type != CborType::kText) return Invalid("nsm request: a field name is not text");
    absl::Status s;
    if (key.bytes == "user_data") {
      s = ReadField(value, key.bytes, 0, 512, &out.user_data);
    } else if (key.bytes == "nonce") {
      s = ReadField(value, key.bytes, 0, 512, &out.nonce);
    } else if (key.bytes == "public_key") {
      s = ReadField(value, key.bytes, 1, 1024, &out.public_key);
    } else {
      s = Invalid(absl::StrCat("nsm request: unknown field \"", key.bytes, "\""));
    }
    if (!s.ok()) return s;
  }
  return out;
}

absl::string_view NsmErrorCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case absl::StatusCode::kOutOfRange:
      return "InputTooLarge";
    case absl::StatusCode::kUnimplemented:
      return "InvalidOperation";
    default:
      return "InternalError";
  }
}

std::string EncodeNsmRequest(const NsmAttestationRequest& request) {
  nitro::CborWriter w;
  w.MapStart(1);
  w.Text("Attestation");
  w.MapStart(3);
  OptionalBytes(&w, "user_data", request.user_data);
  OptionalBytes(&w, "nonce", request.nonce);
  OptionalBytes(&w, "public_key", request.public_key);
  return w.Take();
}

std::string EncodeNsmAttestationResponse(absl::string_view document) {
  nitro::CborWriter w;
  w.MapStart(1);
  w.Text("Attestation");
  w.MapStart(1);
  w.Text("document");
  w.Bytes(document);
  return w.Take();
}

std::string EncodeNsmErrorResponse(absl::string_view code) {
  nitro::CborWriter w;
  w.MapStart(1);
  w.Text("Error");
  w.Text(code);
  return w.Take();
}

absl::StatusOr<NsmResponse> ParseNsmResponse(absl::string_view cbor) {
  absl::StatusOr<CborItem> item = nitro::ParseCbor(cbor, "nsm response");
  if (!item.ok()) return item.status();
  if (item->type != CborType::kMap || item->map_size() != 1 ||
      item->map_key(0).type != CborType::kText) {
    return Invalid("nsm response: expected a map with one text key");
  }
  const CborItem& value = item->map_value(0);
  NsmResponse out;
  if (item->map_key(0).bytes == "Error" && value.type == CborType::kText) {
    out.error = value.bytes;
    return out;
  }
  if (item->map_key(0).bytes == "Attestation" && value.type == CborType::kMap &&
      value.map_size() == 1 && value.map_key(0).type == CborType::kText &&
      value.map_key(0).bytes == "document" && value.map_value(0).type == CborType::kBytes) {
    out.document = value.map_value(0).bytes;
    return out;
  }
  return Invalid(
      "nsm response: neither {\"Attestation\": {\"document\": bstr}} nor {\"Error\": text}");
}

}  // namespace teeverify::testgen
