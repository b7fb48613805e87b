#include "verifier/nitro/cbor_reader.h"

#include <cbor.h>

#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"

namespace teeverify::nitro {
namespace {

// Total order on values, consistent with SameCborValue (encoding details are ignored).
int CompareCbor(const CborItem& a, const CborItem& b) {
  if (a.type != b.type) return a.type < b.type ? -1 : 1;
  if (a.value != b.value) return a.value < b.value ? -1 : 1;
  if (const int c = a.bytes.compare(b.bytes); c != 0) return c;
  if (a.items.size() != b.items.size()) return a.items.size() < b.items.size() ? -1 : 1;
  for (size_t i = 0; i < a.items.size(); ++i) {
    if (const int c = CompareCbor(a.items[i], b.items[i]); c != 0) return c;
  }
  return 0;
}

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t n = 0;
    uint32_t cp = 0, min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

// An array, map, tag or indefinite-length string whose content is still being read.
struct Frame {
  CborItem item;
  bool definite = true;
  uint64_t remaining = 0;  // definite arrays and maps (2 per entry), tags (1)
  size_t start = 0;        // offset of its head, for messages
};

// Receives libcbor's decoding events and builds the item tree, enforcing the rules in the header.
class Builder {
 public:
  Builder(absl::string_view what, const CborLimits& limits, size_t input_size)
      : what_(what), limits_(limits), input_size_(input_size) {}

  void set_offset(size_t offset) { offset_ = offset; }
  bool failed() const { return !status_.ok(); }
  const absl::Status& status() const { return status_; }
  bool done() const { return root_.has_value(); }
  size_t open() const { return stack_.size(); }
  CborItem TakeRoot() { return *std::move(root_); }

  void Scalar(CborType type, uint64_t value) {
    if (!Admit(CborTypeName(type))) return;
    CborItem item;
    item.type = type;
    item.value = value;
    Emit(std::move(item));
  }

  void String(bool text, absl::string_view data) {
    const CborType type = text ? CborType::kText : CborType::kBytes;
    if (text && !IsValidUtf8(data)) return Fail("text string is not valid UTF-8");
    if (InIndefiniteString()) {
      Frame& f = stack_.back();
      if (f.item.type != type) {
        return Fail(absl::StrCat("indefinite-length ", CborTypeName(f.item.type),
                                 " contains a chunk of type ", CborTypeName(type)));
      }
      if (!Count()) return;
      f.item.bytes.append(data.data(), data.size());
      return;
    }
    if (!Admit(CborTypeName(type))) return;
    CborItem item;
    item.type = type;
    item.bytes = std::string(data);
    Emit(std::move(item));
  }

  void StringStart(bool text) {
    const CborType type = text ? CborType::kText : CborType::kBytes;
    if (!Admit(absl::StrCat("indefinite-length ", CborTypeName(type)))) return;
    Frame f;
    f.item.type = type;
    f.item.indefinite = true;
    f.definite = false;
    Push(std::move(f));
  }

  void ContainerStart(CborType type, std::optional<uint64_t> size) {
    if (!Admit(CborTypeName(type))) return;
    Frame f;
    f.item.type = type;
    f.item.indefinite = !size.has_value();
    f.definite = size.has_value();
    if (size) {
      // Every element takes at least one byte: a larger count is a lie, and is refused before
      // anything is reserved for it.
      const uint64_t per_entry = type == CborType::kMap ? 2 : 1;
      const uint64_t left = input_size_ - offset_;
      const absl::string_view unit = type == CborType::kMap ? " entries" : " elements";
      if (*size > left / per_entry) {
        return Fail(absl::StrCat(CborTypeName(type), " declares ", *size, unit, " but only ", left,
                                 " bytes remain"));
      }
      if (items_ + *size * per_entry > limits_.max_items) {
        return Fail(absl::StrCat(CborTypeName(type), " declares ", *size, unit,
                                 ", more than the limit of ", limits_.max_items, " items"));
      }
      f.remaining = *size * per_entry;
      if (f.remaining == 0) return Emit(std::move(f.item));
    }
    Push(std::move(f));
  }

  void Tag(uint64_t tag) {
    if (!Admit("tag")) return;
    Frame f;
    f.item.type = CborType::kTag;
    f.item.value = tag;
    f.remaining = 1;
    Push(std::move(f));
  }

  void Refuse(absl::string_view kind) {
    Fail(absl::StrCat(kind, " is not accepted (a Nitro document contains none)"));
  }

  void Break() {
    if (stack_.empty() || stack_.back().definite) {
      return Fail("break (0xff) outside an indefinite-length item");
    }
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.item.type == CborType::kMap && f.item.items.size() % 2 != 0) {
      return Fail("indefinite-length map ends after a key without a value");
    }
    Complete(std::move(f));
  }

 private:
  void Fail(absl::string_view problem) {
    if (status_.ok()) status_ = Malformed(absl::StrCat(what_, ": ", problem, " at offset ", offset_));
  }

  bool InIndefiniteString() const {
    return !stack_.empty() && !stack_.back().definite &&
           (stack_.back().item.type == CborType::kBytes ||
            stack_.back().item.type == CborType::kText);
  }

  bool Count() {
    if (++items_ > limits_.max_items) {
      Fail(absl::StrCat("more than ", limits_.max_items, " items"));
      return false;
    }
    return true;
  }

  // Every new item: not inside an indefinite string (only chunks go there), within the limits.
  bool Admit(absl::string_view kind) {
    if (InIndefiniteString()) {
      Fail(absl::StrCat("indefinite-length ", CborTypeName(stack_.back().item.type),
                        " holds an item of kind ", kind,
                        " where only definite-length chunks of its type are allowed"));
      return false;
    }
    return Count();
  }

  void Push(Frame f) {
    if (stack_.size() >= limits_.max_depth) {
      return Fail(absl::StrCat("items nested deeper than ", limits_.max_depth, " levels"));
    }
    f.start = offset_;
    stack_.push_back(std::move(f));
  }

  // Attaches a finished item to the open container, closing every container it completes.
  void Emit(CborItem item) {
    if (stack_.empty()) {
      root_ = std::move(item);
      return;
    }
    Frame& top = stack_.back();
    top.item.items.push_back(std::move(item));
    if (!top.definite || --top.remaining > 0) return;
    Frame f = std::move(top);
    stack_.pop_back();
    Complete(std::move(f));
  }

  void Complete(Frame f) {
    if (f.item.type == CborType::kMap) {
      auto less = [](const CborItem* a, const CborItem* b) { return CompareCbor(*a, *b) < 0; };
      std::set<const CborItem*, decltype(less)> keys(less);
      for (size_t i = 0; i < f.item.map_size(); ++i) {
        if (!keys.insert(&f.item.map_key(i)).second) {
          offset_ = f.start;
          return Fail(absl::StrCat("map has the key ", DescribeCborKey(f.item.map_key(i)), " twice"));
        }
      }
    }
    Emit(std::move(f.item));
  }

  absl::string_view what_;
  const CborLimits& limits_;
  size_t input_size_;
  size_t offset_ = 0;
  size_t items_ = 0;
  std::vector<Frame> stack_;
  std::optional<CborItem> root_;
  absl::Status status_;
};

Builder* B(void* context) { return static_cast<Builder*>(context); }

absl::string_view View(cbor_data data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

const cbor_callbacks kCallbacks = {
    .uint8 = [](void* c, uint8_t v) { B(c)->Scalar(CborType::kUnsigned, v); },
    .uint16 = [](void* c, uint16_t v) { B(c)->Scalar(CborType::kUnsigned, v); },
    .uint32 = [](void* c, uint32_t v) { B(c)->Scalar(CborType::kUnsigned, v); },
    .uint64 = [](void* c, uint64_t v) { B(c)->Scalar(CborType::kUnsigned, v); },
    .negint64 = [](void* c, uint64_t v) { B(c)->Scalar(CborType::kNegative, v); },
    .negint32 = [](void* c, uint32_t v) { B(c)->Scalar(CborType::kNegative, v); },
    .negint16 = [](void* c, uint16_t v) { B(c)->Scalar(CborType::kNegative, v); },
    .negint8 = [](void* c, uint8_t v) { B(c)->Scalar(CborType::kNegative, v); },
    .byte_string_start = [](void* c) { B(c)->StringStart(/*text=*/false); },
    .byte_string = [](void* c, cbor_data d, size_t n) { B(c)->String(false, View(d, n)); },
    .string = [](void* c, cbor_data d, size_t n) { B(c)->String(true, View(d, n)); },
    .string_start = [](void* c) { B(c)->StringStart(/*text=*/true); },
    .indef_array_start = [](void* c) { B(c)->ContainerStart(CborType::kArray, std::nullopt); },
    .array_start = [](void* c, size_t n) { B(c)->ContainerStart(CborType::kArray, n); },
    .indef_map_start = [](void* c) { B(c)->ContainerStart(CborType::kMap, std::nullopt); },
    .map_start = [](void* c, size_t n) { B(c)->ContainerStart(CborType::kMap, n); },
    .tag = [](void* c, uint64_t v) { B(c)->Tag(v); },
    .float2 = [](void* c, float) { B(c)->Refuse("a half-precision float"); },
    .float4 = [](void* c, float) { B(c)->Refuse("a single-precision float"); },
    .float8 = [](void* c, double) { B(c)->Refuse("a double-precision float"); },
    .undefined = [](void* c) { B(c)->Refuse("undefined"); },
    .null = [](void* c) { B(c)->Scalar(CborType::kNull, 0); },
    .boolean = [](void* c, bool v) { B(c)->Scalar(v ? CborType::kTrue : CborType::kFalse, 0); },
    .indef_break = [](void* c) { B(c)->Break(); },
};

}  // namespace

std::string CborTypeWithArticle(CborType type) {
  const absl::string_view name = CborTypeName(type);
  const bool vowel = absl::string_view("aeiou").find(name[0]) != absl::string_view::npos;
  return absl::StrCat(vowel ? "an " : "a ", name);
}

std::string DescribeCborKey(const CborItem& key) {
  switch (key.type) {
    case CborType::kText:
      return absl::StrCat("\"", key.bytes, "\"");
    case CborType::kUnsigned:
      return absl::StrCat(key.value);
    case CborType::kNegative:
      return key.value == UINT64_MAX ? "-18446744073709551616" : absl::StrCat("-", key.value + 1);
    default:
      return absl::StrCat("(", CborTypeWithArticle(key.type), ")");
  }
}

absl::string_view CborTypeName(CborType type) {
  switch (type) {
    case CborType::kUnsigned:
      return "unsigned integer";
    case CborType::kNegative:
      return "negative integer";
    case CborType::kBytes:
      return "byte string";
    case CborType::kText:
      return "text string";
    case CborType::kArray:
      return "array";
    case CborType::kMap:
      return "map";
    case CborType::kTag:
      return "tag";
    case CborType::kFalse:
      return "false";
    case CborType::kTrue:
      return "true";
    case CborType::kNull:
      return "null";
  }
  return "?";
}

bool SameCborValue(const CborItem& a, const CborItem& b) { return CompareCbor(a, b) == 0; }

absl::StatusOr<CborItem> ParseCbor(absl::string_view bytes, absl::string_view what,
                                   const CborLimits& limits) {
  if (bytes.empty()) return Malformed(absl::StrCat(what, ": empty"));
  Builder builder(what, limits, bytes.size());
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t offset = 0;
  while (!builder.done()) {
    if (offset >= bytes.size()) {
      return Malformed(absl::StrCat(what, ": truncated: the input ends after ", bytes.size(),
                                    " bytes inside ", builder.open(), " unfinished item(s)"));
    }
    builder.set_offset(offset);
    const uint8_t head = data[offset];
    if (head >= 0xc6 && head <= 0xd4) {
      // Tags 6..20 in one byte: well-formed CBOR that libcbor 0.8 refuses (see the header).
      builder.Tag(head - 0xc0);
      offset += 1;
    } else {
      const cbor_decoder_result r =
          cbor_stream_decode(data + offset, bytes.size() - offset, &kCallbacks, &builder);
      if (r.status == CBOR_DECODER_NEDATA) {
        return Malformed(absl::StrCat(what, ": truncated: the item at offset ", offset,
                                      " (initial byte 0x", absl::Hex(head, absl::kZeroPad2),
                                      ") needs more than the ", bytes.size() - offset,
                                      " bytes that remain"));
      }
      if (r.status != CBOR_DECODER_FINISHED || r.read == 0) {
        return Malformed(absl::StrCat(what, ": initial byte 0x", absl::Hex(head, absl::kZeroPad2),
                                      " at offset ", offset,
                                      " is not well-formed CBOR (reserved or unassigned)"));
      }
      offset += r.read;
    }
    if (builder.failed()) return builder.status();
  }
  if (offset != bytes.size()) {
    return Malformed(absl::StrCat(what, ": ", bytes.size() - offset,
                                  " trailing bytes after the CBOR item that ends at offset ",
                                  offset));
  }
  return builder.TakeRoot();
}

}  // namespace teeverify::nitro
