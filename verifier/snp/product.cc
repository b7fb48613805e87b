#include "verifier/snp/product.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"

namespace teeverify::snp {

std::optional<Product> ProductFromCpuid(uint8_t family, uint8_t model) {
  if (family == 0x19 && model <= 0x0f) return Product::kMilan;
  if (family == 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))) {
    return Product::kGenoa;
  }
  if (family == 0x1a && model <= 0x1f) return Product::kTurin;
  return std::nullopt;
}

absl::StatusOr<Product> ProductFromVekName(absl::string_view product_name) {
  const absl::string_view line = product_name.substr(0, product_name.find('-'));
  for (Product p : kAllProducts) {
    if (line == ProductName(p)) return p;
  }
  return Unsupported(absl::StrCat("sev-snp certificate: productName \"", product_name,
                                  "\" is not Milan, Genoa or Turin"));
}

RootId ArkRootId(Product product) {
  switch (product) {
    case Product::kMilan:
      return RootId::kAmdArkMilan;
    case Product::kGenoa:
      return RootId::kAmdArkGenoa;
    case Product::kTurin:
      return RootId::kAmdArkTurin;
  }
  return RootId::kAmdArkMilan;
}

}  // namespace teeverify::snp
