#include "verifier/tdx/pck_extensions.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/openssl_util.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/x509_util.h"

namespace teeverify::tdx {
namespace {

constexpr absl::string_view kSgxExtensionOid = "1.2.840.113741.1.13.1";
constexpr absl::string_view kWhat = "pck certificate sgx extension";

struct SequenceDeleter {
  void operator()(ASN1_SEQUENCE_ANY* s) const { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); }
};
using Sequence = std::unique_ptr<ASN1_SEQUENCE_ANY, SequenceDeleter>;

absl::Status Invalid(absl::string_view detail) {
  return MakeError(v1::REASON_CERT_CHAIN_INVALID, absl::StrCat(kWhat, ": ", detail));
}

// Refuses a SEQUENCE of more than `max` elements from their headers alone, before
// d2i_ASN1_SEQUENCE_ANY allocates every one: one of thousands of tiny elements costs no more than
// a real extension. Anything else malformed is left to d2i to refuse.
absl::Status CheckElementCount(const unsigned char* der, long len, absl::string_view name,
                               int max) {
  const unsigned char* p = der;
  long content = 0;
  int tag = 0, cls = 0;
  const absl::Status not_der = Invalid(absl::StrCat(name, " is not a well-formed DER SEQUENCE"));
  int ret = ASN1_get_object(&p, &content, &tag, &cls, len);
  if (ret & 0x80 || tag != V_ASN1_SEQUENCE) return absl::OkStatus();
  if (ret & 0x01) return not_der;  // indefinite length
  const unsigned char* end = p + content;
  for (int n = 0; p < end; ++n) {
    if (n == max) return Invalid(absl::StrCat(name, " has more than ", max, " elements"));
    long element = 0;
    ret = ASN1_get_object(&p, &element, &tag, &cls, end - p);
    if (ret & 0x80) return absl::OkStatus();
    if (ret & 0x01) return not_der;
    p += element;
  }
  return absl::OkStatus();
}

absl::StatusOr<Sequence> ParseSequence(const unsigned char* der, long len, absl::string_view name,
                                       int max_elements) {
  absl::Status count = CheckElementCount(der, len, name, max_elements);
  ClearOpenSslErrors();
  RETURN_IF_ERROR(count);
  const unsigned char* p = der;
  Sequence seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, len));
  if (!seq || p != der + len) {
    ClearOpenSslErrors();
    return Invalid(absl::StrCat(name, " is not a well-formed DER SEQUENCE"));
  }
  return seq;
}

// Views a SEQUENCE element (an ASN1_TYPE of type SEQUENCE) as its own SEQUENCE OF ANY.
absl::StatusOr<Sequence> InnerSequence(const ASN1_TYPE* t, absl::string_view name,
                                       int max_elements) {
  if (t == nullptr || t->type != V_ASN1_SEQUENCE) {
    return Invalid(absl::StrCat(name, " is not a SEQUENCE"));
  }
  return ParseSequence(ASN1_STRING_get0_data(t->value.sequence),
                       ASN1_STRING_length(t->value.sequence), name, max_elements);
}

// Each entry of the extension is SEQUENCE { OID, value }; returns the OID suffix after `prefix`
// ("1", "2.17", ...) and the value.
absl::Status SplitEntry(const ASN1_TYPE* entry, absl::string_view prefix, std::string* out_suffix,
                        const ASN1_TYPE** out_value, Sequence* holder) {
  ASSIGN_OR_RETURN(*holder, InnerSequence(entry, "entry", 2));
  if (sk_ASN1_TYPE_num(holder->get()) != 2) return Invalid("entry is not {OID, value}");
  const ASN1_TYPE* oid = sk_ASN1_TYPE_value(holder->get(), 0);
  if (oid->type != V_ASN1_OBJECT) return Invalid("entry does not start with an OID");
  const std::string text = OidText(oid->value.object);
  const absl::string_view suffix = OidSuffix(text, prefix);
  if (suffix.empty()) return Invalid(absl::StrCat("unexpected OID ", text, " under ", prefix));
  *out_suffix = std::string(suffix);
  *out_value = sk_ASN1_TYPE_value(holder->get(), 1);
  return absl::OkStatus();
}

template <size_t N>
absl::Status ReadOctets(const ASN1_TYPE* v, absl::string_view name, ByteArray<N>* out) {
  if (v->type != V_ASN1_OCTET_STRING ||
      ASN1_STRING_length(v->value.octet_string) != static_cast<int>(N)) {
    return Invalid(absl::StrCat(name, " is not an OCTET STRING of ", N, " bytes"));
  }
  std::memcpy(out->data(), ASN1_STRING_get0_data(v->value.octet_string), N);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ReadInteger(const ASN1_TYPE* v, int asn1_type, absl::string_view name,
                                    int64_t max) {
  int64_t value = 0;
  const bool ok = v->type == asn1_type &&
                  (asn1_type == V_ASN1_ENUMERATED
                       ? ASN1_ENUMERATED_get_int64(&value, v->value.enumerated) == 1
                       : ASN1_INTEGER_get_int64(&value, v->value.integer) == 1);
  if (!ok || value < 0 || value > max) {
    ClearOpenSslErrors();
    return Invalid(absl::StrCat(name, " is not an integer in [0, ", max, "]"));
  }
  return value;
}

absl::Status ReadTcb(const ASN1_TYPE* value, PckExtensions* out) {
  const std::string prefix = absl::StrCat(kSgxExtensionOid, ".2");
  ASSIGN_OR_RETURN(Sequence tcb, InnerSequence(value, "TCB", 18));
  if (sk_ASN1_TYPE_num(tcb.get()) != 18) {
    return Invalid(absl::StrCat("TCB has ", sk_ASN1_TYPE_num(tcb.get()),
                                " entries, expected 18"));
  }
  uint32_t seen = 0;
  for (int i = 0; i < 18; ++i) {
    std::string suffix;
    const ASN1_TYPE* v = nullptr;
    Sequence holder;
    RETURN_IF_ERROR(SplitEntry(sk_ASN1_TYPE_value(tcb.get(), i), prefix, &suffix, &v, &holder));
    int index = 0;
    if (!absl::SimpleAtoi(suffix, &index) || index < 1 || index > 18) {
      return Invalid(absl::StrCat("unknown TCB entry ", prefix, ".", suffix));
    }
    if (seen & (1u << index)) return Invalid(absl::StrCat("duplicate TCB entry ", index));
    seen |= 1u << index;
    if (index <= 16) {
      ASSIGN_OR_RETURN(const int64_t svn,
                       ReadInteger(v, V_ASN1_INTEGER, absl::StrCat("TCB comp", index), 255));
      out->tcb_component_svns[index - 1] = static_cast<uint8_t>(svn);
    } else if (index == 17) {
      ASSIGN_OR_RETURN(const int64_t pce_svn, ReadInteger(v, V_ASN1_INTEGER, "PCESVN", 0xffff));
      out->pce_svn = static_cast<uint16_t>(pce_svn);
    } else {
      RETURN_IF_ERROR(ReadOctets(v, "CPUSVN", &out->cpu_svn));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PckExtensions> ParsePckExtensionValue(absl::string_view der) {
  // Seven entries at most: each of 1..7 once.
  ASSIGN_OR_RETURN(Sequence top, ParseSequence(Uchar(der), static_cast<long>(der.size()),
                                               "extension value", 7));
  PckExtensions out;
  uint32_t seen = 0;
  for (int i = 0; i < sk_ASN1_TYPE_num(top.get()); ++i) {
    std::string suffix;
    const ASN1_TYPE* v = nullptr;
    Sequence holder;
    RETURN_IF_ERROR(
        SplitEntry(sk_ASN1_TYPE_value(top.get(), i), kSgxExtensionOid, &suffix, &v, &holder));
    int index = 0;
    if (!absl::SimpleAtoi(suffix, &index) || index < 1 || index > 7) {
      return Invalid(absl::StrCat("unknown entry ", kSgxExtensionOid, ".", suffix));
    }
    if (seen & (1u << index)) return Invalid(absl::StrCat("duplicate entry ", suffix));
    seen |= 1u << index;
    switch (index) {
      case 1:
        RETURN_IF_ERROR(ReadOctets(v, "PPID", &out.ppid));
        break;
      case 2:
        RETURN_IF_ERROR(ReadTcb(v, &out));
        break;
      case 3:
        RETURN_IF_ERROR(ReadOctets(v, "PCE-ID", &out.pce_id));
        break;
      case 4:
        RETURN_IF_ERROR(ReadOctets(v, "FMSPC", &out.fmspc));
        break;
      case 5: {
        ASSIGN_OR_RETURN(const int64_t type, ReadInteger(v, V_ASN1_ENUMERATED, "SGX Type", 255));
        out.sgx_type = static_cast<int>(type);
        break;
      }
      default:  // 6 Platform Instance ID, 7 Configuration: platform-CA certificates only
        break;
    }
  }
  for (int required : {1, 2, 3, 4, 5}) {
    if (!(seen & (1u << required))) {
      return Invalid(absl::StrCat("required entry ", kSgxExtensionOid, ".", required,
                                  " is missing"));
    }
  }
  return out;
}

absl::StatusOr<PckExtensions> ParsePckExtensions(X509* cert) {
  using ObjectPtr = std::unique_ptr<ASN1_OBJECT, OpenSslDeleter<ASN1_OBJECT, ASN1_OBJECT_free>>;
  ObjectPtr oid(OBJ_txt2obj(std::string(kSgxExtensionOid).c_str(), /*no_name=*/1));
  const int index = oid ? X509_get_ext_by_OBJ(cert, oid.get(), -1) : -1;
  if (index < 0) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(kWhat, ": the PCK certificate has no SGX extension"));
  }
  if (X509_get_ext_by_OBJ(cert, oid.get(), index) >= 0) {
    return Invalid("the PCK certificate has the SGX extension twice");
  }
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(cert, index));
  return ParsePckExtensionValue(
      absl::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                        ASN1_STRING_length(data)));
}

}  // namespace teeverify::tdx
